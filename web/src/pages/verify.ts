import { consistencyFromTiles, inclusionFromTiles, witnessPolicy } from "../../../audit/tiles.ts";
import { trustedLog, trustedLogKey } from "../../../chain/trust-root.ts";
import {
  type Checkpoint,
  type Entry,
  ed25519NoteVerifier,
  type PublicJwk,
  type Receipt,
} from "../../../protocol/index.ts";
import {
  ApiError,
  getConsultation,
  getCountedProof,
  getProof,
  myOpinions,
  type ProofResponse,
} from "../api.ts";
import { currentSession } from "../auth.ts";
import { findAnchor } from "../chain.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { listReceipts, markAnchored } from "../receipts.ts";
import { showAnswerFor } from "../response.ts";
import { proofBase, tilesBase } from "../settings.ts";
import { isCurrent } from "../state.ts";
import {
  type ActiveTrust,
  type AgreedHead,
  activeTrust,
  chainReceiptKeys,
  type PinnedChain,
  pinnedChain,
  readAgreedHead,
  seenReceiptKeys,
  TrustError,
  trustWarning,
} from "../trust.ts";
import { describeError, formatIso, heading } from "../ui.ts";
import {
  type ConsistencyInput,
  checkLocal,
  needsConsistency,
  parseReceiptInput,
  receiptFromFragment,
  STEP_ORDER,
  type StepResult,
  stepOrder,
  type VerifyResult,
  verifyAll,
  type WitnessReport,
} from "../verify.ts";
import { downloadReceipt } from "./receipt.ts";

interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}
type BarcodeDetectorCtor = new (opts: { formats: string[] }) => BarcodeDetectorLike;

export async function renderVerify(main: HTMLElement, gen: number, fragment?: string): Promise<void> {
  const results = h("section", { id: "verify-results", "aria-labelledby": "results-h" });
  const warnings = h("div", { id: "chain-warnings" }, trustWarning(undefined));
  const inputStatus = h("p", { role: "status", class: "form-status", id: "input-status" });

  const start = (raw: unknown) => {
    inputStatus.textContent = "";
    void runVerification(raw, results, warnings, gen);
    results.scrollIntoView({ block: "start" });
  };
  const parseAndStart = (text: string) => {
    let parsed: unknown;
    try {
      parsed = parseReceiptInput(text);
    } catch {
      inputStatus.textContent = t("v.notJson");
      renderUnreadable(results);
      return;
    }
    start(parsed);
  };

  const file = h("input", { type: "file", id: "receipt-file", accept: "application/json,.json,text/plain" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (f) parseAndStart(await f.text());
  });

  const paste = h("textarea", { id: "receipt-paste", rows: "5", spellcheck: "false" });
  const pasteForm = h(
    "form",
    { class: "paste" },
    h("div", { class: "field" }, h("label", { for: "receipt-paste" }, t("v.paste")), paste),
    h("button", { type: "submit", id: "verify-paste" }, t("v.pasteButton")),
  );
  pasteForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    parseAndStart(paste.value);
  });

  const detectorCtor = (globalThis as { BarcodeDetector?: BarcodeDetectorCtor }).BarcodeDetector;
  let scan: HTMLElement;
  if (detectorCtor) {
    const img = h("input", { type: "file", id: "receipt-qr", accept: "image/*", capture: "environment" });
    img.addEventListener("change", async () => {
      const f = img.files?.[0];
      if (!f) return;
      try {
        const codes = await new detectorCtor({ formats: ["qr_code"] }).detect(await createImageBitmap(f));
        if (codes[0]) parseAndStart(codes[0].rawValue);
        else inputStatus.textContent = t("v.scan.none");
      } catch {
        inputStatus.textContent = t("v.scan.none");
      }
    });
    scan = h("div", { class: "field" }, h("label", { for: "receipt-qr" }, t("v.scan")), img);
  } else {
    scan = h("p", { class: "hint" }, t("v.scan.unsupported"));
  }

  const mine = h("div", { class: "mine" });
  renderMine(mine, start);

  replace(
    main,
    heading(t("v.title")),
    h("p", { class: "lead" }, t("v.intro")),
    h(
      "details",
      { class: "inputs", open: fragment ? null : true },
      h("summary", null, t("v.choose")),
      h("div", { class: "field" }, h("label", { for: "receipt-file" }, t("v.file")), file),
      pasteForm,
      scan,
      h("h2", null, t("v.mine")),
      mine,
      inputStatus,
    ),
    warnings,
    results,
  );
  if (fragment) {
    try {
      start(receiptFromFragment(fragment));
    } catch {
      inputStatus.textContent = t("v.badFragment");
      renderUnreadable(results);
    }
  }
  void gen;
}

