// The public moderation log of a consultation: every withheld text, its reason code and the officer's pseudonym,
// as the log's own moderation entries say (the auditor recounts the same entries from the export). A table, 50 rows
// at a time with "load more", like the article's opinions.
import { getConsultation, getModerationLog, type ModerationLogEntry } from "../api.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { errorBox, formatIso, heading, loading } from "../ui.ts";

export async function renderModeration(main: HTMLElement, gen: number, id: string): Promise<void> {
  const title = heading(t("m.title"));
  replace(main, title, loading());
  let first: { moderation: ModerationLogEntry[]; next: string | null };
  let consultationTitle: string;
  try {
    const [c, page] = await Promise.all([getConsultation(id), getModerationLog(id, null)]);
    consultationTitle = c.title;
    first = page;
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        title,
        errorBox(e, () => void renderModeration(main, gen, id)),
      );
    return;
  }
  if (!isCurrent(gen)) return;
  const body = h("tbody", null);
  const more = h("button", { type: "button", id: "moderation-more" }, t("m.more"));
  const status = h("p", { role: "status", id: "moderation-status" });
  let next = first.next;
  const add = (rows: ModerationLogEntry[]) => {
    for (const m of rows) {
      body.append(
        h(
          "tr",
          { "data-moderation-index": String(m.index) },
          h("td", null, String(m.index)),
          h("td", null, String(m.target)),
          h("td", null, h("code", null, m.reason)),
          h("td", null, h("code", { title: m.by }, shortHex(m.by))),
          h("td", null, h("time", { datetime: m.at }, formatIso(m.at))),
        ),
      );
    }
    more.hidden = next === null;
    status.textContent = t("m.count", { n: body.children.length });
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const page = await getModerationLog(id, next);
      next = page.next;
      add(page.moderation);
    } catch (e) {
      status.textContent = e instanceof Error ? e.message : String(e);
    } finally {
      more.disabled = false;
    }
  });
  const table = h(
    "table",
    { id: "moderation-log" },
    h("caption", null, t("m.caption")),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        h("th", { scope: "col" }, t("m.entry")),
        h("th", { scope: "col" }, t("m.target")),
        h("th", { scope: "col" }, t("m.reason")),
        h("th", { scope: "col" }, t("m.by")),
        h("th", { scope: "col" }, t("m.at")),
      ),
    ),
    body,
  );
  replace(
    main,
    title,
    h("p", null, h("a", { href: `#/c/${encodeURIComponent(id)}` }, consultationTitle)),
    h("p", null, t("m.intro")),
    first.moderation.length === 0 ? h("p", { id: "moderation-empty" }, t("m.none")) : table,
    status,
    more,
  );
  add(first.moderation);
}
