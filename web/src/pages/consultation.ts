import {
  bytesToHex,
  type DraftAttachment,
  draftHash,
  type Hex,
  sectionCounts,
  sha256,
  tallyHash,
} from "../../../protocol/index.ts";
import {
  ApiError,
  attachmentUrl,
  type Consultation,
  getBytes,
  getConsultation,
  getTally,
  type Section,
  submitOpinion,
} from "../api.ts";
import { currentSession, signInAgainKeeping, takeDraft } from "../auth.ts";
import { findDraftTx, findTallyTx, readRecord } from "../chain.ts";
import { h, replace, shortHex, uid } from "../dom.ts";
import { t } from "../i18n.ts";
import { saveReceipt } from "../receipts.ts";
import { articleAnswer, checkedResponse, responseBadge } from "../response.ts";
import { isCurrent } from "../state.ts";
import { pinnedChain, readAgreedHead, trustWarning } from "../trust.ts";
import { consultationMeta, describeError, errorBox, heading, loading } from "../ui.ts";
import { publicOpinions } from "./opinions.ts";
import { signInPanel } from "./sign-in.ts";

export async function renderConsultation(main: HTMLElement, gen: number, id: string): Promise<void> {
  replace(main, heading(t("c.loadingTitle")), loading());
  let c: Consultation;
  try {
    c = await getConsultation(id);
  } catch (e) {
    if (isCurrent(gen)) {
      replace(
        main,
        heading(t("c.loadingTitle")),
        errorBox(e, () => void renderConsultation(main, gen, id)),
      );
    }
    return;
  }
  if (!isCurrent(gen)) return;

  const badge = h("section", {
    class: "badge",
    id: "draft-badge",
    "aria-live": "polite",
    "data-badge": "checking",
  });
  const tally = h("section", { class: "tally", id: "tally-check", "aria-live": "polite" });
  const response = h("section", {
    class: "response-check",
    id: "response-check",
    "aria-live": "polite",
    "data-response": "checking",
  });
  const attachments = c.draft.attachments ?? [];
  const attachmentList = attachments.length > 0 ? attachmentsView(c, attachments) : null;
  const isOpen = c.status === "open";
  replace(
    main,
    heading(c.title),
    consultationMeta(c, h("dt", null, t("c.version")), h("dd", null, String(c.draft.version))),
    trustWarning(c.chain),
    badge,
    c.summary ? h("p", { class: "summary" }, c.summary) : null,
    attachmentList,
    isOpen ? null : tally,
    c.status === "tallied" ? response : null,
    isOpen ? signInPanel() : null,
    h(
      "div",
      { class: "sections" },
      c.draft.sections.map((s) => sectionView(c, s, isOpen)),
    ),
    h("p", null, h("a", { href: `#/c/${encodeURIComponent(c.id)}/audit` }, t("c.auditLink"))),
    h(
      "p",
      null,
      h(
        "a",
        { href: `#/c/${encodeURIComponent(c.id)}/moderation`, id: "moderation-link" },
        t("c.moderationLink"),
      ),
    ),
  );
  void checkDraft(c, badge, gen);
  if (!isOpen) void checkTally(c, tally, gen);
  if (c.status === "tallied") void checkResponse(c, response, main, gen);
}

/** The response badge, and each article's answer under the article (shown only when the document matched). */
async function checkResponse(
  c: Consultation,
  box: HTMLElement,
  main: HTMLElement,
  gen: number,
): Promise<void> {
  replace(box, h("h2", null, t("resp.title")), h("p", null, t("resp.checking")));
  try {
    const r = await checkedResponse(c.id, true);
    if (!isCurrent(gen)) return;
    box.dataset.response = r.state;
    replace(box, h("h2", null, t("resp.title")), responseBadge(r));
    for (const article of main.querySelectorAll<HTMLElement>("article.section[data-section]")) {
      article.querySelector(".response")?.remove();
      const answer = articleAnswer(r, article.dataset.section!);
      if (answer) article.append(answer);
    }
  } catch (e) {
    if (!isCurrent(gen)) return;
    box.dataset.response = "error";
    replace(
      box,
      h("h2", null, t("resp.title")),
      h("p", null, h("strong", null, t("resp.badge.error"))),
      errorBox(e, () => void checkResponse(c, box, main, gen)),
    );
  }
}

/**
 * The draft's attachments, each linked and its bytes hashed here: the draft hash checked against the chain covers
 * each file's SHA-256, so a file that hashes to the listed value is the one the agency anchored.
 */
