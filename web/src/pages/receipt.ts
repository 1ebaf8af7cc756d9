import QRCode from "qrcode";
import { decodeEntry, type Entry, isTextWithheld, type Receipt } from "../../../protocol/index.ts";
import { getConsultation } from "../api.ts";
import { connect, readHead } from "../chain.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { getReceipt, markAnchored } from "../receipts.ts";
import { isCurrent } from "../state.ts";
import { describeError, formatIso, heading } from "../ui.ts";
import { receiptToFragment } from "../verify.ts";

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
  replace(
    main,
    heading(t("r.title")),
    h("p", { class: "lead" }, t("r.kept")),
    status,
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
  void pollStatus(r, status, gen);
}

async function pollStatus(r: Receipt, box: HTMLElement, gen: number): Promise<void> {
  while (isCurrent(gen)) {
    try {
      const c = await getConsultation(r.consultation);
      const sectionEl = document.getElementById("receipt-section");
      const title = c.draft.sections.find((s) => s.id === sectionEl?.textContent)?.title;
      if (sectionEl && title) sectionEl.textContent = title;
      const ctx = await connect(c.chain ?? {});
      const head = await readHead(ctx, r.consultation);
      if (!isCurrent(gen)) return;
      if (head.treeSize > r.leafIndex) {
        markAnchored(r, head.treeSize);
        box.dataset.status = "anchored";
        box.className = "receipt-status ok";
        replace(
          box,
          h(
            "p",
            null,
            h("strong", null, t("r.status.anchored")),
            " ",
            t("r.status.anchoredExplain", { treeSize: head.treeSize }),
          ),
        );
        return;
      }
      const overdue = Date.now() > Date.parse(r.anchorDeadline);
      box.dataset.status = overdue ? "overdue" : "pending";
      box.className = `receipt-status ${overdue ? "bad" : "wait"}`;
      replace(
        box,
        h(
          "p",
          null,
          h("strong", null, t(overdue ? "r.status.overdue" : "r.status.pending")),
          " ",
          t(overdue ? "r.status.overdueExplain" : "r.status.pendingExplain", {
            deadline: formatIso(r.anchorDeadline),
          }),
        ),
      );
    } catch (e) {
      if (!isCurrent(gen)) return;
      box.dataset.status = "error";
      box.className = "receipt-status unknown";
      replace(box, h("p", null, h("strong", null, t("r.status.unknown")), " ", describeError(e)));
    }
    await new Promise((res) => setTimeout(res, 4000));
  }
}
