// The per-line half of the audit: everything that depends on one export line alone (parse, leaf hash,
// strict entry decode, contentHash, the opinion window, the draft version). It is a pure function, so
// worker threads (or Web Workers) run it in parallel; the sequential half (order, tree, replaces,
// moderation, tally, counted map) stays in the Auditor. Isomorphic: no Node module.
import {
  bytesToHex,
  CHANNELS,
  contentHash,
  countedKeyBytes,
  decodeEntry,
  type Entry,
  type Hex,
  leafHashBytes,
  type ModerationEntry,
  type OpinionEntry,
  STANCES,
  utf8Encode,
} from "../protocol/index.ts";
import type { FailureKind } from "./codes.ts";

export interface LineContext {
  readonly consultation: string;
  readonly draftVersion: number;
  /** opensAt and closesAt in milliseconds. */
  readonly openMs: number;
  readonly closeMs: number;
  /** The draft's section ids: a checked block names an opinion's section by its position here. */
  readonly sections: readonly string[];
}

/** What the text of an opinion's line shows. */
export const TEXT_NONE = 0;
export const TEXT_PUBLIC = 1;
export const TEXT_WITHHELD = 2;

export interface LineResult {
  /** SHA-256(0x00 || leaf), or null when the line has no readable leaf (it then adds no leaf). */
  leafHash: Uint8Array | null;
  /** An opinion's counted-map key, SHA-256(author ":" section); null for anything else. */
  key: Uint8Array | null;
  /** The line's "index" field, as given. */
  index: unknown;
  /** What the sequential checks and the tally read of the entry, when valid and of this consultation. */
  entry: CheckedEntry | null;
  text: number;
  /** Problems found in this line alone: [kind, message without position]. */
  problems: [FailureKind, string][] | null;
}

/**
 * The fields of a decoded entry that the sequential half reads (replaces, moderation, the tally):
 * fewer fields to copy from a worker thread to the main one, where the sequential half runs.
 */
export type CheckedEntry =
  | Pick<OpinionEntry, "type" | "consultation" | "section" | "stance" | "channel" | "replaces">
  | Pick<ModerationEntry, "type" | "consultation" | "target" | "reason" | "by" | "at">;

function slim(e: Entry): CheckedEntry {
  return e.type === "opinion"
    ? {
        type: e.type,
        consultation: e.consultation,
        section: e.section,
        stance: e.stance,
        channel: e.channel,
        replaces: e.replaces,
      }
    : { type: e.type, consultation: e.consultation, target: e.target, reason: e.reason, by: e.by, at: e.at };
}

// `campaign` is advisory (the service's grouping of near-identical texts): checked for form only, never hashed
const LINE_FIELDS = new Set(["index", "leaf", "leafHash", "text", "salt", "withheld", "campaign"]);

export function unreadableLine(reason: string): LineResult {
  return {
    leafHash: null,
    key: null,
    index: undefined,
    entry: null,
    text: TEXT_NONE,
    problems: [["export-format", reason]],
  };
}