function attachmentsView(c: Consultation, attachments: readonly DraftAttachment[]): HTMLElement {
  return h(
    "section",
    { class: "attachments", "aria-labelledby": "att-title" },
    h("h2", { id: "att-title" }, t("att.title")),
    h(
      "ul",
      null,
      attachments.map((a) => {
        const state = h("span", { class: "att-state", "data-attachment": "checking" }, t("att.checking"));
        void (async () => {
          try {
            const bytes = await getBytes(attachmentUrl(c.id, a.sha256), 60_000);
            const ok = bytes !== null && bytesToHex(sha256(bytes)) === a.sha256;
            state.dataset.attachment = ok ? "match" : "mismatch";
            state.className = `att-state ${ok ? "ok" : "bad"}`;
            state.textContent = `${ok ? "✓" : "✗"} ${t(ok ? "att.ok" : "att.bad")}`;
          } catch {
            state.dataset.attachment = "error";
            state.textContent = t("att.error");
          }
        })();
        return h(
          "li",
          { "data-sha256": a.sha256 },
          h("a", { href: attachmentUrl(c.id, a.sha256), rel: "noopener", target: "_blank" }, a.title),
          ` (${a.mediaType}, ${t("att.size", { kb: Math.max(1, Math.round(a.bytes / 1024)) })}) `,
          state,
          h("br", null),
          h("code", { class: "hint", title: a.sha256 }, shortHex(a.sha256)),
        );
      }),
    ),
  );
}

async function checkDraft(c: Consultation, badge: HTMLElement, gen: number): Promise<void> {
  replace(badge, h("p", null, t("c.badge.checking")));
  let local: Hex;
  try {
    local = draftHash({
      title: c.title,
      summary: c.summary,
      sections: c.draft.sections.map((s) => ({ id: s.id, title: s.title, text: s.text })),
      ...(c.draft.attachments ? { attachments: c.draft.attachments } : {}),
    });
  } catch (e) {
    badge.dataset.badge = "mismatch";
    badge.className = "badge bad";
    replace(badge, h("p", null, h("strong", null, t("c.badge.bad")), " ", describeError(e)));
    return;
  }
  try {
    // the draft hash on the pinned registry, never the one the service advertises
    const ctx = (await pinnedChain()).agreed;
    const rec = await readRecord(ctx, c.id);
    const tx = await findDraftTx(ctx, c.id, rec.draftHash).catch(() => null);
    if (!isCurrent(gen)) return;
    const ok = rec.draftHash === local.toLowerCase();
    badge.dataset.badge = ok ? "match" : "mismatch";
    badge.className = `badge ${ok ? "ok" : "bad"}`;
    replace(
      badge,
      h(
        "p",
        null,
        h("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
        " ",
        h("strong", null, t(ok ? "c.badge.ok" : "c.badge.bad")),
      ),
      h(
        "dl",
        { class: "hashes" },
        h("dt", null, t("c.badge.browserHash")),
        h("dd", null, h("code", { title: local }, shortHex(local))),
        h("dt", null, t("c.badge.chainHash")),
        h("dd", null, h("code", { title: rec.draftHash }, shortHex(rec.draftHash))),
        tx ? [h("dt", null, t("common.block")), h("dd", null, String(tx.blockNumber))] : null,
        tx
          ? [
              h("dt", null, t("common.tx")),
              h("dd", null, h("code", { title: tx.txHash }, shortHex(tx.txHash))),
            ]
          : null,
      ),
      ok ? null : h("p", null, t("c.badge.badExplain")),
    );
  } catch (e) {
    if (!isCurrent(gen)) return;
    badge.dataset.badge = "error";
    badge.className = "badge unknown";
    replace(
      badge,
      h("p", null, h("strong", null, t("c.badge.unknown")), " ", describeError(e)),
      errorBox(e, () => void checkDraft(c, badge, gen)),
    );
  }
}

async function checkTally(c: Consultation, box: HTMLElement, gen: number): Promise<void> {
  replace(box, h("h2", null, t("c.tally.title")), h("p", null, t("common.loading")));
  let doc: Awaited<ReturnType<typeof getTally>>;
  try {
    doc = await getTally(c.id);
  } catch (e) {
    if (!isCurrent(gen)) return;
    box.dataset.tally = "none";
    replace(
      box,
      h("h2", null, t("c.tally.title")),
      h("p", null, t("c.tally.notYet")),
      h("p", { class: "hint" }, describeError(e)),
    );
    return;
  }
  try {
    const local = tallyHash(doc.document);
    const pinned = await pinnedChain();
    const ctx = pinned.agreed;
    const [rec, head, tx] = await Promise.all([
      readRecord(ctx, c.id),
      readAgreedHead(pinned, c.id),
      findTallyTx(ctx, c.id).catch(() => null),
    ]);
    if (!isCurrent(gen)) return;
    const ok =
      rec.tallyHash === local.toLowerCase() &&
      doc.document.treeSize === head.treeSize &&
      doc.document.rootHash.toLowerCase() === head.rootHash;
    box.dataset.tally = ok ? "match" : "mismatch";
    box.className = `tally ${ok ? "ok" : "bad"}`;
    const totals = doc.document.totals.total;
    replace(
      box,
      h("h2", null, t("c.tally.title")),
      h(
        "p",
        null,
        h("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
        " ",
        h("strong", null, t(ok ? "c.tally.ok" : "c.tally.bad")),
      ),
      h(
        "table",
        { class: "counts" },
        h("caption", null, t("c.tally.caption", { n: doc.document.treeSize })),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, t("c.tally.section")),
            h("th", { scope: "col" }, t("stance.agree")),
            h("th", { scope: "col" }, t("stance.disagree")),
            h("th", { scope: "col" }, t("stance.neutral")),
          ),
        ),
        h(
          "tbody",
          null,
          c.draft.sections.map((s) => {
            const k = sectionCounts(doc.document, s.id)?.total;
            return h(
              "tr",
              null,
              h("th", { scope: "row" }, s.title),
              h("td", null, String(k?.agree ?? 0)),
              h("td", null, String(k?.disagree ?? 0)),
              h("td", null, String(k?.neutral ?? 0)),
            );
          }),
          h(
            "tr",
            { class: "total" },
            h("th", { scope: "row" }, t("c.tally.total")),
            h("td", null, String(totals.agree)),
            h("td", null, String(totals.disagree)),
            h("td", null, String(totals.neutral)),
          ),
        ),
      ),
      h(
        "dl",
        { class: "hashes" },
        h("dt", null, t("c.tally.browserHash")),
        h("dd", null, h("code", { title: local }, shortHex(local))),
        h("dt", null, t("c.tally.chainHash")),
        h("dd", null, h("code", null, rec.tallyHash ? shortHex(rec.tallyHash) : "—")),
        tx
          ? [
              h("dt", null, t("common.block")),
              h("dd", null, String(tx.blockNumber)),
              h("dt", null, t("common.tx")),
              h("dd", null, h("code", { title: tx.txHash }, shortHex(tx.txHash))),
            ]
          : null,
      ),
    );
  } catch (e) {
    if (!isCurrent(gen)) return;
    box.dataset.tally = "error";
    replace(
      box,
      h("h2", null, t("c.tally.title")),
      errorBox(e, () => void checkTally(c, box, gen)),
    );
  }
}

