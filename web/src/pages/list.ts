import { listConsultations } from "../api.ts";
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import { isCurrent } from "../state.ts";
import { consultationMeta, errorBox, heading, loading } from "../ui.ts";

export async function renderList(main: HTMLElement, gen: number): Promise<void> {
  const title = heading(t("list.title"));
  replace(main, title, loading());
  let data: Awaited<ReturnType<typeof listConsultations>>;
  try {
    data = await listConsultations();
  } catch (e) {
    if (isCurrent(gen))
      replace(
        main,
        title,
        errorBox(e, () => void renderList(main, gen)),
      );
    return;
  }
  if (!isCurrent(gen)) return;
  const items = Array.isArray(data?.consultations) ? data.consultations : [];
  if (items.length === 0) {
    replace(main, title, h("p", null, t("list.empty")));
    return;
  }
  replace(
    main,
    title,
    h("p", { class: "lead" }, t("list.intro")),
    h(
      "ul",
      { class: "cards", "data-testid": "consultations" },
      items.map((c) =>
        h(
          "li",
          { class: "card" },
          h("h2", null, h("a", { href: `#/c/${encodeURIComponent(c.id)}` }, c.title)),
          consultationMeta(c),
        ),
      ),
    ),
  );
}
