// The public opinions of one article (GET …/sections/:section/opinions): 20 at a time with a "load more" button
// (not infinite scroll: a screen reader user keeps their place), a search box and a stance filter. No replies:
// opinions are not a forum. Loaded when the reader opens the disclosure, so a long draft costs nothing up front.
import { listOpinions, type PublicOpinion, type Section } from "../api.ts";
import { h, replace, uid } from "../dom.ts";
import { t } from "../i18n.ts";
import { describeError, formatIso } from "../ui.ts";

const PAGE = 20;

function opinionItem(o: PublicOpinion): HTMLElement {
  const text =
    o.text === null
      ? h("p", { class: "withheld" }, t("ro.withheld", { reason: o.withheldReason ?? "" }))
      : h("p", { class: "text" }, o.text === "" ? t("ro.empty") : o.text);
  return h(
    "li",
    { class: "public-opinion", "data-leaf": String(o.leafIndex) },
    h("p", { class: "stance" }, h("strong", null, t(`stance.${o.stance}`))),
    text,
    h(
      "p",
      { class: "hint" },
      h("time", { datetime: o.submittedAt }, formatIso(o.submittedAt)),
      " · ",
      t("ro.leaf", { n: o.leafIndex }),
      o.channel === "offline" ? ` · ${t("ro.offline")}` : "",
      o.campaign === null ? "" : ` · ${t("ro.campaign", { id: o.campaign })}`,
    ),
  );
}

export function publicOpinions(consultationId: string, s: Section): HTMLElement {
  const base = uid("ro");
  const list = h("ol", { class: "public-opinions", "aria-labelledby": `${base}-title` });
  const status = h("p", { role: "status", class: "form-status", "aria-live": "polite" });
  const more = h("button", { type: "button", class: "more", hidden: true }, t("ro.more"));
  const search = h("input", { type: "search", id: `${base}-q`, name: "q", maxlength: "200" });
  const stance = h(
    "select",
    { id: `${base}-stance`, name: "stance" },
    h("option", { value: "" }, t("ro.stance.all")),
    (["agree", "disagree", "neutral"] as const).map((st) => h("option", { value: st }, t(`stance.${st}`))),
  );
  let next: string | null = null;
  let shown = 0;
  let generation = 0;

  async function load(reset: boolean): Promise<void> {
    const mine = ++generation;
    more.disabled = true;
    try {
      const page = await listOpinions(consultationId, s.id, {
        cursor: reset ? null : next,
        stance: stance.value,
        q: search.value.trim(),
        limit: PAGE,
      });
      if (mine !== generation) return;
      performance.mark(`opinions-data:${s.id}`);
      const items = page.opinions.map(opinionItem);
      if (reset) {
        replace(list, ...items);
        shown = 0;
      } else list.append(...items);
      shown += items.length;
      next = page.next;
      more.hidden = next === null;
      more.disabled = false;
      status.textContent =
        shown === 0
          ? t(next === null ? "ro.none" : "ro.keepLooking")
          : `${t("ro.shown", { n: shown })}${next === null ? ` ${t("ro.end")}` : ""}`;
      // the first item of a new page takes the focus, so "load more" leaves the reader where the new ones start
      if (!reset && items[0]) {
        items[0].tabIndex = -1;
        items[0].focus();
      }
      performance.mark(`opinions-rendered:${s.id}`);
      performance.measure(`opinions-render:${s.id}`, `opinions-data:${s.id}`, `opinions-rendered:${s.id}`);
    } catch (e) {
      if (mine !== generation) return;
      status.textContent = describeError(e);
      more.disabled = false;
    }
  }

  more.addEventListener("click", () => void load(false));
  const form = h(
    "form",
    { class: "opinion-filter", role: "search" },
    h(
      "div",
      { class: "field" },
      h("label", { for: `${base}-q` }, t("ro.search")),
      search,
      h("p", { class: "hint" }, t("ro.search.hint")),
    ),
    h("div", { class: "field" }, h("label", { for: `${base}-stance` }, t("ro.stance")), stance),
    h("button", { type: "submit" }, t("ro.apply")),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load(true);
  });
  const details = h(
    "details",
    { class: "public-reading", "data-section": s.id },
    h("summary", { id: `${base}-title` }, t("ro.title")),
    form,
    status,
    list,
    more,
  );
  let opened = false;
  details.addEventListener("toggle", () => {
    if (details.open && !opened) {
      opened = true;
      void load(true);
    }
  });
  return details;
}
