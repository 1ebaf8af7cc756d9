// Receipts: what a citizen keeps. The service signs the four fields that bind it to a position in
// the log and a deadline; everything else in the receipt is checked by recomputation, not trust.
import { ed25519Signer, ed25519Verify } from "#ed25519";
import { randomBytes } from "#random";
import { sha256 } from "#sha256";
import { base64UrlDecode, base64UrlEncode, type Hex, isHash, utf8Encode } from "./encoding.ts";
import { contentHash, decodeEntry, type Entry } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { leafHash } from "./hash.ts";
import { canonicalJson } from "./jcs.ts";
import { isTime } from "./time.ts";

/** A receipt, version 1. */
export interface Receipt {
  readonly v: 1;
  readonly consultation: string;
  readonly leafIndex: number;
  readonly leafHash: Hex;
  /** The entry's canonical JSON text: its UTF-8 bytes hash to leafHash. */
  readonly entry: string;
  readonly text: string;
  readonly salt: Hex;
  readonly issuedAt: string;
  /** The time by which the service promises this leaf is in a head anchored on chain. */
  readonly anchorDeadline: string;
  readonly keyId: string;
  /** base64url Ed25519 signature over UTF-8(JCS({anchorDeadline, consultation, leafHash, leafIndex})). */
  readonly signature: string;
}

export type ReceiptFields = Omit<Receipt, "v" | "keyId" | "signature">;

/** An Ed25519 public key as a JWK (RFC 8037). */
export interface PublicJwk {
  readonly kty: "OKP";
  readonly crv: "Ed25519";
  readonly x: string;
  readonly kid?: string;
  readonly alg?: "EdDSA";
  readonly use?: "sig";
}

/** A receipt-signing key: the seed stays inside `sign`. */
export interface ReceiptSigningKey {
  readonly keyId: string;
  readonly publicJwk: PublicJwk;
  sign(message: Uint8Array): Uint8Array;
}

/** RFC 7638 thumbprint of an Ed25519 JWK: base64url SHA-256 of `{"crv","kty","x"}` in canonical form. */
export function jwkThumbprint(jwk: PublicJwk): string {
  if (jwk?.kty !== "OKP" || jwk.crv !== "Ed25519" || base64UrlDecode(jwk.x, "jwk.x").length !== 32) {
    throw new ProtocolError("invalid_key", "key must be an Ed25519 JWK (kty OKP, crv Ed25519, 32-byte x)");
  }
  return base64UrlEncode(sha256(utf8Encode(canonicalJson({ crv: jwk.crv, kty: jwk.kty, x: jwk.x }))));
}

/** The receipt-signing key for a 32-byte Ed25519 seed. */
export function receiptKeyFromSeed(seed: Uint8Array): ReceiptSigningKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) {
    throw new ProtocolError("invalid_key", "an Ed25519 seed is exactly 32 bytes");
  }
  const signer = ed25519Signer(seed);
  const unlabelled: PublicJwk = { kty: "OKP", crv: "Ed25519", x: base64UrlEncode(signer.publicKey) };
  const keyId = jwkThumbprint(unlabelled);
  return { keyId, publicJwk: { ...unlabelled, kid: keyId, alg: "EdDSA", use: "sig" }, sign: signer.sign };
}

/** The exact bytes a receipt signature covers. */
export function receiptSigningInput(
  fields: Pick<Receipt, "anchorDeadline" | "consultation" | "leafHash" | "leafIndex">,
): Uint8Array {
  const { anchorDeadline, consultation, leafHash, leafIndex } = fields;
  return utf8Encode(canonicalJson({ anchorDeadline, consultation, leafHash, leafIndex }));
}

/** Signs a receipt. The fields must already be consistent (the entry hashes to leafHash, and so on). */
export function signReceipt(fields: ReceiptFields, key: ReceiptSigningKey): Receipt {
  if (typeof key?.sign !== "function" || typeof key.keyId !== "string") {
    throw new ProtocolError(
      "invalid_key",
      "signReceipt needs a key made by receiptKeyFromSeed or generateReceiptKey",
    );
  }
  if (typeof fields !== "object" || fields === null)
    throw new ProtocolError("invalid_receipt", "receipt fields must be an object");
  const unsigned = { v: 1 as const, ...fields, keyId: key.keyId, signature: "" };
  const problem = receiptShapeProblem(unsigned, true);
  if (problem) throw new ProtocolError("invalid_receipt", problem);
  return { ...unsigned, signature: base64UrlEncode(key.sign(receiptSigningInput(fields))) };
}

const RECEIPT_FIELDS = [
  "v",
  "consultation",
  "leafIndex",
  "leafHash",
  "entry",
  "text",
  "salt",
  "issuedAt",
  "anchorDeadline",
  "keyId",
  "signature",
] as const;

function receiptShapeProblem(value: unknown, unsigned = false): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "receipt must be a JSON object";
  const r = value as Record<string, unknown>;
  if (r.v !== 1) return `receipt version ${JSON.stringify(r.v)} is not supported (v must be 1)`;
  for (const key of Object.keys(r)) {
    if (!(RECEIPT_FIELDS as readonly string[]).includes(key)) return `receipt has an unknown field "${key}"`;
  }
  for (const key of RECEIPT_FIELDS) if (!(key in r)) return `receipt is missing the field "${key}"`;
  if (typeof r.consultation !== "string" || !/^[1-9][0-9]{0,77}$/.test(r.consultation))
    return "receipt consultation must be a decimal id";
  if (typeof r.leafIndex !== "number" || !Number.isSafeInteger(r.leafIndex) || r.leafIndex < 0)
    return "receipt leafIndex must be an integer >= 0";
  if (!isHash(r.leafHash)) return "receipt leafHash must be a 32-byte 0x-hex hash";
  if (typeof r.entry !== "string") return "receipt entry must be the canonical entry text";
  if (typeof r.text !== "string") return "receipt text must be a string";
  if (!isHash(r.salt)) return "receipt salt must be 32 bytes of 0x-hex";
  if (!isTime(r.issuedAt)) return "receipt issuedAt must be RFC 3339 UTC with milliseconds";
  if (!isTime(r.anchorDeadline)) return "receipt anchorDeadline must be RFC 3339 UTC with milliseconds";
  if (typeof r.keyId !== "string" || r.keyId.length === 0) return "receipt keyId must be a key thumbprint";
  if (!unsigned && (typeof r.signature !== "string" || !/^[A-Za-z0-9_-]{86}$/.test(r.signature))) {
    return "receipt signature must be 64 bytes of base64url";
  }
  return undefined;
}

