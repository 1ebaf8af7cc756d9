import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import {
  apiBase,
  DEFAULT_RPC_URL,
  isHttpUrl,
  loadSettings,
  type Settings,
  saveSettings,
} from "../settings.ts";
import { heading } from "../ui.ts";

export function renderSettings(main: HTMLElement): void {
  const s = loadSettings();
  const status = h("p", { role: "status", class: "form-status", id: "settings-status" });
  const input = (id: keyof Settings, placeholder: string) =>
    h("input", {
      type: id === "contract" ? "text" : "url",
      id: `set-${id}`,
      name: id,
      value: s[id],
      placeholder,
      autocomplete: "off",
      spellcheck: "false",
    });
  const api = input("apiUrl", window.location.origin);
  const proof = input("proofUrl", t("s.proof.placeholder"));
  const rpc = input("rpcUrl", DEFAULT_RPC_URL);
  const contract = input("contract", "0x…");
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
      h("p", { class: "hint" }, t("s.rpc.hint", { fallback: DEFAULT_RPC_URL })),
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
      h("label", { for: "set-contract" }, t("s.contract")),
      contract,
      h("p", { class: "hint" }, t("s.contract.hint")),
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
            saveSettings({ apiUrl: "", proofUrl: "", rpcUrl: "", contract: "" });
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
      contract: contract.value.trim(),
    };
    for (const [el, value] of [
      [api, next.apiUrl],
      [proof, next.proofUrl],
      [rpc, next.rpcUrl],
    ] as const) {
      if (!isHttpUrl(value)) {
        el.setAttribute("aria-invalid", "true");
        status.textContent = t("s.invalid");
        el.focus();
        return;
      }
      el.removeAttribute("aria-invalid");
    }
    if (next.contract && !/^0x[0-9a-fA-F]{40}$/.test(next.contract)) {
      contract.setAttribute("aria-invalid", "true");
      status.textContent = t("s.invalidContract");
      contract.focus();
      return;
    }
    contract.removeAttribute("aria-invalid");
    saveSettings(next);
    status.textContent = t("s.saved");
  });
  replace(main, heading(t("s.title")), h("p", { class: "lead" }, t("s.intro")), form);
}
