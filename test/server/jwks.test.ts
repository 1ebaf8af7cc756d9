/**
 * Keys of real OpenID Providers (the demo provider, node-oidc-provider, over HTTP): discovered from each issuer's
 * `/.well-known/openid-configuration`; EdDSA, ES256 and RS256 tokens verify; clock skew within the tolerance is
 * accepted; a flood of unknown kids costs the provider at most one JWKS fetch per cooldown, and a rotated-in key is
 * found at the next allowed refresh; each issuer grants only its roles; a provider down at start is retried, and
 * one down later costs 503s, never 500s.
 */
import { Writable } from "node:stream";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { identityOf } from "../../server/auth.ts";
import { freePort } from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { loadConfig } from "../../server/config.ts";
import { type Idp, startIdp, strangerSigned } from "../support/idp.ts";
import { testApp, testConfig, testEnv } from "./helpers.ts";

const myOpinions = (app: FastifyInstance, token: string) =>
  app.inject({ method: "GET", url: "/api/me/opinions", headers: { authorization: `Bearer ${token}` } });

const issuer = (idp: Idp, roles: string[], extra: Record<string, unknown> = {}) => ({
  issuer: idp.issuer,
  audience: idp.audience,
  roles,
  ...extra,
});

/** A logger that keeps what the service logs. */
function capturedLog(): { logger: object; lines: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { logger: { level: "warn", stream }, lines: () => text };
}

