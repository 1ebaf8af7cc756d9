// Receipt verification, run entirely in the citizen's browser from the receipt, the receipt keys the
// registry lists (v1) or the log key the trust root names (v2), an inclusion or consistency proof and a
// counted proof (from the service or any mirror) and the head and countedRoot read from the registry the
// trust root pins.
// Pure: no fetch, no DOM, no clock (the caller passes `now`), so tests run it in Node and in Chromium.
import {
  type Checkpoint,
  type CountedLeaf,
  checkConsistency,
  checkEntryCounted,
  type Entry,
  type Hex,
  jwkThumbprint,
  type PublicJwk,
  parseTime,
  type Receipt,
  type ReceiptLog,
  verifyInclusion,
  verifyReceipt,
} from "../../protocol/index.ts";

export type StepName =
  | "format"
  | "signature"
  | "checkpoint"
  | "contentHash"
  | "leafHash"
  | "inclusion"
  | "agreement"
  | "head"
  | "proof"
  | "counted";
const CHAIN: readonly StepName[] = ["agreement", "head", "proof", "counted"];
const LOCAL_V1: readonly StepName[] = ["format", "signature", "contentHash", "leafHash"];
const LOCAL_V2: readonly StepName[] = ["format", "checkpoint", "contentHash", "leafHash", "inclusion"];
/** The steps of a v1 receipt (and of input that is no receipt at all). */
export const STEP_ORDER: readonly StepName[] = [...LOCAL_V1, ...CHAIN];
export const STEP_ORDER_V2: readonly StepName[] = [...LOCAL_V2, ...CHAIN];

/** The steps shown for `receipt`: v2's when it says v 2, else v1's. */
export function stepOrder(receipt: unknown): readonly StepName[] {
  return (receipt as { v?: unknown } | null)?.v === 2 ? STEP_ORDER_V2 : STEP_ORDER;
}

const localSteps = (receipt: unknown) => ((receipt as { v?: unknown } | null)?.v === 2 ? LOCAL_V2 : LOCAL_V1);

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

/** An inclusion proof of the receipt's leaf in the anchored head's tree. */
export interface ProofInput {
  leafIndex: number;
  treeSize: number;
  proof: readonly Hex[];
}

/** v2: a consistency proof between the receipt's checkpoint (size1) and the anchored head (size2). */
export interface ConsistencyInput {
  kind: "consistency";
  size1: number;
  size2: number;
  proof: readonly Hex[];
}

/** Which witnesses cosigned the checkpoint the chain steps relied on (the mirror's or the service's). */
export interface WitnessReport {
  cosigned: readonly string[];
  /** The trust root's quorum; 0 when it names no witnesses. */
  quorum: number;
  source: "mirror" | "service";
}

export interface LocalCheck {
  ok: boolean;
  failedStep?: StepName;
  steps: StepResult[];
  receipt?: Receipt;
  entry?: Entry;
  /** v2: the receipt's checkpoint, once signed by the log key. */
  checkpoint?: Checkpoint;
}

/**
 * Steps that need nothing but the receipt and the receipt keys (v1) or the log key (v2, `log` from the trust root).
 * With `registry`, the keys are those the registry lists, so a v1 receipt signed by any other key fails at the
 * signature step with that reason.
 */
