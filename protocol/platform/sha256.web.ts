// Browser (default) implementation of the #sha256 subpath import: synchronous, so the same proof code
// runs unchanged in the browser, a Web Worker and Node.
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Writes SHA-256(data) into out[offset, offset + 32). */
export function sha256Into(data: Uint8Array, out: Uint8Array, offset: number): void {
  out.set(nobleSha256(data), offset);
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, key, data);
}
