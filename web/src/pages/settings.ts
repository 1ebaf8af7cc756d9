import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import {
  apiBase,
  DEFAULT_RPC_URL,
  isHttpUrl,
  loadSettings,
  type Settings,
  saveImportedTrustRoot,
  saveSettings,
} from "../settings.ts";
import { activeTrust } from "../trust.ts";
import { TrustRootError } from "../trust-root.ts";
import { heading } from "../ui.ts";

/** The trust root in use, where it comes from, and the controls to import another or go back. */
function trustSection(main: HTMLElement): HTMLElement {
  const { root, source } = activeTrust();
  const status = h("p", { role: "status", class: "form-status", id: "trust-status" });
  const file = h("input", { type: "file", id: "trust-file", accept: "application/json,.json" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    try {
      saveImportedTrustRoot(await f.text());
    } catch (e) {
      file.setAttribute("aria-invalid", "true");
      status.textContent = t("s.trust.bad", {
        reason: e instanceof TrustRootError ? e.message : e instanceof Error ? e.message : String(e),
      });
      return;
    }
    renderSettings(main);
    document.getElementById("trust-status")!.textContent = t("s.trust.importDone");
  });
  return h(
    "section",
    {
      class: `trust-root${source === "imported" ? " changed" : ""}`,
      id: "trust-root",
      "data-source": root ? source : "none",
      "aria-labelledby": "trust-h",
    },
    h("h2", { id: "trust-h" }, t("s.trust")),
    root
      ? h(
          "dl",
          { class: "meta" },
          h("dt", null, t("s.trust.source")),
          h("dd", { id: "trust-source" }, t(source === "imported" ? "s.trust.imported" : "s.trust.builtIn")),
          h("dt", null, t("s.trust.chainId")),
          h("dd", { id: "trust-chain-id" }, String(root.chainId)),
          h("dt", null, t("s.trust.registry")),
          h("dd", { id: "trust-registry" }, h("code", null, root.registry)),
          h("dt", null, t("s.trust.rpcUrls")),
          h(
            "dd",
            null,
            h(
              "ul",
              { class: "plain" },
              root.rpcUrls.map((u) => h("li", null, h("code", null, u))),
            ),
          ),
        )
      : h("p", { class: "hint", id: "trust-source" }, t("s.trust.none")),
    h("div", { class: "field" }, h("label", { for: "trust-file" }, t("s.trust.file")), file),
    source === "imported"
      ? h(
          "p",
          { class: "actions" },
          h(
            "button",
            {
              type: "button",
              id: "trust-reset",
              class: "secondary",
              onclick: () => {
                saveImportedTrustRoot(null);
                renderSettings(main);
                document.getElementById("trust-status")!.textContent = t("s.trust.resetDone");
              },
            },
            t("s.trust.reset"),
          ),
        )
      : null,
    status,
  );
}

export function renderSettings(main: HTMLElement): void {
  const s = loadSettings();
  const pinnedRpc = activeTrust().root?.rpcUrls.join(", ") ?? DEFAULT_RPC_URL;
  const status = h("p", { role: "status", class: "form-status", id: "settings-status" });
  const input = (id: keyof Settings, placeholder: string) =>
    h("input", {
      type: "url",
      id: `set-${id}`,
      name: id,
      value: s[id],
      placeholder,
      autocomplete: "off",
      spellcheck: "false",
    });
  const api = input("apiUrl", window.location.origin);
  const proof = input("proofUrl", t("s.proof.placeholder"));
  const rpc = input("rpcUrl", pinnedRpc);
  const tiles = input("tilesUrl", t("s.tiles.placeholder"));
  const form = h(
    "form",
    { class: "settings", id: "settings-form", novalidate: true },
    h(
      "div",
      { class: "field" },
      h("label", { for: "set-apiUrl" }, t("s.api")),
      api,
      h("p", { class: "hint" }, t("s.api.hint", { current: apiBase() })),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "set-rpcUrl" }, t("s.rpc")),
      rpc,
      h("p", { class: "hint" }, t("s.rpc.hint", { fallback: pinnedRpc })),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "set-proofUrl" }, t("s.proof")),
      proof,
      h("p", { class: "hint" }, t("s.proof.hint")),
    ),
    h(
      "div",
      { class: "field" },
      h("label", { for: "set-tilesUrl" }, t("s.tiles")),
      tiles,
      h("p", { class: "hint" }, t("s.tiles.hint")),
    ),
    h(
      "p",
      { class: "actions" },
      h("button", { type: "submit" }, t("s.save")),
      h(
        "button",
        {
          type: "button",
          class: "secondary",
          onclick: () => {
            saveSettings({ apiUrl: "", proofUrl: "", rpcUrl: "", tilesUrl: "" });
            renderSettings(main);
            document.getElementById("settings-status")!.textContent = t("s.resetDone");
          },
        },
        t("s.reset"),
      ),
    ),
    status,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const next: Settings = {
      apiUrl: api.value.trim(),
      proofUrl: proof.value.trim(),
      rpcUrl: rpc.value.trim(),
      tilesUrl: tiles.value.trim(),
    };
    for (const [el, value] of [
      [api, next.apiUrl],
      [proof, next.proofUrl],
      [rpc, next.rpcUrl],
      [tiles, next.tilesUrl],
    ] as const) {
      if (!isHttpUrl(value)) {
        el.setAttribute("aria-invalid", "true");
        status.textContent = t("s.invalid");
        el.focus();
        return;
      }
      el.removeAttribute("aria-invalid");
    }
    saveSettings(next);
    status.textContent = t("s.saved");
  });
  replace(main, heading(t("s.title")), h("p", { class: "lead" }, t("s.intro")), trustSection(main), form);
}
