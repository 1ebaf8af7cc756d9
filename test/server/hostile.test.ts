/** Bad input and access: every hostile request gets a clear 4xx, never a 5xx, never a partial entry. */
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { devToken, openConsultation, testApp, testChain, testConfig } from "./helpers.ts";

const b64u = (s: string | Buffer) => Buffer.from(s).toString("base64url");

function jwt(header: object, payload: object, signer: (input: string) => Buffer | string): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  const sig = signer(input);
  return `${input}.${typeof sig === "string" ? sig : b64u(sig)}`;
}

describe("hostile inputs and access control", function () {
  this.timeout(120_000);
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ISS = "https://id.example.gov.vn";
  const AUD = "gopy";
  let jwks: Server;
  let app: FastifyInstance;
  let citizen: string;
  let agencyA: string;
  let agencyB: string;
  let id: number;

  const rs256 = (key: KeyObject) => (input: string) => sign("sha256", Buffer.from(input), key);
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (over: object = {}) => ({
    sub: "ext-citizen",
    iss: ISS,
    aud: AUD,
    iat: now(),
    exp: now() + 600,
    ...over,
  });

  before(async () => {
    const keys = [
      { ...rsa.publicKey.export({ format: "jwk" }), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...ec.publicKey.export({ format: "jwk" }), kid: "ec-1", alg: "ES256", use: "sig" },
    ];
    jwks = createServer((req, res) => {
      if (req.url === "/jwks.json") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ keys }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", () => r()));
    const port = (jwks.address() as { port: number }).port;
    const chain = await testChain();
    app = await testApp(
      testConfig(chain, {
        JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        JWT_ISSUER: ISS,
        JWT_AUDIENCE: AUD,
      }),
      { startAnchorer: false },
    );
    agencyA = jwt(
      { alg: "RS256", kid: "rsa-1", typ: "JWT" },
      claims({ sub: "off-a", role: "agency", agency: "bo-tu-phap" }),
      rs256(rsa.privateKey),
    );
    agencyB = jwt(
      { alg: "RS256", kid: "rsa-1", typ: "JWT" },
      claims({ sub: "off-b", role: "agency", agency: "bo-y-te" }),
      rs256(rsa.privateKey),
    );
    citizen = jwt({ alg: "RS256", kid: "rsa-1", typ: "JWT" }, claims(), rs256(rsa.privateKey));
    id = await openConsultation(app, agencyA);
  });
  after(async () => {
    await app?.close();
    jwks?.close();
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
    it("accepts valid RS256 and ES256 tokens from the JWKS (control)", async () => {
      expect((await opinion(citizen)).statusCode).to.equal(201);
      const es = jwt({ alg: "ES256", kid: "ec-1" }, claims({ sub: "ext-ec" }), (i) =>
        sign("sha256", Buffer.from(i), { key: ec.privateKey, dsaEncoding: "ieee-p1363" }),
      );
      expect((await opinion(es)).statusCode).to.equal(201);
    });

    const attacks: [string, () => string][] = [
      ["no token", () => ""],
      ["garbage", () => "not.a.jwt"],
      ["alg none", () => jwt({ alg: "none", kid: "rsa-1" }, claims(), () => "")],
      [
        "HS256 signed with the RSA public key (HS/RS confusion)",
        () =>
          jwt({ alg: "HS256", kid: "rsa-1" }, claims(), (i) =>
            createHmac("sha256", rsa.publicKey.export({ format: "pem", type: "spki" }))
              .update(i)
              .digest(),
          ),
      ],
      [
        "tampered payload",
        () => {
          const [h, , s] = citizen.split(".");
          return `${h}.${b64u(JSON.stringify(claims({ sub: "someone-else" })))}.${s}`;
        },
      ],
      [
        "expired",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, claims({ exp: now() - 10 }), rs256(rsa.privateKey)),
      ],
      [
        "not yet valid (nbf)",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, claims({ nbf: now() + 600 }), rs256(rsa.privateKey)),
      ],
      [
        "wrong issuer",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, claims({ iss: "https://evil" }), rs256(rsa.privateKey)),
      ],
      [
        "wrong audience",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, claims({ aud: "other" }), rs256(rsa.privateKey)),
      ],
      ["unknown kid", () => jwt({ alg: "RS256", kid: "rsa-9" }, claims(), rs256(stranger.privateKey))],
      [
        "known kid, foreign key",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, claims(), rs256(stranger.privateKey)),
      ],
      [
        "no exp",
        () => jwt({ alg: "RS256", kid: "rsa-1" }, { sub: "x", iss: ISS, aud: AUD }, rs256(rsa.privateKey)),
      ],
      [
        "dev-IdP kid signed by a stranger",
        () => {
          const k = generateKeyPairSync("ed25519");
          return jwt({ alg: "EdDSA", kid: "gopy-dev-idp" }, claims(), (i) =>
            sign(null, Buffer.from(i), k.privateKey),
          );
        },
      ],
    ];
    for (const [name, make] of attacks) {
      it(`401 for ${name}`, async () => {
        const before = await treeSize();
        const t = make();
        const r = await app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions`,
          headers: t ? { authorization: `Bearer ${t}` } : {},
          payload: { section: "dieu-1", stance: "agree" },
        });
        expect(r.statusCode, r.body).to.equal(401);
        expect(r.json()).to.have.keys("error", "message");
        expect(await treeSize()).to.equal(before);
      });
    }
  });

  describe("roles", () => {
    it("403: a citizen cannot open or close consultations", async () => {
      const r = await app.inject({
        method: "POST",
        url: "/api/consultations",
        headers: { authorization: `Bearer ${citizen}` },
        payload: {
          title: "x",
          summary: "",
          sections: [{ id: "a", title: "A", text: "" }],
          opensAt: 0,
          closesAt: now() + 99,
        },
      });
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
    it("the dev identity provider is off unless enabled, and refused in production", async () => {
      const { loadConfig } = await import("../../server/config.ts");
      expect(() =>
        loadConfig({
          NODE_ENV: "production",
          DEV_IDP: "true",
          PSEUDONYM_SECRET: "00".repeat(32),
          RECEIPT_KEY_SEED: "00".repeat(32),
        }),
      ).to.throw(/DEV_IDP/);
      const chain = await testChain();
      const off = await testApp(
        testConfig(chain, {
          DEV_IDP: "false",
          JWT_PUBLIC_KEY: rsa.publicKey.export({ format: "pem", type: "spki" }).toString(),
          JWT_ISSUER: ISS,
          JWT_AUDIENCE: AUD,
        }),
        { startAnchorer: false },
      );
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
    it("400 for bad CSV imports, and no partial import", async () => {
      const before = await treeSize();
      for (const csv of [
        "wrong,header\n",
        "section,stance,text,collectedAt,location\ndieu-1,agree,ok,2026-01-01T00:00:00.000Z,x\ndieu-1,maybe,bad,2026-01-01T00:00:00.000Z,x\n",
        'section,stance,text,collectedAt,location\ndieu-1,agree,"unterminated,2026-01-01T00:00:00.000Z,x\n',
        "section,stance,text,collectedAt,location\ndieu-9,agree,x,2026-01-01T00:00:00.000Z,x\n",
        "section,stance,text,collectedAt,location\ndieu-1,agree,x,yesterday,x\n",
      ]) {
        const r = await app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions/import`,
          headers: { authorization: `Bearer ${agencyA}`, "content-type": "text/csv" },
          payload: csv,
        });
        expect(r.statusCode, r.body).to.equal(400);
      }
      expect(await treeSize()).to.equal(before);
    });
    it("never logs the subject or the token", async () => {
      // pseudonyms only: the entry never contains the subject
      const r = await opinion(citizen, { section: "dieu-2", stance: "neutral" });
      expect(r.json().entry).to.not.contain("ext-citizen");
    });
  });

  it("dev tokens still work next to the external IdP", async () => {
    const t = await devToken(app, "dev-citizen");
    expect((await opinion(t)).statusCode).to.equal(201);
  });
});
