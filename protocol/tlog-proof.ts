// C2SP tlog-proof v1 (c2sp.org/tlog-proof): an offline-verifiable proof that an entry is in a log. Lines: the header
// `c2sp.org/tlog-proof@v1`, an optional `extra <base64>` (opaque, unauthenticated), `index <decimal>`, the RFC 6962
// inclusion proof (one base64 SHA-256 hash a line, leaf side first), an empty line, then the log's signed (and maybe
// cosigned) checkpoint note verbatim. One canonical spelling: anything else is refused, so a receipt's proof text is
// byte for byte what the service signed it into.

import { type Checkpoint, parseCheckpoint } from "./checkpoint.ts";
import { base64Decode, base64Encode, bytesToHex, type Hex, hashToBytes } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";
import { parseNote } from "./note.ts";

/** The first line of every tlog-proof. */
export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

export interface TlogProof {
  /** Opaque extra data (not authenticated by anything); null when the proof has no extra line. */
  readonly extra: Uint8Array | null;
  /** The entry's zero-based index in the log. */
  readonly index: number;
  /** The inclusion proof to the checkpoint's tree, leaf side first. */
  readonly proof: readonly Hex[];
  /** The signed checkpoint note, verbatim (its signatures are checked by the caller, with openCheckpoint). */
  readonly checkpoint: string;
}

const fail = (message: string): never => {
  throw new ProtocolError("invalid_proof", `tlog-proof: ${message}`);
};

/**
 * The checkpoint note formatTlogProof checked last: a batch's receipts all carry the same note, parsed once (strings
 * are immutable, so the same string is the same valid note).
 */
let lastFormattedCheckpoint: string | null = null;

/** The tlog-proof text of `p` (its checkpoint must be a signed checkpoint note). */
export function formatTlogProof(p: TlogProof): string {
  if (typeof p !== "object" || p === null) return fail("must be an object");
  if (!Number.isSafeInteger(p.index) || p.index < 0) fail("index must be a non-negative safe integer");
  if (!Array.isArray(p.proof)) fail("proof must be an array of hashes");
  if (p.extra !== null && !(p.extra instanceof Uint8Array && p.extra.length > 0))
    fail("extra must be null or non-empty bytes");
  if (p.checkpoint !== lastFormattedCheckpoint) {
    checkpointOf(p.checkpoint);
    lastFormattedCheckpoint = p.checkpoint;
  }
  const hashes = p.proof.map((h, i) => `${base64Encode(hashToBytes(h, `proof hash ${i}`))}\n`).join("");
  const extra = p.extra === null ? "" : `extra ${base64Encode(p.extra)}\n`;
  return `${TLOG_PROOF_HEADER}\n${extra}index ${p.index}\n${hashes}\n${p.checkpoint}`;
}

/** Parses a tlog-proof strictly: the header, an optional extra line, the index, hashes, a blank line, the note. */
export function parseTlogProof(text: unknown): TlogProof & { readonly parsedCheckpoint: Checkpoint } {
  if (typeof text !== "string") return fail("must be text");
  const blank = text.indexOf("\n\n");
  if (blank < 0) return fail("has no empty line before the checkpoint");
  const lines = text.slice(0, blank).split("\n");
  if (lines[0] !== TLOG_PROOF_HEADER) fail(`the first line must be ${TLOG_PROOF_HEADER}`);
  let at = 1;
  let extra: Uint8Array | null = null;
  if (lines[at]?.startsWith("extra ")) {
    extra = decodeLine(lines[at]!.slice("extra ".length), "the extra data");
    if (extra.length === 0) fail("an extra line must carry data");
    at++;
  }
  const indexLine = lines[at];
  if (indexLine === undefined || !indexLine.startsWith("index "))
    return fail(`line ${at + 1} must be "index <decimal>"`);
  const digits = indexLine.slice("index ".length);
  if (!/^(0|[1-9][0-9]*)$/.test(digits)) fail("the index must be decimal without leading zeros");
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) fail("the index is larger than this verifier handles (2^53 - 1)");
  const proof = lines.slice(at + 1).map((line, i) => {
    const bytes = decodeLine(line, `proof line ${i + 1}`);
    if (bytes.length !== 32) fail(`proof line ${i + 1} must be a 32-byte hash`);
    return bytesToHex(bytes);
  });
  const checkpoint = text.slice(blank + 2);
  return { extra, index, proof, checkpoint, parsedCheckpoint: checkpointOf(checkpoint) };
}

function decodeLine(line: string, what: string): Uint8Array {
  try {
    return base64Decode(line, what);
  } catch {
    return fail(`${what} is not canonical padded base64`);
  }
}

/** The checkpoint of a signed checkpoint note (signatures parsed, not verified). */
function checkpointOf(note: unknown): Checkpoint {
  try {
    return parseCheckpoint(parseNote(note).text);
  } catch (e) {
    return fail(`the checkpoint is not a signed checkpoint note (${(e as Error).message})`);
  }
}
