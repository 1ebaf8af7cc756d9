// What the service logs: it runs as `node server/main.ts` at LOG_LEVEL=trace (request logging on), gets valid
// and refused requests from a citizen whose token carries a subject, a name and an e-mail, and everything it
// printed is searched for them and for the tokens.
import { expect } from "chai";
import { call, waitFor } from "../support/http.ts";
import { hsConfusion, type Idp, publicKeyPem, startIdp, strangerSigned, tampered } from "../support/idp.ts";
import { childEnv, kill, type Service, startService, testChain, tmpSqlite } from "./helpers.ts";
import { DRAFT } from "./requests.ts";

describe("service logs (the service as a child process, LOG_LEVEL=trace)", function () {
  this.timeout(120_000);
  let idp: Idp;
  let service: Service;
  const citizen = {
    sub: "vneid-log-000123456789",
    name: "Nguyễn Thị Nhật Ký",
    email: "nhat.ky@mail.example.vn",
  };

  before(async () => {
    idp = await startIdp();
    const chain = await testChain();
    service = await startService(
      childEnv({
        chain: { url: chain.node.url, registry: chain.registry, agencies: chain.agencies },
        sqlite: tmpSqlite(),
        extra: {
          LOG_LEVEL: "trace",
          ...idp.env(),
          DEV_IDP_URL: "",
          ANCHOR_ENABLED: "false",
        },
      }),
    );
  });
  after(async () => {
    if (service) await kill(service);
    await idp?.close();
  });

  it("never logs the subject or the token (nor the citizen's name or e-mail)", async () => {
    const officer = "officer-log-0042";
    const agency = await idp.token({ sub: officer, role: "agency", agency: "bo-tu-phap" });
    const now = Math.floor(Date.now() / 1000);
    const opened = await call(service.base, "POST", "/api/consultations", agency, {
      ...DRAFT,
      opensAt: now - 60,
      closesAt: now + 3600,
    });
    expect(opened.status, JSON.stringify(opened.body)).to.equal(201);
    const opinions = `/api/consultations/${opened.body.id}/opinions`;
    const token = await idp.token(citizen);
    const refused = [
      `${token.slice(0, -6)}AAAAAA`, // signature spoiled
      tampered(token, { exp: now - 60 }),
      strangerSigned(token, "unknown-kid"),
      hsConfusion(token, await publicKeyPem(idp)),
    ];
    const given = await call(service.base, "POST", opinions, token, { section: "dieu-1", stance: "agree" });
    expect(given.status, JSON.stringify(given.body)).to.equal(201);
    expect((await call(service.base, "GET", "/api/me/opinions", token)).status).to.equal(200);
    expect(
      (await call(service.base, "POST", opinions, token, { section: "dieu-1", stance: 7 })).status,
    ).to.equal(400);
    for (const bad of refused) {
      expect(
        (await call(service.base, "POST", opinions, bad, { section: "dieu-1", stance: "agree" })).status,
      ).to.equal(401);
    }

    // The capture holds the service's request log, so a planted line would be found. The reply reaches us before
    // its "request completed" line reaches the pipe: wait for the last one.
    const refusals = (text: string) => text.split('"statusCode":401').length - 1;
    const output = await waitFor("the request log of every refused token", async () => {
      const text = service.output();
      return refusals(text) >= refused.length && text;
    });
    expect(output).to.include(`"url":"${opinions}"`);
    const tokens = [token, agency, ...refused];
    const needles = [
      citizen.sub,
      citizen.name,
      citizen.email,
      officer,
      ...tokens,
      // any part of a token: its claims or its signature alone
      ...tokens.flatMap((t) => t.split(".").slice(1)),
    ];
    expect(needles.filter((n) => output.includes(n))).to.deep.equal([]);
  });
});
