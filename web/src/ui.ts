// Shared page pieces: headings that take focus on navigation, error boxes that always say what failed.

import { type ChainErrorPhrases, chainErrorMessage } from "../../chain/errors.ts";
import { ApiError } from "./api.ts";
import { ChainError } from "./chain.ts";
import { h } from "./dom.ts";
import { getLang, t } from "./i18n.ts";
import { TrustError } from "./trust.ts";

/** The page's h1; focused after each navigation so screen readers announce the new page. */
export function heading(text: string): HTMLHeadingElement {
  return h("h1", { tabindex: "-1", id: "page-title" }, text);
}

/** The chain reader's error kinds, worded in the page's language. */
function chainPhrases(): ChainErrorPhrases {
  return {
    unreachable: (d) => t("err.rpc.unreachable", { url: d.rpcUrl ?? "?" }),
    wrongChain: (d) =>
      t("err.chain.wrong", { expected: d.expected ?? "?", actual: d.actual ?? "?", url: d.rpcUrl ?? "?" }),
    noContract: (d) => t("err.chain.noContract", { contract: d.registry ?? "?", url: d.rpcUrl ?? "?" }),
    disagreement: (d) =>
      t("err.chain.disagreement", {
        fact: d.fact ?? "?",
        answers: (d.answers ?? []).map((a) => `${a.rpcUrl}: ${a.value}`).join("; "),
      }),
    malformed: (d) => t("err.chain.format", { message: `${d.rpcUrl ?? "?"}: ${d.reason ?? "?"}` }),
    reverted: (d) =>
      t("err.chain.reverted", { contract: d.registry ?? "?", error: d.errorName ?? "reverted" }),
  };
}

export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.kind === "unreachable")
      return t("err.service.unreachable", { url: e.url.replace(/\/api\/.*$/, "") });
    if (e.kind === "auth") return t("err.auth");
    if (e.kind === "format") return t("err.service.format", { url: e.url });
    if (e.status === 404) return t("err.notFound");
    return t("err.service.http", { status: e.status, message: e.message });
  }
  if (e instanceof ChainError) return chainErrorMessage(e, chainPhrases());
  if (e instanceof TrustError) {
    if (e.kind === "noTrustRoot") return t("err.trust.none");
    return t("err.trust.disagree", { readings: e.readings.map((r) => `${r.rpcUrl}: ${r.value}`).join("; ") });
  }
  return t("err.unknown", { message: e instanceof Error ? e.message : String(e) });
}

export function errorBox(e: unknown, retry?: () => void): HTMLElement {
  const showSettings =
    e instanceof ChainError || e instanceof TrustError || (e instanceof ApiError && e.kind === "unreachable");
  return h(
    "div",
    {
      class: "error",
      role: "alert",
      "data-error":
        e instanceof ApiError || e instanceof ChainError || e instanceof TrustError ? e.kind : "unknown",
    },
    h("p", null, h("strong", null, t("err.title")), " ", describeError(e)),
    h(
      "p",
      { class: "actions" },
      retry ? h("button", { type: "button", onclick: () => retry() }, t("common.retry")) : null,
      showSettings ? h("a", { href: "#/settings" }, t("err.checkSettings")) : null,
    ),
  );
}

export function formatUnix(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  return formatMs(seconds * 1000);
}

export function formatMs(ms: number): string {
  try {
    return new Intl.DateTimeFormat(getLang() === "vi" ? "vi-VN" : "en-GB", {
      dateStyle: "medium",
      timeStyle: "short",
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString();
  }
}

export function formatIso(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatMs(ms);
}

/** An agency's display name in the current language; its id when the service sends none. */
export function agencyLabel(c: { agency: string; agencyName?: { vi: string; en: string } }): string {
  return c.agencyName?.[getLang()] ?? c.agency;
}

export function statusLabel(status: string): string {
  const key = `status.${status}`;
  const label = t(key as Parameters<typeof t>[0]);
  return label === key ? status : label;
}

/** Agency, status, opening and deadline of a consultation as a description list; `extra` items follow. */
export function consultationMeta(
  c: {
    agency: string;
    agencyName?: { vi: string; en: string };
    status: string;
    opensAt: number;
    closesAt: number;
  },
  ...extra: HTMLElement[]
): HTMLElement {
  return h(
    "dl",
    { class: "meta" },
    h("dt", null, t("list.agency")),
    h("dd", { class: "agency" }, agencyLabel(c)),
    h("dt", null, t("list.status")),
    h("dd", null, h("span", { class: `status status-${c.status}` }, statusLabel(c.status))),
    h("dt", null, t("list.opens")),
    h("dd", null, formatUnix(c.opensAt)),
    h("dt", null, t("list.deadline")),
    h("dd", null, formatUnix(c.closesAt)),
    ...extra,
  );
}

export function loading(): HTMLElement {
  return h("p", { class: "loading", role: "status" }, t("common.loading"));
}
