// Log entries: what one leaf of a consultation's log says. An entry's bytes are the UTF-8 of its
// RFC 8785 canonical JSON, so any implementation that re-encodes a decoded entry gets the same leaf.

import { randomBytes } from "#random";
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, hashToBytes, isHash, utf8Decode, utf8Encode } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";
import { parseJson } from "./jcs.ts";
import { isTime } from "./time.ts";

export type Stance = "agree" | "disagree" | "neutral";
export type Channel = "online" | "offline";
export const STANCES: readonly Stance[] = ["agree", "disagree", "neutral"];
export const CHANNELS: readonly Channel[] = ["online", "offline"];

/** A citizen's opinion on one section of a draft (version 1). */
export interface OpinionEntry {
  readonly v: 1;
  readonly type: "opinion";
  /** The consultation's id in the registry contract, in decimal. */
  readonly consultation: string;
  readonly draftVersion: number;
  readonly section: string;
  readonly stance: Stance;
  /** SHA-256(salt || UTF-8 text): commits to the text without publishing it in the leaf. */
  readonly contentHash: Hex;
  /** Per-consultation pseudonym of the author (protocol/pseudonym.ts: a citizen, or an offline row). */
  readonly author: Hex;
  readonly channel: Channel;
  readonly submittedAt: string;
  /** Index of the same author's earlier opinion on this section, which this one replaces. */
  readonly replaces: number | null;
}

/** A moderation decision about an earlier entry (version 1): its text leaves public views. */
export interface ModerationEntry {
  readonly v: 1;
  readonly type: "moderation";
  readonly consultation: string;
  readonly target: number;
  readonly action: "withhold-text";
  readonly reason: string;
  /** Per-consultation pseudonym of the officer who decided (kind `officer`). */
  readonly by: Hex;
  readonly at: string;
}

export type Entry = OpinionEntry | ModerationEntry;

/** Section ids: short, URL-safe, case-sensitive (for example `dieu-1`). */
export const SECTION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Consultation ids: the registry's uint256 id in decimal, from 1. */
export const CONSULTATION_ID_PATTERN = /^[1-9][0-9]{0,77}$/;
/** Moderation reason codes, for example `personal-data` or `incitement`. */
export const REASON_CODE_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

type FieldCheck = (value: unknown) => string | undefined;

const oneOf =
  (allowed: readonly unknown[]): FieldCheck =>
  (value) =>
    allowed.includes(value)
      ? undefined
      : `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`;
const matches =
  (pattern: RegExp, description: string): FieldCheck =>
  (value) =>
    typeof value === "string" && pattern.test(value) ? undefined : `must be ${description}`;
const hash: FieldCheck = (value) =>
  isHash(value) ? undefined : "must be a 32-byte 0x-prefixed lowercase hex hash";
const time: FieldCheck = (value) =>
  isTime(value) ? undefined : "must be RFC 3339 UTC with milliseconds, like 2026-05-06T08:00:00.000Z";
const naturalNumber =
  (min: number): FieldCheck =>
  (value) =>
    typeof value === "number" && Number.isSafeInteger(value) && value >= min
      ? undefined
      : `must be an integer >= ${min}`;
const consultationId = matches(CONSULTATION_ID_PATTERN, "a decimal consultation id without leading zeros");

const OPINION_FIELDS: Record<keyof OpinionEntry, FieldCheck> = {
  v: oneOf([1]),
  type: oneOf(["opinion"]),
  consultation: consultationId,
  draftVersion: naturalNumber(1),
  section: matches(SECTION_ID_PATTERN, "a section id (letters, digits, '.', '_' or '-', at most 64)"),
  stance: oneOf(STANCES),
  contentHash: hash,
  author: hash,
  channel: oneOf(CHANNELS),
  submittedAt: time,
  replaces: (value) =>
    value === null ? undefined : naturalNumber(0)(value) && "must be null or a leaf index",
};

const MODERATION_FIELDS: Record<keyof ModerationEntry, FieldCheck> = {
  v: oneOf([1]),
  type: oneOf(["moderation"]),
  consultation: consultationId,
  target: naturalNumber(0),
  action: oneOf(["withhold-text"]),
  reason: matches(REASON_CODE_PATTERN, "a reason code (lowercase letters, digits and '-')"),
  by: hash,
  at: time,
};

