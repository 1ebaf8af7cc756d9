// Receipts: what a citizen keeps. v1: the service signs the four fields that bind it to a position in the log and a
// deadline. v2: a C2SP tlog-proof (the inclusion proof to a checkpoint the log key signed once per group commit).
// Everything else in a receipt is checked by recomputation, not trust.
import { ed25519Signer, ed25519Verify } from "#ed25519";
import { randomBytes } from "#random";
import { sha256 } from "#sha256";
import { type Checkpoint, logOrigin, openCheckpoint } from "./checkpoint.ts";
import { base64UrlDecode, base64UrlEncode, type Hex, isHash, utf8Encode } from "./encoding.ts";
import { contentHash, decodeEntry, type Entry } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { leafHash } from "./hash.ts";
import { canonicalJson } from "./jcs.ts";
import { checkInclusion } from "./merkle/verify.ts";
import { ed25519NoteVerifier } from "./note.ts";
import { isTime } from "./time.ts";
import { formatTlogProof, parseTlogProof, type TlogProof } from "./tlog-proof.ts";

/** A receipt of either version. */
export type Receipt = ReceiptV1 | ReceiptV2;

/** A receipt, version 1: the citizen's fields and the service's Ed25519 signature over four of them. */
export interface ReceiptV1 extends ReceiptFields {
  readonly v: 1;
  readonly keyId: string;
  /** base64url Ed25519 signature over UTF-8(JCS({anchorDeadline, consultation, leafHash, leafIndex})). */
  readonly signature: string;
}

/**
 * A receipt, version 2: the citizen's fields plus `proof`, the exact C2SP tlog-proof text (index, inclusion proof,
 * the log's signed checkpoint). Nothing here but the checkpoint is signed: issuedAt and anchorDeadline are the
 * service's word, lateness is judged from the chain.
 */
export interface ReceiptV2 extends ReceiptFields {
  readonly v: 2;
  /** `c2sp.org/tlog-proof@v1` text; its index is leafIndex and its proof leads from leafHash to the checkpoint. */
  readonly proof: string;
}

/** What the citizen checks of their own opinion, in both versions. */
export interface ReceiptFields {
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
}

/** The log a v2 receipt's checkpoint must come from: the trust root's `log` (origin `<originPrefix>/<id>`). */
export interface ReceiptLog {
  readonly originPrefix: string;
  /** The 32-byte Ed25519 checkpoint key. */
  readonly publicKey: Uint8Array;
}

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
export function signReceipt(fields: ReceiptFields, key: ReceiptSigningKey): ReceiptV1 {
  if (typeof key?.sign !== "function" || typeof key.keyId !== "string") {
    throw new ProtocolError(
      "invalid_key",
      "signReceipt needs a key made by receiptKeyFromSeed or generateReceiptKey",
    );
  }
  if (typeof fields !== "object" || fields === null)
    throw new ProtocolError("invalid_receipt", "receipt fields must be an object");
  const unsigned = { v: 1 as const, ...fields, keyId: key.keyId, signature: "" };
  const problem = receiptShapeProblem(unsigned, RECEIPT_FIELDS, true);
  if (problem) throw new ProtocolError("invalid_receipt", problem);
  return { ...unsigned, signature: base64UrlEncode(key.sign(receiptSigningInput(fields))) };
}

/**
 * A v2 receipt: `fields` with the inclusion proof of leafIndex to the signed checkpoint `checkpoint` (a note whose
 * tree contains the leaf). Costs no signature: the checkpoint was signed once for the whole group commit.
 */
export function receiptV2(
  fields: ReceiptFields,
  inclusion: Pick<TlogProof, "proof" | "checkpoint">,
): ReceiptV2 {
  if (typeof fields !== "object" || fields === null)
    throw new ProtocolError("invalid_receipt", "receipt fields must be an object");
  const proof = formatTlogProof({ extra: null, index: fields.leafIndex, ...inclusion });
  const receipt: ReceiptV2 = { v: 2, ...fields, proof };
  const problem = receiptShapeProblem(receipt, RECEIPT_V2_FIELDS);
  if (problem) throw new ProtocolError("invalid_receipt", problem);
  return receipt;
}