export type ReceiptStep = "format" | "signature" | "contentHash" | "leafHash";

export interface ReceiptStepResult {
  readonly step: ReceiptStep;
  /** null: the step cannot be checked (contentHash of a receipt whose text was withheld); later steps still run. */
  readonly ok: boolean | null;
  readonly message: string;
}

export interface ReceiptCheck {
  /** No step failed (a withheld text is not a failure: the receipt still proves the leaf). */
  readonly valid: boolean;
  /** The receipt, when its format was valid. */
  readonly receipt?: Receipt;
  /** The decoded entry, when it was valid. */
  readonly entry?: Entry;
  /** The steps in order; checking stops at the first failed step. */
  readonly steps: readonly ReceiptStepResult[];
}

/**
 * Checks everything a receipt says on its own: its format, the signature by one of `keys`, the text
 * and salt against the entry's contentHash, and the entry against leafHash. Whether the leaf is in
 * the anchored log is a separate check (verifyInclusion against the head read from the chain).
 */
export function verifyReceipt(receipt: unknown, keys: readonly PublicJwk[]): ReceiptCheck {
  const steps: ReceiptStepResult[] = [];
  const stop = (step: ReceiptStep, message: string, extra: Partial<ReceiptCheck> = {}): ReceiptCheck => {
    steps.push({ step, ok: false, message });
    return { valid: false, steps, ...extra };
  };

  if (!Array.isArray(keys)) throw new ProtocolError("invalid_key", "keys must be a list of public JWKs");
  const shapeProblem = receiptShapeProblem(receipt);
  if (shapeProblem) return stop("format", shapeProblem);
  const r = receipt as Receipt;
  let entry: Entry;
  try {
    entry = decodeEntry(r.entry);
  } catch (error) {
    return stop("format", (error as Error).message, { receipt: r });
  }
  if (entry.type !== "opinion") return stop("format", "a receipt's entry must be an opinion", { receipt: r });
  if (entry.consultation !== r.consultation)
    return stop("format", "the entry belongs to another consultation", { receipt: r });
  steps.push({ step: "format", ok: true, message: "The receipt is well formed." });

  const key = keys.find((k) => safeThumbprint(k) === r.keyId);
  if (key === undefined)
    return stop("signature", `no known signing key has id ${r.keyId}`, { receipt: r, entry });
  const signatureOk = ed25519Verify(
    base64UrlDecode(key.x, "jwk.x"),
    receiptSigningInput(r),
    base64UrlDecode(r.signature, "signature"),
  );
  if (!signatureOk)
    return stop("signature", "the signature does not match the receipt", { receipt: r, entry });
  steps.push({ step: "signature", ok: true, message: "The service signed this receipt." });

  if (isTextWithheld(r)) {
    steps.push({
      step: "contentHash",
      ok: null,
      message:
        "The text was withheld by moderation: the receipt no longer carries it, so it cannot be checked.",
    });
  } else if (contentHashOrUndefined(r) !== entry.contentHash) {
    return stop("contentHash", "the text and salt do not hash to the entry's contentHash", {
      receipt: r,
      entry,
    });
  } else {
    steps.push({
      step: "contentHash",
      ok: true,
      message: "The text is exactly the one committed in the entry.",
    });
  }

  if (leafHash(utf8Encode(r.entry)) !== r.leafHash) {
    return stop("leafHash", "the entry does not hash to the receipt's leafHash", { receipt: r, entry });
  }
  steps.push({ step: "leafHash", ok: true, message: "The entry hashes to the leaf in the log." });
  return { valid: true, receipt: r, entry, steps };
}

function contentHashOrUndefined(r: Receipt): Hex | undefined {
  try {
    return contentHash(r.salt, r.text);
  } catch {
    return undefined;
  }
}

/**
 * The salt a receipt carries once its text is withheld by moderation: 32 zero bytes (a random salt is never that).
 * Such a receipt keeps its signature and every signed field; only `text` ("") and `salt` are redacted.
 */
export const WITHHELD_SALT: Hex = `0x${"00".repeat(32)}`;

/** The receipt as the service keeps it after withholding its text: text "" and salt WITHHELD_SALT. */
export function withholdReceiptText(receipt: Receipt): Receipt {
  return { ...receipt, text: "", salt: WITHHELD_SALT };
}

/** True for a receipt redacted by withholdReceiptText. */
export function isTextWithheld(receipt: Pick<Receipt, "text" | "salt">): boolean {
  return receipt.text === "" && receipt.salt === WITHHELD_SALT;
}

function safeThumbprint(jwk: PublicJwk): string | undefined {
  try {
    return jwkThumbprint(jwk);
  } catch {
    return undefined;
  }
}

/** A new random receipt-signing key (its seed never leaves the returned object). */
export function generateReceiptKey(): ReceiptSigningKey {
  return receiptKeyFromSeed(randomBytes(32));
}
