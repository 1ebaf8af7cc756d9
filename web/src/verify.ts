// Receipt verification, run entirely in the citizen's browser from the receipt, the receipt keys the
// registry lists, an inclusion proof and a counted proof (from the service or any mirror) and the head
// and countedRoot read from the registry the trust root pins.
// Pure: no fetch, no DOM, no clock (the caller passes `now`), so tests run it in Node and in Chromium.
import {
  type CountedLeaf,
  checkEntryCounted,
  type Entry,
  type Hex,
  jwkThumbprint,
  type PublicJwk,
  parseTime,
  type Receipt,
  verifyInclusion,
  verifyReceipt,
} from "../../protocol/index.ts";

export type StepName =
  | "format"
  | "signature"
  | "contentHash"
  | "leafHash"
  | "agreement"
  | "head"
  | "proof"
  | "counted";
export const STEP_ORDER: readonly StepName[] = [
  "format",
  "signature",
  "contentHash",
  "leafHash",
  "agreement",
  "head",
  "proof",
  "counted",
];

/** `ok`: true passed, false failed, null not decided (waiting, or skipped after an earlier failure). */
export interface StepResult {
  step: StepName;
  ok: boolean | null;
  /** i18n key of the plain-language explanation. */
  code: string;
  params: Record<string, string | number>;
  /** technical detail (English, from protocol/) for the curious. */
  detail?: string;
}

export type Verdict = "valid" | "invalid" | "pending";

export interface VerifyResult {
  verdict: Verdict;
  failedStep?: StepName;
  overdue: boolean;
  steps: StepResult[];
  receipt?: Receipt;
  entry?: Entry;
  /** true: the anchored map points to this entry; false: it does not (`replacedBy` says by which); null: not checked. */
  counted: boolean | null;
  /** The later entry the map points to instead, when this opinion was replaced. */
  replacedBy?: CountedLeaf;
}

export interface HeadInput {
  treeSize: number;
  rootHash: Hex;
  /** Unix seconds of the anchoring block. */
  anchoredAt: number;
  /** true once the tally is published: the log is frozen and will never grow. */
  frozen: boolean;
  /** The counted map's root anchored with this head; null: the registry keeps none (not checkable). */
  countedRoot?: Hex | null;
}

/** What the counted step needs beyond the head: the proof (null: none given) and the receipts held. */
export interface CountedInput {
  proof: unknown;
  /** Log indices of this consultation the citizen holds receipts for (this browser's receipts). */
  heldIndices: readonly number[];
}

export interface ProofInput {
  leafIndex: number;
  treeSize: number;
  proof: readonly Hex[];
}

export interface LocalCheck {
  ok: boolean;
  failedStep?: StepName;
  steps: StepResult[];
  receipt?: Receipt;
  entry?: Entry;
}

const LOCAL: readonly StepName[] = ["format", "signature", "contentHash", "leafHash"];

/**
 * Steps that need nothing but the receipt and the receipt keys. With `registry`, the keys are those the
 * registry lists, so a receipt signed by any other key fails at the signature step with that reason.
 */
export function checkLocal(receipt: unknown, keys: readonly PublicJwk[], registry?: string): LocalCheck {
  let check: ReturnType<typeof verifyReceipt>;
  try {
    check = verifyReceipt(receipt, keys);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      failedStep: "format",
      steps: [{ step: "format", ok: false, code: "step.format.bad", params: {}, detail }],
    };
  }
  const steps: StepResult[] = [];
  let failedStep: StepName | undefined;
  for (const name of LOCAL) {
    const s = check.steps.find((x) => x.step === name);
    if (failedStep) {
      steps.push({ step: name, ok: null, code: "step.skipped", params: {} });
      continue;
    }
    if (!s) {
      // protocol/ may fold "format" into the other steps; a missing later step after no failure is a failure.
      if (name === "format") {
        steps.push({ step: name, ok: true, code: "step.format.ok", params: {} });
        continue;
      }
      failedStep = name;
      steps.push({ step: name, ok: false, code: `step.${name}.bad`, params: {}, detail: "not checked" });
      continue;
    }
    // ok null: the text was withheld by moderation, so contentHash cannot be checked; not a failure
    steps.push({
      step: name,
      ok: s.ok,
      code: `step.${name}.${s.ok === null ? "withheld" : s.ok ? "ok" : "bad"}`,
      params: {},
      detail: s.message,
    });
    if (s.ok === false) failedStep = name;
  }
  if (!failedStep && !check.valid) failedStep = steps.find((s) => s.ok === false)?.step ?? "format";
  const sig = steps.find((s) => s.step === "signature");
  if (sig?.ok && check.receipt) sig.params = { keyId: check.receipt.keyId };
  const keyId = check.receipt?.keyId ?? (receipt as { keyId?: unknown } | null)?.keyId;
  if (sig?.ok === false && registry !== undefined && typeof keyId === "string" && !knownKey(keys, keyId)) {
    sig.code = "step.signature.notOnChain";
    sig.params = { keyId, registry };
  }
  return {
    ok: !failedStep,
    failedStep,
    steps,
    receipt: check.receipt,
    entry: check.entry,
  };
}

