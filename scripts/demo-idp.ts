/**
 * The demo's OpenID Provider (node-oidc-provider): development tooling that `npm start`, the tests and the benches
 * run on 127.0.0.1. Its issuer, discovery document and JWKS are real; it signs ID tokens and access tokens (JWT,
 * audience `gopy`, the resource `urn:gopy:api`) with EdDSA, asks for PKCE, and shows a username and password form
 * with the demo accounts (password `demo`) instead of oidc-provider's development interactions.
 *
 * `POST /dev/token {sub, role, agency?}` mints an access token for any subject through the provider's own
 * AccessToken model (same format, key, claims and lifetime as the code flow's): what `POST /api/dev/token` forwards
 * to, and how tests and benches get tokens for thousands of citizens without a browser. A custom route rather than
 * client_credentials, because a client_credentials token's subject is the client, not a citizen. It never starts
 * under NODE_ENV=production.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import Provider, { type Configuration, type KoaContextWithOIDC } from "oidc-provider";

export type DemoRole = "citizen" | "agency" | "admin";

export interface DemoAccount {
  username: string;
  name: string;
  role: DemoRole;
  agency?: string;
}

export const DEMO_PASSWORD = "demo";

/** Who can sign in on the demo provider's login page (all with the password `demo`). */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { username: "cong-dan-1", name: "Nguyễn Văn An", role: "citizen" },
  { username: "cong-dan-2", name: "Trần Thị Bình", role: "citizen" },
  { username: "cong-dan-3", name: "Lê Văn Cường", role: "citizen" },
  { username: "cong-dan-4", name: "Phạm Thị Dung", role: "citizen" },
  { username: "cong-dan-5", name: "Hoàng Văn Em", role: "citizen" },
  { username: "can-bo-btp", name: "Cán bộ Bộ Tư pháp", role: "agency", agency: "bo-tu-phap" },
  { username: "can-bo-byt", name: "Cán bộ Bộ Y tế", role: "agency", agency: "bo-y-te" },
];

/** The web client's registration: a public client (no secret), authorization code with PKCE. */
export const DEMO_CLIENT_ID = "gopy-web";
/** Resource indicator of the Gopy API; its access tokens carry `aud: DEMO_AUDIENCE`. */
export const DEMO_RESOURCE = "urn:gopy:api";
export const DEMO_AUDIENCE = "gopy";
// as long as a demo day: tests move the service's clock hours ahead (past a consultation's closesAt) with tokens
// the provider dated by the real clock
const ACCESS_TOKEN_TTL_SECONDS = 12 * 3600;

