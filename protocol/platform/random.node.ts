import { randomBytes as nodeRandomBytes } from "node:crypto";

/** `length` bytes from the operating system's CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(length));
}
