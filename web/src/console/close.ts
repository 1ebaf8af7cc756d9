// Closing: the close procedure (final head anchored, tally published) and the tally hash as the pinned registry
// holds it; then the response report per article (status and text), published on chain by the service.
import {
  type ArticleResponse,
  type Hex,
  sectionCounts,
  type TallyDocument,
} from "../../../protocol/index.ts";
import { getResponseBytes, getTally } from "../api.ts";
import { findTallyTx } from "../chain.ts";
import { h, replace, shortHex } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { pinnedChain } from "../trust.ts";
import { describeError, errorBox, formatUnix } from "../ui.ts";
import {
  close,
  getCampaigns,
  publishResponse,
  RESPONSE_STATUSES,
  type ResponseStatus,
  type StaffConsultation,
} from "./api.ts";
import { ct } from "./strings.ts";

function tallyTable(c: StaffConsultation, doc: TallyDocument): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "numbers", id: "tally-table" },
      h("caption", null, ct("c.counts")),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          [ct("s.section"), t("stance.agree"), t("stance.disagree"), t("stance.neutral")].map((x) =>
            h("th", { scope: "col" }, x),
          ),
        ),
      ),
      h(
        "tbody",
        null,
        c.draft.sections.map((s) => {
          const n = sectionCounts(doc, s.id)?.total ?? { agree: 0, disagree: 0, neutral: 0 };
          return h(
            "tr",
            null,
            h("th", { scope: "row" }, s.title),
            h("td", null, String(n.agree)),
            h("td", null, String(n.disagree)),
            h("td", null, String(n.neutral)),
          );
        }),
      ),
    ),
  );
}

/** The tally as the service gave it, beside the tally hash the pinned registry holds. */
function tallyBox(
  c: StaffConsultation,
  tally: { document: TallyDocument; tallyHash: Hex; txHash: Hex },
): HTMLElement {
  const chain = h("dd", { id: "chain-tally" }, t("common.loading"));
  const verdict = h("p", { id: "tally-verdict", "aria-live": "polite" });
  const box = h(
    "div",
    { class: "badge", id: "tally-box" },
    verdict,
    h(
      "dl",
      { class: "hashes" },
      h("dt", null, ct("c.tallyHash")),
      h("dd", { id: "service-tally" }, h("code", { title: tally.tallyHash }, shortHex(tally.tallyHash))),
      h("dt", null, ct("c.chainTally")),
      chain,
      h("dt", null, t("common.tx")),
      h("dd", null, h("code", { title: tally.txHash }, shortHex(tally.txHash))),
    ),
    tallyTable(c, tally.document),
  );
  compareWithChain(
    { box, chain, verdict },
    tally.tallyHash,
    pinnedChain()
      .then((p) => findTallyTx(p.agreed, c.id))
      .then((pub) => (pub ? { hash: pub.tallyHash, blockNumber: pub.blockNumber } : null)),
  );
  return box;
}

export async function renderClose(body: HTMLElement, gen: number, c: StaffConsultation): Promise<void> {
  const head = h("h2", null, ct("c.title"));
  if (c.status === "tallied") {
    try {
      const tally = await getTally(c.id);
      if (isCurrent(gen)) replace(body, head, tallyBox(c, tally));
    } catch (e) {
      if (isCurrent(gen)) replace(body, head, errorBox(e));
    }
    return;
  }
  // the service's clock decides (its status), not this computer's
  if (c.status === "open" || c.status === "scheduled") {
    replace(body, head, h("p", { id: "close-not-yet" }, ct("c.notYet", { time: formatUnix(c.closesAt) })));
    return;
  }
  const status = h("div", { role: "status", "aria-live": "polite", id: "close-status" });
  const button = h("button", { type: "button", id: "close-go" }, ct("c.close"));
  button.addEventListener("click", () => {
    button.disabled = true;
    replace(status, h("p", null, ct("c.closing")));
    close(c.id).then(
      (tally) => {
        button.remove();
        replace(status, tallyBox(c, tally));
      },
      (e: unknown) => {
        button.disabled = false;
        replace(status, h("p", { class: "error", role: "alert" }, describeError(e)));
      },
    );
  });
  replace(body, head, h("p", null, button), status);
}

