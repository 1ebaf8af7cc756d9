// Receipts checked by the auditor (--receipt): each receipt (v1 or v2) verified with protocol's one verifyReceipt,
// then its leaf found at its index in the log the audit recomputed. Isomorphic: no file or network access here.
import {
  base64UrlEncode,
  type Hex,
  hexToBytes,
  type PublicJwk,
  type ReceiptLog,
  verifyReceipt,
} from "../protocol/index.ts";

/** What the auditor says of one receipt. */
export interface ReceiptAudit {
  /** Where the receipt came from (its file name). */
  readonly source: string;
  readonly ok: boolean;
  readonly version: number | null;
  readonly leafIndex: number | null;
  readonly message: string;
}

/** A receipt key as the registry stores it (32 bytes, 0x-hex), as the JWK verifyReceipt takes. */
export function receiptKeyJwk(publicKey: Hex): PublicJwk {
  return { kty: "OKP", crv: "Ed25519", x: base64UrlEncode(hexToBytes(publicKey, 32, "receipt key")) };
}

/** The index a receipt names, if it names one (to keep that leaf's hash while the audit streams the log). */
export function receiptIndex(receipt: unknown): number | null {
  const i = (receipt as { leafIndex?: unknown } | null)?.leafIndex;
  return typeof i === "number" && Number.isSafeInteger(i) && i >= 0 ? i : null;
}

/**
 * Verifies `receipt` (v1 with `keys`, v2 with `log`) and finds its leaf at its index in the audited log of
 * consultation `consultation`: `leafAt(i)` is the audited log's leaf hash at i, undefined past its end.
 */
export function auditReceipt(
  source: string,
  receipt: unknown,
  options: {
    consultation: string;
    keys: readonly PublicJwk[];
    log: ReceiptLog | null;
    leafAt: (index: number) => Hex | undefined;
  },
): ReceiptAudit {
  const version = (receipt as { v?: unknown } | null)?.v;
  const base = {
    source,
    version: typeof version === "number" ? version : null,
    leafIndex: receiptIndex(receipt),
  };
  const check = verifyReceipt(receipt, options.keys, options.log);
  if (!check.valid) {
    const failed = check.steps.at(-1)!;
    return { ...base, ok: false, message: `refused at the ${failed.step} step: ${failed.message}` };
  }
  const r = check.receipt!;
  if (r.consultation !== options.consultation)
    return {
      ...base,
      ok: false,
      message: `a receipt of consultation ${r.consultation}, not ${options.consultation}`,
    };
  const audited = options.leafAt(r.leafIndex);
  if (audited === undefined)
    return { ...base, ok: false, message: `the audited log has no leaf ${r.leafIndex}` };
  if (audited !== r.leafHash)
    return {
      ...base,
      ok: false,
      message: `leaf ${r.leafIndex} of the audited log is ${audited}, not ${r.leafHash}`,
    };
  const signed =
    r.v === 2
      ? `in the log-signed checkpoint of size ${check.checkpoint!.size}`
      : "signed by a registered receipt key";
  const withheld = check.steps.some((s) => s.ok === null) ? "; its text was withheld" : "";
  return {
    ...base,
    ok: true,
    message: `leaf ${r.leafIndex} of the audited log (v${r.v}, ${signed}${withheld})`,
  };
}
