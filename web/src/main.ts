// Entry point: a hash router (#/...) that also honours the path /verify and any #r=<receipt> fragment,
// so links work on any static host. Every page render is guarded: a failure shows a message, never a
// blank screen.
import { h, replace } from "./dom.ts";
import { getLang, setLang, t } from "./i18n.ts";
import { renderAudit } from "./pages/audit.ts";
import { renderConsultation } from "./pages/consultation.ts";
import { renderList } from "./pages/list.ts";
import { renderModeration } from "./pages/moderation.ts";
import { renderReceipt } from "./pages/receipt.ts";
import { renderSettings } from "./pages/settings.ts";
import { authNav, finishSignIn, staffGate } from "./pages/sign-in.ts";
import { renderVerify } from "./pages/verify.ts";
import { isCurrent, nextGeneration } from "./state.ts";
import { renderTrustBanner } from "./trust.ts";
import { errorBox } from "./ui.ts";

export type Route =
  | { page: "list" }
  | { page: "consultation"; id: string }
  | { page: "audit"; id: string }
  | { page: "moderation"; id: string }
  | { page: "receipt"; consultation: string; index: number }
  | { page: "verify"; fragment?: string }
  | { page: "settings" }
  | { page: "staff"; rest: string[] }
  | { page: "notFound" };

export function parseRoute(pathname: string, hash: string): Route {
  const r = /(?:^#|[#&?])r=([A-Za-z0-9_-]+)/.exec(hash);
  if (r?.[1]) return { page: "verify", fragment: r[1] };
  const path = hash.startsWith("#/") ? hash.slice(1).split("?")[0]! : pathname.replace(/\/index\.html$/, "/");
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return { page: "list" };
  if (parts[0] === "verify" && parts.length === 1) return { page: "verify" };
  if (parts[0] === "settings" && parts.length === 1) return { page: "settings" };
  if (parts[0] === "staff") return { page: "staff", rest: parts.slice(1) };
  if (parts[0] === "c" && parts[1] && /^[0-9]+$/.test(parts[1])) {
    if (parts.length === 2) return { page: "consultation", id: parts[1] };
    if (parts.length === 3 && parts[2] === "audit") return { page: "audit", id: parts[1] };
    if (parts.length === 3 && parts[2] === "moderation") return { page: "moderation", id: parts[1] };
  }
  if (parts[0] === "receipt" && parts[1] && parts[2] && /^[0-9]+$/.test(parts[2]) && parts.length === 3) {
    return { page: "receipt", consultation: parts[1], index: Number(parts[2]) };
  }
  // The app may be hosted under a sub-path: an unknown hash-less path is the home page.
  if (!hash.startsWith("#/")) return parts.at(-1) === "verify" ? { page: "verify" } : { page: "list" };
  return { page: "notFound" };
}

function renderNav(route: Route): void {
  const nav = document.getElementById("nav");
  if (!nav) return;
  const link = (href: string, label: string, active: boolean) =>
    h("a", { href, "aria-current": active ? "page" : null }, label);
  replace(
    nav,
    link("#/", t("nav.list"), route.page === "list"),
    link("#/verify", t("nav.verify"), route.page === "verify"),
    link("#/settings", t("nav.settings"), route.page === "settings"),
    h(
      "button",
      {
        type: "button",
        class: "lang",
        lang: getLang() === "vi" ? "en" : "vi",
        onclick: () => {
          setLang(getLang() === "vi" ? "en" : "vi");
          // back from the identity provider's sign-in page: finish the sign-in before the first render
          void finishSignIn().then(async (failure) => {
            await render(false);
            if (failure)
              document
                .getElementById("main")
                ?.prepend(h("p", { role: "alert", id: "sign-in-failed" }, failure));
          });
        },
      },
      t("nav.switchLang"),
    ),
    authNav(),
  );
  nav.setAttribute("aria-label", t("nav.label"));
  const skip = document.getElementById("skip-link");
  if (skip) skip.textContent = t("nav.skip");
  let banner = document.getElementById("trust-banner");
  if (!banner) {
    banner = h("div", { id: "trust-banner", class: "trust-banner", role: "note" });
    document.querySelector("header.top")?.after(banner);
  }
  renderTrustBanner(banner, () => void render(false));
}

async function render(moveFocus = true): Promise<void> {
  const gen = nextGeneration();
  const main = document.getElementById("main")!;
  const route = parseRoute(window.location.pathname, window.location.hash);
  document.documentElement.lang = getLang();
  renderNav(route);
  main.setAttribute("aria-busy", "true");
  try {
    switch (route.page) {
      case "list":
        await renderList(main, gen);
        break;
      case "consultation":
        await renderConsultation(main, gen, route.id);
        break;
      case "audit":
        await renderAudit(main, gen, route.id);
        break;
      case "moderation":
        await renderModeration(main, gen, route.id);
        break;
      case "receipt":
        await renderReceipt(main, gen, route.consultation, route.index);
        break;
      case "verify":
        await renderVerify(main, gen, route.fragment);
        break;
      case "settings":
        renderSettings(main);
        break;
      case "staff":
        // the console is its own chunk, fetched only once a signed-in agency account opens it
        if (staffGate(main)) await (await import("./console/index.ts")).renderConsole(main, gen, route.rest);
        break;
      default:
        replace(
          main,
          h("h1", { tabindex: "-1", id: "page-title" }, t("nav.notFound")),
          h("a", { href: "#/" }, t("nav.list")),
        );
    }
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        h("h1", { tabindex: "-1", id: "page-title" }, t("err.pageTitle")),
        errorBox(e, () => void render()),
      );
  } finally {
    if (isCurrent(gen)) main.removeAttribute("aria-busy");
  }
  if (moveFocus && isCurrent(gen)) {
    const title = document.getElementById("page-title");
    (title ?? main).focus({ preventScroll: false });
  }
}

window.addEventListener("hashchange", () => void render());
window.addEventListener("popstate", () => void render());
window.addEventListener("unhandledrejection", (ev) => {
  console.error("unhandled", ev.reason);
  const main = document.getElementById("main");
  if (main && !main.querySelector("h1"))
    replace(
      main,
      errorBox(ev.reason, () => void render()),
    );
});
// back from the identity provider's sign-in page: finish the sign-in before the first render
void finishSignIn().then(async (failure) => {
  await render(false);
  if (failure)
    document.getElementById("main")?.prepend(h("p", { role: "alert", id: "sign-in-failed" }, failure));
});
