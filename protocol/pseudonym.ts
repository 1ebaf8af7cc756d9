// Pseudonyms and keyed hashes: what the service publishes or stores instead of an identity. Both are
// HMAC-SHA-256 under the service's pseudonym secret, so without the secret nothing links them to a
// person, and with it the service recomputes the same value for the same person.

import { hmacSha256 } from "#sha256";
import { base64UrlEncode, bytesToHex, type Hex, utf8Encode } from "./encoding.ts";
import { CONSULTATION_ID_PATTERN } from "./entry.ts";
import { ProtocolError } from "./errors.ts";

/**
 * Who a pseudonym stands for, each kind in its own HMAC namespace: a citizen (the identity provider's
 * subject), an agency officer (the officer's subject) or one imported offline row (the import's hash
 * and line). No subject of one kind can produce the pseudonym of another kind.
 */
export type PseudonymKind = "citizen" | "officer" | "offline";
export const PSEUDONYM_KINDS: readonly PseudonymKind[] = ["citizen", "officer", "offline"];

function assertSecret(secret: unknown): asserts secret is Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length < 32) {
    throw new ProtocolError("invalid_key", "the pseudonym secret must be at least 32 bytes");
  }
}

/**
 * The pseudonym of `subject` in one consultation:
 * HMAC-SHA-256(secret, UTF-8(kind ":" consultation ":" subject)). The kind is one of three fixed words
 * and the consultation id is digits only, so the message is unambiguous; a different consultation or
 * kind gives an unlinkable pseudonym.
 */
export function pseudonym(
  secret: Uint8Array,
  kind: PseudonymKind,
  consultation: string,
  subject: string,
): Hex {
  assertSecret(secret);
  if (!PSEUDONYM_KINDS.includes(kind)) {
    throw new ProtocolError(
      "invalid_argument",
      `pseudonym kind must be one of ${PSEUDONYM_KINDS.join(", ")}`,
    );
  }
  if (typeof consultation !== "string" || !CONSULTATION_ID_PATTERN.test(consultation)) {
    throw new ProtocolError("invalid_argument", "consultation must be a decimal consultation id");
  }
  if (typeof subject !== "string" || subject.length === 0) {
    throw new ProtocolError("invalid_argument", "subject must be a non-empty string");
  }
  return bytesToHex(hmacSha256(secret, utf8Encode(`${kind}:${consultation}:${subject}`, "subject")));
}

/**
 * A keyed hash for the service's private records (never published): unpadded base64url of
 * HMAC-SHA-256(secret, UTF-8(purpose NUL part1 NUL part2 ...)). The purpose names the use (`subject`,
 * `idempotency`, `import`, `ratelimit`), so one use's hashes never match another's.
 */
export function keyedHash(secret: Uint8Array, purpose: string, ...parts: string[]): string {
  assertSecret(secret);
  for (const part of [purpose, ...parts]) {
    if (typeof part !== "string")
      throw new ProtocolError("invalid_argument", "keyed hash parts must be strings");
  }
  return base64UrlEncode(
    hmacSha256(secret, utf8Encode([purpose, ...parts].join("\u0000"), "keyed hash input")),
  );
}