export function checkLocal(
  receipt: unknown,
  keys: readonly PublicJwk[],
  registry?: string,
  log?: ReceiptLog | null,
): LocalCheck {
  let check: ReturnType<typeof verifyReceipt>;
  try {
    check = verifyReceipt(receipt, keys, log);
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
  for (const name of localSteps(receipt)) {
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
  if (sig?.ok && check.receipt?.v === 1) sig.params = { keyId: check.receipt.keyId };
  const keyId = (receipt as { keyId?: unknown } | null)?.keyId;
  if (sig?.ok === false && registry !== undefined && typeof keyId === "string" && !knownKey(keys, keyId)) {
    sig.code = "step.signature.notOnChain";
    sig.params = { keyId, registry };
  }
  const cp = steps.find((s) => s.step === "checkpoint");
  if (cp?.ok && check.checkpoint)
    cp.params = { origin: check.checkpoint.origin, size: check.checkpoint.size };
  if (cp?.ok === false && !log) cp.code = "step.checkpoint.noLogKey";
  const inclusion = steps.find((s) => s.step === "inclusion");
  if (inclusion?.ok && check.checkpoint)
    inclusion.params = { index: check.receipt!.leafIndex, size: check.checkpoint.size };
  return {
    ok: !failedStep,
    failedStep,
    steps,
    receipt: check.receipt,
    entry: check.entry,
    ...(check.checkpoint ? { checkpoint: check.checkpoint } : {}),
  };
}

/**
 * The chain steps: is the receipt's leaf inside the head anchored on chain, and does the proof lead
 * from the leaf to that head's root. `proof` may be null when the head does not cover the leaf yet.
 */
export function checkAnchored(
  receipt: Receipt,
  head: HeadInput,
  proof: ProofInput | ConsistencyInput | null,
  now: number,
  checkpoint?: Checkpoint,
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
  if (checkpoint && needsConsistency(checkpoint, head)) {
    const step = consistencyStep(checkpoint, head, proof && "kind" in proof ? proof : null);
    return {
      verdict: step.ok ? "valid" : "invalid",
      ...(step.ok ? {} : { failedStep: "proof" as const }),
      overdue: false,
      steps: [headStep, step],
    };
  }
  if (!proof || "kind" in proof) {
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

/**
 * v2: once the anchored head is at least the receipt's checkpoint, the chain proves that checkpoint is the public
 * history by consistency. A head between the leaf and the checkpoint is checked like v1, by inclusion.
 */
export function needsConsistency(checkpoint: Checkpoint, head: Pick<HeadInput, "treeSize">): boolean {
  return head.treeSize >= checkpoint.size;
}

/** The proof step of a v2 receipt: the receipt's checkpoint and the anchored head are one history. */
function consistencyStep(
  checkpoint: Checkpoint,
  head: HeadInput,
  proof: ConsistencyInput | null,
): StepResult {
  const params = { treeSize: head.treeSize, root: head.rootHash, size: checkpoint.size };
  if (!proof) return { step: "proof", ok: false, code: "step.proof.missing", params: {} };
  if (proof.size1 !== checkpoint.size || proof.size2 !== head.treeSize) {
    return {
      step: "proof",
      ok: false,
      code: "step.proof.bad",
      params,
      detail: `the consistency proof is from ${proof.size1} to ${proof.size2}, not ${checkpoint.size} to ${head.treeSize}`,
    };
  }
  const check = checkConsistency(
    checkpoint.size,
    head.treeSize,
    proof.proof,
    checkpoint.rootHash,
    head.rootHash,
  );
  if (check.ok) return { step: "proof", ok: true, code: "step.proof.consistent", params };
  return { step: "proof", ok: false, code: "step.proof.fork", params, detail: check.reason };
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
  /** The trust root's log (v2 receipts' checkpoint key). */
  log?: ReceiptLog | null;
  head: HeadInput;
  proof: ProofInput | ConsistencyInput | null;
  now: number;
  counted?: CountedInput;
  agreement?: number;
  registry?: string;
}): VerifyResult {
  const local = checkLocal(input.receipt, input.keys, input.registry, input.log);
  const agreement: StepResult =
    input.agreement === undefined
      ? { step: "agreement", ok: null, code: "step.skipped", params: {} }
      : { step: "agreement", ok: true, code: "step.agreement.ok", params: { n: input.agreement } };
  if (!local.ok || !local.receipt) {
    return {
      verdict: "invalid",
      failedStep: local.failedStep ?? "format",
      overdue: false,
      steps: [...local.steps, ...CHAIN.map((step) => ({ step, ok: null, code: "step.skipped", params: {} }))],
      receipt: local.receipt,
      entry: local.entry,
      counted: null,
    };
  }
  const chain = checkAnchored(local.receipt, input.head, input.proof, input.now, local.checkpoint);
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
