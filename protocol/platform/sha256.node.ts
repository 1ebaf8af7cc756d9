// Node implementation of the #sha256 subpath import: node:crypto's one-shot hash is several times
// faster than a JavaScript SHA-256, and the log's append rate depends on it.
import { createHmac, hash } from "node:crypto";

/**
 * Writes SHA-256(data) into out[offset, offset + 32). The digest is taken as a "binary" (latin1)
 * string, one character per byte: a Buffer result costs an off-heap allocation per call, which made
 * hashing small inputs (tree nodes) two to three times slower than the hash itself.
 */
export function sha256Into(data: Uint8Array, out: Uint8Array, offset: number): void {
  const digest = hash("sha256", data, "binary");
  for (let i = 0; i < 32; i++) out[offset + i] = digest.charCodeAt(i);
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256Into(data, out, 0);
  return out;
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}
