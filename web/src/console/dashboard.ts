// The live dashboard: opinions per article by stance (stacked bars), opinions over time (a line), online against
// offline; pictures first (uPlot, canvas), the numbers beside them in a table behind every chart. Polls the
// service's statistics while the page is the current one.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { errorBox, formatUnix } from "../ui.ts";
import { getStats, type StaffConsultation, type Stats } from "./api.ts";
import { ct } from "./strings.ts";

export const POLL_MS = 5000;

/** What the dashboard draws. */
export interface DashboardData {
  /** Every article in the draft's order: its id, its title (as the draft gives it) and its counts. */
  sections: { section: string; title: string; agree: number; disagree: number; neutral: number }[];
  /** Opinions arrived in each hour (Unix seconds of its start), oldest first. */
  overTime: { t: number; count: number }[];
  channels: { online: number; offline: number };
}

/** The service's statistics (GET …/stats) in the draft's article order, every article present. */
export function dashboardData(stats: Stats, articles: { id: string; title: string }[]): DashboardData {
  const sections = articles.map(({ id: section, title }) => {
    const n = stats.sections[section];
    return { section, title, agree: n?.agree ?? 0, disagree: n?.disagree ?? 0, neutral: n?.neutral ?? 0 };
  });
  const overTime = [...stats.hourly]
    .sort((a, b) => a.hour - b.hour)
    .map((p) => ({ t: p.hour, count: p.online + p.offline }));
  return { sections, overTime, channels: stats.channels };
}

const COLORS = {
  agree: "#0c6b2e",
  disagree: "#a4161a",
  neutral: "#6b6b6b",
  line: "#0b5cad",
  offline: "#7a4b00",
};

/**
 * An article's name under its bar, where a phone has room for a few characters: the title's numbering
 * ("Điều 3" of "Điều 3. Quyền của chủ thể dữ liệu"), else its first 12 characters. Tables carry the whole title.
 */
export function axisLabel(title: string): string {
  const numbering = /^\s*([^.:]{1,14})[.:]/u.exec(title);
  if (numbering) return numbering[1]!.trim();
  const chars = [...title.trim()];
  return chars.length <= 12 ? chars.join("") : `${chars.slice(0, 11).join("")}…`;
}

/** The charts' width: the page's column (a phone's screen), at most 560 px so a table fits beside on a desktop. */
function chartWidth(box: HTMLElement): number {
  const column = box.closest("main")?.clientWidth ?? 600;
  return Math.max(260, Math.min(560, column - 24));
}

/** A figure: the chart (an image to assistive technology, described by `label`) and its table beside. */
function figure(
  id: string,
  title: string,
  label: string,
  table: HTMLTableElement,
): { fig: HTMLElement; plot: HTMLElement } {
  const plot = h("div", { class: "chart", role: "img", "aria-label": label, id: `${id}-chart` });
  const fig = h(
    "figure",
    { class: "chart-figure", id, "aria-labelledby": `${id}-cap` },
    h("figcaption", { id: `${id}-cap` }, h("h3", null, title)),
    h("div", { class: "chart-pair" }, plot, h("div", { class: "table-wrap" }, table)),
  );
  return { fig, plot };
}

function table(caption: string, head: string[], rows: (string | number)[][]): HTMLTableElement {
  return h(
    "table",
    { class: "numbers" },
    h("caption", null, caption),
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        head.map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      null,
      rows.map((r) =>
        h(
          "tr",
          null,
          r.map((x, i) => (i === 0 ? h("th", { scope: "row" }, String(x)) : h("td", null, String(x)))),
        ),
      ),
    ),
  );
}

