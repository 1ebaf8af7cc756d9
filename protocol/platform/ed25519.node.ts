// Node implementation of the #ed25519 subpath import, through node:crypto (OpenSSL).
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

export interface Ed25519Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
// SPKI DER prefix of an Ed25519 public key; the 32-byte key follows.
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** A signer for the 32-byte Ed25519 `seed` (RFC 8032 private key). */
export function ed25519Signer(seed: Uint8Array): Ed25519Signer {
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return {
    publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX.length)),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

const publicKeyCache = new Map<string, KeyObject>();

/** True when `signature` is a valid Ed25519 signature of `message` by the 32-byte `publicKey`. */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const cacheKey = Buffer.from(publicKey).toString("hex");
  let key = publicKeyCache.get(cacheKey);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
    } catch {
      return false;
    }
    if (publicKeyCache.size > 64) publicKeyCache.clear();
    publicKeyCache.set(cacheKey, key);
  }
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