/** What a response publication did, beside the registry's ResponsePublished of that version (✓ when the hashes match). */
function responseBox(id: string, r: { version: number; responseHash: Hex; txHash: Hex }): HTMLElement {
  const chain = h("dd", { id: "chain-response" }, t("common.loading"));
  const verdict = h("p", { id: "response-verdict", "aria-live": "polite" });
  const box = h(
    "div",
    { class: "badge", id: "response-published" },
    h("p", null, h("strong", null, ct("p.published", { version: r.version }))),
    verdict,
    h(
      "dl",
      { class: "hashes" },
      h("dt", null, ct("p.hash")),
      h("dd", null, h("code", { title: r.responseHash }, shortHex(r.responseHash))),
      h("dt", null, ct("p.chainHash")),
      chain,
      h("dt", null, t("common.tx")),
      h("dd", null, h("code", { title: r.txHash }, shortHex(r.txHash))),
    ),
  );
  compareWithChain(
    { box, chain, verdict },
    r.responseHash,
    pinnedChain()
      .then((p) => p.agreed.reader.responses(id))
      .then((events) => {
        const pub = events.find((e) => e.version === r.version);
        return pub ? { hash: pub.responseHash, blockNumber: pub.blockNumber } : null;
      }),
  );
  return box;
}

/**
 * The leaf indices typed in a response's "opinions" field (separated by commas or spaces), ascending and without
 * repeats; null when something in it is not a leaf index.
 */
export function entryIndices(value: string): number[] | null {
  const words = value.split(/[\s,;]+/u).filter((w) => w !== "");
  if (words.some((w) => !/^(0|[1-9][0-9]{0,14})$/.test(w))) return null;
  return [...new Set(words.map(Number))].sort((a, b) => a - b);
}

