import type { PublicJwk, Receipt } from "../../../protocol/index.ts";
import {
  ApiError,
  type ChainInfo,
  getConsultation,
  getKeys,
  getProof,
  myOpinions,
  type ProofResponse,
} from "../api.ts";
import { currentSession } from "../auth.ts";
import { connect, findAnchor, readHead, readRecord } from "../chain.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { listReceipts, markAnchored } from "../receipts.ts";
import { proofBase } from "../settings.ts";
import { isCurrent } from "../state.ts";
import { describeError, formatIso, heading } from "../ui.ts";
import {
  checkLocal,
  parseReceiptInput,
  receiptFromFragment,
  STEP_ORDER,
  type StepResult,
  type VerifyResult,
  verifyAll,
} from "../verify.ts";
import { downloadReceipt } from "./receipt.ts";

const KEYS_CACHE = "gopy.keys.v1";
const CHAIN_CACHE = "gopy.chain.v1";

interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}
type BarcodeDetectorCtor = new (opts: { formats: string[] }) => BarcodeDetectorLike;

export async function renderVerify(main: HTMLElement, gen: number, fragment?: string): Promise<void> {
  const results = h("section", { id: "verify-results", "aria-labelledby": "results-h" });
  const inputStatus = h("p", { role: "status", class: "form-status", id: "input-status" });

  const start = (raw: unknown) => {
    inputStatus.textContent = "";
    void runVerification(raw, results, gen);
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
}

function paint(results: HTMLElement, steps: StepResult[], v: VerdictView): void {
  const verdictText = (() => {
    switch (v.verdict) {
      case "valid":
        return t("verdict.valid");
      case "invalid":
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

function stepParams(s: StepResult): Record<string, string | number> {
  const p = { ...s.params };
  if (typeof p.deadline === "string") p.deadline = formatIso(p.deadline);
  if (typeof p.root === "string") p.root = shortHex(p.root);
  return p;
}

function icon(ok: boolean | null): string {
  return ok === true ? "✓" : ok === false ? "✗" : "…";
}

function cacheGet<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}
function cacheSet(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // ignore
  }
}

async function runVerification(raw: unknown, results: HTMLElement, gen: number): Promise<void> {
  const pendingSteps = (from: StepResult[]): StepResult[] =>
    STEP_ORDER.map(
      (step) => from.find((s) => s.step === step) ?? { step, ok: null, code: "step.waiting", params: {} },
    );
  paint(results, pendingSteps([]), { verdict: "running" });

  // 1. The service's public keys (cached, so a receipt still checks when the service is gone).
  let keys: PublicJwk[] | null = null;
  let keysError: unknown = null;
  try {
    const jwks = await getKeys();
    keys = (Array.isArray(jwks?.keys) ? jwks.keys : []) as PublicJwk[];
    cacheSet(KEYS_CACHE, keys);
  } catch (e) {
    keysError = e;
    keys = cacheGet<PublicJwk[]>(KEYS_CACHE);
  }
  if (!isCurrent(gen)) return;
  if (!keys) {
    // Without the keys the signature cannot be judged, but a malformed receipt is still malformed.
    const shape = checkLocal(raw, []);
    if (shape.failedStep === "format") {
      paint(results, pendingSteps(shape.steps), { verdict: "invalid", failedStep: "format" });
    } else {
      paint(results, pendingSteps(shape.steps.filter((s) => s.step === "format")), {
        verdict: "incomplete",
        error: keysError,
      });
    }
    return;
  }
  const local = checkLocal(raw, keys);
  if (!local.ok || !local.receipt) {
    paint(results, pendingSteps(local.steps), {
      verdict: "invalid",
      failedStep: local.failedStep ?? "format",
      receipt: local.receipt,
    });
    return;
  }
  const receipt = local.receipt;
  paint(results, pendingSteps(local.steps), { verdict: "running" });

  // 2. The head, read from the contract through the RPC URL (never through the service).
  let chainInfo: Partial<ChainInfo> =
    cacheGet<Record<string, ChainInfo>>(CHAIN_CACHE)?.[receipt.consultation] ?? {};
  try {
    const c = await getConsultation(receipt.consultation);
    chainInfo = c.chain ?? {};
    cacheSet(CHAIN_CACHE, {
      ...(cacheGet<Record<string, ChainInfo>>(CHAIN_CACHE) ?? {}),
      [receipt.consultation]: chainInfo,
    });
  } catch {
    // service down: fall back to the cached/configured chain settings
  }
  let head: Awaited<ReturnType<typeof readHead>>;
  let frozen = false;
  try {
    const ctx = await connect(chainInfo);
    const [hd, rec] = await Promise.all([
      readHead(ctx, receipt.consultation),
      readRecord(ctx, receipt.consultation),
    ]);
    head = hd;
    frozen = rec.tallyHash !== null;
    // 3. The inclusion proof for that head (from the service or the mirror set in Settings).
    let proof: ProofResponse | null = null;
    if (receipt.leafIndex < head.treeSize) {
      try {
        proof = await getProof(receipt.consultation, receipt.leafHash, head.treeSize);
      } catch (e) {
        if (!(e instanceof ApiError && e.kind === "http" && e.status >= 400 && e.status < 500)) throw e;
        proof = null; // the service/mirror cannot prove it: that is a failed proof step
      }
    }
    if (!isCurrent(gen)) return;
    // 4. Everything checked from data in hand: this is the part the 100 ms budget covers.
    const t0 = performance.now();
    const result: VerifyResult = verifyAll({
      receipt: raw,
      keys,
      head: { ...head, frozen },
      proof: proof && Array.isArray(proof.proof) ? proof : null,
      now: Date.now(),
    });
    const ms = performance.now() - t0;
    const proofStep = result.steps.find((s) => s.step === "proof");
    if (proofStep && proofStep.ok === false)
      proofStep.detail = `${proofStep.detail ?? ""} (proof source: ${proofBase()})`;
    const view: VerdictView = {
      verdict: result.verdict,
      failedStep: result.failedStep,
      overdue: result.overdue,
      deadline: receipt.anchorDeadline,
      ms,
      receipt,
    };
    paint(results, result.steps, view);
    if (result.verdict === "valid") {
      markAnchored(receipt, head.treeSize);
      const anchor = await findAnchor(ctx, receipt.consultation, head.treeSize).catch(() => null);
      if (anchor && isCurrent(gen)) paint(results, result.steps, { ...view, anchor });
    }
  } catch (e) {
    if (!isCurrent(gen)) return;
    paint(results, pendingSteps(local.steps), { verdict: "incomplete", error: e, receipt });
  }
}