function renderMine(box: HTMLElement, start: (r: unknown) => void): void {
  const local = listReceipts();
  const items = local.map((x) =>
    h(
      "li",
      null,
      h(
        "button",
        { type: "button", class: "link", onclick: () => start(x.receipt) },
        t("v.mine.item", { consultation: x.receipt.consultation, index: x.receipt.leafIndex }),
      ),
      " ",
      h("span", { class: "hint" }, formatIso(x.receipt.issuedAt)),
    ),
  );
  const fromService = currentSession()
    ? h(
        "button",
        {
          type: "button",
          id: "load-my-receipts",
          onclick: async () => {
            try {
              const data = await myOpinions();
              const list = extractReceipts(data);
              replace(
                serviceList,
                list.length === 0
                  ? h("li", null, t("v.mine.empty"))
                  : list.map((r) =>
                      h(
                        "li",
                        null,
                        h(
                          "button",
                          { type: "button", class: "link", onclick: () => start(r) },
                          t("v.mine.item", { consultation: r.consultation, index: r.leafIndex }),
                        ),
                      ),
                    ),
              );
            } catch (e) {
              replace(serviceList, h("li", { role: "alert" }, describeError(e)));
            }
          },
        },
        t("v.mine.fromService"),
      )
    : null;
  const serviceList = h("ul", { class: "plain", id: "service-receipts", "aria-live": "polite" });
  replace(
    box,
    items.length
      ? h("ul", { class: "plain", id: "my-receipts" }, items)
      : h("p", { class: "hint" }, t("v.mine.empty")),
    fromService,
    serviceList,
  );
}

function extractReceipts(data: unknown): Receipt[] {
  const arr = Array.isArray(data)
    ? data
    : data && typeof data === "object"
      ? (Object.values(data).find((v) => Array.isArray(v)) as unknown[] | undefined)
      : undefined;
  return (arr ?? [])
    .map((x) => (x && typeof x === "object" && "receipt" in x ? (x as { receipt: unknown }).receipt : x))
    .filter((x): x is Receipt => !!x && typeof x === "object" && "leafIndex" in x && "consultation" in x);
}

function renderUnreadable(results: HTMLElement): void {
  const steps: StepResult[] = STEP_ORDER.map((step, i) =>
    i === 0
      ? { step, ok: false, code: "step.format.bad", params: {} }
      : { step, ok: null, code: "step.skipped", params: {} },
  );
  paint(results, steps, { verdict: "invalid", failedStep: "format" });
}

interface VerdictView {
  verdict: "valid" | "invalid" | "pending" | "running" | "incomplete";
  failedStep?: string;
  overdue?: boolean;
  deadline?: string;
  ms?: number;
  error?: unknown;
  receipt?: Receipt;
  anchor?: { blockNumber: number; txHash: string } | null;
  /** the trust root verified against (data-registry, data-chain-id) */
  trust?: ActiveTrust;
  counted?: boolean | null;
  replacedBy?: number;
  /** The witnesses that cosigned the checkpoint the chain steps relied on. */
  witnesses?: WitnessReport | null;
}

