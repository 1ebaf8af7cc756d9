// The staff console (#/staff/...), loaded on demand by main.ts only for a signed-in agency account, so citizen
// pages never download it. Routes:
//   #/staff                     the agency's consultations        #/staff/new          open a consultation
//   #/staff/c/:id               live dashboard                    #/staff/c/:id/draft  versions, diff, revise
//   #/staff/c/:id/opinions      read opinions per article         #/staff/c/:id/moderation  withhold texts
//   #/staff/c/:id/import        CSV import with preview           #/staff/c/:id/close  close and tally
//   #/staff/c/:id/response      the response report per article
import "./console.css";
import { getConsultation, listConsultations } from "../api.ts";
import { currentSession } from "../auth.ts";
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { agencyLabel, consultationMeta, errorBox, heading, loading, statusLabel } from "../ui.ts";
import type { StaffConsultation } from "./api.ts";
import { renderClose, renderResponse } from "./close.ts";
import { renderDashboard } from "./dashboard.ts";
import { renderDraft } from "./draft.ts";
import { renderImport } from "./import.ts";
import { renderOpen } from "./open.ts";
import { renderOpinions } from "./opinions.ts";
import { ct } from "./strings.ts";

export const TABS = ["dashboard", "draft", "opinions", "moderation", "import", "close", "response"] as const;
export type Tab = (typeof TABS)[number];

/** Renders the console page of `rest` (the route's path after "staff"); the caller checked the agency role. */
export async function renderConsole(main: HTMLElement, gen: number, rest: string[]): Promise<void> {
  if (rest.length === 0) return renderHome(main, gen);
  if (rest[0] === "new" && rest.length === 1) return renderOpen(main, gen);
  const tab = (rest[2] ?? "dashboard") as Tab;
  if (rest[0] === "c" && rest[1] && /^[0-9]+$/.test(rest[1]) && rest.length <= 3 && TABS.includes(tab)) {
    return renderConsultationTab(main, gen, rest[1], tab);
  }
  replace(main, heading(t("nav.notFound")), h("a", { href: "#/staff" }, ct("k.nav")));
}

async function renderHome(main: HTMLElement, gen: number): Promise<void> {
  const session = currentSession()!;
  replace(main, heading(ct("k.nav")), loading());
  try {
    const { consultations } = await listConsultations();
    if (!isCurrent(gen)) return;
    const mine = consultations.filter((c) => c.agency === session.agency);
    replace(
      main,
      heading(ct("k.nav")),
      h(
        "p",
        { id: "staff-agency" },
        t("staff.agency", {
          name: session.name,
          // the display name from the service's consultations when it has one, with the id
          agency: mine[0]?.agencyName
            ? `${agencyLabel(mine[0])} (${session.agency})`
            : (session.agency ?? ""),
        }),
      ),
      h("p", null, h("a", { href: "#/staff/new", id: "staff-new", class: "button" }, ct("k.new"))),
      h("h2", null, ct("k.mine")),
      mine.length === 0
        ? h("p", null, ct("k.none"))
        : h(
            "ul",
            { class: "cards", id: "staff-list" },
            mine.map((c) =>
              h(
                "li",
                { class: "card" },
                h("a", { href: `#/staff/c/${c.id}` }, c.title),
                " ",
                h("span", { class: `status status-${c.status}` }, statusLabel(c.status)),
              ),
            ),
          ),
    );
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        heading(ct("k.nav")),
        errorBox(e, () => void renderHome(main, gen)),
      );
  }
}

function tabNav(id: string, current: Tab): HTMLElement {
  return h(
    "nav",
    { class: "tabs", "aria-label": ct("k.tabs") },
    h(
      "ul",
      null,
      TABS.map((tab) =>
        h(
          "li",
          null,
          h(
            "a",
            {
              href: `#/staff/c/${id}${tab === "dashboard" ? "" : `/${tab}`}`,
              id: `tab-${tab}`,
              "aria-current": tab === current ? "page" : null,
            },
            ct(`k.tab.${tab}`),
          ),
        ),
      ),
    ),
  );
}

async function renderConsultationTab(main: HTMLElement, gen: number, id: string, tab: Tab): Promise<void> {
  replace(main, heading(ct(`k.tab.${tab}`)), loading());
  let c: StaffConsultation;
  try {
    c = (await getConsultation(id)) as StaffConsultation;
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        heading(ct(`k.tab.${tab}`)),
        errorBox(e, () => void renderConsultationTab(main, gen, id, tab)),
      );
    return;
  }
  if (!isCurrent(gen)) return;
  const session = currentSession();
  const body = h("div", { class: "console-body", id: `console-${tab}` });
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/staff" }, ct("k.nav"))),
    heading(`${ct(`k.tab.${tab}`)}: ${c.title}`),
    consultationMeta(c, h("dt", null, t("c.version")), h("dd", null, String(c.draft.version))),
    session?.agency !== c.agency
      ? h("p", { class: "notice" }, ct("k.notOwner", { agency: agencyLabel(c) }))
      : null,
    h("p", null, h("a", { href: `#/c/${id}` }, ct("k.public"))),
    tabNav(id, tab),
    body,
  );
  const pages: Record<Tab, (body: HTMLElement, gen: number, c: StaffConsultation) => Promise<void> | void> = {
    dashboard: renderDashboard,
    draft: renderDraft,
    opinions: (b, g, x) => renderOpinions(b, g, x, false),
    moderation: (b, g, x) => renderOpinions(b, g, x, true),
    import: renderImport,
    close: renderClose,
    response: renderResponse,
  };
  await pages[tab](body, gen, c);
}
