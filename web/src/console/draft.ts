// Draft versions: each version's hash with its on-chain record (block, transaction) read from the pinned registry,
// a side-by-side diff by article between two versions (words marked with the `diff` package), and a revision.
import { diffWords } from "diff";
import type { DraftVersion } from "../../../chain/reader.ts";
import { getConsultation } from "../api.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { pinnedChain } from "../trust.ts";
import { describeError, errorBox } from "../ui.ts";
import { type DraftInput, getDraft, reviseDraft, type StaffConsultation } from "./api.ts";
import { draftEditor, faultMessage, publicationBox, sourcePicker } from "./open.ts";
import { ct } from "./strings.ts";

interface Version {
  version: number;
  hash: string;
  chain: DraftVersion | null;
}

/** One side of an article's diff: the words of `a` against `b`, removed (from) or added (to) ones marked. */
function marked(a: string, b: string, side: "from" | "to"): HTMLElement {
  const parts = diffWords(a, b);
  return h(
    "div",
    { class: "diff-text" },
    parts.map((p) => {
      if (p.added) return side === "to" ? h("ins", null, p.value) : null;
      if (p.removed) return side === "from" ? h("del", null, p.value) : null;
      return p.value;
    }),
  );
}

/** A diff row's status: a new, removed, unchanged or changed part of the draft. */
type DiffStatus = "added" | "removed" | "same" | "changed";

/** One part of a draft as the diff compares it: a key to match versions by, a name for the row, its text. */
interface DiffPart {
  key: string;
  name: string;
  text: string;
}

/**
 * The parts of a draft the diff compares, in order: its title and summary, each article (matched by section id),
 * each attachment (matched by its SHA-256: the same file renamed is a change of its title, another file is new).
 */
function diffParts(d: DraftInput): DiffPart[] {
  return [
    { key: "document", name: ct("d.document"), text: `${d.title}\n${d.summary}` },
    ...d.sections.map((s) => ({ key: `section:${s.id}`, name: s.id, text: `${s.title}\n${s.text}` })),
    ...(d.attachments ?? []).map((a) => ({
      key: `attachment:${a.sha256}`,
      name: `${ct("d.attachment")} ${a.sha256.slice(0, 10)}…`,
      text: a.title,
    })),
  ];
}

/** The side-by-side diff of two drafts, part by part (see diffParts), in the newer version's order. */
export function diffTable(from: DraftInput, to: DraftInput, fromLabel: string, toLabel: string): HTMLElement {
  const old = new Map(diffParts(from).map((p) => [p.key, p]));
  const seen = new Set<string>();
  const rows: HTMLElement[] = [];
  const text = (x: HTMLElement | string) => (typeof x === "string" ? h("div", { class: "diff-text" }, x) : x);
  const row = (part: DiffPart, status: DiffStatus, a: HTMLElement | string, b: HTMLElement | string) =>
    h(
      "tr",
      { "data-section": part.key.replace(/^section:/, ""), "data-diff": status },
      h(
        "th",
        { scope: "row" },
        part.name,
        h("br"),
        h("span", { class: `diff-status diff-${status}` }, ct(`d.${status}` as "d.same")),
      ),
      h("td", null, a === "" ? "" : text(a)),
      h("td", null, b === "" ? "" : text(b)),
    );
  for (const p of diffParts(to)) {
    seen.add(p.key);
    const o = old.get(p.key);
    if (!o) rows.push(row(p, "added", "", h("div", { class: "diff-text" }, h("ins", null, p.text))));
    else if (o.text === p.text) rows.push(row(p, "same", o.text, p.text));
    else rows.push(row(p, "changed", marked(o.text, p.text, "from"), marked(o.text, p.text, "to")));
  }
  for (const o of old.values())
    if (!seen.has(o.key))
      rows.push(row(o, "removed", h("div", { class: "diff-text" }, h("del", null, o.text)), ""));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "diff", id: "diff" },
      h("caption", null, `${fromLabel} → ${toLabel}`),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          h("th", { scope: "col" }, ct("s.section")),
          h("th", { scope: "col" }, fromLabel),
          h("th", { scope: "col" }, toLabel),
        ),
      ),
      h("tbody", null, rows),
    ),
  );
}