/**
 * The chain steps: is the receipt's leaf inside the head anchored on chain, and does the proof lead
 * from the leaf to that head's root. `proof` may be null when the head does not cover the leaf yet.
 */
export function checkAnchored(
  receipt: Receipt,
  head: HeadInput,
  proof: ProofInput | null,
  now: number,
): { verdict: Verdict; failedStep?: StepName; overdue: boolean; steps: StepResult[] } {
  const deadlineMs = safeTime(receipt.anchorDeadline);
  const params = {
    treeSize: head.treeSize,
    root: head.rootHash,
    index: receipt.leafIndex,
    deadline: receipt.anchorDeadline,
  };
  if (receipt.leafIndex >= head.treeSize) {
    if (head.frozen) {
      return {
        verdict: "invalid",
        failedStep: "head",
        overdue: false,
        steps: [
          { step: "head", ok: false, code: "step.head.frozenMissing", params },
          { step: "proof", ok: null, code: "step.skipped", params: {} },
        ],
      };
    }
    const overdue = deadlineMs !== null && now > deadlineMs;
    return {
      verdict: "pending",
      overdue,
      steps: [
        { step: "head", ok: null, code: overdue ? "step.head.overdue" : "step.head.pending", params },
        { step: "proof", ok: null, code: "step.proof.waiting", params: {} },
      ],
    };
  }
  const headStep: StepResult = { step: "head", ok: true, code: "step.head.ok", params };
  if (!proof) {
    return {
      verdict: "invalid",
      failedStep: "proof",
      overdue: false,
      steps: [headStep, { step: "proof", ok: false, code: "step.proof.missing", params: {} }],
    };
  }
  let ok = false;
  let detail = "";
  try {
    ok =
      proof.leafIndex === receipt.leafIndex &&
      verifyInclusion(receipt.leafHash, receipt.leafIndex, head.treeSize, proof.proof, head.rootHash);
    if (proof.leafIndex !== receipt.leafIndex) {
      detail = `the proof is for leaf ${proof.leafIndex}, the receipt says ${receipt.leafIndex}`;
    } else if (!ok) {
      detail = `the proof (for tree size ${proof.treeSize}) does not lead to the anchored root ${head.rootHash}`;
    }
  } catch (e) {
    detail = e instanceof Error ? e.message : String(e);
    ok = false;
  }
  return {
    verdict: ok ? "valid" : "invalid",
    failedStep: ok ? undefined : "proof",
    overdue: false,
    steps: [headStep, { step: "proof", ok, code: ok ? "step.proof.ok" : "step.proof.bad", params, detail }],
  };
}

function knownKey(keys: readonly PublicJwk[], keyId: string): boolean {
  return keys.some((k) => {
    try {
      return jwkThumbprint(k) === keyId;
    } catch {
      return false;
    }
  });
}

/**
 * The counted step, once the inclusion proof verified: does the map anchored with the head point to this
 * very entry. `replaced` (a later entry of the same author on the same section) fails it, naming that
 * entry and whether the citizen holds its receipt; a registry without countedRoot leaves it open.
 */
