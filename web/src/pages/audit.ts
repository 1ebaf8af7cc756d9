import { readChainFacts } from "../../../audit/chain-facts.ts";
import type { AuditResult, Failure } from "../../../audit/core.ts";
import type { ChainFacts } from "../../../audit/facts.ts";
import { openRegistry } from "../../../chain/reader.ts";
import type { Draft } from "../../../protocol/index.ts";
import { type Consultation, exportUrl, getConsultation, getResponseBytes } from "../api.ts";
import type { AuditMessage, AuditRequest } from "../audit.worker.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { pinnedChain, trustWarning } from "../trust.ts";
import { errorBox, heading, loading } from "../ui.ts";

export async function renderAudit(main: HTMLElement, gen: number, id: string): Promise<void> {
  const title = heading(t("a.title"));
  replace(main, title, loading());
  let c: Consultation;
  let chain: ChainFacts;
  try {
    c = await getConsultation(id);
    // the pinned trust root only, never the registry the service advertises; several RPCs must agree
    const { root, contexts } = await pinnedChain();
    const reader = await openRegistry({ ...root, rpcUrls: contexts.map((ctx) => ctx.rpcUrl) });
    chain = await readChainFacts(reader, root.chainId, id);
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
    trustWarning(c.chain),
    h("p", { class: "lead" }, t("a.intro", { title: c.title })),
    h(
      "dl",
      { class: "meta" },
      h("dt", null, t("a.chainHead")),
      h("dd", null, t("a.headValue", { treeSize: chain.head.treeSize, root: shortHex(chain.head.rootHash) })),
      h("dt", null, t("a.anchors")),
      h("dd", null, String(chain.anchors.length)),
      h("dt", null, t("c.tally.chainHash")),
      h("dd", null, chain.tally ? h("code", null, shortHex(chain.tally.tallyHash)) : t("a.noTally")),
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
  chain: ChainFacts,
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
      showResult(out, m.result, (performance.now() - started) / 1000);
    }
  });
  worker.addEventListener("error", (ev) => {
    stop();
    out.dataset.audit = "error";
    replace(out, h("div", { class: "error", role: "alert" }, t("err.unknown", { message: ev.message })));
  });
  // The service's current draft: its hash must be the chain's draftHash (the audit's draft check).
  const draft: Draft = {
    title: c.title,
    summary: c.summary,
    sections: c.draft.sections,
    ...(c.draft.attachments ? { attachments: c.draft.attachments } : {}),
  };
  // and the agency's response as served, when there is one: its hash against ResponsePublished
  void getResponseBytes(c.id)
    .catch(() => null)
    .then((response) => {
      const req: AuditRequest = {
        url: exportUrl(c.id),
        facts: chain,
        draft,
        ...(response ? { response } : {}),
      };
      worker.postMessage(req);
    });
}

/** The checks shown, each passing unless one of its failure kinds occurred (the CLI's summary, in words). */
const CHECKS: readonly { key: string; kinds: readonly Failure["kind"][] }[] = [
  { key: "format", kinds: ["export-format"] },
  { key: "entries", kinds: ["entry-invalid", "leaf-hash"] },
  { key: "anchors", kinds: ["root-mismatch"] },
  { key: "length", kinds: ["export-length"] },
  { key: "texts", kinds: ["content-hash"] },
  { key: "moderation", kinds: ["moderation"] },
  { key: "window", kinds: ["time-window"] },
  { key: "replaces", kinds: ["replaces"] },
  { key: "counted", kinds: ["counted"] },
  { key: "tally", kinds: ["tally", "not-final"] },
  { key: "draft", kinds: ["draft"] },
  { key: "response", kinds: ["response", "response-incomplete"] },
];

function checkText(key: string, r: AuditResult, ok: boolean): string {
  const last = r.anchors.at(-1)?.treeSize ?? 0;
  switch (key) {
    case "entries":
      return ok
        ? t("a.leaves.ok", {
            count: r.entries,
            texts: r.contentHashes.checked,
            withheld: r.contentHashes.withheld,
          })
        : t("a.check.entries.bad");
    case "anchors":
      if (r.anchors.length === 0) return t("a.anchors.none");
      return ok
        ? t("a.anchors.ok", { n: r.anchors.length })
        : t("a.anchors.bad", {
            sizes: r.anchors
              .filter((a) => !a.rootOk || a.consistency === "failed")
              .map((a) => a.treeSize)
              .join(", "),
          });
    case "length":
      return t(ok ? "a.check.length.ok" : "a.check.length.bad", { count: r.entries, anchored: last });
    case "counted":
      if (r.counted.checked === 0 && r.counted.note !== null) return t("a.counted.notCheckable");
      return t(ok ? "a.counted.ok" : "a.counted.bad", { n: r.counted.checked });
    case "tally":
      if (!r.tally.published) return t("a.noTally");
      return t(ok ? "a.tally.ok" : "a.tally.bad");
    case "response":
      if (r.response.ok === null) return t("a.response.none");
      return t(ok ? "a.check.response.ok" : "a.check.response.bad", { version: r.response.version });
    default:
      return t(`a.check.${key}.${ok ? "ok" : "bad"}`);
  }
}

function showResult(out: HTMLElement, r: AuditResult, seconds: number): void {
  const failed = new Set(r.failures.map((f) => f.kind));
  const checks = CHECKS.map(({ key, kinds }) => {
    const ok = !kinds.some((k) => failed.has(k));
    const pending =
      (key === "counted" && r.counted.checked === 0) ||
      (key === "tally" && !r.tally.published) ||
      (key === "response" && r.response.ok === null);
    return { key, ok, pending: ok && pending, text: checkText(key, r, ok) };
  });
  out.dataset.audit = r.ok ? "pass" : "fail";
  out.dataset.exitCode = String(r.exitCode);
  out.dataset.failures = r.failures.map((f) => f.kind).join(" ");
  replace(
    out,
    h("h2", null, t("a.result")),
    h(
      "p",
      { class: `verdict ${r.ok ? "verdict-valid" : "verdict-invalid"}`, role: "status" },
      r.ok ? t("a.pass") : t("a.fail"),
    ),
    h(
      "ol",
      { class: "steps" },
      checks.map((c) =>
        h(
          "li",
          { class: `step ${c.pending ? "wait" : c.ok ? "ok" : "bad"}`, "data-check": c.key },
          h("span", { class: "icon", "aria-hidden": "true" }, c.pending ? "…" : c.ok ? "✓" : "✗"),
          h("div", null, c.text),
        ),
      ),
    ),
    r.failures.length
      ? h(
          "details",
          null,
          h("summary", null, t("a.problems")),
          h(
            "ul",
            null,
            r.failures.flatMap((f) =>
              f.examples.map((e) => h("li", { "data-kind": f.kind }, `[${f.code} ${f.kind}] ${e}`)),
            ),
          ),
        )
      : null,
    h(
      "p",
      { class: "hint" },
      t("a.stats", {
        count: r.entries,
        seconds: seconds.toFixed(1),
        root: shortHex(r.anchors.at(-1)?.computedRoot ?? ""),
      }),
    ),
  );
}
