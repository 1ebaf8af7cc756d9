// Node implementation of the #sha256 subpath import: node:crypto's one-shot hash is several times
// faster than a JavaScript SHA-256, and the log's append rate depends on it.
import { createHmac, hash } from "node:crypto";

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return hash("sha256", data, "buffer");
}

/** HMAC-SHA-256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}
