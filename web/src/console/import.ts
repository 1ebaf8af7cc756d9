// Importing meeting and paper opinions from CSV: the service's dry run first (every row's result, nothing
// written), then the import itself only for a file without errors.
import { h, replace } from "../dom.ts";
import { describeError } from "../ui.ts";
import { type ImportPreview, importCsv, previewImport, type StaffConsultation } from "./api.ts";
import { ct } from "./strings.ts";

function previewTable(p: ImportPreview): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "numbers", id: "import-preview" },
      h("caption", null, ct("i.summary", { valid: p.valid, invalid: p.invalid, duplicates: p.duplicates })),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          [ct("i.line"), ct("s.section"), ct("r.stance"), ct("i.text"), ct("i.result")].map((x) =>
            h("th", { scope: "col" }, x),
          ),
        ),
      ),
      h(
        "tbody",
        null,
        p.rows.map((r) =>
          h(
            "tr",
            { "data-line": r.line, class: r.error ? "row-bad" : r.duplicate ? "row-dup" : "row-ok" },
            h("th", { scope: "row" }, String(r.line)),
            h("td", null, r.section),
            h("td", null, r.stance),
            h("td", null, r.text.length > 120 ? `${r.text.slice(0, 120)}…` : r.text),
            h(
              "td",
              null,
              r.error ? h("strong", null, r.error) : r.duplicate ? ct("i.duplicate") : ct("i.ok"),
            ),
          ),
        ),
      ),
    ),
  );
}

export function renderImport(body: HTMLElement, _gen: number, c: StaffConsultation): void {
  const file = h("input", {
    type: "file",
    id: "import-file",
    accept: ".csv,text/csv",
    "aria-describedby": "import-hint",
  });
  const out = h("div", { id: "import-out", "aria-live": "polite" });
  let csv = "";
  const check = async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    csv = await chosen.text();
    try {
      const p = await previewImport(c.id, csv);
      const button = h("button", { type: "button", id: "import-go" }, ct("i.import", { n: p.valid }));
      const status = h("div", { role: "status", id: "import-status" });
      button.addEventListener("click", () => {
        button.disabled = true;
        importCsv(c.id, csv).then(
          (r) =>
            replace(
              status,
              h("p", { class: "badge ok" }, ct("i.done", { imported: r.imported, duplicates: r.duplicates })),
            ),
          (e: unknown) => {
            button.disabled = false;
            replace(status, h("p", { class: "error", role: "alert" }, describeError(e)));
          },
        );
      });
      replace(
        out,
        previewTable(p),
        p.invalid > 0
          ? h("p", { class: "error", id: "import-fix" }, ct("i.fixFirst"))
          : p.valid > 0
            ? h("p", null, button)
            : null,
        status,
      );
    } catch (e) {
      replace(out, h("p", { class: "error", role: "alert", id: "import-error" }, describeError(e)));
    }
  };
  file.addEventListener("change", () => void check());
  replace(
    body,
    h("h2", null, ct("i.title")),
    h("label", { for: "import-file" }, ct("i.file")),
    file,
    h("p", { class: "hint", id: "import-hint" }, ct("i.hint")),
    h(
      "p",
      null,
      h("button", { type: "button", id: "import-check", onclick: () => void check() }, ct("i.preview")),
    ),
    out,
  );
}