export function checkLine(raw: string, ctx: LineContext): LineResult {
  let obj: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not an object");
    obj = parsed as Record<string, unknown>;
  } catch (error) {
    return unreadableLine(`not a JSON object (${(error as Error).message})`);
  }
  const { index, leaf, text, salt, withheld } = obj;
  if (typeof leaf !== "string") return { ...unreadableLine(`"leaf" is missing or not a string`), index };
  let problems: [FailureKind, string][] | null = null;
  const problem = (kind: FailureKind, message: string) => {
    problems ??= [];
    problems.push([kind, message]);
  };
  for (const key of Object.keys(obj))
    if (!LINE_FIELDS.has(key)) problem("export-format", `unknown field "${key}"`);
  let bytes: Uint8Array;
  try {
    bytes = utf8Encode(leaf, "leaf");
  } catch {
    return { ...unreadableLine("the leaf contains a lone surrogate (no UTF-8 form)"), index };
  }
  const hash = leafHashBytes(bytes);
  if (!sameHex(obj.leafHash, hash))
    problem("leaf-hash", `leafHash ${String(obj.leafHash)} but SHA-256(0x00 || leaf) = ${bytesToHex(hash)}`);

  let entry: Entry | null = null;
  try {
    entry = decodeEntry(leaf);
  } catch (error) {
    problem("entry-invalid", (error as Error).message);
  }
  if (withheld !== undefined && withheld !== true) problem("export-format", `"withheld" must be true`);
  const { campaign } = obj;
  if (
    campaign !== undefined &&
    campaign !== null &&
    !(Number.isSafeInteger(campaign) && (campaign as number) >= 0)
  )
    problem("export-format", `"campaign" must be null or a leaf index`);
  const hasText = text !== undefined;
  const hasSalt = salt !== undefined;
  let shown = TEXT_NONE;
  if (entry !== null && entry.consultation !== ctx.consultation) {
    problem("entry-invalid", `belongs to consultation ${entry.consultation}`);
    entry = null;
  } else if (entry?.type === "opinion") {
    if (entry.draftVersion > ctx.draftVersion) {
      problem(
        "entry-invalid",
        `draftVersion ${entry.draftVersion} but the chain knows ${ctx.draftVersion} versions`,
      );
    }
    const t = Date.parse(entry.submittedAt);
    if (!(t >= ctx.openMs && t < ctx.closeMs)) {
      problem(
        "time-window",
        `submittedAt ${entry.submittedAt} is outside ${iso(ctx.openMs)}..${iso(ctx.closeMs)} (opensAt..closesAt)`,
      );
    }
    if (withheld === true) {
      shown = TEXT_WITHHELD;
      if (hasText || hasSalt) problem("moderation", "marked withheld but its text or salt is published");
    } else if (hasText && hasSalt) {
      shown = TEXT_PUBLIC;
      if (typeof text !== "string" || typeof salt !== "string") {
        problem("export-format", "text and salt must be strings");
      } else {
        let actual: Hex | null = null;
        try {
          actual = contentHash(salt as Hex, text);
        } catch (error) {
          problem("content-hash", (error as Error).message);
        }
        if (actual !== null && actual !== entry.contentHash) {
          problem(
            "content-hash",
            `SHA-256(salt || text) = ${actual}, the entry commits to ${entry.contentHash}`,
          );
        }
      }
    } else if (hasText || hasSalt) {
      problem("export-format", `has ${hasText ? "text" : "salt"} without ${hasText ? "salt" : "text"}`);
    } else {
      problem("moderation", "its text is absent but the line does not say it was withheld");
    }
  } else if (entry?.type === "moderation") {
    if (hasText || hasSalt || withheld !== undefined) {
      problem("export-format", "a moderation entry carries text, salt or withheld");
    }
  }
  return {
    leafHash: hash,
    key: entry?.type === "opinion" ? countedKeyBytes(entry.author, entry.section) : null,
    index,
    entry: entry === null ? null : slim(entry),
    text: shown,
    problems,
  };
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

const HEX = "0123456789abcdef";

/** True when `hex` is the lowercase 0x-hex form of `bytes` (compared without building the string). */
function sameHex(hex: unknown, bytes: Uint8Array): boolean {
  if (typeof hex !== "string" || hex.length !== 2 + 2 * bytes.length || hex[0] !== "0" || hex[1] !== "x")
    return false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (
      hex.charCodeAt(2 + 2 * i) !== HEX.charCodeAt(b >> 4) ||
      hex.charCodeAt(3 + 2 * i) !== HEX.charCodeAt(b & 15)
    )
      return false;
  }
  return true;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** What a line of a checked block is. */
export const LINE_UNREADABLE = 0;
/** A readable leaf that is not a valid entry of this consultation. */
export const LINE_INVALID = 1;
export const LINE_OPINION = 2;
export const LINE_MODERATION = 3;