export function renderResponse(body: HTMLElement, _gen: number, c: StaffConsultation): void {
  const head = h("h2", null, ct("p.title"));
  if (c.status !== "tallied") {
    replace(body, head, h("p", { id: "response-needs-tally" }, ct("p.needTally")));
    return;
  }
  const rows = c.draft.sections.map((s) => {
    const sel = h(
      "select",
      { id: `resp-status-${s.id}` },
      RESPONSE_STATUSES.map((st) => h("option", { value: st }, ct(`p.status.${st}`))),
    );
    const text = h("textarea", { id: `resp-text-${s.id}`, rows: 3 });
    const campaigns = h("div", { class: "campaign-choices", id: `resp-campaigns-${s.id}` });
    const entries = h("input", {
      type: "text",
      id: `resp-entries-${s.id}`,
      inputmode: "numeric",
      autocomplete: "off",
    });
    return {
      id: s.id,
      title: s.title,
      sel,
      text,
      campaigns,
      entries,
      el: h(
        "fieldset",
        { class: "response-article", "data-section": s.id },
        h("legend", null, s.title),
        h("label", { for: sel.id }, ct("p.status", { id: s.title })),
        sel,
        h("label", { for: text.id }, ct("p.text", { id: s.title })),
        text,
        h("fieldset", { class: "campaigns" }, h("legend", null, ct("p.campaigns")), campaigns),
        h("label", { for: entries.id }, ct("p.entries")),
        entries,
      ),
    };
  });
  /** Campaign ids already offered per article, so one named by an earlier version is not offered twice. */
  const offer = (row: (typeof rows)[number], id: string, label: string, checked: boolean) => {
    const existing = row.campaigns.querySelector<HTMLInputElement>(`input[value="${id}"]`);
    if (existing) {
      existing.checked ||= checked;
      return;
    }
    const box = h("input", { type: "checkbox", value: id, id: `resp-campaign-${row.id}-${id}` });
    box.checked = checked;
    row.campaigns.append(h("div", { class: "check" }, box, h("label", { for: box.id }, label)));
  };
  // each article's campaigns (the reading index's groups of near-identical opinions), largest first
  for (const row of rows) {
    getCampaigns(c.id, row.id, 20).then(
      ({ campaigns }) => {
        if (campaigns.length === 0 && row.campaigns.childElementCount === 0)
          row.campaigns.append(h("p", { class: "hint" }, ct("p.noCampaigns")));
        for (const k of campaigns) {
          const sample = [...k.sample.text];
          const short = sample.length > 60 ? `${sample.slice(0, 59).join("")}…` : sample.join("");
          offer(
            row,
            String(k.campaign),
            ct("p.campaign", { id: k.campaign, count: k.count, sample: short }),
            false,
          );
        }
      },
      (e: unknown) => row.campaigns.append(h("p", { class: "hint" }, describeError(e))),
    );
  }
  const status = h("div", { role: "status", "aria-live": "polite", id: "response-status" });
  const button = h("button", { type: "button", id: "response-publish" }, ct("p.publish"));
  const previous = h("p", { class: "hint", id: "response-previous" });
  // a later version supersedes: start from the latest one published, when there is one
  getResponseBytes(c.id).then(
    (bytes) => {
      if (!bytes) return;
      const d = JSON.parse(new TextDecoder().decode(bytes)) as {
        version?: number;
        articles?: Record<string, Partial<ArticleResponse>>;
      };
      for (const r of rows) {
        const a = d.articles?.[r.id];
        if (!a) continue;
        r.sel.value = a.status ?? r.sel.value;
        r.text.value = a.text ?? "";
        for (const k of a.campaigns ?? []) offer(r, k, ct("p.campaignNamed", { id: k }), true);
        r.entries.value = (a.entries ?? []).join(", ");
      }
      if (typeof d.version === "number") previous.textContent = ct("p.previous", { version: d.version });
    },
    () => {
      // none published yet (404): the form starts empty
    },
  );
  button.addEventListener("click", () => {
    replace(status); // a message of the previous attempt is not this one's
    const articles: Record<string, ArticleResponse> = {};
    for (const r of rows) {
      const entries = entryIndices(r.entries.value);
      if (entries === null) {
        replace(
          status,
          h(
            "p",
            { class: "error", role: "alert" },
            ct("p.badEntries", { id: r.title, value: r.entries.value }),
          ),
        );
        r.entries.focus();
        return;
      }
      // the document's order: campaign ids sorted as strings, leaf indices ascending (PROTOCOL.md §6a)
      const campaigns = [...r.campaigns.querySelectorAll<HTMLInputElement>("input:checked")]
        .map((b) => b.value)
        .sort();
      articles[r.id] = {
        status: r.sel.value as ResponseStatus,
        text: r.text.value,
        ...(campaigns.length > 0 ? { campaigns } : {}),
        ...(entries.length > 0 ? { entries } : {}),
      };
    }
    button.disabled = true;
    publishResponse(c.id, articles).then(
      (r) => replace(status, responseBox(c.id, r)),
      (e: unknown) => {
        button.disabled = false;
        replace(status, h("p", { class: "error", role: "alert" }, describeError(e)));
      },
    );
  });
  replace(
    body,
    head,
    h("p", { class: "hint" }, ct("p.hint")),
    previous,
    rows.map((r) => r.el),
    h("p", null, button),
    status,
  );
}

/**
 * Fills a box's chain cell with the hash the registry holds (and its block) once `onChain` settles, and marks the box
 * ✓ when it is `expected`: the service's answer beside the chain's, never taken for it.
 */
function compareWithChain(
  el: { box: HTMLElement; chain: HTMLElement; verdict: HTMLElement },
  expected: Hex,
  onChain: Promise<{ hash: Hex; blockNumber: number | bigint } | null>,
): void {
  onChain.then(
    (pub) => {
      if (!pub) {
        el.chain.textContent = ct("d.notOnChain");
        return;
      }
      replace(
        el.chain,
        h("code", { title: pub.hash }, shortHex(pub.hash)),
        ` (${t("common.block")} ${pub.blockNumber})`,
      );
      const ok = pub.hash.toLowerCase() === expected.toLowerCase();
      el.box.className = `badge ${ok ? "ok" : "bad"}`;
      el.box.dataset.badge = ok ? "match" : "mismatch";
      el.verdict.textContent = `${ok ? "✓" : "✗"} ${ct(ok ? "c.match" : "c.mismatch")}`;
    },
    (e: unknown) => {
      el.chain.textContent = ct("d.chainUnknown", { message: describeError(e) });
    },
  );
}
