// Opening a consultation: a draft pasted, or read from .docx (mammoth, loaded only when one is chosen) or Markdown,
// split into articles (split.ts), previewed and edited, then published; the page shows the transaction and the
// block the chain put it in.
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { pinnedChain } from "../trust.ts";
import { describeError, heading } from "../ui.ts";
import {
  type AttachmentRef,
  type DraftCreated,
  type DraftInput,
  openConsultation,
  uploadAttachment,
} from "./api.ts";
import { markdownToText, type SplitArticle, SplitError, splitDraft } from "./split.ts";
import { ct } from "./strings.ts";

/** The text of a chosen file: .docx through mammoth's browser build (raw text), Markdown and text as they are. */
export async function fileText(file: File): Promise<string> {
  if (/\.docx$/i.test(file.name)) {
    const mammoth = (await import("mammoth/mammoth.browser.min.js")).default;
    try {
      const { value } = await mammoth.extractRawText({ arrayBuffer: await file.arrayBuffer() });
      return value;
    } catch (e) {
      throw new SplitError("docx", e instanceof Error ? e.message : String(e));
    }
  }
  const text = await file.text();
  return /\.(md|markdown)$/i.test(file.name) ? markdownToText(text) : text;
}

/** A splitter or reader fault in plain words. */
export function faultMessage(e: unknown): string {
  if (e instanceof SplitError) {
    return ct(`o.fault.${e.fault}`, { detail: e.detail, message: e.detail });
  }
  return describeError(e);
}

/** A source picker (paste or file) whose "split" hands the split draft to `onSplit`, or shows why it cannot. */
export function sourcePicker(
  onSplit: (d: ReturnType<typeof splitDraft>) => void,
  legend: string,
): HTMLElement {
  const text = h("textarea", { id: "draft-text", rows: 10, "aria-describedby": "draft-text-hint" });
  const file = h("input", { type: "file", id: "draft-file", accept: ".docx,.md,.markdown,.txt" });
  const status = h("div", { id: "split-status", role: "status", "aria-live": "polite" });
  const split = (source: string) => {
    try {
      const d = splitDraft(source);
      replace(status);
      onSplit(d);
    } catch (e) {
      replace(status, h("p", { class: "error", id: "split-error" }, faultMessage(e)));
    }
  };
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    replace(status, h("p", null, ct("o.reading")));
    fileText(chosen).then(
      (s) => {
        text.value = s;
        split(s);
      },
      (e: unknown) => replace(status, h("p", { class: "error", id: "split-error" }, faultMessage(e))),
    );
  });
  return h(
    "fieldset",
    { class: "source" },
    h("legend", null, legend),
    h("label", { for: "draft-text" }, ct("o.paste")),
    text,
    h("p", { class: "hint", id: "draft-text-hint" }, ct("o.pasteHint")),
    h("label", { for: "draft-file" }, ct("o.file")),
    file,
    h(
      "p",
      null,
      h("button", { type: "button", id: "split", onclick: () => split(text.value) }, ct("o.split")),
    ),
    status,
  );
}

