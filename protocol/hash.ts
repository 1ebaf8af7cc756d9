// RFC 9162 section 2.1 hashing with SHA-256: the one definition every other part of Gopy uses.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, hashToBytes } from "./encoding.ts";
import { ProtocolError } from "./errors.ts";

export { sha256 };

/** MTH({}) = SHA-256(""): the root of the empty tree. */
export const EMPTY_ROOT: Hex = bytesToHex(sha256(new Uint8Array(0)));

// Scratch space for 0x00 || entry: a fresh Uint8Array of a few hundred bytes per leaf lives outside
// V8's heap and costs more than the hash itself. Hashing is synchronous, so one buffer is enough.
let leafInput = new Uint8Array(1024);

/** Leaf hash as bytes: SHA-256(0x00 || entry bytes). */
export function leafHashBytes(entryBytes: Uint8Array): Uint8Array {
  if (entryBytes.length + 1 > leafInput.length) leafInput = new Uint8Array(2 * (entryBytes.length + 1));
  leafInput[0] = 0x00;
  leafInput.set(entryBytes, 1);
  return sha256(leafInput.subarray(0, entryBytes.length + 1));
}

/** Leaf hash of an entry's canonical bytes, as 0x-hex: SHA-256(0x00 || entry bytes). */
export function leafHash(entryBytes: Uint8Array): Hex {
  if (!(entryBytes instanceof Uint8Array))
    throw new ProtocolError("invalid_argument", "entryBytes must be a Uint8Array");
  return bytesToHex(leafHashBytes(entryBytes));
}

// One 65-byte scratch buffer per realm: node hashing is the hot loop of append and verify.
const nodeInput = new Uint8Array(65);
nodeInput[0] = 0x01;

/** Interior node hash as bytes: SHA-256(0x01 || left || right). */
export function nodeHashBytes(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 33);
  return sha256(nodeInput);
}

/** Interior node hash of two 0x-hex child hashes: SHA-256(0x01 || left || right). */
export function nodeHash(left: Hex, right: Hex): Hex {
  return bytesToHex(nodeHashBytes(hashToBytes(left, "left"), hashToBytes(right, "right")));
}