/**
 * The per-line results of a block of lines, packed in a few typed arrays: a worker thread hands them to
 * the auditor's thread by transferring the buffers, without an object per line to copy and collect. A
 * line whose result needs more than numbers (problems, a moderation's fields, a section the draft does
 * not list, an index that is not a number) also has its whole LineResult in `extras`.
 */
export interface CheckedBlock {
  readonly count: number;
  /** Per line, 64 bytes: the leaf hash, then the counted key (zeros unless an opinion). */
  readonly hashes: Uint8Array;
  /** Per line, 2 numbers: the line's index, then an opinion's replaces (-1: null) or a moderation's target. */
  readonly numbers: Float64Array;
  /**
   * Per line: the LINE_ kind | stance << 2 | channel << 4 | text shown << 5 | (section position + 1) << 8,
   * the position in LineContext.sections (0: not listed, the section is in the line's extra).
   */
  readonly codes: Uint32Array;
  /** [line number in the block, its result] for the lines numbers alone do not describe, ascending. */
  readonly extras: [number, LineResult][];
}

/** The buffers of a checked block, for postMessage's transfer list. */
export function transferables(block: CheckedBlock): ArrayBuffer[] {
  return [block.hashes.buffer, block.numbers.buffer, block.codes.buffer] as ArrayBuffer[];
}

/** checkLine over a block of whole lines (UTF-8 bytes, "\n"-separated; the last newline is optional). */
export function checkBlock(parts: readonly Uint8Array[], ctx: LineContext): CheckedBlock {
  const buf = parts.length === 1 ? parts[0]! : concat(parts);
  const results: LineResult[] = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    let text: string | null = null;
    try {
      text = strictUtf8.decode(buf.subarray(start, end));
    } catch {
      text = null;
    }
    results.push(text === null ? unreadableLine("not valid UTF-8") : checkLine(text, ctx));
    start = end + 1;
  }
  return packResults(results, ctx);
}

/** Packs line results into a CheckedBlock. */
export function packResults(results: readonly LineResult[], ctx: LineContext): CheckedBlock {
  const count = results.length;
  const hashes = new Uint8Array(count * 64);
  const numbers = new Float64Array(count * 2);
  const codes = new Uint32Array(count);
  const extras: [number, LineResult][] = [];
  const sectionPosition = sectionPositions(ctx);
  for (let i = 0; i < count; i++) {
    const r = results[i]!;
    let extra = r.problems !== null || !Number.isSafeInteger(r.index);
    numbers[2 * i] = Number.isSafeInteger(r.index) ? (r.index as number) : Number.NaN;
    let code = LINE_UNREADABLE;
    if (r.leafHash !== null) {
      hashes.set(r.leafHash, 64 * i);
      const e = r.entry;
      if (e === null) code = LINE_INVALID;
      else if (e.type === "moderation") {
        code = LINE_MODERATION;
        numbers[2 * i + 1] = e.target;
        extra = true;
      } else {
        hashes.set(r.key!, 64 * i + 32);
        numbers[2 * i + 1] = e.replaces ?? -1;
        const position = sectionPosition.get(e.section);
        if (position === undefined) extra = true;
        code =
          LINE_OPINION |
          (STANCES.indexOf(e.stance) << 2) |
          (CHANNELS.indexOf(e.channel) << 4) |
          (r.text << 5) |
          ((position === undefined ? 0 : position + 1) << 8);
      }
    }
    codes[i] = code;
    if (extra) extras.push([i, r]);
  }
  return { count, hashes, numbers, codes, extras };
}

const positionsOf = new WeakMap<readonly string[], Map<string, number>>();

function sectionPositions(ctx: LineContext): Map<string, number> {
  let positions = positionsOf.get(ctx.sections);
  if (positions === undefined) {
    positions = new Map(ctx.sections.map((id, i) => [id, i]));
    positionsOf.set(ctx.sections, positions);
  }
  return positions;
}

/** The bytes of `parts`, one after the other, in one array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