function paint(results: HTMLElement, steps: StepResult[], v: VerdictView): void {
  const verdictText = (() => {
    switch (v.verdict) {
      case "valid":
        return t("verdict.valid");
      case "invalid":
        if (v.replacedBy !== undefined) return t("verdict.replaced", { current: v.replacedBy });
        return t("verdict.invalid", { step: t(`stepName.${v.failedStep ?? "format"}`) });
      case "pending":
        return v.overdue
          ? t("verdict.overdue", { deadline: formatIso(v.deadline ?? "") })
          : t("verdict.pending", { deadline: formatIso(v.deadline ?? "") });
      case "incomplete":
        return t("verdict.incomplete");
      default:
        return t("verdict.running");
    }
  })();
  const verdict = h(
    "div",
    {
      id: "verdict",
      class: `verdict verdict-${v.verdict}${v.overdue ? " overdue" : ""}`,
      role: "status",
      "aria-live": "polite",
      "aria-atomic": "true",
      "data-verdict": v.verdict,
      "data-failed-step": v.failedStep ?? null,
      "data-overdue": v.overdue ? "true" : null,
      "data-verify-ms": v.ms !== undefined ? v.ms.toFixed(2) : null,
      "data-registry": v.trust?.root?.registry ?? null,
      "data-chain-id": v.trust?.root ? String(v.trust.root.chainId) : null,
      "data-counted": v.counted === true ? "true" : v.counted === false ? "false" : null,
      "data-replaced-by": v.replacedBy !== undefined ? String(v.replacedBy) : null,
    },
    h(
      "p",
      { class: "verdict-title" },
      h(
        "span",
        { class: "icon", "aria-hidden": "true" },
        icon(v.verdict === "valid" ? true : v.verdict === "invalid" ? false : null),
      ),
      " ",
      verdictText,
    ),
    v.error ? h("p", null, describeError(v.error)) : null,
    v.trust?.root
      ? h(
          "p",
          { class: "hint", id: "verified-against" },
          t("v.against", {
            registry: v.trust.root.registry,
            chainId: v.trust.root.chainId,
            source: t(`v.source.${v.trust.source}`),
          }),
        )
      : null,
    v.overdue && v.receipt
      ? h(
          "p",
          null,
          t("verdict.overdueEvidence"),
          " ",
          h(
            "button",
            { type: "button", onclick: () => v.receipt && downloadReceipt(v.receipt) },
            t("r.download"),
          ),
        )
      : null,
    v.witnesses ? witnessLine(v.witnesses) : null,
    v.ms !== undefined ? h("p", { class: "hint" }, t("v.time", { ms: v.ms.toFixed(1) })) : null,
  );
  replace(
    results,
    h("h2", { id: "results-h" }, t("v.results")),
    verdict,
    h(
      "ol",
      { class: "steps", id: "steps" },
      steps.map((s) =>
        h(
          "li",
          {
            class: `step ${s.ok === true ? "ok" : s.ok === false ? "bad" : "wait"}`,
            "data-step": s.step,
            "data-ok": s.ok === null ? "none" : String(s.ok),
          },
          h("span", { class: "icon", "aria-hidden": "true" }, icon(s.ok)),
          h(
            "div",
            null,
            h("strong", null, t(`stepName.${s.step}`), ": "),
            h(
              "span",
              { class: "visually-hidden" },
              s.ok === true ? t("step.passed") : s.ok === false ? t("step.failed") : t("step.open"),
              ". ",
            ),
            t(s.code, stepParams(s)),
            s.step === "head" && s.ok && v.anchor
              ? h(
                  "span",
                  null,
                  " ",
                  t("v.anchorTx", { block: v.anchor.blockNumber, tx: shortHex(v.anchor.txHash) }),
                )
              : null,
            s.detail && s.ok === false
              ? h("details", null, h("summary", null, t("v.detail")), h("code", null, s.detail))
              : null,
          ),
        ),
      ),
    ),
  );
}

/** "Cosigned by w1, w2 (the trust root requires 2)", or that no witness cosigned it. */
function witnessLine(w: WitnessReport): HTMLElement {
  const source = t(`v.witnesses.${w.source}`);
  const text =
    w.cosigned.length === 0
      ? t("v.witnesses.none", { source, quorum: w.quorum })
      : t("v.witnesses.some", {
          source,
          names: w.cosigned.join(", "),
          n: w.cosigned.length,
          quorum: w.quorum,
        });
  return h(
    "p",
    {
      class: "hint",
      id: "witnesses",
      "data-cosigned": w.cosigned.join(","),
      "data-quorum": String(w.quorum),
    },
    text,
  );
}