const COMMON_FIELDS = [
  "v",
  "consultation",
  "leafIndex",
  "leafHash",
  "entry",
  "text",
  "salt",
  "issuedAt",
  "anchorDeadline",
] as const;
const RECEIPT_FIELDS: readonly string[] = [...COMMON_FIELDS, "keyId", "signature"];
const RECEIPT_V2_FIELDS: readonly string[] = [...COMMON_FIELDS, "proof"];

/** The fields a receipt of version `v` has, or undefined for a version this code does not know. */
function fieldsOfVersion(v: unknown): readonly string[] | undefined {
  return v === 1 ? RECEIPT_FIELDS : v === 2 ? RECEIPT_V2_FIELDS : undefined;
}

function receiptShapeProblem(
  value: unknown,
  fields: readonly string[] | undefined,
  unsigned = false,
): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "receipt must be a JSON object";
  const r = value as Record<string, unknown>;
  if (fields === undefined)
    return `receipt version ${JSON.stringify(r.v)} is not supported (v must be 1 or 2)`;
  for (const key of Object.keys(r)) {
    if (!fields.includes(key)) return `receipt has an unknown field "${key}"`;
  }
  for (const key of fields) if (!(key in r)) return `receipt is missing the field "${key}"`;
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
  if (r.v === 2) return typeof r.proof === "string" ? undefined : "receipt proof must be tlog-proof text";
  if (typeof r.keyId !== "string" || r.keyId.length === 0) return "receipt keyId must be a key thumbprint";
  if (!unsigned && (typeof r.signature !== "string" || !/^[A-Za-z0-9_-]{86}$/.test(r.signature))) {
    return "receipt signature must be 64 bytes of base64url";
  }
  return undefined;
}

/** v1: format, signature, contentHash, leafHash. v2: format, checkpoint, contentHash, leafHash, inclusion. */
export type ReceiptStep = "format" | "signature" | "checkpoint" | "contentHash" | "leafHash" | "inclusion";

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
  /** v2: the checkpoint the receipt's proof leads to, once its signature by the log key verified. */
  readonly checkpoint?: Checkpoint;
  /** The steps in order; checking stops at the first failed step. */
  readonly steps: readonly ReceiptStepResult[];
}

/**
 * Checks everything a receipt says on its own. v1: its format, the signature by one of `keys`, the text and salt
 * against the entry's contentHash, and the entry against leafHash. v2 (which needs `log`, the trust root's log):
 * its format, the checkpoint's signature by the log key under the consultation's origin (unknown signature lines
 * ignored, a bad one by the log key fails), contentHash, leafHash, and the inclusion proof from leafHash at
 * leafIndex to the checkpoint's root. Whether the leaf is in the log anchored on chain is a separate check.
 */