function draw(box: HTMLElement, s: DashboardData): uPlot[] {
  const plots: uPlot[] = [];
  const width = chartWidth(box);
  const labels = { agree: t("stance.agree"), disagree: t("stance.disagree"), neutral: t("stance.neutral") };
  // 1. per article by stance: stacked bars (each series drawn over the one before: total, agree+disagree, agree)
  const names = s.sections.map((x) => x.title);
  const xs = names.map((_, i) => i);
  const agree = s.sections.map((x) => x.agree);
  const ad = s.sections.map((x) => x.agree + x.disagree);
  const total = s.sections.map((x) => x.agree + x.disagree + x.neutral);
  const bars = uPlot.paths.bars!({ size: [0.6, 80] });
  const a = figure(
    "chart-sections",
    ct("s.bySection"),
    names
      .map(
        (name, i) =>
          `${name}: ${labels.agree} ${agree[i]}, ${labels.disagree} ${ad[i]! - agree[i]!}, ${labels.neutral} ${total[i]! - ad[i]!}`,
      )
      .join("; "),
    table(
      ct("s.bySection"),
      [ct("s.section"), labels.agree, labels.disagree, labels.neutral, ct("s.total")],
      s.sections.map((x) => [x.title, x.agree, x.disagree, x.neutral, x.agree + x.disagree + x.neutral]),
    ),
  );
  // 2. over time
  const b = figure(
    "chart-time",
    ct("s.overTime"),
    s.overTime.map((p) => `${formatUnix(p.t)}: ${p.count}`).join("; ") || "0",
    table(
      ct("s.overTime"),
      [ct("s.time"), ct("s.count")],
      s.overTime.map((p) => [formatUnix(p.t), p.count]),
    ),
  );
  // 3. channels
  const c = figure(
    "chart-channels",
    ct("s.channels"),
    `${ct("s.online")} ${s.channels.online}, ${ct("s.offline")} ${s.channels.offline}`,
    table(
      ct("s.channels"),
      [ct("r.channel"), ct("s.count")],
      [
        [ct("s.online"), s.channels.online],
        [ct("s.offline"), s.channels.offline],
      ],
    ),
  );
  replace(box, a.fig, b.fig, c.fig);
  const common = { legend: { show: false }, cursor: { show: false } } as const;
  const categoryAxis = (names: string[]) => ({
    splits: () => names.map((_, i) => i),
    values: (_u: uPlot, splits: number[]) => splits.map((i) => names[i] ?? ""),
  });
  plots.push(
    new uPlot(
      {
        ...common,
        width,
        height: 220,
        scales: {
          x: { time: false, range: [-0.6, Math.max(0, xs.length - 1) + 0.6] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [categoryAxis(names.map(axisLabel)), {}],
        series: [
          {},
          {
            label: labels.neutral,
            fill: COLORS.neutral,
            stroke: COLORS.neutral,
            paths: bars,
            points: { show: false },
          },
          {
            label: labels.disagree,
            fill: COLORS.disagree,
            stroke: COLORS.disagree,
            paths: bars,
            points: { show: false },
          },
          {
            label: labels.agree,
            fill: COLORS.agree,
            stroke: COLORS.agree,
            paths: bars,
            points: { show: false },
          },
        ],
      },
      [xs, total, ad, agree],
      a.plot,
    ),
  );
  const tx = s.overTime.map((p) => p.t);
  plots.push(
    new uPlot(
      {
        ...common,
        width,
        height: 200,
        scales: {
          // an hour either side of the first and last hour, so one hour of data is not drawn over years
          // (a fixed pair: with a single point uPlot's computed range spanned years)
          x: {
            time: true,
            range: tx.length > 0 ? [tx[0]! - 3600, tx[tx.length - 1]! + 3600] : [0, 3600],
          },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        series: [
          {},
          { label: ct("s.count"), stroke: COLORS.line, width: 2, points: { show: true, size: 6 } },
        ],
      },
      [tx, s.overTime.map((p) => p.count)],
      b.plot,
    ),
  );
  plots.push(
    new uPlot(
      {
        ...common,
        width: Math.min(width, 360),
        height: 180,
        scales: {
          x: { time: false, range: [-0.6, 1.6] },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [categoryAxis([ct("s.online"), ct("s.offline")]), {}],
        series: [
          {},
          {
            label: ct("s.count"),
            fill: COLORS.line,
            stroke: COLORS.line,
            paths: bars,
            points: { show: false },
          },
        ],
      },
      [
        [0, 1],
        [s.channels.online, s.channels.offline],
      ],
      c.plot,
    ),
  );
  return plots;
}

export async function renderDashboard(body: HTMLElement, gen: number, c: StaffConsultation): Promise<void> {
  const updated = h("p", { class: "hint", id: "stats-updated", "aria-live": "off" });
  const charts = h("div", { class: "charts", id: "charts" });
  replace(body, h("h2", null, ct("s.title")), updated, charts);
  let plots: uPlot[] = [];
  const articles = c.draft.sections.map((s) => ({ id: s.id, title: s.title || s.id }));
  const once = async (): Promise<boolean> => {
    try {
      const stats = dashboardData(await getStats(c.id), articles);
      if (!isCurrent(gen)) return false;
      for (const p of plots) p.destroy();
      plots = draw(charts, stats);
      updated.textContent = ct("s.updated", { time: formatUnix(Date.now() / 1000), s: POLL_MS / 1000 });
      charts.dataset.loaded = "true";
      return true;
    } catch (e) {
      if (!isCurrent(gen)) return false;
      replace(
        charts,
        errorBox(e, () => void once()),
      );
      return true;
    }
  };
  await once();
  const timer = window.setInterval(() => {
    if (!isCurrent(gen) || !body.isConnected) {
      window.clearInterval(timer);
      for (const p of plots) p.destroy();
      return;
    }
    void once();
  }, POLL_MS);
}