async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("identity providers: discovery, keys and roles", function () {
  this.timeout(60_000);
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0).reverse()) await close();
  });
  const started = async <T extends { close(): Promise<unknown> }>(thing: Promise<T>): Promise<T> => {
    const value = await thing;
    cleanup.push(() => value.close());
    return value;
  };

  it("verifies EdDSA, ES256 and RS256 tokens with the keys discovered from the issuer", async () => {
    for (const algorithm of ["EdDSA", "ES256", "RS256"] as const) {
      const idp = await started(startIdp({ algorithm }));
      const app = await started(testApp(testConfig(null, idp.env())));
      const token = await idp.token({ sub: `citizen-${algorithm}` });
      expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).alg).to.equal(algorithm);
      const r = await myOpinions(app, token);
      expect(r.statusCode, `${algorithm}: ${r.body}`).to.equal(200);
    }
  });

  it("accepts a token a few seconds ahead of the service's clock, not one minutes ahead", async () => {
    const idp = await started(startIdp());
    const clock = new OffsetClock();
    const app = await started(testApp(testConfig(null, idp.env()), { clock }));
    const token = await idp.token({ sub: "citizen-fresh" });
    clock.offset = -3000;
    expect((await myOpinions(app, token)).statusCode).to.equal(200);
    clock.offset = -120_000;
    const refused = await myOpinions(app, token);
    expect(refused.statusCode).to.equal(401);
    expect(refused.json().reason).to.equal("not_yet_valid");
  });

  it("fetches the JWKS at most once per cooldown under a flood of unknown kids; finds a rotated-in key", async () => {
    const port = await freePort();
    const idp = await startIdp({ port, keyId: "key-1" });
    const clock = new OffsetClock();
    const app = await started(testApp(testConfig(null, idp.env()), { clock }));
    const warm = await idp.token({ sub: "citizen-warm" });
    expect((await myOpinions(app, warm)).statusCode).to.equal(200);
    const fetched = idp.jwksFetches;
    const flood = async (round: string) => {
      const replies = await Promise.all(
        Array.from({ length: 200 }, (_, i) => myOpinions(app, strangerSigned(warm, `unknown-${round}-${i}`))),
      );
      return replies.map((r) => `${r.statusCode} ${r.json().reason}`);
    };
    // within the cooldown of the last fetch: unknown kids are known to be missing, no fetch at all
    expect(new Set(await flood("a"))).to.deep.equal(new Set(["401 unknown_kid"]));
    expect(idp.jwksFetches).to.equal(fetched);
    // past the cooldown: the whole flood shares one refresh
    clock.offset += 31_000;
    expect(new Set(await flood("b"))).to.deep.equal(new Set(["401 unknown_kid"]));
    expect(idp.jwksFetches).to.equal(fetched + 1);

    // the provider restarts with a new key right after that refresh: found at the next allowed one
    await idp.close();
    const rotated = await started(startIdp({ port, keyId: "key-2" }));
    const fresh = await rotated.token({ sub: "citizen-rotated" });
    expect((await myOpinions(app, fresh)).json().reason).to.equal("unknown_kid");
    expect(rotated.jwksFetches).to.equal(0);
    clock.offset += 31_000;
    const found = await myOpinions(app, fresh);
    expect(found.statusCode, found.body).to.equal(200);
    expect(rotated.jwksFetches).to.equal(1);
  });

  it("refuses a token it verified before once its key left the provider's JWKS, or once it has expired", async () => {
    const port = await freePort();
    const idp = await startIdp({ port, keyId: "key-1" });
    const clock = new OffsetClock();
    const app = await started(testApp(testConfig(null, idp.env()), { clock }));
    const token = await idp.token({ sub: "citizen-cached" });
    // verified twice: the second time from the verifier's cache
    expect((await myOpinions(app, token)).statusCode).to.equal(200);
    expect((await myOpinions(app, token)).statusCode).to.equal(200);

    // the provider withdraws key-1 (restarts with key-2): once the JWKS is fetched again, key-1's token is refused
    await idp.close();
    const rotated = await started(startIdp({ port, keyId: "key-2" }));
    // (the service's connection to the old provider closes: its next fetch is the new provider's)
    await new Promise((r) => setTimeout(r, 200));
    clock.offset = 601_000; // past the keys' maximum age: the next token fetches them again
    const withdrawn = await myOpinions(app, token);
    expect(withdrawn.statusCode, withdrawn.body).to.equal(401);
    expect(withdrawn.json().reason).to.equal("unknown_kid");
    expect(rotated.jwksFetches).to.equal(1);

    // exp is the service clock's, to the tolerance (5 s), whatever the cache holds
    const fresh = await rotated.token({ sub: "citizen-cached" });
    expect((await myOpinions(app, fresh)).statusCode).to.equal(200);
    expect((await myOpinions(app, fresh)).statusCode).to.equal(200);
    const exp = (JSON.parse(Buffer.from(fresh.split(".")[1]!, "base64url").toString()) as { exp: number })
      .exp;
    clock.offset = exp * 1000 + 3_000 - Date.now();
    expect((await myOpinions(app, fresh)).statusCode).to.equal(200);
    clock.offset = exp * 1000 + 5_000 - Date.now();
    const expired = await myOpinions(app, fresh);
    expect(expired.statusCode).to.equal(401);
    expect(expired.json().reason).to.equal("expired");
  });

  it("lets each issuer grant only its roles, and lists them in /api/health", async () => {
    const citizens = await started(startIdp());
    const staff = await started(startIdp());
    const app = await started(
      testApp(
        testConfig(null, {
          OIDC_ISSUERS: JSON.stringify([issuer(citizens, ["citizen"]), issuer(staff, ["agency"])]),
          DEV_IDP_URL: "",
        }),
      ),
    );
    expect((await myOpinions(app, await citizens.token({ sub: "c-1" }))).statusCode).to.equal(200);
    // the citizens' provider signs an agency token: refused, whatever it says
    const forged = await citizens.token({ sub: "c-2", role: "agency", agency: "bo-tu-phap" });
    const refused = await myOpinions(app, forged);
    expect(refused.statusCode).to.equal(401);
    expect(refused.json().reason).to.equal("role_not_allowed");
    // the staff provider's agency token is accepted and its citizen token refused
    const officer = await myOpinions(
      app,
      await staff.token({ sub: "s-1", role: "agency", agency: "bo-y-te" }),
    );
    expect(officer.statusCode, officer.body).to.equal(200);
    expect((await myOpinions(app, await staff.token({ sub: "s-2" }))).json().reason).to.equal(
      "role_not_allowed",
    );

    const health = (await app.inject({ method: "GET", url: "/api/health" })).json();
    expect(health.auth.issuers).to.deep.equal([
      { issuer: citizens.issuer, roles: ["citizen"], reachable: true },
      { issuer: staff.issuer, roles: ["agency"], reachable: true },
    ]);
  });

  it("starts with a provider that is down, names it, answers 503 for its tokens, and uses it once it is up", async () => {
    const port = await freePort();
    const down = `http://127.0.0.1:${port}`;
    const log = capturedLog();
    const env = testEnv(null, {
      OIDC_ISSUERS: JSON.stringify([{ issuer: down, audience: "gopy", roles: ["citizen", "agency"] }]),
      DEV_IDP_URL: down,
    });
    const app = await started(testApp(loadConfig(env), { logger: log.logger }));
    await until(async () => log.lines().includes("identity provider unreachable"));
    expect(log.lines()).to.contain(down);
    const health = (await app.inject({ method: "GET", url: "/api/health" })).json();
    expect(health.auth.issuers).to.deep.equal([
      { issuer: down, roles: ["citizen", "agency"], reachable: false },
    ]);
    const mint = await app.inject({
      method: "POST",
      url: "/api/dev/token",
      payload: { sub: "c", role: "citizen" },
    });
    expect(mint.statusCode, mint.body).to.equal(503);
    expect(mint.json().error).to.equal("issuer_unavailable");

    const idp = await started(startIdp({ port }));
    const token = await idp.token({ sub: "citizen-late" });
    // until the background retry has read the discovery document (or the on-demand one does): 503, never 500
    await until(async () => {
      const r = await myOpinions(app, token);
      expect([200, 503], r.body).to.include(r.statusCode);
      return r.statusCode === 200;
    });
  });

  it("answers 503, never 500, when the provider is down later and a token needs a key it has not fetched", async () => {
    const port = await freePort();
    const idp = await startIdp({ port, keyId: "key-1" });
    const clock = new OffsetClock();
    const app = await started(testApp(testConfig(null, idp.env()), { clock }));
    const known = await idp.token({ sub: "citizen-known" });
    expect((await myOpinions(app, known)).statusCode).to.equal(200);
    await idp.close();
    // rotated while we could not see it: a kid we have never fetched
    const rotated = await startIdp({ port: await freePort(), keyId: "key-2" });
    cleanup.push(() => rotated.close());
    const unseen = strangerSigned(known, "key-2");
    clock.offset += 31_000;
    const r = await myOpinions(app, unseen);
    expect(r.statusCode, r.body).to.equal(503);
    expect(r.json()).to.include({ error: "issuer_unavailable", reason: "issuer_unavailable" });
    // keys already fetched still verify while the provider is down
    expect((await myOpinions(app, known)).statusCode).to.equal(200);
    const mint = await app.inject({
      method: "POST",
      url: "/api/dev/token",
      payload: { sub: "c", role: "citizen" },
    });
    expect(mint.statusCode).to.equal(503);
  });

  describe("claim mapping (identityOf)", () => {
    const config = (issuers: unknown) =>
      loadConfig(testEnv(null, { OIDC_ISSUERS: JSON.stringify(issuers), DEV_IDP_URL: "" })).jwt.issuers;

    it("maps Keycloak's realm roles and a custom agency claim", () => {
      const [keycloak] = config([
        {
          issuer: "https://sso.moj.example.gov.vn/realms/staff",
          audience: "gopy",
          roles: ["agency", "admin"],
          roleClaim: "realm_access.roles",
          roleValues: { "gopy-staff": "agency", "gopy-admin": "admin" },
          agencyClaim: "agency_id",
        },
      ]);
      const token = {
        sub: "f:1c2e:officer",
        realm_access: { roles: ["offline_access", "gopy-staff"] },
        agency_id: "bo-tu-phap",
      };
      expect(identityOf(token, keycloak!)).to.deep.equal({
        sub: "f:1c2e:officer",
        role: "agency",
        agency: "bo-tu-phap",
      });
      const reason = (claims: Record<string, unknown>) => {
        try {
          identityOf(claims, keycloak!);
          return "accepted";
        } catch (e) {
          return (e as { reason: string }).reason;
        }
      };
      expect(reason({ ...token, realm_access: { roles: ["gopy-staff", "gopy-admin"] } })).to.equal(
        "ambiguous_role",
      );
      expect(reason({ ...token, realm_access: { roles: ["offline_access"] } })).to.equal("no_role");
      expect(reason({ ...token, agency_id: undefined })).to.equal("no_agency");
      expect(reason({ ...token, realm_access: { roles: ["citizen"] } })).to.equal("no_role");
    });

    it("maps Entra ID's oid, app roles and one agency per tenant", () => {
      const [entra] = config([
        {
          issuer: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
          audience: "api://gopy",
          roles: ["agency"],
          subjectClaim: "oid",
          roleClaim: "roles",
          roleValues: { "Gopy.Staff": "agency" },
          agency: "bo-y-te",
        },
      ]);
      expect(
        identityOf(
          { sub: "pairwise-per-app", oid: "00000000-0000-0000-66f3-3332eca7ea81", roles: ["Gopy.Staff"] },
          entra!,
        ),
      ).to.deep.equal({ sub: "00000000-0000-0000-66f3-3332eca7ea81", role: "agency", agency: "bo-y-te" });
    });

    it("makes every token of a citizens-only provider a citizen, without a role claim", () => {
      const [vneid] = config([{ issuer: "https://id.example.gov.vn", audience: "gopy", roles: ["citizen"] }]);
      expect(identityOf({ sub: "079203001234" }, vneid!)).to.deep.equal({
        sub: "079203001234",
        role: "citizen",
        agency: null,
      });
    });
  });
});
