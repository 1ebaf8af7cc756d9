// The per-line half of the audit: everything that depends on one export line alone (parse, leaf hash,
// strict entry decode, contentHash, the opinion window, the draft version). It is a pure function, so
// worker threads (or Web Workers) run it in parallel; the sequential half (order, tree, replaces,
// moderation, tally, counted map) stays in the Auditor. Isomorphic: no Node module.
import {
  contentHash,
  countedKey,
  decodeEntry,
  type Entry,
  type Hex,
  leafHash,
  type ModerationEntry,
  type OpinionEntry,
  utf8Encode,
} from "../protocol/index.ts";
import type { FailureKind } from "./codes.ts";

export interface LineContext {
  readonly consultation: string;
  readonly draftVersion: number;
  /** opensAt and closesAt in milliseconds. */
  readonly openMs: number;
  readonly closeMs: number;
  /** The source carries no texts at all (entry bundles of a tiles mirror): a line without one is not a failure. */
  readonly textsAbsent?: boolean;
}

/** What the text of an opinion's line shows. */
export const TEXT_NONE = 0;
export const TEXT_PUBLIC = 1;
export const TEXT_WITHHELD = 2;

export interface LineResult {
  /** SHA-256(0x00 || leaf), or null when the line has no readable leaf (it then adds no leaf). */
  leafHash: Hex | null;
  /** An opinion's counted-map key, SHA-256(author ":" section); null for anything else. */
  key: Hex | null;
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

const LINE_FIELDS = new Set(["index", "leaf", "leafHash", "text", "salt", "withheld"]);

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
  const hash = leafHash(bytes);
  if (obj.leafHash !== hash)
    problem("leaf-hash", `leafHash ${String(obj.leafHash)} but SHA-256(0x00 || leaf) = ${hash}`);

  let entry: Entry | null = null;
  try {
    entry = decodeEntry(leaf);
  } catch (error) {
    problem("entry-invalid", (error as Error).message);
  }
  if (withheld !== undefined && withheld !== true) problem("export-format", `"withheld" must be true`);
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
    } else if (!ctx.textsAbsent) {
      problem("moderation", "its text is absent but the line does not say it was withheld");
    }
  } else if (entry?.type === "moderation") {
    if (hasText || hasSalt || withheld !== undefined) {
      problem("export-format", "a moderation entry carries text, salt or withheld");
    }
  }
  return {
    leafHash: hash,
    key: entry?.type === "opinion" ? countedKey(entry.author, entry.section) : null,
    index,
    entry: entry === null ? null : slim(entry),
    text: shown,
    problems,
  };
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** checkLine over a block of whole lines (UTF-8 bytes, "\n"-separated; the last newline is optional). */
export function checkBlock(parts: readonly Uint8Array[], ctx: LineContext): LineResult[] {
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
  return results;
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
