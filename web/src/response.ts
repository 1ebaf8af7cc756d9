// The agency's response, checked in the browser: the bytes the service serves are hashed here and compared with
// the registry's latest responseHash, read from the pinned chain (never from the service); only then are they
// parsed and shown. Used by the consultation, receipt and verify pages.
import {
  type ArticleResponse,
  articleResponse,
  type Hex,
  parseResponse,
  type ResponseDocument,
  responseBytesHash,
} from "../../protocol/index.ts";
import { getResponseBytes } from "./api.ts";
import { findResponseTx, readLatestResponse } from "./chain.ts";
import { h, shortHex } from "./dom.ts";
import { t } from "./i18n.ts";
import { pinnedChain } from "./trust.ts";

export type ResponseState = "none" | "match" | "mismatch" | "unpublished" | "notCheckable";

export interface CheckedResponse {
  /**
   * none: the service serves none and the chain holds none; unpublished: the chain holds one the service does not
   * serve; mismatch: the bytes do not hash to the chain's latest (or do not parse); match: they do.
   */
  readonly state: ResponseState;
  readonly localHash: Hex | null;
  readonly chainHash: Hex | null;
  readonly version: number;
  /** The parsed document, only when it matched the chain. */
  readonly document: ResponseDocument | null;
  readonly tx: { blockNumber: number; txHash: Hex } | null;
  /** Why a mismatching document was refused, when it could not be parsed. */
  readonly problem: string | null;
}

const cache = new Map<string, Promise<CheckedResponse>>();

/** The consultation's response, checked against the chain (one check per consultation and page load). */
export function checkedResponse(id: string, fresh = false): Promise<CheckedResponse> {
  let p = fresh ? undefined : cache.get(id);
  if (!p) {
    p = check(id);
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return p;
}

async function check(id: string): Promise<CheckedResponse> {
  const ctx = (await pinnedChain()).agreed;
  const [bytes, reading] = await Promise.all([getResponseBytes(id), readLatestResponse(ctx, id)]);
  const localHash = bytes ? responseBytesHash(bytes) : null;
  const none = { localHash, document: null, tx: null, problem: null };
  if (!reading.checkable) return { ...none, state: "notCheckable", chainHash: null, version: 0 };
  const latest = reading.latest;
  if (!latest) return { ...none, state: bytes ? "mismatch" : "none", chainHash: null, version: 0 };
  const tx = await findResponseTx(ctx, id, latest.version).catch(() => null);
  const base = { ...none, chainHash: latest.responseHash, version: latest.version, tx };
  if (!bytes) return { ...base, state: "unpublished" };
  if (localHash !== latest.responseHash) return { ...base, state: "mismatch" };
  try {
    return { ...base, state: "match", document: parseResponse(bytes) };
  } catch (e) {
    return { ...base, state: "mismatch", problem: e instanceof Error ? e.message : String(e) };
  }
}

/** The whole-document badge: ✓ when the served response is the one on chain. */
export function responseBadge(r: CheckedResponse): HTMLElement {
  const ok = r.state === "match";
  return h(
    "div",
    { class: `badge ${ok ? "ok" : r.state === "mismatch" ? "bad" : "unknown"}`, "data-response": r.state },
    h(
      "p",
      null,
      h("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : r.state === "mismatch" ? "✗" : "…"),
      " ",
      h("strong", null, t(`resp.badge.${r.state}`, { version: r.version })),
    ),
    r.localHash || r.chainHash
      ? h(
          "dl",
          { class: "hashes" },
          h("dt", null, t("resp.badge.browserHash")),
          h("dd", null, r.localHash ? h("code", { title: r.localHash }, shortHex(r.localHash)) : "—"),
          h("dt", null, t("resp.badge.chainHash")),
          h("dd", null, r.chainHash ? h("code", { title: r.chainHash }, shortHex(r.chainHash)) : "—"),
          r.tx
            ? [
                h("dt", null, t("common.block")),
                h("dd", null, String(r.tx.blockNumber)),
                h("dt", null, t("common.tx")),
                h("dd", null, h("code", { title: r.tx.txHash }, shortHex(r.tx.txHash))),
              ]
            : null,
        )
      : null,
    r.state === "mismatch" ? h("p", null, r.problem ?? t("resp.badge.badExplain")) : null,
  );
}

/** The agency's answer on one article, as checked: shown only from a document that matched the chain. */
export function articleAnswer(r: CheckedResponse, section: string): HTMLElement | null {
  if (r.state === "none" || r.state === "notCheckable") return null;
  const answer: ArticleResponse | null = r.document ? articleResponse(r.document, section) : null;
  const ok = r.state === "match";
  return h(
    "aside",
    {
      class: `response ${ok ? "ok" : "bad"}`,
      "data-response-section": section,
      "data-response-badge": ok ? "match" : "mismatch",
      ...(answer ? { "data-status": answer.status } : {}),
    },
    h(
      "h3",
      null,
      h("span", { class: "icon", "aria-hidden": "true" }, ok ? "✓" : "✗"),
      " ",
      t("resp.article.title"),
      answer ? [": ", h("span", { class: "status" }, t(`resp.status.${answer.status}`))] : null,
    ),
    answer
      ? h("p", { class: "text" }, answer.text)
      : h("p", { class: "hint" }, t(ok ? "r.article.none" : "r.article.unverified")),
  );
}

/**
 * Fills `box` with the agency's answer on the article an opinion was given on (receipt and verify pages): the
 * badge of the whole document, then the answer; nothing while the agency has published none.
 */
export async function showAnswerFor(
  box: HTMLElement,
  consultation: string,
  section: string,
  stillWanted: () => boolean,
): Promise<void> {
  box.dataset.response = "checking";
  try {
    const r = await checkedResponse(consultation);
    if (!stillWanted()) return;
    box.dataset.response = r.state;
    if (r.state === "none" || r.state === "notCheckable") {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(h("h2", null, t("resp.title")), responseBadge(r), articleAnswer(r, section) ?? "");
  } catch {
    if (!stillWanted()) return;
    box.dataset.response = "error";
    box.replaceChildren(h("p", { class: "hint" }, t("resp.badge.error")));
  }
}
