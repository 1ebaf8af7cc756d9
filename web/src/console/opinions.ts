// Reading the opinions of an article (stance, channel and text filters, cursor pagination with "load more"), with
// campaigns (opinions sharing a `campaign` id) shown once with their count and a way to expand them; in moderation
// mode each text gets a withhold control with a reason code.

import { listOpinions, type PublicOpinion } from "../api.ts";
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { describeError, formatIso } from "../ui.ts";
import { getCampaigns, type StaffConsultation, withhold } from "./api.ts";
import { ct } from "./strings.ts";

export const REASONS = ["personal-data", "offensive", "spam", "illegal", "off-topic"] as const;

interface OpinionFilter {
  stance?: string;
  channel?: string;
  q?: string;
  campaign?: number | null;
}

/** A withheld text is `null` with its moderation entry's reason. */
const withheldReason = (o: PublicOpinion): string | null =>
  o.text === null ? (o.withheldReason ?? "") : null;

function withholdControl(
  c: StaffConsultation,
  o: PublicOpinion,
  onDone: (reason: string) => void,
): HTMLElement {
  const id = `reason-${o.leafIndex}`;
  const select = h(
    "select",
    { id },
    REASONS.map((r) => h("option", { value: r }, ct(`m.reason.${r}`))),
  );
  const status = h("span", { role: "status", class: "form-status" });
  const button = h(
    "button",
    { type: "button", class: "withhold", "data-index": o.leafIndex },
    ct("m.withhold"),
  );
  button.addEventListener("click", () => {
    button.disabled = true;
    withhold(c.id, o.leafIndex, select.value).then(
      (r) => {
        status.textContent = ct("m.done", { index: o.leafIndex, moderation: r.index });
        onDone(select.value);
      },
      (e: unknown) => {
        button.disabled = false;
        status.textContent = describeError(e);
      },
    );
  });
  return h(
    "div",
    { class: "withhold-row" },
    h("label", { for: id }, ct("m.reason", { index: o.leafIndex })),
    select,
    " ",
    button,
    " ",
    status,
  );
}

function opinionItem(c: StaffConsultation, o: PublicOpinion, moderation: boolean): HTMLElement {
  const reason = withheldReason(o);
  const text = h(
    "p",
    { class: reason ? "withheld" : "text" },
    reason ? ct("r.withheld", { reason }) : o.text ? o.text : ct("r.noText"),
  );
  const li = h(
    "li",
    { class: "opinion-item", "data-index": o.leafIndex, "data-campaign": o.campaign ?? "" },
    h(
      "p",
      { class: "meta-line" },
      h("span", { class: `stance stance-${o.stance}` }, t(`stance.${o.stance}`)),
      " · ",
      ct(o.channel === "offline" ? "s.offline" : "s.online"),
      " · ",
      formatIso(o.submittedAt),
      " · ",
      ct("r.entry", { index: o.leafIndex }),
    ),
    text,
  );
  if (moderation && !reason && o.text)
    li.append(
      withholdControl(c, o, (r) => {
        text.className = "withheld";
        text.textContent = ct("r.withheld", { reason: r });
        li.querySelector(".withhold-row button")?.setAttribute("disabled", "");
      }),
    );
  return li;
}

/**
 * The opinions, a page at a time ("load more"): an opinion of a campaign stands for the whole campaign, once, with
 * its size (from …/campaigns, else the members seen so far) and a control expanding the members (campaign=<id>).
 */