function stepParams(s: StepResult): Record<string, string | number> {
  const p = { ...s.params };
  if (typeof p.deadline === "string") p.deadline = formatIso(p.deadline);
  if (typeof p.root === "string") p.root = shortHex(p.root);
  if (typeof p.held === "string") p.held = t(p.held, { current: p.current ?? "?" });
  if (typeof p.registry === "string") p.registry = shortHex(p.registry);
  return p;
}

function icon(ok: boolean | null): string {
  return ok === true ? "✓" : ok === false ? "✗" : "…";
}

async function runVerification(
  raw: unknown,
  results: HTMLElement,
  warnings: HTMLElement,
  gen: number,
): Promise<void> {
  const pendingSteps = (from: StepResult[]): StepResult[] =>
    stepOrder(raw).map(
      (step) => from.find((s) => s.step === step) ?? { step, ok: null, code: "step.waiting", params: {} },
    );
  const trust = activeTrust();
  const log = trust.root ? trustedLogKey(trust.root) : null;
  paint(results, pendingSteps([]), { verdict: "running", trust });
  replace(warnings, trustWarning(undefined));

  // 1. The pinned registry (trust root) and the receipt keys it lists, plus every key seen before for it.
  let pinned: PinnedChain | null = null;
  let chainError: unknown = null;
  try {
    pinned = await pinnedChain();
  } catch (e) {
    chainError = e;
  }
  let keys: PublicJwk[] = seenReceiptKeys();
  if (pinned) {
    const read = await chainReceiptKeys(pinned);
    keys = read.keys;
    chainError = read.readError;
  }
  if (!isCurrent(gen)) return;
  const shape = checkLocal(raw, []);
  const consultation = shape.receipt?.consultation;
  // What the service advertises is only compared with the trust root, for the warning.
  if (consultation !== undefined) {
    void getConsultation(consultation)
      .then((c) => isCurrent(gen) && replace(warnings, trustWarning(c.chain)))
      .catch(() => undefined);
  }
  if (keys.length === 0 && chainError && (raw as { v?: unknown } | null)?.v !== 2) {
    // Without keys the signature cannot be judged, but a malformed receipt is still malformed.
    if (shape.failedStep === "format") {
      paint(results, pendingSteps(shape.steps), { verdict: "invalid", failedStep: "format", trust });
    } else {
      paint(results, pendingSteps(shape.steps.filter((s) => s.step === "format")), {
        verdict: "incomplete",
        error: chainError,
        trust,
      });
    }
    return;
  }
  const local = checkLocal(raw, keys, trust.root?.registry, log);
  if (!local.ok || !local.receipt) {
    const steps = verifyAll({
      receipt: raw,
      keys,
      log,
      head: { treeSize: 0, rootHash: `0x${"00".repeat(32)}`, anchoredAt: 0, frozen: false },
      proof: null,
      now: Date.now(),
      ...(trust.root ? { registry: trust.root.registry } : {}),
    }).steps;
    paint(results, steps, {
      verdict: "invalid",
      failedStep: local.failedStep ?? "format",
      receipt: local.receipt,
      trust,
    });
    return;
  }
  const receipt = local.receipt;
  paint(results, pendingSteps(local.steps), { verdict: "running", trust });
  // the agency's answer on this opinion's article, beside the verdict (checked against the chain too)
  let answer = document.getElementById("verify-response");
  if (!answer) {
    answer = h("section", { class: "response-check", id: "verify-response", "aria-live": "polite" });
    results.after(answer);
  }
  answer.replaceChildren();
  if (local.entry?.type === "opinion") {
    void showAnswerFor(answer, receipt.consultation, local.entry.section, () => isCurrent(gen));
  }

  try {
    if (!pinned) throw chainError;
    // 2. The head and countedRoot, read from the pinned registry through every RPC URL (they must agree).
    let head: AgreedHead;
    try {
      head = await readAgreedHead(pinned, receipt.consultation);
    } catch (e) {
      if (!(e instanceof TrustError && e.kind === "disagree")) throw e;
      if (!isCurrent(gen)) return;
      const detail = e.readings.map((r) => `${r.rpcUrl}: ${r.value}`).join("\n");
      paint(
        results,
        pendingSteps([
          ...local.steps,
          { step: "agreement", ok: false, code: "step.agreement.bad", params: {}, detail },
          ...(["head", "proof", "counted"] as const).map((step) => ({
            step,
            ok: null,
            code: "step.skipped",
            params: {},
          })),
        ]),
        { verdict: "invalid", failedStep: "agreement", receipt, trust },
      );
      return;
    }
    const { result, ms, witnesses } = await verifyAgainstHead(raw, receipt, local.entry, keys, pinned, head);
    if (!isCurrent(gen)) return;
    for (const step of result.steps) {
      if ((step.step === "proof" || step.step === "counted") && step.ok === false)
        step.detail = `${step.detail ?? ""} (proof source: ${tilesBase(receipt.consultation) ?? proofBase()})`;
    }
    const view: VerdictView = {
      verdict: result.verdict,
      failedStep: result.failedStep,
      overdue: result.overdue,
      deadline: receipt.anchorDeadline,
      ms,
      receipt,
      trust,
      counted: result.counted,
      witnesses,
      ...(result.replacedBy ? { replacedBy: result.replacedBy.leafIndex } : {}),
    };
    paint(results, result.steps, view);
    if (result.verdict === "valid") {
      markAnchored(receipt, head.treeSize);
      const ctx = pinned.agreed;
      const anchor = await findAnchor(ctx, receipt.consultation, head.treeSize).catch(() => null);
      if (anchor && isCurrent(gen)) paint(results, result.steps, { ...view, anchor });
    }
  } catch (e) {
    if (!isCurrent(gen)) return;
    paint(results, pendingSteps(local.steps), { verdict: "incomplete", error: e, receipt, trust });
  }
}

