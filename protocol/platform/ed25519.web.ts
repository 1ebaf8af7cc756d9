// Browser (default) implementation of the #ed25519 subpath import: synchronous and dependency-light.
import { ed25519 } from "@noble/curves/ed25519.js";

export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A signer for the 32-byte Ed25519 `seed` (RFC 8032 private key). */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const secret = Uint8Array.from(seed);
  return { publicKey: ed25519.getPublicKey(secret), sign: (message) => ed25519.sign(message, secret) };
}

/** True when `signature` is a valid Ed25519 signature of `message` by the 32-byte `publicKey`. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}
