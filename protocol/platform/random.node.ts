import { randomFillSync } from "node:crypto";

/** Bytes drawn from the CSPRNG at once and handed out in turn: one system call per 256 salts, not one per salt. */
const POOL_SIZE = 8192;
const pool = new Uint8Array(POOL_SIZE);
let used = POOL_SIZE;

/** `length` bytes from the operating system's CSPRNG (each byte handed out once). */
export function randomBytes(length: number): Uint8Array {
  if (length > POOL_SIZE / 4) return randomFillSync(new Uint8Array(length));
  if (used + length > POOL_SIZE) {
    randomFillSync(pool);
    used = 0;
  }
  const out = pool.slice(used, used + length);
  // the pool keeps no copy of what it gave out
  pool.fill(0, used, used + length);
  used += length;
  return out;
}