const toLocal = (seconds: number) => {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const fromLocal = (value: string) => Math.floor(new Date(value).getTime() / 1000);

export interface EditorDraft {
  title: string;
  summary: string;
  attachments?: AttachmentRef[];
  sections: (Omit<SplitArticle, "chapter"> & { chapter?: string | null })[];
}

/**
 * The editable preview of a draft: title, summary, each article's title and text (with the chapter it is in),
 * and, with `schedule`, the opening and closing times. `read` gives the draft to publish or throws a message.
 */
export function draftEditor(
  draft: EditorDraft,
  schedule: { opensAt: number; closesAt: number } | null,
): {
  el: HTMLElement;
  read: () => DraftInput & { opensAt: number; closesAt: number; publicCounts: boolean };
} {
  const title = h("input", { id: "ed-title", type: "text", value: draft.title, maxlength: 500 });
  const summary = h("textarea", { id: "ed-summary", rows: 3 }, draft.summary);
  const opens = schedule
    ? h("input", { id: "ed-opens", type: "datetime-local", value: toLocal(schedule.opensAt) })
    : null;
  const closes = schedule
    ? h("input", { id: "ed-closes", type: "datetime-local", value: toLocal(schedule.closesAt) })
    : null;
  // attachments (explanatory memorandum, impact assessment…): uploaded when chosen, named in the draft by hash, so
  // their hashes are part of the anchored draft document
  const attached: { ref: AttachmentRef; row: HTMLElement; titleInput: HTMLInputElement }[] = [];
  const attachList = h("ul", { class: "attachments-edit", id: "ed-attachments" });
  const attachStatus = h("p", { role: "status", class: "form-status", id: "ed-attach-status" });
  const addAttachment = (ref: AttachmentRef) => {
    const titleInput = h("input", {
      type: "text",
      id: `ed-a-${ref.sha256.slice(2, 14)}`,
      value: ref.title,
      maxlength: 200,
    });
    const row = h(
      "li",
      { "data-sha256": ref.sha256 },
      h("label", { for: titleInput.id }, ct("o.attachmentTitle")),
      titleInput,
      h("code", { title: ref.sha256 }, `SHA-256 ${ref.sha256.slice(0, 18)}…`),
      ` ${ref.mediaType}${ref.bytes === undefined ? "" : `, ${ref.bytes} B`} `,
      h(
        "button",
        { type: "button", class: "link", onclick: () => row.remove() },
        ct("o.remove", { id: ref.title }),
      ),
    );
    attached.push({ ref, row, titleInput });
    attachList.append(row);
  };
  for (const a of draft.attachments ?? []) addAttachment(a);
  const attachInput = h("input", {
    type: "file",
    id: "ed-attach",
    multiple: true,
    accept: ".pdf,application/pdf,.docx,.txt,.md,.png,.jpg",
  });
  attachInput.addEventListener("change", () => {
    const files = [...(attachInput.files ?? [])];
    attachStatus.textContent = ct("o.uploading");
    Promise.all(
      files.map(async (f) => {
        const up = await uploadAttachment(f);
        addAttachment({
          title: f.name.replace(/\.[^.]+$/, ""),
          mediaType: up.mediaType,
          sha256: up.sha256,
          bytes: up.bytes,
        });
      }),
    ).then(
      () => {
        attachStatus.textContent = ct("o.uploaded", { n: files.length });
        attachInput.value = "";
      },
      (e: unknown) => {
        attachStatus.textContent = describeError(e);
      },
    );
  });
  // the agency's choice at opening: live counts public while open (always public after the close)
  const counts = schedule ? h("input", { id: "ed-counts", type: "checkbox", checked: true }) : null;
  const rows = draft.sections.map((s) => {
    const rowTitle = h("input", { type: "text", id: `ed-t-${s.id}`, value: s.title, maxlength: 500 });
    const rowText = h("textarea", { id: `ed-x-${s.id}`, rows: 4 }, s.text);
    const row = h(
      "li",
      { class: "article-edit", "data-section": s.id },
      s.chapter ? h("p", { class: "hint" }, ct("o.chapter", { chapter: s.chapter })) : null,
      h("label", { for: rowTitle.id }, ct("o.articleTitle", { id: s.id })),
      rowTitle,
      h("label", { for: rowText.id }, ct("o.articleText", { id: s.id })),
      rowText,
      h(
        "button",
        { type: "button", class: "link", onclick: () => row.remove() },
        ct("o.remove", { id: s.id }),
      ),
    );
    return { id: s.id, row, rowTitle, rowText };
  });
  const list = h(
    "ol",
    { class: "articles-edit", id: "ed-articles" },
    rows.map((r) => r.row),
  );
  const el = h(
    "div",
    { class: "editor" },
    h("label", { for: "ed-title" }, ct("o.title")),
    title,
    h("label", { for: "ed-summary" }, ct("o.summary")),
    summary,
    opens && closes
      ? h(
          "div",
          { class: "schedule" },
          h("div", null, h("label", { for: "ed-opens" }, ct("o.opensAt")), opens),
          h("div", null, h("label", { for: "ed-closes" }, ct("o.closesAt")), closes),
        )
      : null,
    counts
      ? h("div", { class: "check" }, counts, " ", h("label", { for: "ed-counts" }, ct("o.publicCounts")))
      : null,
    list,
    h(
      "fieldset",
      { class: "attachments" },
      h("legend", null, ct("o.attachments")),
      attachList,
      h("label", { for: "ed-attach" }, ct("o.attach")),
      attachInput,
      attachStatus,
    ),
  );
  const read = () => {
    if (!title.value.trim()) throw new Error(ct("o.bad.title"));
    const sections = rows
      .filter((r) => r.row.isConnected)
      .map((r) => ({ id: r.id, title: r.rowTitle.value.trim(), text: r.rowText.value }));
    const empty = sections.find((s) => !s.title);
    if (empty) throw new Error(ct("o.bad.articleTitle", { id: empty.id }));
    if (sections.length === 0) throw new SplitError("noArticles");
    const opensAt = opens ? fromLocal(opens.value) : 0;
    const closesAt = closes ? fromLocal(closes.value) : 0;
    if (schedule && (!(closesAt > opensAt) || closesAt * 1000 <= Date.now() || Number.isNaN(opensAt)))
      throw new Error(ct("o.bad.schedule"));
    const attachments = attached
      .filter((a) => a.row.isConnected)
      .map((a) => ({
        title: a.titleInput.value.trim() || a.ref.title,
        mediaType: a.ref.mediaType,
        sha256: a.ref.sha256,
      }));
    return {
      title: title.value.trim(),
      summary: summary.value,
      sections,
      ...(attachments.length > 0 ? { attachments } : {}),
      opensAt,
      closesAt,
      publicCounts: counts?.checked ?? true,
    };
  };
  return { el, read };
}

/** The block of transaction `txHash` among the consultation's draft versions on the pinned registry. */
export async function draftBlock(id: string | number, txHash: string): Promise<number | null> {
  const ctx = (await pinnedChain()).agreed;
  const versions = await ctx.reader.draftVersions(String(id));
  return versions.find((v) => v.txHash.toLowerCase() === txHash.toLowerCase())?.blockNumber ?? null;
}

/** What a publication did: the transaction, its block (read from the chain), the draft's hash. */
export function publicationBox(
  created: DraftCreated,
  message: string,
  link: HTMLElement | null,
): HTMLElement {
  const block = h("dd", { id: "pub-block" }, t("common.loading"));
  const box = h(
    "div",
    { class: "badge ok", id: "published", role: "status" },
    h("p", null, h("strong", null, message)),
    h(
      "dl",
      { class: "hashes" },
      h("dt", null, ct("o.draftHash")),
      h("dd", null, h("code", { title: created.draftHash }, shortHex(created.draftHash))),
      h("dt", null, t("common.tx")),
      h("dd", { id: "pub-tx" }, h("code", { title: created.txHash }, shortHex(created.txHash))),
      h("dt", null, t("common.block")),
      block,
    ),
    link,
  );
  draftBlock(created.id, created.txHash).then(
    (n) => {
      block.textContent = n === null ? ct("d.notOnChain") : String(n);
    },
    (e: unknown) => {
      block.textContent = ct("d.chainUnknown", { message: describeError(e) });
    },
  );
  return box;
}

export function renderOpen(main: HTMLElement, gen: number): void {
  const preview = h("section", { id: "preview", "aria-labelledby": "preview-h" });
  const picker = sourcePicker((d) => {
    if (!isCurrent(gen)) return;
    const now = Math.floor(Date.now() / 1000);
    const editor = draftEditor(d, { opensAt: now, closesAt: now + 30 * 86400 });
    const status = h("div", { role: "status", "aria-live": "polite", id: "publish-status" });
    const button = h("button", { type: "button", id: "publish" }, ct("o.publish"));
    button.addEventListener("click", () => {
      let body: ReturnType<typeof editor.read>;
      try {
        body = editor.read();
      } catch (e) {
        replace(status, h("p", { class: "error", id: "publish-error" }, faultMessage(e)));
        return;
      }
      button.disabled = true;
      replace(status, h("p", null, ct("o.publishing")));
      openConsultation(body).then(
        (created) => {
          replace(
            status,
            publicationBox(
              created,
              ct("o.published", { id: created.id }),
              h("p", null, h("a", { href: `#/staff/c/${created.id}`, id: "go-console" }, ct("o.go"))),
            ),
          );
        },
        (e: unknown) => {
          button.disabled = false;
          replace(status, h("p", { class: "error", id: "publish-error", role: "alert" }, describeError(e)));
        },
      );
    });
    replace(
      preview,
      h("h2", { id: "preview-h" }, ct("o.preview")),
      h("p", { class: "hint" }, ct("o.previewHint", { n: d.sections.length })),
      editor.el,
      h("p", null, button),
      status,
    );
  }, ct("o.source"));
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/staff" }, ct("k.nav"))),
    heading(ct("k.new")),
    picker,
    preview,
  );
}