function opinionList(
  c: StaffConsultation,
  section: string,
  filter: OpinionFilter,
  moderation: boolean,
  listId: string,
  sizes: ReadonlyMap<number, number>,
): HTMLElement {
  const list = h("ul", { class: "opinions", id: listId });
  const count = h("p", { class: "hint", role: "status", id: `${listId}-count` });
  const more = h("button", { type: "button", id: `${listId}-more`, hidden: true }, ct("r.more"));
  const error = h("div", { role: "alert" });
  const grouping = filter.campaign === undefined || filter.campaign === null;
  const groups = new Map<number, { seen: number; label: HTMLElement; size?: number }>();
  let shown = 0;
  let cursor: string | null = null;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await listOpinions(c.id, section, { ...filter, cursor, limit: 20 });
      for (const o of page.opinions) {
        shown++;
        const g = o.campaign !== null && grouping ? groups.get(o.campaign) : undefined;
        if (g) {
          g.seen++;
          g.label.textContent = ct("r.campaign", { count: g.size ?? g.seen });
          continue;
        }
        const item = opinionItem(c, o, moderation);
        if (o.campaign !== null && grouping) {
          const size = sizes.get(o.campaign);
          const label = h("p", { class: "campaign-label" }, ct("r.campaign", { count: size ?? 1 }));
          const group = { seen: 1, label, size };
          groups.set(o.campaign, group);
          const inner = h("div", { class: "campaign-members" });
          const toggle = h(
            "button",
            { type: "button", class: "link campaign-expand", "aria-expanded": "false" },
            ct("r.expand", { count: size ?? "" }),
          );
          toggle.addEventListener("click", () => {
            const open = toggle.getAttribute("aria-expanded") === "true";
            toggle.setAttribute("aria-expanded", open ? "false" : "true");
            toggle.textContent = open
              ? ct("r.expand", { count: group.size ?? group.seen })
              : ct("r.collapse");
            if (open) replace(inner);
            else
              replace(
                inner,
                opinionList(
                  c,
                  section,
                  { ...filter, campaign: o.campaign },
                  moderation,
                  `${listId}-c${o.leafIndex}`,
                  sizes,
                ),
              );
          });
          item.classList.add("campaign");
          item.prepend(label);
          item.append(toggle, inner);
        }
        list.append(item);
      }
      cursor = page.next;
      more.hidden = cursor === null;
      count.textContent = ct("r.count", { n: shown });
      replace(error);
      if (shown === 0) list.append(h("li", { class: "hint" }, ct("r.none")));
    } catch (e) {
      replace(
        error,
        h(
          "p",
          { class: "error", id: "opinions-unavailable" },
          ct("r.unavailable", { message: describeError(e) }),
        ),
      );
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  void load();
  return h("div", { class: "opinion-list" }, list, count, more, error);
}

export function renderOpinions(
  body: HTMLElement,
  gen: number,
  c: StaffConsultation,
  moderation: boolean,
): void {
  const sections = c.draft.sections;
  const select = (id: string, values: [string, string][]) =>
    h(
      "select",
      { id },
      values.map(([v, label]) => h("option", { value: v }, label)),
    );
  const section = select(
    "op-section",
    sections.map((s) => [s.id, s.title]),
  );
  const stance = select("op-stance", [
    ["", ct("r.any")],
    ["agree", t("stance.agree")],
    ["disagree", t("stance.disagree")],
    ["neutral", t("stance.neutral")],
  ]);
  const channel = select("op-channel", [
    ["", ct("r.any")],
    ["online", ct("s.online")],
    ["offline", ct("s.offline")],
  ]);
  const q = h("input", { type: "search", id: "op-q", "aria-describedby": "op-q-hint" });
  const out = h("section", { id: "op-out", "aria-labelledby": "op-out-h" });
  const show = async () => {
    // the article's campaign sizes (a campaign's members may spread over many pages); none known: members seen
    const sizes = new Map<number, number>();
    try {
      for (const k of (await getCampaigns(c.id, section.value)).campaigns) sizes.set(k.campaign, k.count);
    } catch {
      // counts unavailable: the list still groups, counting the members it has seen
    }
    if (!isCurrent(gen)) return;
    const title = sections.find((s) => s.id === section.value)?.title ?? section.value;
    replace(
      out,
      h("h2", { id: "op-out-h" }, ct("r.title", { section: title })),
      opinionList(
        c,
        section.value,
        { stance: stance.value, channel: channel.value, q: q.value.trim() },
        moderation,
        "op-list",
        sizes,
      ),
    );
  };
  const form = h(
    "form",
    {
      class: "filters",
      id: "op-filters",
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void show();
      },
    },
    h("div", null, h("label", { for: "op-section" }, ct("r.section")), section),
    h("div", null, h("label", { for: "op-stance" }, ct("r.stance")), stance),
    h("div", null, h("label", { for: "op-channel" }, ct("r.channel")), channel),
    h(
      "div",
      null,
      h("label", { for: "op-q" }, ct("r.search")),
      q,
      h("p", { class: "hint", id: "op-q-hint" }, ct("r.searchHint")),
    ),
    h("div", null, h("button", { type: "submit", id: "op-apply" }, ct("r.apply"))),
  );
  replace(
    body,
    moderation ? h("h2", null, ct("m.title")) : null,
    moderation ? h("p", { class: "hint" }, ct("m.hint")) : null,
    moderation
      ? h("p", null, h("a", { href: `#/c/${c.id}/moderation`, id: "moderation-log-link" }, ct("m.log")))
      : null,
    form,
    out,
  );
  void show();
}