/** Checks `value` is a well-formed entry of a known type and version; the error names the problem. */
export function assertEntry(value: unknown): asserts value is Entry {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("invalid_entry", "entry must be a JSON object");
  }
  const record = value as Record<string, unknown>;
  if (record.v !== 1)
    throw new ProtocolError(
      "invalid_entry",
      `entry version ${JSON.stringify(record.v)} is not supported (v must be 1)`,
    );
  const fields =
    record.type === "opinion" ? OPINION_FIELDS : record.type === "moderation" ? MODERATION_FIELDS : undefined;
  if (fields === undefined) {
    throw new ProtocolError(
      "invalid_entry",
      `entry type ${JSON.stringify(record.type)} is unknown (opinion or moderation)`,
    );
  }
  // Own properties only: a field named like an Object.prototype member (`constructor`) is unknown too.
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(fields, key))
      throw new ProtocolError("invalid_entry", `${record.type} entry has an unknown field "${key}"`);
  }
  for (const [key, check] of Object.entries(fields)) {
    if (!Object.hasOwn(record, key))
      throw new ProtocolError("invalid_entry", `${record.type} entry is missing the field "${key}"`);
    const problem = (check as FieldCheck)(record[key]);
    if (problem) throw new ProtocolError("invalid_entry", `${record.type} entry field "${key}" ${problem}`);
  }
}

/**
 * RFC 8785 text of an entry that passed assertEntry. Its members are known and, being ids, hex, times
 * and codes restricted by the patterns above, need no escaping: writing them in sorted order gives the
 * same bytes as the general canonicalJson, several times faster (audits decode millions of entries).
 */
function canonicalEntryText(e: Entry): string {
  if (e.type === "opinion") {
    return `{"author":"${e.author}","channel":"${e.channel}","consultation":"${e.consultation}","contentHash":"${e.contentHash}","draftVersion":${e.draftVersion},"replaces":${e.replaces === null ? "null" : e.replaces},"section":"${e.section}","stance":"${e.stance}","submittedAt":"${e.submittedAt}","type":"opinion","v":1}`;
  }
  return `{"action":"${e.action}","at":"${e.at}","by":"${e.by}","consultation":"${e.consultation}","reason":"${e.reason}","target":${e.target},"type":"moderation","v":1}`;
}

/** The canonical JSON text of a valid entry. */
export function entryString(entry: Entry): string {
  assertEntry(entry);
  return canonicalEntryText(entry);
}

/** The entry's bytes: UTF-8 of its canonical JSON. These bytes are what the leaf hash commits to. */
export function encodeEntry(entry: Entry): Uint8Array {
  return utf8Encode(entryString(entry), "entry");
}

/**
 * Parses an entry from its bytes (or canonical text), refusing invalid UTF-8, invalid JSON, unknown or
 * missing fields, wrong types and any spelling other than the canonical one.
 */
export function decodeEntry(encoded: Uint8Array | string): Entry {
  let text: string;
  if (typeof encoded === "string") text = encoded;
  else if (encoded instanceof Uint8Array) text = utf8Decode(encoded, "entry bytes");
  else throw new ProtocolError("invalid_entry", "entry must be given as bytes or a string");
  const value = parseJson(text, "entry");
  assertEntry(value);
  if (canonicalEntryText(value) !== text) {
    throw new ProtocolError(
      "invalid_entry",
      "entry is not in canonical form (RFC 8785: sorted keys, no whitespace)",
    );
  }
  return value;
}

/** contentHash = SHA-256(salt || UTF-8 text), with the 32-byte salt given as 0x-hex. */
export function contentHash(salt: Hex, text: string): Hex {
  const saltBytes = hashToBytes(salt, "salt");
  if (typeof text !== "string") throw new ProtocolError("invalid_argument", "text must be a string");
  if (!text.isWellFormed())
    throw new ProtocolError("invalid_argument", "text contains a lone UTF-16 surrogate");
  // salt || UTF-8(text) is written into reused scratch space (see leafHashBytes for why).
  const needed = 32 + text.length * 3;
  if (needed > contentInput.length) contentInput = new Uint8Array(needed);
  contentInput.set(saltBytes);
  const { written } = textEncoder.encodeInto(text, contentInput.subarray(32));
  return bytesToHex(sha256(contentInput.subarray(0, 32 + written)));
}

const textEncoder = new TextEncoder();
let contentInput = new Uint8Array(4096);

/** 32 fresh random bytes as 0x-hex: the salt that keeps a short text from being guessed from its hash. */
export function randomSalt(): Hex {
  return bytesToHex(randomBytes(32));
}