/**
 * Steps 3 and 4: the inclusion proof (v1, or a v2 receipt whose checkpoint is ahead of the head) or the consistency
 * proof from the receipt's checkpoint to the head (v2), and the counted proof for the agreed head (from the service
 * or the mirror), then every step from data in hand (`ms`: the part the 100 ms budget covers). Shared with the
 * receipt page, which says "anchored, includes yours" only on this result.
 */
export async function verifyAgainstHead(
  raw: unknown,
  receipt: Receipt,
  entry: Entry | undefined,
  keys: readonly PublicJwk[],
  pinned: PinnedChain,
  head: AgreedHead,
): Promise<{ result: VerifyResult; ms: number; witnesses: WitnessReport | null }> {
  const covered = receipt.leafIndex < head.treeSize;
  const tiles = tilesBase(receipt.consultation);
  const log = trustedLogKey(pinned.root);
  const checkpoint = checkLocal(raw, keys, undefined, log).checkpoint;
  const countedWanted = covered && head.countedRoot !== null && entry?.type === "opinion";
  const opinion = entry?.type === "opinion" ? entry : null;
  const counted = () =>
    // the service records a head's counted map once the anchoring transaction is mined: it may answer
    // 404 for a moment after the chain has the head, so a refusal is asked again before it counts
    fetchOrNull(
      () => getCountedProof(receipt.consultation, opinion!.author, opinion!.section, head.treeSize),
      3,
    );
  let countedReachable = true;
  let witnesses: WitnessReport | null = null;
  const proofOf = async (): Promise<ProofResponse | ConsistencyInput | null> => {
    if (!covered) return null;
    if (checkpoint && needsConsistency(checkpoint, head)) {
      // v2: the log's own C2SP paths (the mirror's, else the service's) give the consistency proof, computed here
      const source = tiles ? "mirror" : "service";
      const base = tiles ?? logBase(receipt.consultation);
      const found = await consistencyFromLog(base, receipt.consultation, checkpoint, head.treeSize, pinned);
      if (found) witnesses = { cosigned: found.cosigned, quorum: pinned.root.quorum ?? 0, source };
      return found?.proof ?? null;
    }
    if (tiles) return proofFromTiles(tiles, receipt, head.treeSize, pinned);
    const p = await fetchOrNull(() => getProof(receipt.consultation, receipt.leafHash, head.treeSize));
    return p && Array.isArray(p.proof) ? p : null;
  };
  const [proof, countedProof] = await Promise.all([
    proofOf(),
    !countedWanted
      ? null
      : tiles
        ? // with a tiles mirror the service may be down: its counted proof is then not checkable, not missing
          counted().catch(() => {
            countedReachable = false;
            return null;
          })
        : counted(),
  ]);
  const heldIndices = listReceipts()
    .filter((x) => x.receipt.consultation === receipt.consultation)
    .map((x) => x.receipt.leafIndex);
  const t0 = performance.now();
  const result = verifyAll({
    receipt: raw,
    keys,
    log,
    head: countedReachable ? head : { ...head, countedRoot: null },
    proof,
    now: Date.now(),
    counted: { proof: countedProof, heldIndices },
    agreement: head.rpcUrls.length,
    registry: pinned.root.registry,
  });
  return { result, ms: performance.now() - t0, witnesses };
}

