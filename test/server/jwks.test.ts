/**
 * Keys from an external identity provider's JWKS, served over real HTTP by a local IdP that counts its fetches:
 * RS256, ES256 and EdDSA keys all verify; a fresh token a few seconds ahead of the service's clock is accepted;
 * a flood of tokens with unknown kids costs the IdP at most one fetch per cooldown, and a rotated-in key is found
 * at the next allowed refresh.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { OffsetClock } from "../../server/clock.ts";
import { type Idp, startIdp } from "../support/idp.ts";
import { testApp, testConfig } from "./helpers.ts";

describe("JWKS keys of an external identity provider", function () {
  this.timeout(60_000);
  let idp: Idp;
  let app: FastifyInstance;
  const clock = new OffsetClock();

  before(async () => {
    idp = await startIdp({ algorithms: ["RS256", "ES256", "EdDSA"] });
    app = await testApp(
      testConfig(null, { JWT_JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: idp.audience }),
      { clock },
    );
  });
  after(async () => {
    await app?.close();
    await idp?.close();
  });

  const myOpinions = (token: string) =>
    app.inject({ method: "GET", url: "/api/me/opinions", headers: { authorization: `Bearer ${token}` } });

  it("verifies RS256, ES256 and EdDSA (Ed25519) tokens from the JWKS", async () => {
    for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
      const r = await myOpinions(idp.token({ sub: `citizen-${alg}` }, { alg }));
      expect(r.statusCode, `${alg}: ${r.body}`).to.equal(200);
    }
  });

  it("accepts a fresh token whose iat and nbf are a few seconds ahead of the service's clock", async () => {
    const ahead = Math.floor(Date.now() / 1000) + 3;
    const r = await myOpinions(idp.token({ sub: "citizen-fresh" }, { times: { iat: ahead, nbf: ahead } }));
    expect(r.statusCode, r.body).to.equal(200);
    const far = Math.floor(Date.now() / 1000) + 120;
    const refused = await myOpinions(idp.token({ sub: "citizen-early" }, { times: { iat: far, nbf: far } }));
    expect(refused.statusCode).to.equal(401);
  });

  it("fetches the JWKS at most once per cooldown under a flood of unknown kids", async () => {
    expect((await myOpinions(idp.token({ sub: "citizen-warm" }))).statusCode).to.equal(200);
    const fetched = idp.jwksFetches;
    const flood = async (round: string) => {
      const replies = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          myOpinions(idp.foreignToken({ sub: `flood-${round}-${i}` }, `unknown-${round}-${i}`)),
        ),
      );
      return replies.map((r) => r.statusCode);
    };
    // within the cooldown of the last fetch: unknown kids are known to be missing, no fetch at all
    expect(new Set(await flood("a"))).to.deep.equal(new Set([401]));
    expect(idp.jwksFetches).to.equal(fetched);
    // past the cooldown: the whole flood shares one refresh
    clock.offset += 31_000;
    expect(new Set(await flood("b"))).to.deep.equal(new Set([401]));
    expect(idp.jwksFetches).to.equal(fetched + 1);

    // a key rotated in right after that refresh is found at the next allowed one
    idp.addKey("rsa-2", "RS256");
    expect((await myOpinions(idp.token({ sub: "citizen-rotated-1" }, { kid: "rsa-2" }))).statusCode).to.equal(
      401,
    );
    expect(idp.jwksFetches).to.equal(fetched + 1);
    clock.offset += 31_000;
    const rotated = await myOpinions(idp.token({ sub: "citizen-rotated-2" }, { kid: "rsa-2" }));
    expect(rotated.statusCode, rotated.body).to.equal(200);
    expect(idp.jwksFetches).to.equal(fetched + 2);
  });
});