export interface DemoIdp {
  /** The issuer (`http://127.0.0.1:<port>`), its discovery document at `/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly audience: string;
  /** How many times the JWKS was served. */
  readonly jwksFetches: number;
  /**
   * An access token for `sub` with `role` (and `agency`), signed by the provider: what `POST /dev/token` returns.
   * `name` and `email` add the personal claims a national provider's tokens may carry.
   */
  mint(claims: MintClaims): Promise<string>;
  /** Stops answering (connections refused) until `resume()`: a provider that is down. */
  suspend(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface MintClaims {
  sub: string;
  role?: DemoRole;
  agency?: string | null;
  name?: string;
  email?: string;
}

export interface DemoIdpOptions {
  /** Port on 127.0.0.1 (0: any free port). */
  port?: number;
  /** Origins of the web client (`http://127.0.0.1:3000`): its redirect and post-logout URIs are `<origin>/`. */
  webOrigins?: readonly string[];
  /** NODE_ENV of the caller; the provider refuses to start under production. */
  nodeEnv?: string | undefined;
  /** Signing algorithm of its ID and access tokens (default EdDSA). */
  algorithm?: "EdDSA" | "ES256" | "RS256";
  /** Key id of its signing key (a new one on the same port is a key rotation). */
  keyId?: string;
}

function signingKey(algorithm: "EdDSA" | "ES256" | "RS256") {
  const pair =
    algorithm === "EdDSA"
      ? generateKeyPairSync("ed25519")
      : algorithm === "ES256"
        ? generateKeyPairSync("ec", { namedCurve: "P-256" })
        : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return pair.privateKey.export({ format: "jwk" });
}

/**
 * The provider's state (sessions, interactions, codes, grants) in a Map of this process: a demo's sign-ins end
 * with it. Access tokens are JWTs and are not stored.
 */
function memoryAdapter() {
  const records = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const key = (model: string, id: string) => `${model}:${id}`;
  const live = (k: string) => {
    const record = records.get(k);
    if (record && record.expiresAt <= Date.now()) records.delete(k);
    return records.get(k)?.payload;
  };
  return (model: string) => ({
    async upsert(id: string, payload: Record<string, unknown>, expiresIn: number) {
      records.set(key(model, id), { payload, expiresAt: Date.now() + expiresIn * 1000 });
    },
    async find(id: string) {
      return live(key(model, id));
    },
    async findByUid(uid: string) {
      for (const [k, record] of records) {
        if (k.startsWith(`${model}:`) && record.payload.uid === uid) return live(k);
      }
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async consume(id: string) {
      const payload = live(key(model, id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    },
    async destroy(id: string) {
      records.delete(key(model, id));
    },
    async revokeByGrantId(grantId: string) {
      for (const [k, record] of records) if (record.payload.grantId === grantId) records.delete(k);
    },
  });
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}
button{margin-top:1rem;font-size:1rem;padding:.5rem 1rem}table{border-collapse:collapse;margin-top:1.5rem;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}.error{color:#a00}.note{color:#555;font-size:.9rem}
</style></head><body>${body}</body></html>`;
}

function loginPage(uid: string, error: string | null, username: string): string {
  const rows = DEMO_ACCOUNTS.map(
    (a) =>
      `<tr><td><code>${a.username}</code></td><td>${escapeHtml(a.name)}</td><td>${a.role}</td><td>${a.agency ?? ""}</td></tr>`,
  ).join("");
  return page(
    "Đăng nhập: Gopy demo identity provider",
    `<h1>Đăng nhập / Sign in</h1>
<p class="note">Nhà cung cấp định danh của bản demo (OpenID Connect). Demo identity provider: development only.</p>
${error ? `<p class="error" role="alert" id="login-error">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
<label for="username">Tên đăng nhập / Username</label>
<input id="username" name="username" required value="${escapeHtml(username)}" autofocus>
<label for="password">Mật khẩu / Password</label>
<input id="password" name="password" type="password" required>
<button type="submit" id="login-submit">Đăng nhập / Sign in</button>
</form>
<table><caption>Tài khoản demo (mật khẩu <code>${DEMO_PASSWORD}</code>) / Demo accounts (password <code>${DEMO_PASSWORD}</code>)</caption>
<thead><tr><th>username</th><th>name</th><th>role</th><th>agency</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

async function readForm(req: IncomingMessage, limit = 16_384): Promise<URLSearchParams> {
  const text = await readBody(req, limit);
  return new URLSearchParams(text);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error("body too large"), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, body: unknown) =>
  send(res, status, "application/json", JSON.stringify(body));

/** Starts the demo provider on 127.0.0.1. */
export async function startDemoIdp(options: DemoIdpOptions = {}): Promise<DemoIdp> {
  const nodeEnv = options.nodeEnv ?? process.env.NODE_ENV;
  if (nodeEnv === "production") {
    throw new Error(
      "the demo identity provider signs in anyone with a known password: it never runs in production",
    );
  }
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const issuer = `http://127.0.0.1:${port}`;
  const webOrigins = (options.webOrigins ?? []).map((origin) => new URL(origin).origin);

  const algorithm = options.algorithm ?? "EdDSA";
  const kid = options.keyId ?? `demo-${algorithm.toLowerCase()}-1`;
  const accounts = new Map(DEMO_ACCOUNTS.map((a) => [a.username, a]));
  // claims of minted tokens, by token object: the mint's subject need not be a demo account
  const minted = new WeakMap<object, Record<string, string>>();
  const roleClaims = (role: DemoRole, agency: string | undefined): Record<string, string> =>
    agency ? { role, agency } : { role };

  const configuration: Configuration = {
    adapter: memoryAdapter() as never,
    clients: [
      {
        client_id: DEMO_CLIENT_ID,
        client_name: "Gopy",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code"],
        response_types: ["code"],
        redirect_uris: webOrigins.length > 0 ? webOrigins.map((o) => `${o}/`) : ["http://127.0.0.1:3000/"],
        post_logout_redirect_uris: webOrigins.map((o) => `${o}/`),
        id_token_signed_response_alg: algorithm,
      },
    ],
    jwks: { keys: [{ ...signingKey(algorithm), kid, alg: algorithm, use: "sig" } as never] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    claims: { openid: ["sub"], profile: ["name", "preferred_username", "role", "agency"] },
    scopes: ["openid", "profile"],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientBasedCORS: (_ctx, origin, client) =>
      client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        claims: async () => ({
          sub: id,
          name: account.name,
          preferred_username: account.username,
          ...roleClaims(account.role, account.agency),
        }),
      };
    },
    async extraTokenClaims(_ctx, token) {
      const explicit = minted.get(token);
      if (explicit) return explicit;
      const account = "accountId" in token ? accounts.get(String(token.accountId)) : undefined;
      return account ? roleClaims(account.role, account.agency) : undefined;
    },
    formats: {
      customizers: {
        // an explicit nbf, so a relying party checks it as it would any provider's
        jwt: (_ctx, _token, jwt) => {
          jwt.payload.nbf = jwt.payload.iat;
        },
      },
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx: KoaContextWithOIDC, form: string) => {
          ctx.body = page(
            "Đăng xuất / Sign out",
            `<h1>Đăng xuất khỏi nhà cung cấp định danh? / Sign out of the identity provider?</h1>${form}
<button type="submit" form="op.logoutForm" value="yes" name="logout" id="logout-confirm" autofocus>Đăng xuất / Sign out</button>
<button type="submit" form="op.logoutForm">Ở lại / Stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx: KoaContextWithOIDC) => {
          ctx.body = page("Đã đăng xuất / Signed out", "<h1>Đã đăng xuất / Signed out</h1>");
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => DEMO_RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({
          scope: "gopy",
          audience: DEMO_AUDIENCE,
          accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
          accessTokenFormat: "jwt",
          jwt: { sign: { alg: algorithm } },
        }),
      },
    },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SECONDS,
      IdToken: ACCESS_TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    renderError: async (ctx, out) => {
      ctx.type = "html";
      ctx.body = page(
        "Lỗi / Error",
        `<h1>Lỗi đăng nhập / Sign-in error</h1><p id="op-error">${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ""))}</p>`,
      );
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();
  const resourceServer = {
    identifier: () => DEMO_RESOURCE,
    audience: DEMO_AUDIENCE,
    scope: "gopy",
    accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
    accessTokenFormat: "jwt",
    jwt: { sign: { alg: algorithm } },
  };

  const mint: DemoIdp["mint"] = async ({ sub, role = "citizen", agency, name, email }) => {
    const client = await provider.Client.find(DEMO_CLIENT_ID);
    if (!client) throw new Error("the demo client is not registered");
    // no grant behind a minted token: nothing to revoke it by, it simply expires
    const token = new provider.AccessToken({
      accountId: sub,
      client,
      scope: "gopy",
      resourceServer,
    } as never);
    minted.set(token, {
      ...roleClaims(role, agency ?? undefined),
      ...(name === undefined ? {} : { name }),
      ...(email === undefined ? {} : { email }),
    });
    return token.save();
  };

  const interaction = async (req: IncomingMessage, res: ServerResponse, login: boolean) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === "login") {
      if (!login) return send(res, 200, "text/html; charset=utf-8", loginPage(details.uid, null, ""));
      const form = await readForm(req);
      const username = (form.get("username") ?? "").trim();
      const account = accounts.get(username);
      if (!account || form.get("password") !== DEMO_PASSWORD) {
        const message = "Sai tên đăng nhập hoặc mật khẩu / Wrong username or password";
        return send(res, 401, "text/html; charset=utf-8", loginPage(details.uid, message, username));
      }
      return provider.interactionFinished(req, res, { login: { accountId: account.username } });
    }
    // consent: the demo's first-party client is granted what it asks for, as an agency's own client would be
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: String(details.session?.accountId), clientId: DEMO_CLIENT_ID });
    if (!grant) throw new Error("grant expired");
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(" "));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(
      req,
      res,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
  };

  const devToken = async (req: IncomingMessage, res: ServerResponse) => {
    let body: { sub?: unknown; role?: unknown; agency?: unknown };
    try {
      body = JSON.parse(await readBody(req, 4096)) as typeof body;
    } catch {
      return sendJson(res, 400, {
        error: "bad_request",
        message: "expected a JSON body {sub, role, agency?}",
      });
    }
    const { sub, role = "citizen", agency } = body ?? {};
    if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) {
      return sendJson(res, 400, { error: "bad_request", message: "`sub` must be 1 to 256 characters" });
    }
    if (role !== "citizen" && role !== "agency" && role !== "admin") {
      return sendJson(res, 400, { error: "bad_request", message: "`role` must be citizen, agency or admin" });
    }
    if (agency !== undefined && agency !== null && (typeof agency !== "string" || agency.length > 64)) {
      return sendJson(res, 400, { error: "bad_request", message: "`agency` must be a string" });
    }
    if (role === "agency" && !agency) {
      return sendJson(res, 400, { error: "bad_request", message: "an agency token needs `agency`" });
    }
    const token = await mint({ sub, role, agency: role === "citizen" ? null : (agency ?? null) });
    return sendJson(res, 200, { token });
  };

  let jwksFetches = 0;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    const handle = async () => {
      if (path === "/dev/token" && req.method === "POST") return devToken(req, res);
      const route = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/.exec(path ?? "");
      if (route) return interaction(req, res, route[2] === "/login" && req.method === "POST");
      if (path === "/jwks") jwksFetches++;
      return callback(req, res);
    };
    handle().catch((e: Error & { status?: number }) => {
      if (res.headersSent) return res.end();
      send(res, e.status ?? 400, "text/plain; charset=utf-8", `demo identity provider: ${e.message}`);
    });
  });
  server.unref();

  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });

  return {
    issuer,
    audience: DEMO_AUDIENCE,
    get jwksFetches() {
      return jwksFetches;
    },
    mint,
    suspend: stop,
    resume: () =>
      new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
      }),
    close: stop,
  };
}