/** The C2SP tiles base of consultation `id`'s log at the proof source (the service, or the proof server set). */
function logBase(id: string): string {
  return `${proofBase()}/logs/${encodeURIComponent(id)}/`;
}

/**
 * The consistency proof from a v2 receipt's checkpoint to the head, computed in this browser from a log's tiles (the
 * served checkpoint verified with the trust root's log key and witnesses); null when they cannot give it.
 */
async function consistencyFromLog(
  base: string,
  consultation: string,
  checkpoint: Checkpoint,
  treeSize: number,
  pinned: PinnedChain,
): Promise<{ proof: ConsistencyInput; cosigned: string[] } | null> {
  const trusted = trustedLog(pinned.root, consultation);
  if (!trusted) return null;
  try {
    const verifier = ed25519NoteVerifier(trusted.origin, trusted.publicKey);
    const p = await consistencyFromTiles(base, checkpoint.size, treeSize, {
      verifier,
      witnesses: witnessPolicy(pinned.root),
    });
    return {
      proof: { kind: "consistency", size1: p.size1, size2: p.size2, proof: p.proof },
      cosigned: p.cosigned,
    };
  } catch {
    return null;
  }
}

/**
 * The inclusion proof computed in this browser from a tiles mirror (its checkpoint verified with the trust root's log
 * key when the trust root names one); null when the mirror cannot give it (a failed step, as a refused proof).
 */
async function proofFromTiles(
  base: string,
  receipt: Receipt,
  treeSize: number,
  pinned: PinnedChain,
): Promise<ProofResponse | null> {
  const trusted = trustedLog(pinned.root, receipt.consultation);
  const verifier = trusted ? ed25519NoteVerifier(trusted.origin, trusted.publicKey) : null;
  try {
    // the trust root's witnesses, k of n, must have cosigned the mirror's checkpoint when it names them
    const witnesses = verifier ? witnessPolicy(pinned.root) : null;
    const p = await inclusionFromTiles(base, receipt.leafIndex, treeSize, { verifier, witnesses });
    return { leafIndex: p.leafIndex, treeSize: p.treeSize, rootHash: p.checkpoint.rootHash, proof: p.proof };
  } catch {
    return null;
  }
}

/** A proof from the service or the mirror; null when it answers 4xx (it cannot prove it: a failed step). */
async function fetchOrNull<T>(get: () => Promise<T>, retries = 0): Promise<T | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await get();
    } catch (e) {
      if (!(e instanceof ApiError && e.kind === "http" && e.status >= 400 && e.status < 500)) throw e;
      if (attempt >= retries) return null;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