export async function renderDraft(body: HTMLElement, gen: number, c: StaffConsultation): Promise<void> {
  const versionsBox = h("section", { "aria-labelledby": "versions-h", id: "versions" });
  const compareBox = h("section", { "aria-labelledby": "compare-h" });
  const reviseBox = h("section", { "aria-labelledby": "revise-h", id: "revise" });
  replace(body, versionsBox, compareBox, reviseBox);

  // every version from the chain (its hash is the draftURI's document); the current one at least without it
  let versions: Version[] = [{ version: c.draft.version, hash: c.draft.hash, chain: null }];
  let chainNote: string | null = null;
  try {
    const onChain = await (await pinnedChain()).agreed.reader.draftVersions(c.id);
    if (onChain.length > 0)
      versions = onChain.map((v) => ({ version: v.version, hash: v.draftHash, chain: v }));
  } catch (e) {
    chainNote = ct("d.chainUnknown", { message: describeError(e) });
  }
  if (!isCurrent(gen)) return;
  replace(
    versionsBox,
    h("h2", { id: "versions-h" }, ct("d.versions")),
    chainNote ? h("p", { class: "notice" }, chainNote) : null,
    h(
      "ul",
      { class: "versions" },
      versions.map((v) =>
        h(
          "li",
          { "data-version": v.version, "data-onchain": v.chain ? "yes" : "no" },
          h("strong", null, ct("d.version", { n: v.version })),
          " ",
          h("code", { title: v.hash }, shortHex(v.hash)),
          " — ",
          v.chain
            ? h(
                "span",
                { class: "ok-text" },
                "✓ ",
                ct("d.onChain", { block: v.chain.blockNumber }),
                ", ",
                t("common.tx"),
                " ",
                h("code", { title: v.chain.txHash }, shortHex(v.chain.txHash)),
              )
            : h("span", null, ct("d.notOnChain")),
        ),
      ),
    ),
  );

  // compare two versions
  const opts = (selected: number) =>
    versions.map((v) =>
      h("option", { value: v.hash, selected: v.version === selected }, ct("d.version", { n: v.version })),
    );
  const last = versions.at(-1)!.version;
  const fromSel = h("select", { id: "diff-from" }, opts(Math.max(1, last - 1)));
  const toSel = h("select", { id: "diff-to" }, opts(last));
  const out = h("div", { id: "diff-out", "aria-live": "polite" });
  const show = async () => {
    try {
      const [a, b] = await Promise.all([getDraft(fromSel.value), getDraft(toSel.value)]);
      const label = (sel: HTMLSelectElement) => sel.selectedOptions[0]?.textContent ?? "";
      replace(out, diffTable(a, b, label(fromSel), label(toSel)));
    } catch (e) {
      replace(
        out,
        errorBox(e, () => void show()),
      );
    }
  };
  replace(
    compareBox,
    h("h2", { id: "compare-h" }, ct("d.compare")),
    h(
      "div",
      { class: "row" },
      h("div", null, h("label", { for: "diff-from" }, ct("d.from")), fromSel),
      h("div", null, h("label", { for: "diff-to" }, ct("d.to")), toSel),
      h("button", { type: "button", id: "diff-show", onclick: () => void show() }, ct("d.show")),
    ),
    out,
  );
  void show();

  // a new version, while the consultation is open
  if (c.status !== "open" && c.status !== "scheduled") {
    replace(reviseBox, h("h2", { id: "revise-h" }, ct("d.revise")), h("p", null, ct("d.closed")));
    return;
  }
  const status = h("div", { role: "status", "aria-live": "polite", id: "revise-status" });
  const editorSlot = h("div");
  // the current attachments stay unless removed: a revision names every attachment of the new version
  const current = {
    title: c.title,
    summary: c.summary,
    sections: c.draft.sections,
    attachments: (c.draft.attachments ?? []).map((a) => ({
      title: a.title,
      mediaType: a.mediaType,
      sha256: a.sha256,
      bytes: a.bytes,
    })),
  };
  let editor = draftEditor(current, null);
  const setEditor = (d: Parameters<typeof draftEditor>[0]) => {
    editor = draftEditor(d, null);
    replace(editorSlot, editor.el);
  };
  setEditor(current);
  const button = h("button", { type: "button", id: "revise-publish" }, ct("d.publish"));
  button.addEventListener("click", () => {
    let next: DraftInput;
    try {
      const { title, summary, sections, attachments } = editor.read();
      next = { title, summary, sections, ...(attachments ? { attachments } : {}) };
    } catch (e) {
      replace(status, h("p", { class: "error" }, faultMessage(e)));
      return;
    }
    const shape = (d: DraftInput) =>
      JSON.stringify([d.title, d.summary, d.sections, (d.attachments ?? []).map((a) => [a.title, a.sha256])]);
    const same = shape(next) === shape(current);
    if (same) {
      replace(status, h("p", { class: "error" }, ct("d.noChange")));
      return;
    }
    button.disabled = true;
    replace(status, h("p", null, ct("o.publishing")));
    reviseDraft(c.id, next).then(
      async (created) => {
        // the page again, with the new version among the versions and in the editor, and what was published on top
        const box = publicationBox(created, ct("d.published", { n: created.draftVersion }), null);
        const fresh = (await getConsultation(c.id)) as StaffConsultation;
        if (!isCurrent(gen)) return;
        await renderDraft(body, gen, fresh);
        body.prepend(box);
      },
      (e: unknown) => {
        button.disabled = false;
        replace(status, h("p", { class: "error", role: "alert" }, describeError(e)));
      },
    );
  });
  replace(
    reviseBox,
    h("h2", { id: "revise-h" }, ct("d.revise")),
    h("p", { class: "hint" }, ct("d.reviseHint")),
    h(
      "details",
      null,
      h("summary", null, ct("d.replaceText")),
      sourcePicker((d) => setEditor({ ...d, attachments: current.attachments }), ct("d.replaceText")),
    ),
    editorSlot,
    h("p", null, button),
    status,
  );
}
