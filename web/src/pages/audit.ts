import { type Consultation, exportUrl, getConsultation } from "../api.ts";
import type { AuditMessage, AuditRequest } from "../audit.worker.ts";
import type { AuditReport } from "../audit-core.ts";
import { anchors, connect, readHead, readRecord } from "../chain.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { errorBox, heading, loading } from "../ui.ts";

interface ChainView {
  head: { treeSize: number; rootHash: string };
  tallyHash: string | null;
  anchors: { treeSize: number; rootHash: string; blockNumber: number; txHash: string }[];
}

export async function renderAudit(main: HTMLElement, gen: number, id: string): Promise<void> {
  const title = heading(t("a.title"));
  replace(main, title, loading());
  let c: Consultation;
  let chain: ChainView;
  try {
    c = await getConsultation(id);
    const ctx = await connect(c.chain ?? {});
    const [head, rec, anchored] = await Promise.all([
      readHead(ctx, id),
      readRecord(ctx, id),
      anchors(ctx, id),
    ]);
    chain = {
      head,
      tallyHash: rec.tallyHash,
      anchors: anchored.map((e) => ({
        treeSize: e.treeSize,
        rootHash: e.rootHash,
        blockNumber: e.blockNumber,
        txHash: e.txHash,
      })),
    };
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        title,
        errorBox(e, () => void renderAudit(main, gen, id)),
      );
    return;
  }
  if (!isCurrent(gen)) return;

  const progress = h("progress", {
    id: "audit-progress",
    max: String(Math.max(chain.head.treeSize, 1)),
    value: "0",
    "aria-labelledby": "audit-progress-label",
  });
  const progressText = h("span", { id: "audit-progress-text", "aria-live": "polite" });
  const out = h("section", { id: "audit-result", "aria-live": "polite" });
  const startBtn = h("button", { type: "button", id: "audit-start" }, t("a.start"));
  startBtn.addEventListener("click", () => {
    startBtn.disabled = true;
    run(c, chain, progress, progressText, out, gen, () => {
      startBtn.disabled = false;
    });
  });
  replace(
    main,
    title,
    h("p", { class: "lead" }, t("a.intro", { title: c.title })),
    h(
      "dl",
      { class: "meta" },
      h("dt", null, t("a.chainHead")),
      h("dd", null, t("a.headValue", { treeSize: chain.head.treeSize, root: shortHex(chain.head.rootHash) })),
      h("dt", null, t("a.anchors")),
      h("dd", null, String(chain.anchors.length)),
      h("dt", null, t("c.tally.chainHash")),
      h("dd", null, chain.tallyHash ? h("code", null, shortHex(chain.tallyHash)) : t("a.noTally")),
    ),
    startBtn,
    h(
      "div",
      { class: "progress" },
      h("label", { id: "audit-progress-label", for: "audit-progress" }, t("a.progress")),
      progress,
      " ",
      progressText,
    ),
    out,
  );
}

function run(
  c: Consultation,
  chain: ChainView,
  progress: HTMLProgressElement,
  progressText: HTMLElement,
  out: HTMLElement,
  gen: number,
  done: () => void,
): void {
  replace(out);
  out.removeAttribute("data-audit");
  const worker = new Worker(new URL("../audit.worker.ts", import.meta.url), { type: "module" });
  const started = performance.now();
  const stop = () => {
    worker.terminate();
    done();
  };
  worker.addEventListener("message", (ev: MessageEvent<AuditMessage>) => {
    if (!isCurrent(gen)) return stop();
    const m = ev.data;
    if (m.type === "progress") {
      progress.value = Math.min(m.count, progress.max);
      progressText.textContent = t("a.progressValue", { count: m.count, total: chain.head.treeSize });
    } else if (m.type === "error") {
      stop();
      out.dataset.audit = "error";
      replace(
        out,
        h(
          "div",
          { class: "error", role: "alert" },
          h(
            "p",
            null,
            h("strong", null, t("err.title")),
            " ",
            m.status === 0
              ? t("err.service.unreachable", { url: exportUrl(c.id) })
              : t("a.exportFailed", { message: m.message }),
          ),
        ),
      );
    } else {
      stop();
      showReport(out, chain, m.report, (performance.now() - started) / 1000);
    }
  });
  worker.addEventListener("error", (ev) => {
    stop();
    out.dataset.audit = "error";
    replace(out, h("div", { class: "error", role: "alert" }, t("err.unknown", { message: ev.message })));
  });
  const req: AuditRequest = {
    url: exportUrl(c.id),
    consultation: c.id,
    sectionIds: c.draft.sections.map((s) => s.id),
    checkpoints: chain.anchors.map((a) => a.treeSize),
    tallySize: chain.tallyHash ? chain.head.treeSize : null,
  };
  worker.postMessage(req);
}

function showReport(out: HTMLElement, chain: ChainView, r: AuditReport, seconds: number): void {
  const checks: { key: string; ok: boolean; text: string }[] = [];
  checks.push({
    key: "leaves",
    ok: r.problemCount === 0,
    text:
      r.problemCount === 0
        ? t("a.leaves.ok", { count: r.count, texts: r.textsChecked, withheld: r.withheld })
        : t("a.leaves.bad", { n: r.problemCount }),
  });
  const badAnchors = chain.anchors.filter((a) => r.rootsAt[String(a.treeSize)] !== a.rootHash);
  checks.push({
    key: "anchors",
    ok: badAnchors.length === 0 && chain.anchors.length > 0,
    text:
      chain.anchors.length === 0
        ? t("a.anchors.none")
        : badAnchors.length === 0
          ? t("a.anchors.ok", { n: chain.anchors.length })
          : t("a.anchors.bad", { sizes: badAnchors.map((a) => a.treeSize).join(", ") }),
  });
  const headRoot = chain.head.treeSize === r.count ? r.root : r.rootsAt[String(chain.head.treeSize)];
  checks.push({
    key: "head",
    ok: headRoot === chain.head.rootHash,
    text:
      headRoot === chain.head.rootHash
        ? t("a.head.ok", { treeSize: chain.head.treeSize })
        : t("a.head.bad", { treeSize: chain.head.treeSize, count: r.count }),
  });
  if (chain.tallyHash) {
    const ok = r.tallyHash === chain.tallyHash;
    checks.push({ key: "tally", ok, text: ok ? t("a.tally.ok") : t("a.tally.bad") });
  } else {
    checks.push({ key: "tally", ok: true, text: t("a.noTally") });
  }
  const pass = checks.every((c) => c.ok);
  out.dataset.audit = pass ? "pass" : "fail";
  replace(
    out,
    h("h2", null, t("a.result")),
    h(
      "p",
      { class: `verdict ${pass ? "verdict-valid" : "verdict-invalid"}`, role: "status" },
      pass ? t("a.pass") : t("a.fail"),
    ),
    h(
      "ol",
      { class: "steps" },
      checks.map((c) =>
        h(
          "li",
          { class: `step ${c.ok ? "ok" : "bad"}`, "data-check": c.key },
          h("span", { class: "icon", "aria-hidden": "true" }, c.ok ? "✓" : "✗"),
          h("div", null, c.text),
        ),
      ),
    ),
    r.problems.length
      ? h(
          "details",
          null,
          h("summary", null, t("a.problems")),
          h(
            "ul",
            null,
            r.problems.map((p) => h("li", null, `#${p.index} ${p.kind}: ${p.message}`)),
          ),
        )
      : null,
    h(
      "p",
      { class: "hint" },
      t("a.stats", { count: r.count, seconds: seconds.toFixed(1), root: shortHex(r.root) }),
    ),
  );
}