export function verifyReceipt(
  receipt: unknown,
  keys: readonly PublicJwk[],
  log?: ReceiptLog | null,
): ReceiptCheck {
  const steps: ReceiptStepResult[] = [];
  const stop = (step: ReceiptStep, message: string, extra: Partial<ReceiptCheck> = {}): ReceiptCheck => {
    steps.push({ step, ok: false, message });
    return { valid: false, steps, ...extra };
  };

  if (!Array.isArray(keys)) throw new ProtocolError("invalid_key", "keys must be a list of public JWKs");
  const version = (receipt as { v?: unknown } | null)?.v;
  const shapeProblem = receiptShapeProblem(receipt, fieldsOfVersion(version));
  if (shapeProblem) return stop("format", shapeProblem);
  const r = receipt as Receipt;
  let entry: Entry;
  let tlog: ReturnType<typeof parseTlogProof> | undefined;
  try {
    entry = decodeEntry(r.entry);
    if (r.v === 2) tlog = parseTlogProof(r.proof);
  } catch (error) {
    return stop("format", (error as Error).message, { receipt: r });
  }
  if (entry.type !== "opinion") return stop("format", "a receipt's entry must be an opinion", { receipt: r });
  if (entry.consultation !== r.consultation)
    return stop("format", "the entry belongs to another consultation", { receipt: r });
  if (tlog !== undefined && tlog.index !== r.leafIndex)
    return stop("format", `the proof is for index ${tlog.index}, the receipt says ${r.leafIndex}`, {
      receipt: r,
    });
  steps.push({ step: "format", ok: true, message: "The receipt is well formed." });

  let checkpoint: Checkpoint | undefined;
  if (r.v === 1) {
    const problem = signatureProblem(r, keys);
    if (problem) return stop("signature", problem, { receipt: r, entry });
    steps.push({ step: "signature", ok: true, message: "The service signed this receipt." });
  } else {
    if (!log)
      return stop("checkpoint", "no log key to check a v2 receipt's checkpoint with", { receipt: r, entry });
    try {
      checkpoint = openReceiptCheckpoint(tlog!.checkpoint, log, r.consultation);
    } catch (error) {
      return stop("checkpoint", (error as Error).message, { receipt: r, entry });
    }
    steps.push({
      step: "checkpoint",
      ok: true,
      message: `The log key signed the checkpoint of ${checkpoint.origin} at size ${checkpoint.size}.`,
    });
  }
  const found = { receipt: r, entry, ...(checkpoint ? { checkpoint } : {}) };

  if (isTextWithheld(r)) {
    steps.push({
      step: "contentHash",
      ok: null,
      message:
        "The text was withheld by moderation: the receipt no longer carries it, so it cannot be checked.",
    });
  } else if (contentHashOrUndefined(r) !== entry.contentHash) {
    return stop("contentHash", "the text and salt do not hash to the entry's contentHash", found);
  } else {
    steps.push({
      step: "contentHash",
      ok: true,
      message: "The text is exactly the one committed in the entry.",
    });
  }

  if (leafHash(utf8Encode(r.entry)) !== r.leafHash) {
    return stop("leafHash", "the entry does not hash to the receipt's leafHash", found);
  }
  steps.push({ step: "leafHash", ok: true, message: "The entry hashes to the leaf in the log." });

  if (checkpoint !== undefined) {
    const inclusion = checkInclusion(
      r.leafHash,
      r.leafIndex,
      checkpoint.size,
      tlog!.proof,
      checkpoint.rootHash,
    );
    if (!inclusion.ok) return stop("inclusion", `the inclusion proof is refused: ${inclusion.reason}`, found);
    steps.push({
      step: "inclusion",
      ok: true,
      message: `The leaf is entry ${r.leafIndex} of the checkpointed tree of ${checkpoint.size} leaves.`,
    });
  }
  return { valid: true, ...found, steps };
}

/** Why a v1 receipt's signature is refused, or undefined when one of `keys` signed it. */
function signatureProblem(r: ReceiptV1, keys: readonly PublicJwk[]): string | undefined {
  const key = keys.find((k) => safeThumbprint(k) === r.keyId);
  if (key === undefined) return `no known signing key has id ${r.keyId}`;
  const ok = ed25519Verify(
    base64UrlDecode(key.x, "jwk.x"),
    receiptSigningInput(r),
    base64UrlDecode(r.signature, "signature"),
  );
  return ok ? undefined : "the signature does not match the receipt";
}

/** The checkpoint of a v2 receipt's proof, once signed by `log`'s key for the consultation's origin. */
export function openReceiptCheckpoint(note: string, log: ReceiptLog, consultation: string): Checkpoint {
  const origin = logOrigin(log.originPrefix, consultation);
  return openCheckpoint(note, ed25519NoteVerifier(origin, log.publicKey), { origin }).checkpoint;
}

function contentHashOrUndefined(r: ReceiptFields): Hex | undefined {
  try {
    return contentHash(r.salt, r.text);
  } catch {
    return undefined;
  }
}

/**
 * The salt a receipt carries once its text is withheld by moderation: 32 zero bytes (a random salt is never that).
 * Such a receipt keeps its signature (v1) or proof (v2) and every other field; only `text` ("") and `salt` are
 * redacted.
 */
export const WITHHELD_SALT: Hex = `0x${"00".repeat(32)}`;

/** The receipt as the service keeps it after withholding its text: text "" and salt WITHHELD_SALT. */
export function withholdReceiptText<R extends Receipt>(receipt: R): R {
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