function sectionView(c: Consultation, s: Section, isOpen: boolean): HTMLElement {
  const hid = uid("sec");
  return h(
    "article",
    { class: "section", "aria-labelledby": hid, "data-section": s.id },
    h("h2", { id: hid }, s.title),
    h("div", { class: "text" }, s.text),
    isOpen ? opinionForm(c, s) : null,
    publicOpinions(c.id, s),
  );
}

function opinionForm(c: Consultation, s: Section): HTMLElement {
  const kept = takeDraft(c.id, s.id);
  if (!currentSession() && !kept) return h("p", { class: "hint" }, t("f.signinFirst"));
  const base = uid("op");
  const stances = ["agree", "disagree", "neutral"] as const;
  const text = h("textarea", { id: `${base}-text`, name: "text", rows: "4", maxlength: "10000" });
  if (kept) text.value = kept.text;
  const status = h("p", { role: "status", class: "form-status", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, t("f.submit"));
  let idempotencyKey = crypto.randomUUID();
  const form = h(
    "form",
    { class: "opinion", "data-section": s.id },
    h("h3", null, t("f.title", { section: s.title })),
    h(
      "fieldset",
      null,
      h("legend", null, t("f.stance")),
      stances.map((st) =>
        h(
          "label",
          { class: "radio" },
          h("input", {
            type: "radio",
            name: `${base}-stance`,
            value: st,
            required: true,
            checked: kept?.stance === st,
          }),
          " ",
          t(`stance.${st}`),
        ),
      ),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: `${base}-text` }, t("f.text")),
      text,
      h("p", { class: "hint" }, t("f.text.hint")),
    ),
    submit,
    status,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const checked = form.querySelector<HTMLInputElement>(`input[name="${base}-stance"]:checked`);
    if (!checked) {
      status.textContent = t("f.stance.missing");
      form.querySelector<HTMLInputElement>("input[type=radio]")?.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = t("f.submitting");
    try {
      const receipt = await submitOpinion(
        c.id,
        { section: s.id, stance: checked.value, text: text.value },
        idempotencyKey,
      );
      idempotencyKey = crypto.randomUUID();
      saveReceipt(receipt);
      window.location.hash = `#/receipt/${encodeURIComponent(receipt.consultation)}/${receipt.leafIndex}`;
    } catch (e) {
      if (e instanceof ApiError && e.kind === "auth") {
        // the session ran out: sign in again, and find what was typed here when back
        status.textContent = t("err.auth");
        await signInAgainKeeping({
          consultation: c.id,
          section: s.id,
          stance: checked.value,
          text: text.value,
        });
      }
      status.textContent = describeError(e);
      submit.disabled = false;
    }
  });
  return form;
}
