import QRCode from "qrcode";
import { decodeEntry, type Entry, isTextWithheld, type Receipt } from "../../../protocol/index.ts";
import { getConsultation } from "../api.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { getReceipt, markAnchored } from "../receipts.ts";
import { showAnswerFor } from "../response.ts";
import { isCurrent } from "../state.ts";
import { chainReceiptKeys, pinnedChain, readAgreedHead, trustWarning } from "../trust.ts";
import { describeError, formatIso, heading } from "../ui.ts";
import { receiptToFragment } from "../verify.ts";
import { verifyAgainstHead } from "./verify.ts";

export function verifyLink(receipt: unknown): string {
  const here = new URL(window.location.href);
  here.hash = "";
  here.search = "";
  const base = here.pathname.replace(/(?:verify\/?|index\.html)$/, "");
  return `${here.origin}${base}verify#r=${receiptToFragment(receipt)}`;
}

export function downloadReceipt(receipt: Receipt): void {
  const blob = new Blob([`${JSON.stringify(receipt, null, 2)}\n`], { type: "application/json" });
  const a = h("a", {
    href: URL.createObjectURL(blob),
    download: `gopy-receipt-${receipt.consultation}-${receipt.leafIndex}.json`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export async function renderReceipt(
  main: HTMLElement,
  gen: number,
  consultation: string,
  index: number,
): Promise<void> {
  const stored = getReceipt(consultation, index);
  if (!stored) {
    replace(
      main,
      heading(t("r.title")),
      h("p", { role: "alert" }, t("r.notFound")),
      h("a", { href: "#/verify" }, t("nav.verify")),
    );
    return;
  }
  const r = stored.receipt;
  let entry: Entry | null = null;
  try {
    entry = decodeEntry(r.entry);
  } catch {
    entry = null;
  }
  const link = verifyLink(r);
  const qr = h("div", { class: "qr" });
  const status = h("section", {
    class: "receipt-status",
    id: "receipt-status",
    "aria-live": "polite",
    "data-status": "checking",
  });
  const warnings = h("div", { id: "chain-warnings" });
  // the agency's answer on this opinion's article, once published (checked against the chain)
  const answer = h("section", { class: "response-check", id: "receipt-response", "aria-live": "polite" });
  replace(
    main,
    heading(t("r.title")),
    h("p", { class: "lead" }, t("r.kept")),
    warnings,
    status,
    answer,
    h(
      "dl",
      { class: "meta receipt" },
      h("dt", null, t("r.consultation")),
      h("dd", null, h("a", { href: `#/c/${encodeURIComponent(r.consultation)}` }, `#${r.consultation}`)),
      entry && entry.type === "opinion"
        ? [
            h("dt", null, t("r.section")),
            h("dd", { id: "receipt-section" }, entry.section),
            h("dt", null, t("r.stance")),
            h("dd", null, t(`stance.${entry.stance}`)),
          ]
        : null,
      h("dt", null, t("r.text")),
      h("dd", { class: "text" }, isTextWithheld(r) ? t("r.textWithheld") : r.text || "—"),
      h("dt", null, t("r.index")),
      h("dd", null, String(r.leafIndex)),
      h("dt", null, t("r.issuedAt")),
      h("dd", null, formatIso(r.issuedAt)),
      h("dt", null, t("r.deadline")),
      h("dd", null, formatIso(r.anchorDeadline)),
      h("dt", null, t("r.leafHash")),
      h("dd", null, h("code", { title: r.leafHash }, shortHex(r.leafHash))),
    ),
    h(
      "p",
      { class: "actions" },
      h(
        "button",
        { type: "button", id: "download-receipt", onclick: () => downloadReceipt(r) },
        t("r.download"),
      ),
      h(
        "a",
        { class: "button", href: `#/verify?r=${receiptToFragment(r)}`, id: "verify-now" },
        t("r.verifyNow"),
      ),
    ),
    h("h2", null, t("r.qr.title")),
    qr,
  );
  try {
    const canvas = h("canvas", { role: "img", "aria-label": t("r.qr.alt") });
    await QRCode.toCanvas(canvas, link, { errorCorrectionLevel: "L", margin: 2, width: 280 });
    replace(qr, canvas, h("p", { class: "hint" }, t("r.qr.hint")));
  } catch {
    replace(qr, h("p", { class: "hint" }, t("r.qr.tooLarge")));
  }
  void pollStatus(r, status, warnings, gen);
  if (entry?.type === "opinion") {
    void showAnswerFor(answer, r.consultation, entry.section, () => isCurrent(gen));
  }
}

function showStatus(box: HTMLElement, status: string, tone: string, title: string, explain: string): void {
  box.dataset.status = status;
  box.className = `receipt-status ${tone}`;
  replace(box, h("p", null, h("strong", null, title), " ", explain));
}

/**
 * Re-checks the receipt every 4 s against the pinned registry: "anchored, includes yours" only once a real
 * inclusion proof (and, where the registry keeps a countedRoot, a counted proof) verifies against the head
 * every RPC URL of the trust root agrees on.
 */
async function pollStatus(r: Receipt, box: HTMLElement, warnings: HTMLElement, gen: number): Promise<void> {
  let warned = false;
  while (isCurrent(gen)) {
    try {
      if (!warned) {
        const c = await getConsultation(r.consultation).catch(() => null);
        if (!isCurrent(gen)) return;
        replace(warnings, trustWarning(c?.chain));
        const sectionEl = document.getElementById("receipt-section");
        const title = c?.draft.sections.find((s) => s.id === sectionEl?.textContent)?.title;
        if (sectionEl && title) sectionEl.textContent = title;
        warned = c !== null;
      }
      const pinned = await pinnedChain();
      const [{ keys }, head] = await Promise.all([
        chainReceiptKeys(pinned),
        readAgreedHead(pinned, r.consultation),
      ]);
      let entry: Entry | undefined;
      try {
        entry = decodeEntry(r.entry);
      } catch {
        entry = undefined;
      }
      const { result } = await verifyAgainstHead(r, r, entry, keys, pinned, head);
      if (!isCurrent(gen)) return;
      const treeSize = head.treeSize;
      if (result.verdict === "valid") {
        markAnchored(r, treeSize);
        showStatus(
          box,
          "anchored",
          "ok",
          t("r.status.anchored"),
          t(result.counted ? "r.status.countedExplain" : "r.status.uncheckedExplain", { treeSize }),
        );
        return;
      }
      if (result.verdict === "invalid" && result.replacedBy) {
        const current = result.replacedBy.leafIndex;
        const held = result.steps.find((s) => s.step === "counted")?.params.held;
        showStatus(
          box,
          "replaced",
          "bad",
          t("r.status.replaced"),
          t("r.status.replacedExplain", {
            treeSize,
            current,
            held: typeof held === "string" ? t(held, { current }) : "",
          }),
        );
        return;
      }
      if (result.verdict === "invalid") {
        showStatus(
          box,
          "invalid",
          "bad",
          t("r.status.proofFailed"),
          t("r.status.proofFailedExplain", { treeSize, step: t(`stepName.${result.failedStep ?? "proof"}`) }),
        );
        // a proof that could not be had (the service or mirror behind, or down) is asked for again; a wrong one is final
        if (!result.steps.some((s) => s.code === "step.proof.missing")) return;
      } else {
        const overdue = result.overdue;
        showStatus(
          box,
          overdue ? "overdue" : "pending",
          overdue ? "bad" : "wait",
          t(overdue ? "r.status.overdue" : "r.status.pending"),
          t(overdue ? "r.status.overdueExplain" : "r.status.pendingExplain", {
            deadline: formatIso(r.anchorDeadline),
          }),
        );
      }
    } catch (e) {
      if (!isCurrent(gen)) return;
      box.dataset.status = "error";
      box.className = "receipt-status unknown";
      replace(box, h("p", null, h("strong", null, t("r.status.unknown")), " ", describeError(e)));
    }
    await new Promise((res) => setTimeout(res, 4000));
  }
}
