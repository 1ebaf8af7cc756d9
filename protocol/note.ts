// C2SP signed-note v1 (c2sp.org/signed-note): a UTF-8 text followed by a blank line and one or more signature lines
// "— <key name> <base64(key id || signature)>". Verifiers ignore signatures by keys they do not know and fail on a
// bad signature by a key they do know. Ed25519 keys (algorithm 0x01) are what checkpoints are signed with; the
// verify hook of a NoteVerifier lets cosignatures (tlog-cosignature, algorithm 0x04) use the same parser.
import { ed25519Signer, ed25519Verify } from "#ed25519";
import { base64Decode, base64Encode, utf8Encode } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";
import { sha256 } from "./hash.ts";

/** Signature algorithm byte of an Ed25519 note key. */
export const NOTE_ALG_ED25519 = 0x01;

/** The most signature lines a note may carry (Go's note package refuses more, so do we). */
export const MAX_NOTE_SIGNATURES = 100;

const EM_DASH_PREFIX = "\u2014 ";

/** One signature line of a note: the key it names and the bytes after its 4-byte key id. */
export interface NoteSignature {
  readonly name: string;
  /** The key id as an unsigned 32-bit integer. */
  readonly keyId: number;
  readonly signature: Uint8Array;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes that follow the key id on the signature line. */
  sign(text: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** An Ed25519 note key: its signer, its public key and its vkey line. */
export interface Ed25519NoteKey extends NoteSigner {
  readonly publicKey: Uint8Array;
  /** The C2SP verifier key line `<name>+<hex key id>+<base64(0x01 || public key)>`. */
  readonly vkey: string;
}

/** Throws unless `name` is a valid key name: non-empty, no whitespace, no "+". */
export function assertKeyName(name: unknown, what = "key name"): asserts name is string {
  if (typeof name !== "string" || name.length === 0 || /[\s+]/u.test(name) || !name.isWellFormed()) {
    throw new ProtocolError("invalid_note", `${what} must be non-empty, without spaces or "+"`);
  }
}

/** The key id: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || algorithm || public key). */
export function noteKeyId(name: string, algorithm: number, publicKey: Uint8Array): number {
  assertKeyName(name);
  const nameBytes = utf8Encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = algorithm;
  input.set(publicKey, nameBytes.length + 2);
  const h = sha256(input);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, "0");

/** The vkey line of an Ed25519 public key under `name`. */
export function ed25519VerifierKey(name: string, publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new ProtocolError("invalid_key", "an Ed25519 public key is exactly 32 bytes");
  const keyBytes = new Uint8Array(33);
  keyBytes[0] = NOTE_ALG_ED25519;
  keyBytes.set(publicKey, 1);
  return `${name}+${hex8(noteKeyId(name, NOTE_ALG_ED25519, publicKey))}+${base64Encode(keyBytes)}`;
}

/** The Ed25519 note key of a 32-byte seed, named `name` (for a checkpoint key: the log's origin). */
export function ed25519NoteKey(name: string, seed: Uint8Array): Ed25519NoteKey {
  assertKeyName(name);
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new ProtocolError("invalid_key", "an Ed25519 seed is exactly 32 bytes");
  const signer = ed25519Signer(seed);
  return {
    name,
    keyId: noteKeyId(name, NOTE_ALG_ED25519, signer.publicKey),
    publicKey: signer.publicKey,
    vkey: ed25519VerifierKey(name, signer.publicKey),
    sign: signer.sign,
  };
}

/** The Ed25519 verifier of a public key under `name`. */
export function ed25519NoteVerifier(
  name: string,
  publicKey: Uint8Array,
): NoteVerifier & { publicKey: Uint8Array } {
  assertKeyName(name);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new ProtocolError("invalid_key", "an Ed25519 public key is exactly 32 bytes");
  const key = Uint8Array.from(publicKey);
  return {
    name,
    keyId: noteKeyId(name, NOTE_ALG_ED25519, key),
    publicKey: key,
    verify: (text, signature) => signature.length === 64 && ed25519Verify(key, text, signature),
  };
}

/** `<name>+<hex id>+<base64 key>` split in three at the first two "+" (base64 has "+" of its own). */
export function splitVkey(vkey: string): string[] {
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  return second < 0 ? [vkey] : [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
}

/** Parses a vkey line; only Ed25519 keys (algorithm 0x01) are accepted, and the key id must match. */
export function parseVerifierKey(vkey: unknown): NoteVerifier & { publicKey: Uint8Array } {
  if (typeof vkey !== "string") throw new ProtocolError("invalid_key", "a vkey must be a string");
  const parts = splitVkey(vkey);
  if (parts.length !== 3 || !/^[0-9a-f]{8}$/.test(parts[1]!)) {
    throw new ProtocolError("invalid_key", "a vkey is <name>+<8 hex digits>+<base64 key>");
  }
  const [name, id, encoded] = parts as [string, string, string];
  assertKeyName(name, "vkey name");
  let keyBytes: Uint8Array;
  try {
    keyBytes = base64Decode(encoded, "vkey key");
  } catch {
    throw new ProtocolError("invalid_key", "the vkey's key is not base64");
  }
  if (keyBytes.length !== 33 || keyBytes[0] !== NOTE_ALG_ED25519)
    throw new ProtocolError("invalid_key", "the vkey is not an Ed25519 key (0x01 followed by 32 bytes)");
  const verifier = ed25519NoteVerifier(name, keyBytes.subarray(1));
  if (hex8(verifier.keyId) !== id)
    throw new ProtocolError("invalid_key", "the vkey's key id does not match its key");
  return verifier;
}

/** Throws unless `text` is a valid note text: UTF-8 lines each ending in "\n", no other control characters. */
function assertNoteText(text: unknown): asserts text is string {
  if (typeof text !== "string" || !text.isWellFormed())
    throw new ProtocolError("invalid_note", "the note text must be a well-formed string");
  if (!text.endsWith("\n")) throw new ProtocolError("invalid_note", "the note text must end with a newline");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text))
    throw new ProtocolError("invalid_note", "the note text must not contain control characters");
}

/** Signs `text` with every signer: the note is the text, a blank line, and one signature line per signer. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  assertNoteText(text);
  if (!Array.isArray(signers) || signers.length === 0)
    throw new ProtocolError("invalid_note", "a note needs at least one signer");
  const message = utf8Encode(text);
  let out = `${text}\n`;
  for (const s of signers) {
    assertKeyName(s.name, "signer name");
    out += signatureLine({ name: s.name, keyId: s.keyId, signature: s.sign(message) });
  }
  return out;
}

/** One signature line, "\n"-terminated. */
export function signatureLine(sig: NoteSignature): string {
  const bytes = new Uint8Array(4 + sig.signature.length);
  new DataView(bytes.buffer).setUint32(0, sig.keyId >>> 0);
  bytes.set(sig.signature, 4);
  return `${EM_DASH_PREFIX}${sig.name} ${base64Encode(bytes)}\n`;
}

/** Splits a note into its text and signature lines, without checking any signature. */
export function parseNote(note: unknown): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== "string") throw new ProtocolError("invalid_note", "a note must be a string");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new ProtocolError("invalid_note", "a note has no blank line before its signatures");
  const text = note.slice(0, split + 1);
  assertNoteText(text);
  const block = note.slice(split + 2);
  if (!block.endsWith("\n"))
    throw new ProtocolError("invalid_note", "the note's last signature line must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES)
    throw new ProtocolError("invalid_note", `a note carries at most ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => {
    const what = `signature line ${i + 1}`;
    if (!line.startsWith(EM_DASH_PREFIX))
      throw new ProtocolError("invalid_note", `${what} does not start with "— "`);
    const rest = line.slice(EM_DASH_PREFIX.length);
    const space = rest.indexOf(" ");
    if (space < 0) throw new ProtocolError("invalid_note", `${what} has no signature after the key name`);
    const name = rest.slice(0, space);
    assertKeyName(name, `${what}'s key name`);
    let bytes: Uint8Array;
    try {
      bytes = base64Decode(rest.slice(space + 1), what);
    } catch {
      throw new ProtocolError("invalid_note", `${what}'s signature is not base64`);
    }
    if (bytes.length < 5) throw new ProtocolError("invalid_note", `${what}'s signature is too short`);
    const keyId = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
    return { name, keyId, signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

/** What openNote found: the text, and the signatures of known keys (all of which verified). */
export interface OpenedNote {
  readonly text: string;
  /** The known verifiers whose signature is on the note and valid, in signature order. */
  readonly verified: readonly NoteVerifier[];
  /** Signature lines by keys none of `verifiers` is: ignored. */
  readonly unknown: readonly NoteSignature[];
}

/**
 * Parses a note and checks it against `verifiers`: signatures by unknown keys are ignored, a bad signature by a known
 * key (same name and key id) fails, and at least one known key must have signed.
 */
export function openNote(note: unknown, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(note);
  const message = utf8Encode(text);
  const verified: NoteVerifier[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
    if (verifier === undefined) {
      unknown.push(sig);
      continue;
    }
    if (!verifier.verify(message, sig.signature))
      throw new ProtocolError("invalid_note", `the signature by ${sig.name} does not verify`);
    if (!verified.includes(verifier)) verified.push(verifier);
  }
  if (verified.length === 0) throw new ProtocolError("invalid_note", "no known key signed this note");
  return { text, verified, unknown };
}
