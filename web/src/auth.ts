// Sign-in with the identity provider named in this build's configuration (GOPY_OIDC, baked in at build time beside
// the trust root: the service cannot swap it): OpenID Connect authorization code flow with PKCE (oauth4webapi),
// state and nonce checked. The session (access and ID token) lives in sessionStorage: gone with the tab, never in
// localStorage. An opinion typed when the session ran out is kept in sessionStorage too, and given back after the
// next sign-in.
import * as oauth from "oauth4webapi";

export interface OidcClientConfig {
  /** The provider's issuer URL (its discovery document: `<issuer>/.well-known/openid-configuration`). */
  issuer: string;
  /** This client's registration at the provider (a public client: no secret). */
  clientId: string;
  /** Scopes asked for besides `openid`. */
  scope: string;
  /** Algorithm the provider signs ID tokens with. */
  idTokenAlg: string;
}

declare const __GOPY_OIDC__: OidcClientConfig | undefined;

export const OIDC: OidcClientConfig =
  typeof __GOPY_OIDC__ === "undefined"
    ? { issuer: "http://127.0.0.1:3001", clientId: "gopy-web", scope: "profile", idTokenAlg: "EdDSA" }
    : __GOPY_OIDC__;

export interface Session {
  sub: string;
  /** What to show: the provider's `name`, else its username, else the subject. */
  name: string;
  accessToken: string;
  idToken: string;
  /** Epoch milliseconds the access token stops being valid. */
  expiresAt: number;
  /** The role and agency the service maps this identity to (GET /api/me), once asked. */
  role?: "citizen" | "agency" | "admin";
  agency?: string | null;
}

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  /** The hash route to come back to. */
  returnTo: string;
}

export interface OpinionDraft {
  consultation: string;
  section: string;
  stance: string | null;
  text: string;
}

const SESSION_KEY = "gopy.oidc.session";
const PENDING_KEY = "gopy.oidc.pending";
const DRAFT_KEY = "gopy.oidc.draft";

function store(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function read<T>(key: string): T | null {
  const raw = store()?.getItem(key);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

const write = (key: string, value: unknown) =>
  value === null ? store()?.removeItem(key) : store()?.setItem(key, JSON.stringify(value));

const issuerUrl = () => new URL(OIDC.issuer);
// plain http only for a provider on this machine (the demo's); anything else must be https
const insecure = () => {
  const url = issuerUrl();
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
};
const client = (): oauth.Client => ({
  client_id: OIDC.clientId,
  id_token_signed_response_alg: OIDC.idTokenAlg,
});
// the client's root (where the provider sends the browser back), also from the /verify/ entry
const redirectUri = () =>
  `${window.location.origin}${window.location.pathname.replace(/(verify\/)?(index\.html)?$/, "")}`;

let server: Promise<oauth.AuthorizationServer> | null = null;

function discover(): Promise<oauth.AuthorizationServer> {
  server ??= (async () => {
    const response = await oauth.discoveryRequest(issuerUrl(), {
      algorithm: "oidc",
      [oauth.allowInsecureRequests]: insecure(),
    });
    return oauth.processDiscoveryResponse(issuerUrl(), response);
  })().catch((e: unknown) => {
    server = null;
    throw e;
  });
  return server;
}

/** The signed-in session, or null (none, or its access token has expired). */
export function currentSession(): Session | null {
  const session = read<Session>(SESSION_KEY);
  if (!session || typeof session.accessToken !== "string") return null;
  return session.expiresAt > Date.now() ? session : null;
}

/** Records what the service says this identity is (its role and agency). */
export function rememberIdentity(role: Session["role"], agency: string | null): void {
  const session = currentSession();
  if (session) write(SESSION_KEY, { ...session, role, agency });
}

/** Goes to the provider's sign-in page; back at `returnTo` (a hash route) once signed in. */
export async function signIn(returnTo: string = window.location.hash || "#/"): Promise<never> {
  const as = await discover();
  if (!as.authorization_endpoint) throw new Error("the identity provider has no authorization endpoint");
  const pending: Pending = {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    verifier: oauth.generateRandomCodeVerifier(),
    returnTo,
  };
  write(PENDING_KEY, pending);
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set("client_id", OIDC.clientId);
  url.searchParams.set("redirect_uri", redirectUri());
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", `openid ${OIDC.scope}`.trim());
  url.searchParams.set("state", pending.state);
  url.searchParams.set("nonce", pending.nonce);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(pending.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  window.location.assign(url.href);
  return new Promise<never>(() => {});
}

/**
 * Finishes a sign-in when the provider sent the browser back here (`?code=…&state=…`, or `?error=…`): the state
 * must be the one this tab sent, the code is exchanged with its PKCE verifier, the ID token's nonce must match.
 * Returns whether this page load was such a return; throws when it was one and failed.
 */
export async function completeSignIn(): Promise<boolean> {
  const here = new URL(window.location.href);
  if (!here.searchParams.has("state") && !here.searchParams.has("code") && !here.searchParams.has("error")) {
    return false;
  }
  const pending = read<Pending>(PENDING_KEY);
  write(PENDING_KEY, null);
  // the code is single-use: whatever happens next, it leaves the address bar
  const clean = `${here.origin}${here.pathname}${pending?.returnTo ?? "#/"}`;
  window.history.replaceState(null, "", clean);
  if (!pending) throw new Error("this sign-in was not started here (no pending state)");
  const as = await discover();
  const params = oauth.validateAuthResponse(as, client(), here, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client(),
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    { [oauth.allowInsecureRequests]: insecure() },
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client(), response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!claims || !result.id_token) throw new Error("the identity provider returned no ID token");
  const name =
    (typeof claims.name === "string" && claims.name) ||
    (typeof claims.preferred_username === "string" && claims.preferred_username) ||
    claims.sub;
  write(SESSION_KEY, {
    sub: claims.sub,
    name,
    accessToken: result.access_token,
    idToken: result.id_token,
    expiresAt: Date.now() + (result.expires_in ?? 300) * 1000,
  } satisfies Session);
  return true;
}

/** Forgets the session here and ends it at the provider (RP-initiated logout), coming back to the home page. */
export async function signOut(): Promise<void> {
  const session = read<Session>(SESSION_KEY);
  write(SESSION_KEY, null);
  const as = await discover().catch(() => null);
  if (!as?.end_session_endpoint || !session) {
    window.location.hash = "#/";
    return;
  }
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set("client_id", OIDC.clientId);
  url.searchParams.set("id_token_hint", session.idToken);
  url.searchParams.set("post_logout_redirect_uri", redirectUri());
  window.location.assign(url.href);
}

/** The session ran out while `draft` was being written: keep it, and sign in again back to where it was. */
export function signInAgainKeeping(draft: OpinionDraft): Promise<never> {
  write(DRAFT_KEY, draft);
  write(SESSION_KEY, null);
  return signIn();
}

/** The draft kept for this consultation and section before a sign-in, handed over once. */
export function takeDraft(consultation: string, section: string): OpinionDraft | null {
  const draft = read<OpinionDraft>(DRAFT_KEY);
  if (!draft || draft.consultation !== consultation || draft.section !== section) return null;
  write(DRAFT_KEY, null);
  return draft;
}
