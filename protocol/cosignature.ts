// C2SP tlog-cosignature v1 (c2sp.org/tlog-cosignature) and the request body of tlog-witness's add-checkpoint
// (c2sp.org/tlog-witness). A cosignature is a signed-note signature line by a witness key (algorithm 0x04) whose
// bytes are an 8-byte big-endian Unix time and an Ed25519 signature over
// "cosignature/v1\ntime <time>\n" followed by the checkpoint text: it says the witness saw this checkpoint and that
// it is consistent with every checkpoint of that origin it saw before.
import { ed25519Signer, ed25519Verify } from "#ed25519";
import { base64Decode, base64Encode, bytesToHex, type Hex, hashToBytes, utf8Encode } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";
import { assertKeyName, type NoteSignature, type NoteVerifier, noteKeyId, splitVkey } from "./note.ts";

/** Signature algorithm byte of a tlog-cosignature/v1 key. */
export const NOTE_ALG_COSIGNATURE = 0x04;

const hex8 = (n: number) => n.toString(16).padStart(8, "0");

/** The bytes a cosignature signs. */
export function cosignedMessage(checkpointText: string, time: number): Uint8Array {
  return utf8Encode(`cosignature/v1\ntime ${time}\n${checkpointText}`);
}

export interface WitnessKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** `<name>+<key id>+<base64(0x04 || public key)>`. */
  readonly vkey: string;
  /** The cosignature of a checkpoint text at `time` (Unix seconds). */
  cosign(checkpointText: string, time: number): NoteSignature;
}

function assertTime(time: number): void {
  if (!Number.isSafeInteger(time) || time < 0)
    throw new ProtocolError("invalid_note", "a cosignature time is a non-negative integer of seconds");
}

/** The witness key of a 32-byte seed under `name`. */
export function witnessKey(name: string, seed: Uint8Array): WitnessKey {
  assertKeyName(name, "witness name");
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new ProtocolError("invalid_key", "an Ed25519 seed is exactly 32 bytes");
  const signer = ed25519Signer(seed);
  const keyId = noteKeyId(name, NOTE_ALG_COSIGNATURE, signer.publicKey);
  const keyBytes = new Uint8Array(33);
  keyBytes[0] = NOTE_ALG_COSIGNATURE;
  keyBytes.set(signer.publicKey, 1);
  return {
    name,
    keyId,
    publicKey: signer.publicKey,
    vkey: `${name}+${hex8(keyId)}+${base64Encode(keyBytes)}`,
    cosign(checkpointText, time) {
      assertTime(time);
      const signature = new Uint8Array(72);
      new DataView(signature.buffer).setBigUint64(0, BigInt(time));
      signature.set(signer.sign(cosignedMessage(checkpointText, time)), 8);
      return { name, keyId, signature };
    },
  };
}

/** A NoteVerifier for a witness's cosignatures; `time` reads the time a valid cosignature carries. */
export function cosignatureVerifier(
  name: string,
  publicKey: Uint8Array,
): NoteVerifier & { publicKey: Uint8Array; time(signature: Uint8Array): number } {
  assertKeyName(name, "witness name");
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32)
    throw new ProtocolError("invalid_key", "an Ed25519 public key is exactly 32 bytes");
  const key = Uint8Array.from(publicKey);
  const time = (signature: Uint8Array) =>
    Number(new DataView(signature.buffer, signature.byteOffset).getBigUint64(0));
  return {
    name,
    keyId: noteKeyId(name, NOTE_ALG_COSIGNATURE, key),
    publicKey: key,
    time,
    verify: (text, signature) => {
      if (signature.length !== 72) return false;
      const t = time(signature);
      if (!Number.isSafeInteger(t)) return false;
      const message = cosignedMessage(new TextDecoder().decode(text), t);
      return ed25519Verify(key, message, signature.subarray(8));
    },
  };
}

/** Parses a witness vkey (algorithm 0x04). */
export function parseWitnessVkey(vkey: unknown): ReturnType<typeof cosignatureVerifier> {
  if (typeof vkey !== "string") throw new ProtocolError("invalid_key", "a vkey must be a string");
  const parts = splitVkey(vkey);
  if (parts.length !== 3 || !/^[0-9a-f]{8}$/.test(parts[1]!))
    throw new ProtocolError("invalid_key", "a vkey is <name>+<8 hex digits>+<base64 key>");
  let bytes: Uint8Array;
  try {
    bytes = base64Decode(parts[2], "vkey key");
  } catch {
    throw new ProtocolError("invalid_key", "the vkey's key is not base64");
  }
  if (bytes.length !== 33 || bytes[0] !== NOTE_ALG_COSIGNATURE)
    throw new ProtocolError(
      "invalid_key",
      "the vkey is not a cosignature/v1 key (0x04 followed by 32 bytes)",
    );
  const verifier = cosignatureVerifier(parts[0]!, bytes.subarray(1));
  if (hex8(verifier.keyId) !== parts[1])
    throw new ProtocolError("invalid_key", "the vkey's key id does not match its key");
  return verifier;
}

/** An add-checkpoint request (tlog-witness): the size the client believes the witness has, a proof, a checkpoint. */
export interface AddCheckpoint {
  readonly oldSize: number;
  readonly proof: readonly Hex[];
  /** The signed checkpoint note. */
  readonly checkpoint: string;
}

/** The add-checkpoint body: "old <size>\n", one base64 hash per line, a blank line, then the checkpoint note. */
export function addCheckpointBody(request: AddCheckpoint): string {
  if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0)
    throw new ProtocolError("invalid_argument", "old size must be a non-negative integer");
  const lines = request.proof.map((h, i) => base64Encode(hashToBytes(h, `proof ${i}`)));
  return `old ${request.oldSize}\n${lines.map((l) => `${l}\n`).join("")}\n${request.checkpoint}`;
}

/** Parses an add-checkpoint body; throws (invalid_argument) with the reason on anything malformed. */
export function parseAddCheckpoint(body: unknown): AddCheckpoint {
  const fail = (message: string): never => {
    throw new ProtocolError("invalid_argument", message);
  };
  if (typeof body !== "string") return fail("the body must be text");
  const blank = body.indexOf("\n\n");
  if (blank < 0) return fail("the body has no blank line before the checkpoint");
  const head = body.slice(0, blank).split("\n");
  const m = /^old (0|[1-9][0-9]*)$/.exec(head[0] ?? "");
  if (!m) return fail('the first line must be "old <size>"');
  const oldSize = Number(m[1]);
  if (!Number.isSafeInteger(oldSize)) fail("old size is too large");
  const proof = head.slice(1).map((line, i) => {
    let bytes: Uint8Array;
    try {
      bytes = base64Decode(line, `proof line ${i + 1}`);
    } catch {
      return fail(`proof line ${i + 1} is not base64`);
    }
    if (bytes.length !== 32) fail(`proof line ${i + 1} is not a 32-byte hash`);
    return bytesToHex(bytes);
  });
  if (proof.length > 63) fail("a consistency proof has at most 63 hashes");
  return { oldSize, proof, checkpoint: body.slice(blank + 2) };
}