export function checkCounted(
  receipt: Receipt,
  entry: Entry,
  head: HeadInput,
  input: CountedInput | undefined,
): { step: StepResult; counted: boolean | null; replacedBy?: CountedLeaf } {
  const open = (code: string) => ({
    step: { step: "counted" as const, ok: null, code, params: {} },
    counted: null,
  });
  if (entry.type !== "opinion") return open("step.counted.notOpinion");
  if (head.countedRoot === null || head.countedRoot === undefined || !input)
    return open("step.counted.unsupported");
  if (input.proof === null || input.proof === undefined) {
    return { step: { step: "counted", ok: false, code: "step.counted.missing", params: {} }, counted: false };
  }
  const check = checkEntryCounted(
    input.proof,
    {
      author: entry.author,
      section: entry.section,
      leafIndex: receipt.leafIndex,
      leafHash: receipt.leafHash,
    },
    { treeSize: head.treeSize, countedRoot: head.countedRoot },
  );
  const params = { root: head.countedRoot, treeSize: head.treeSize };
  if (!check.ok) {
    return {
      step: { step: "counted", ok: false, code: "step.counted.bad", params, detail: check.reason },
      counted: false,
    };
  }
  if (check.status === "counted")
    return { step: { step: "counted", ok: true, code: "step.counted.ok", params }, counted: true };
  if (check.status === "replaced" && check.current) {
    const current = check.current.leafIndex;
    const held = input.heldIndices.includes(current) ? "heldYes" : "heldNo";
    return {
      step: {
        step: "counted",
        ok: false,
        code: "step.counted.replaced",
        params: { ...params, current, held: `step.counted.${held}` },
      },
      counted: false,
      replacedBy: check.current,
    };
  }
  return {
    step: {
      step: "counted",
      ok: false,
      code: "step.counted.wrong",
      params,
      detail: `the anchored map's answer for this author and section: ${check.status}${check.current ? ` (entry ${check.current.leafIndex})` : ""}`,
    },
    counted: false,
  };
}

function safeTime(t: string): number | null {
  try {
    return parseTime(t);
  } catch {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  }
}

/**
 * Everything at once, from data already fetched: what the page runs once proofs and head have arrived.
 * `agreement` is how many RPC URLs agreed on the head; `registry` names where the keys came from.
 */
export function verifyAll(input: {
  receipt: unknown;
  keys: readonly PublicJwk[];
  head: HeadInput;
  proof: ProofInput | null;
  now: number;
  counted?: CountedInput;
  agreement?: number;
  registry?: string;
}): VerifyResult {
  const local = checkLocal(input.receipt, input.keys, input.registry);
  const agreement: StepResult =
    input.agreement === undefined
      ? { step: "agreement", ok: null, code: "step.skipped", params: {} }
      : { step: "agreement", ok: true, code: "step.agreement.ok", params: { n: input.agreement } };
  if (!local.ok || !local.receipt) {
    return {
      verdict: "invalid",
      failedStep: local.failedStep ?? "format",
      overdue: false,
      steps: [
        ...local.steps,
        ...(["agreement", "head", "proof", "counted"] as const).map((step) => ({
          step,
          ok: null,
          code: "step.skipped",
          params: {},
        })),
      ],
      receipt: local.receipt,
      entry: local.entry,
      counted: null,
    };
  }
  const chain = checkAnchored(local.receipt, input.head, input.proof, input.now);
  const counted =
    chain.verdict === "valid" && local.entry
      ? checkCounted(local.receipt, local.entry, input.head, input.counted)
      : {
          step: {
            step: "counted" as const,
            ok: null,
            code: chain.verdict === "pending" ? "step.proof.waiting" : "step.skipped",
            params: {},
          },
          counted: null,
        };
  const countedFailed = counted.step.ok === false;
  return {
    verdict: countedFailed ? "invalid" : chain.verdict,
    failedStep: countedFailed ? "counted" : chain.failedStep,
    overdue: chain.overdue,
    steps: [...local.steps, agreement, ...chain.steps, counted.step],
    receipt: local.receipt,
    entry: local.entry,
    counted: counted.counted,
    ...(counted.replacedBy ? { replacedBy: counted.replacedBy } : {}),
  };
}

// Receipts travel in URL fragments (#r=...) as base64url of their JSON.
export function receiptToFragment(receipt: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(receipt));
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function receiptFromFragment(fragment: string): unknown {
  const b64 = fragment.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
}

/** Accepts a receipt as JSON text, or a verify link / fragment carrying one. */
export function parseReceiptInput(text: string): unknown {
  const t = text.trim();
  const m = /[#&]r=([A-Za-z0-9_-]+)/.exec(t) ?? /^r=([A-Za-z0-9_-]+)$/.exec(t);
  if (m?.[1]) return receiptFromFragment(m[1]);
  return JSON.parse(t);
}
