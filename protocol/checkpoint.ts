// C2SP tlog-checkpoint v1 (c2sp.org/tlog-checkpoint): the body of a signed note naming a log (its origin), a tree
// size and the tree's RFC 9162 root hash in base64, optionally followed by extension lines. The checkpoint key's name
// is the origin, so a verifier holding the origin and the public key derives the vkey itself.
import { base64Decode, base64Encode, bytesToHex, type Hex, hashToBytes } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";
import { type NoteSigner, type NoteVerifier, type OpenedNote, openNote, signNote } from "./note.ts";

export interface Checkpoint {
  /** The log's origin: a schema-less URL such as `consult.example.gov.vn/logs/7`. */
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Hex;
  /** Extension lines after the root (without their newlines); usually none. */
  readonly extensions: readonly string[];
}

const fail = (message: string): never => {
  throw new ProtocolError("invalid_checkpoint", message);
};

function assertOrigin(origin: unknown): asserts origin is string {
  if (typeof origin !== "string" || origin.length === 0 || /[\s+]/u.test(origin) || !origin.isWellFormed())
    fail('the checkpoint origin must be non-empty, without spaces or "+" (it is also the key name)');
}

/** The origin of consultation `id`'s log under `prefix` (for example `consult.example.gov.vn/logs`). */
export function logOrigin(prefix: string, id: number | string): string {
  const origin = `${prefix}/${id}`;
  assertOrigin(origin);
  return origin;
}

/** The checkpoint body, each line "\n"-terminated. */
export function checkpointText(checkpoint: Checkpoint): string {
  const { origin, size, rootHash, extensions = [] } = checkpoint;
  assertOrigin(origin);
  if (!Number.isSafeInteger(size) || size < 0)
    fail("the checkpoint size must be a non-negative safe integer");
  const root = hashToBytes(rootHash, "checkpoint rootHash");
  for (const line of extensions) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (typeof line !== "string" || line.length === 0 || /[\u0000-\u001f\u007f]/.test(line))
      fail("a checkpoint extension line must be non-empty text on one line");
  }
  return [origin, String(size), base64Encode(root), ...extensions].map((l) => `${l}\n`).join("");
}

/** Parses a checkpoint body (the text of its note). */
export function parseCheckpoint(text: unknown): Checkpoint {
  if (typeof text !== "string" || !text.endsWith("\n"))
    return fail("a checkpoint must be text ending in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) fail("a checkpoint has an origin, a size and a root hash line");
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  assertOrigin(origin);
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine))
    fail("the checkpoint size must be a decimal number without leading zeros");
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size))
    fail("the checkpoint size is larger than this verifier handles (2^53 - 1)");
  let root: Uint8Array;
  try {
    root = base64Decode(rootLine, "checkpoint root hash");
  } catch {
    return fail("the checkpoint root hash must be base64");
  }
  if (root.length !== 32) fail("the checkpoint root hash must be 32 bytes");
  if (extensions.some((l) => l.length === 0)) fail("a checkpoint extension line must not be empty");
  return { origin, size, rootHash: bytesToHex(root), extensions };
}

/** Signs a checkpoint as a signed note (the signer's name must be the origin). */
export function signCheckpoint(checkpoint: Checkpoint, signers: readonly NoteSigner[]): string {
  if (!signers.some((s) => s.name === checkpoint.origin))
    fail("a checkpoint must be signed by a key named after its origin");
  return signNote(checkpointText(checkpoint), signers);
}

export interface OpenedCheckpoint extends OpenedNote {
  readonly checkpoint: Checkpoint;
}

/**
 * Verifies a signed checkpoint: `logKey` (named after the origin) must have signed it; other known keys
 * (`others`, e.g. witnesses) are checked when present; unknown signatures are ignored. With `origin`, the checkpoint
 * must name exactly that log.
 */
export function openCheckpoint(
  note: unknown,
  logKey: NoteVerifier,
  options: { origin?: string; others?: readonly NoteVerifier[] } = {},
): OpenedCheckpoint {
  const opened = openNote(note, [logKey, ...(options.others ?? [])]);
  if (!opened.verified.includes(logKey)) fail(`the checkpoint is not signed by the log key ${logKey.name}`);
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== logKey.name) fail("the checkpoint's origin is not its log key's name");
  if (options.origin !== undefined && checkpoint.origin !== options.origin)
    fail(`the checkpoint is for ${checkpoint.origin}, not ${options.origin}`);
  return { ...opened, checkpoint };
}
