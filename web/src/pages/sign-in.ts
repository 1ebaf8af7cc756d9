// Sign-in in the page: the signed-in name and sign-out in the navigation, the sign-in panel of a consultation, the
// return from the identity provider, and the staff landing page (only for the agency role the service gives).
import { me } from "../api.ts";
import { completeSignIn, currentSession, rememberIdentity, signIn, signOut } from "../auth.ts";
import { h, replace } from "../dom.ts";
import { t } from "../i18n.ts";
import { describeError, heading } from "../ui.ts";

/** Run once per page load, before the first render: finishes a return from the provider's sign-in page. */
export async function finishSignIn(): Promise<string | null> {
  try {
    if (!(await completeSignIn())) return null;
    const identity = await me();
    rememberIdentity(identity.role, identity.agency);
    return null;
  } catch (e) {
    return t("auth.failed", { message: describeError(e) });
  }
}

function signInButton(id: string): HTMLElement {
  const status = h("span", { role: "status", class: "form-status" });
  const button = h(
    "button",
    {
      type: "button",
      id,
      onclick: () => {
        status.textContent = "";
        // the provider may be unreachable: say so here rather than nothing happening
        signIn().catch((e: unknown) => {
          status.textContent = t("auth.failed", { message: describeError(e) });
        });
      },
    },
    t("auth.signIn"),
  );
  return h("span", null, button, " ", status);
}

/** The navigation's end: who is signed in and a sign-out, or a sign-in button; the staff link for staff. */
export function authNav(): HTMLElement {
  const session = currentSession();
  if (!session) return h("span", { class: "auth" }, signInButton("nav-sign-in"));
  return h(
    "span",
    { class: "auth" },
    session.role === "agency" ? h("a", { href: "#/staff", id: "nav-staff" }, t("nav.staff")) : null,
    " ",
    h("span", { id: "signed-in-name" }, t("auth.signedInAs", { name: session.name })),
    " ",
    h(
      "button",
      {
        type: "button",
        class: "link",
        id: "nav-sign-out",
        onclick: () => {
          void signOut();
        },
      },
      t("f.signout"),
    ),
  );
}

/** A consultation's sign-in panel: the signed-in name, or the way to the provider's sign-in page. */
export function signInPanel(): HTMLElement {
  const session = currentSession();
  if (session) {
    return h(
      "section",
      { class: "signin", "aria-labelledby": "signin-h" },
      h("h2", { id: "signin-h", class: "visually-hidden" }, t("f.signin.title")),
      h("p", null, t("f.signedInAs", { sub: session.name })),
    );
  }
  return h(
    "section",
    { class: "signin", "aria-labelledby": "signin-h", id: "signin-form" },
    h("h2", { id: "signin-h" }, t("f.signin.title")),
    h("p", { class: "hint" }, t("f.signin.hint")),
    signInButton("signin-button"),
  );
}

/**
 * The staff pages' gate: true for a signed-in agency account (the console renders then); otherwise renders the
 * sign-in invitation or the refusal and says false.
 */
export function staffGate(main: HTMLElement): boolean {
  const session = currentSession();
  if (!session) {
    replace(main, heading(t("staff.title")), h("p", null, t("staff.signIn")), signInButton("staff-sign-in"));
    return false;
  }
  if (session.role !== "agency") {
    replace(main, heading(t("staff.title")), h("p", { id: "staff-refused" }, t("staff.notStaff")));
    return false;
  }
  return true;
}
