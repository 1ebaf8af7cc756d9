/** Bad input and access: every hostile request gets a clear 4xx, never a 5xx, never a partial entry. */
import { request } from "node:http";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { OffsetClock } from "../../server/clock.ts";
import {
  algNone,
  hsConfusion,
  type Idp,
  kidOf,
  publicKeyPem,
  startIdp,
  strangerSigned,
  tampered,
} from "../support/idp.ts";
import { devToken, testApp, testChain, testConfig, testIdp } from "./helpers.ts";
import { ONE_ARTICLE, openConsultation, postConsultation } from "./requests.ts";

describe("hostile inputs and access control", function () {
  this.timeout(120_000);
  const clock = new OffsetClock();
  let stranger: Idp;
  let app: FastifyInstance;
  let citizen: string;
  let agencyA: string;
  let agencyB: string;
  let id: number;

  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    stranger = await startIdp();
    const chain = await testChain();
    app = await testApp(testConfig(chain), { startAnchorer: false, clock });
    agencyA = await testIdp.token({ sub: "off-a", role: "agency", agency: "bo-tu-phap" });
    agencyB = await testIdp.token({ sub: "off-b", role: "agency", agency: "bo-y-te" });
    citizen = await testIdp.token({ sub: "ext-citizen" });
    id = await openConsultation(app, agencyA);
  });
  after(async () => {
    await app?.close();
    await stranger?.close();
  });

  const opinion = (token: string, payload: unknown = { section: "dieu-1", stance: "agree" }) =>
    app.inject({
      method: "POST",
      url: `/api/consultations/${id}/opinions`,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });

  const treeSize = async () =>
    (await app.inject({ method: "GET", url: `/api/consultations/${id}/log/head` })).json().treeSize as number;

  describe("tokens", () => {
    it("accepts a token the provider signed (control)", async () => {
      expect((await opinion(citizen)).statusCode).to.equal(201);
    });

    // [what, the token, the service clock's offset when it is presented, the reason code of the 401]
    const attacks: [string, () => Promise<string> | string, number, string][] = [
      ["no token", () => "", 0, "missing_token"],
      ["garbage", () => "not.a.jwt", 0, "malformed"],
      ["alg none", () => algNone(citizen), 0, "alg_not_allowed"],
      [
        "HS256 keyed with the provider's public key (algorithm confusion)",
        async () => hsConfusion(citizen, await publicKeyPem(testIdp)),
        0,
        "alg_not_allowed",
      ],
      ["tampered payload", () => tampered(citizen, { sub: "someone-else" }), 0, "bad_signature"],
      ["expired", () => citizen, 13 * 3600_000, "expired"],
      ["not yet valid (nbf)", () => citizen, -600_000, "not_yet_valid"],
      ["from an issuer that is not configured", () => stranger.token({ sub: "x" }), 0, "unknown_issuer"],
      ["for another audience", () => tampered(citizen, { aud: "other" }), 0, "wrong_audience"],
      ["unknown kid", () => strangerSigned(citizen, "demo-eddsa-9"), 0, "unknown_kid"],
      [
        "the provider's kid, a stranger's key",
        () => strangerSigned(citizen, kidOf(citizen)),
        0,
        "bad_signature",
      ],
      ["no exp", () => tampered(citizen, { exp: undefined }), 0, "missing_claim"],
    ];
    for (const [name, make, offsetMs, reason] of attacks) {
      it(`401 ${reason} for ${name}`, async () => {
        const before = await treeSize();
        const t = await make();
        clock.offset = offsetMs;
        const r = await app
          .inject({
            method: "POST",
            url: `/api/consultations/${id}/opinions`,
            headers: t ? { authorization: `Bearer ${t}` } : {},
            payload: { section: "dieu-1", stance: "agree" },
          })
          .finally(() => {
            clock.offset = 0;
          });
        expect(r.statusCode, r.body).to.equal(401);
        expect(r.json()).to.have.keys("error", "message", "reason");
        expect(r.json().reason, r.body).to.equal(reason);
        expect(await treeSize()).to.equal(before);
      });
    }
  });

  describe("roles", () => {
    it("403: a citizen cannot open or close consultations", async () => {
      const r = await postConsultation(app, citizen, { ...ONE_ARTICLE, opensAt: 0, closesAt: now() + 99 });
      expect(r.statusCode).to.equal(403);
      const c = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/close`,
        headers: { authorization: `Bearer ${citizen}` },
      });
      expect(c.statusCode).to.equal(403);
    });
    it("403: agency B cannot touch agency A's consultation; agencies do not give opinions", async () => {
      for (const [method, url, payload] of [
        ["POST", `/api/consultations/${id}/close`, undefined],
        ["POST", `/api/consultations/${id}/entries/0/withhold`, { reason: "spam" }],
        [
          "PUT",
          `/api/consultations/${id}/draft`,
          { title: "t", summary: "", sections: [{ id: "a", title: "A", text: "" }] },
        ],
      ] as const) {
        const r = await app.inject({ method, url, headers: { authorization: `Bearer ${agencyB}` }, payload });
        expect(r.statusCode, `${method} ${url}: ${r.body}`).to.equal(403);
      }
      expect((await opinion(agencyA)).statusCode).to.equal(403);
    });
    it("the development token mint is off unless configured, and refused in production", async () => {
      const { loadConfig } = await import("../../server/config.ts");
      expect(() =>
        loadConfig({
          NODE_ENV: "production",
          ...testIdp.env(),
          PSEUDONYM_SECRET: "00".repeat(32),
          RECEIPT_KEY_SEED: "00".repeat(32),
          CHECKPOINT_KEY_SEED: "00".repeat(32),
        }),
      ).to.throw(/DEV_IDP_URL/);
      const chain = await testChain();
      const off = await testApp(testConfig(chain, { DEV_IDP_URL: "" }), { startAnchorer: false });
      try {
        const r = await off.inject({
          method: "POST",
          url: "/api/dev/token",
          payload: { sub: "x", role: "admin" },
        });
        expect(r.statusCode).to.equal(404);
      } finally {
        await off.close();
      }
    });
  });

  describe("bodies and parameters", () => {
    const cases: [string, unknown, number][] = [
      ["malformed JSON", '{"section": "dieu-1", "stance": ', 400],
      ["unknown field", { section: "dieu-1", stance: "agree", extra: 1 }, 400],
      ["wrong type", { section: "dieu-1", stance: 5 }, 400],
      ["bad stance", { section: "dieu-1", stance: "maybe" }, 400],
      ["missing stance", { section: "dieu-1" }, 400],
      ["text over 10,000 characters", { section: "dieu-1", stance: "agree", text: "a".repeat(10_001) }, 400],
      ["lone surrogate", '{"section":"dieu-1","stance":"agree","text":"\\ud800"}', 400],
      ["__proto__", '{"section":"dieu-1","stance":"agree","__proto__":{"x":1}}', 400],
      [
        "invalid UTF-8",
        Buffer.concat([
          Buffer.from('{"section":"dieu-1","stance":"agree","text":"'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]),
        400,
      ],
      [
        "over the body limit",
        JSON.stringify({ section: "dieu-1", stance: "agree", text: "x".repeat(70_000) }),
        413,
      ],
      ["array body", "[]", 400],
      ["null body", "null", 400],
    ];
    for (const [name, payload, status] of cases) {
      it(`${status} for ${name}, nothing appended`, async () => {
        const before = await treeSize();
        const r = await opinion(citizen, payload);
        expect(r.statusCode, r.body).to.equal(status);
        expect(r.json()).to.have.keys("error", "message");
        expect(await treeSize()).to.equal(before);
      });
    }
    it("415 for an unsupported content type", async () => {
      const r = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions`,
        headers: { authorization: `Bearer ${citizen}`, "content-type": "text/plain" },
        payload: "agree",
      });
      expect(r.statusCode).to.equal(415);
    });
    it("400 for ids that are not ids; 404 for unknown ones", async () => {
      for (const bad of ["abc", "-1", "0", "1e3", "99999999999999999999", "1%20OR%201=1", "%00"]) {
        const r = await app.inject({ method: "GET", url: `/api/consultations/${bad}` });
        expect(r.statusCode, bad).to.equal(400);
        expect(r.json()).to.have.keys("error", "message");
      }
      expect((await app.inject({ method: "GET", url: "/api/consultations/424242" })).statusCode).to.equal(
        404,
      );
      expect(
        (await app.inject({ method: "GET", url: "/api/consultations/424242/log/head" })).statusCode,
      ).to.equal(404);
    });
    it("400 for proof parameters out of range", async () => {
      const size = await treeSize();
      const head = (
        await app.inject({ method: "GET", url: `/api/consultations/${id}/log/entries?start=0&end=1` })
      ).json();
      const leaf = head.entries[0].leafHash;
      const urls = [
        `/log/proof?leafHash=${leaf}&treeSize=${size + 1}`,
        `/log/proof?leafHash=${leaf}&treeSize=0`,
        `/log/proof?leafHash=0x1234&treeSize=1`,
        `/log/proof?leafHash=${leaf}&treeSize=-1`,
        `/log/proof?leafHash=${leaf}&treeSize=1&x=1`,
        `/log/consistency?first=2&second=1`,
        `/log/consistency?first=0&second=${size + 5}`,
        `/log/consistency?first=abc`,
        `/log/entries?start=0&end=1001`,
        `/log/entries?start=5&end=5`,
        `/log/entries?start=${size}&end=${size + 1}`,
        `/log/entries?start=0`,
      ];
      for (const u of urls) {
        const r = await app.inject({ method: "GET", url: `/api/consultations/${id}${u}` });
        expect(r.statusCode, `${u}: ${r.body}`).to.equal(400);
      }
      const missing = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/log/proof?leafHash=0x${"ab".repeat(32)}`,
      });
      expect(missing.statusCode).to.equal(404);
    });
    const importCsv = (token: string, csv: string) =>
      app.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions/import`,
        headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
        payload: csv,
      });
    const HEADER = "section,stance,text,collectedAt,location\n";

    it("400 for bad CSV imports, and no partial import", async () => {
      const before = await treeSize();
      const at = now();
      for (const csv of [
        "wrong,header\n",
        `${HEADER}dieu-1,agree,ok,${at},x\ndieu-1,maybe,bad,${at},x\n`,
        `${HEADER}dieu-1,agree,"unterminated,${at},x\n`,
        `${HEADER}dieu-9,agree,x,${at},x\n`,
        `${HEADER}dieu-1,agree,x,yesterday,x\n`,
        // a quote closed in the middle of a field is malformed CSV, not the text "ab"
        `${HEADER}dieu-1,agree,"a"b,${at},x\n`,
        `${HEADER}dieu-1,agree,a"b",${at},x\n`,
      ]) {
        const r = await importCsv(agencyA, csv);
        expect(r.statusCode, `${csv}: ${r.body}`).to.equal(400);
        expect(r.json().message, csv).to.match(/line \d|header|CSV/);
      }
      expect(await treeSize()).to.equal(before);
    });

    it("reads no body before authenticating: an anonymous 5 MB import is refused before it is sent", async () => {
      const base = new URL(await app.listen({ host: "127.0.0.1", port: 0 }));
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({
          method: "POST",
          hostname: base.hostname,
          port: base.port,
          path: `/api/consultations/${id}/opinions/import`,
          headers: { "content-type": "text/csv", "content-length": String(5 * 1024 * 1024) },
        });
        const deadline = setTimeout(() => {
          req.destroy();
          reject(new Error("no reply before the body was sent: the service waits to read it first"));
        }, 10_000);
        req.on("response", (res) => {
          clearTimeout(deadline);
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.on("error", () => undefined);
        req.write(HEADER);
      });
      expect(status).to.equal(401);
    });

    it("413 for a CSV body over BODY_LIMIT on any route but the import", async () => {
      const csv = `${HEADER}${`dieu-1,agree,${"x".repeat(100)},${now()},x\n`.repeat(1000)}`;
      expect(csv.length).to.be.greaterThan(65_536);
      const opinionAsCsv = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions`,
        headers: { authorization: `Bearer ${citizen}`, "content-type": "text/csv" },
        payload: csv,
      });
      expect(opinionAsCsv.statusCode, opinionAsCsv.body).to.equal(413);
      const devToken = await app.inject({
        method: "POST",
        url: "/api/dev/token",
        headers: { "content-type": "text/csv" },
        payload: csv,
      });
      expect(devToken.statusCode, devToken.body).to.equal(413);
      // the import itself takes up to IMPORT_BODY_LIMIT
      const imported = await importCsv(agencyA, csv);
      expect(imported.statusCode, imported.body).to.equal(201);
      expect(imported.json().imported).to.equal(1000);
    });

    it("the entry carries a pseudonym, never the subject (what the logs hold: logs.test.ts)", async () => {
      const r = await opinion(citizen, { section: "dieu-2", stance: "neutral" });
      expect(r.json().entry).to.not.contain("ext-citizen");
    });
  });

  it("POST /api/dev/token returns a token the provider signed, accepted like any", async () => {
    const t = await devToken(app, "dev-citizen");
    expect(kidOf(t)).to.equal(kidOf(citizen));
    const claims = JSON.parse(Buffer.from(t.split(".")[1]!, "base64url").toString());
    expect(claims).to.include({ iss: testIdp.issuer, aud: "gopy", sub: "dev-citizen", role: "citizen" });
    expect((await opinion(t)).statusCode).to.equal(201);
  });
});
