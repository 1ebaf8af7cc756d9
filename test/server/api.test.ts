/** Routes through fastify.inject against a real SQLite file and a real local Hardhat node. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  decodeEntry,
  type Receipt,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
} from "../../protocol/index.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { devToken, dropSchema, receiptLog, testApp, testChain, testConfig } from "./helpers.ts";
import { bearer, DRAFT, giveOpinion, importCsv, openConsultation, withhold } from "./requests.ts";

const METRICS_TOKEN = "operator-scrape-token-0123456789abcdef";
const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
const backends: [string, Record<string, string> | null][] = [
  ["SQLite", {}],
  [
    "PostgreSQL",
    pgUrl
      ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: `gopy_api_${process.pid}_${Date.now() % 1_000_000}` }
      : null,
  ],
];

for (const [backend, extraEnv] of backends) {
  describe(`service API (inject, ${backend})`, function () {
    this.timeout(120_000);
    if (extraEnv === null) {
      missing("PostgreSQL", POSTGRES_HOW);
      return;
    }
    let app: FastifyInstance;
    let agencyA: string;
    let agencyB: string;
    let citizen: string;
    let id: number;

    before(async () => {
      const chain = await testChain();
      app = await testApp(testConfig(chain, { ...extraEnv, METRICS_TOKEN }), { startAnchorer: false });
      agencyA = await devToken(app, "officer-a", "agency", "bo-tu-phap");
      agencyB = await devToken(app, "officer-b", "agency", "bo-y-te");
      citizen = await devToken(app, "citizen-1");
      id = await openConsultation(app, agencyA);
    });
    after(async () => {
      await app?.close();
      if (extraEnv.DATABASE_SCHEMA && pgUrl) {
        await dropSchema(pgUrl, extraEnv.DATABASE_SCHEMA);
      }
    });

    it("lists and shows the consultation with its draft and chain", async () => {
      const list = await app.inject({ method: "GET", url: "/api/consultations" });
      expect(list.statusCode).to.equal(200);
      const c = list.json().consultations.find((x: { id: number }) => x.id === id);
      expect(c).to.include({ agency: "bo-tu-phap", status: "open", title: DRAFT.title });
      const one = await app.inject({ method: "GET", url: `/api/consultations/${id}` });
      expect(one.statusCode).to.equal(200);
      const body = one.json();
      expect(body.draft.version).to.equal(1);
      expect(body.draft.sections).to.deep.equal(DRAFT.sections);
      expect(body.chain.chainId).to.equal(31337);
      const draft = await app.inject({ method: "GET", url: `/api/drafts/${body.draft.hash}` });
      expect(draft.json()).to.deep.equal({
        hash: body.draft.hash,
        ...DRAFT,
        uses: [{ consultation: id, version: 1 }],
      });
    });

    it("serves one draft for a hash two consultations share, naming every (consultation, version) using it", async () => {
      const other = await openConsultation(app, agencyB);
      const hash = (await app.inject({ method: "GET", url: `/api/consultations/${other}` })).json().draft
        .hash;
      const draft = await app.inject({ method: "GET", url: `/api/drafts/${hash}` });
      expect(draft.statusCode).to.equal(200);
      expect(draft.json()).to.deep.equal({
        hash,
        ...DRAFT,
        uses: [
          { consultation: id, version: 1 },
          { consultation: other, version: 1 },
        ],
      });
      const unknown = await app.inject({ method: "GET", url: `/api/drafts/0x${"ab".repeat(32)}` });
      expect(unknown.statusCode).to.equal(404);
    });

    it("accepts an opinion and returns a v2 receipt that verifies with the log's key", async () => {
      const r = await giveOpinion(app, citizen, id, {
        section: "dieu-1",
        stance: "agree",
        text: "Tôi đồng ý. '; DROP TABLE entries; -- <b>x</b>",
      });
      expect(r.statusCode, r.body).to.equal(201);
      const receipt = r.json() as Receipt;
      expect(receipt.v).to.equal(2);
      const check = verifyReceipt(receipt, [], await receiptLog(app, id));
      expect(check.valid, JSON.stringify(check.steps)).to.equal(true);
      expect(receipt.text).to.equal("Tôi đồng ý. '; DROP TABLE entries; -- <b>x</b>");
      const entry = decodeEntry(receipt.entry);
      expect(entry).to.include({
        type: "opinion",
        section: "dieu-1",
        stance: "agree",
        replaces: null,
        channel: "online",
      });
      expect(receipt.entry).to.not.contain("citizen-1");
    });

    it("replaces the same author's earlier opinion on the same section", async () => {
      const post = (stance: string) => giveOpinion(app, citizen, id, { section: "dieu-2", stance });
      const first = (await post("agree")).json() as Receipt;
      const second = (await post("disagree")).json() as Receipt;
      const e = decodeEntry(second.entry);
      expect(e.type === "opinion" && e.replaces).to.equal(first.leafIndex);
    });

    it("returns the same receipt for a retried Idempotency-Key, never a second entry", async () => {
      const send = () =>
        giveOpinion(app, citizen, id, { section: "dieu-3", stance: "neutral", text: "một lần" }, "retry-123");
      const [a, b] = await Promise.all([send(), send()]);
      const c = await send();
      expect(a.statusCode).to.equal(201);
      expect(b.json()).to.deep.equal(a.json());
      expect(c.json()).to.deep.equal(a.json());
      const head = (await app.inject({ method: "GET", url: `/api/consultations/${id}/log/head` })).json();
      const all = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/log/entries?start=0&end=${head.treeSize}`,
      });
      const matching = all
        .json()
        .entries.filter((x: { leafHash: string }) => x.leafHash === a.json().leafHash);
      expect(matching).to.have.length(1);
    });

    it("lists the citizen's receipts at /api/me/opinions", async () => {
      const r = await app.inject({ method: "GET", url: "/api/me/opinions", headers: bearer(citizen) });
      expect(r.statusCode).to.equal(200);
      expect(r.json().receipts.length).to.equal(4);
      const other = await devToken(app, "citizen-2");
      const r2 = await app.inject({ method: "GET", url: "/api/me/opinions", headers: bearer(other) });
      expect(r2.json().receipts).to.deep.equal([]);
    });

    it("serves inclusion and consistency proofs that verify", async () => {
      const head = (await app.inject({ method: "GET", url: `/api/consultations/${id}/log/head` })).json();
      expect(head.treeSize).to.equal(4);
      expect(head.anchored).to.equal(null);
      const entries = (
        await app.inject({ method: "GET", url: `/api/consultations/${id}/log/entries?start=0&end=1000` })
      ).json().entries;
      for (const e of entries) {
        const p = (
          await app.inject({
            method: "GET",
            url: `/api/consultations/${id}/log/proof?leafHash=${e.leafHash}`,
          })
        ).json();
        expect(verifyInclusion(e.leafHash, p.leafIndex, p.treeSize, p.proof, p.rootHash)).to.equal(true);
      }
      const r2 = (
        await app.inject({
          method: "GET",
          url: `/api/consultations/${id}/log/proof?leafHash=${entries[0].leafHash}&treeSize=2`,
        })
      ).json();
      const c = (
        await app.inject({ method: "GET", url: `/api/consultations/${id}/log/consistency?first=2&second=4` })
      ).json();
      expect(verifyConsistency(2, 4, c.proof, r2.rootHash, head.rootHash)).to.equal(true);
    });

    it("imports offline opinions from CSV, skipping an already imported file", async () => {
      // collected on paper after the consultation opened: once as RFC 3339, once as Unix seconds
      const { opensAt } = (await app.inject({ method: "GET", url: `/api/consultations/${id}` })).json();
      const collectedAt = new Date(opensAt * 1000).toISOString();
      const csv = `section,stance,text,collectedAt,location\r\ndieu-1,agree,"Họp dân, thôn 3",${collectedAt},Thôn 3\r\ndieu-2,disagree,,${opensAt},"Xã A"\r\n`;
      const send = () => importCsv(app, agencyA, id, csv);
      const r = await send();
      expect(r.statusCode, r.body).to.equal(201);
      expect(r.json()).to.include({ imported: 2, duplicates: 0 });
      const again = await send();
      expect(again.json()).to.include({ imported: 0, duplicates: 2 });
      const [i0] = r.json().leafIndices;
      const e = (
        await app.inject({
          method: "GET",
          url: `/api/consultations/${id}/log/entries?start=${i0}&end=${i0 + 1}`,
        })
      ).json().entries[0];
      expect(decodeEntry(e.leaf)).to.include({ channel: "offline", submittedAt: collectedAt });
      const b = await importCsv(app, agencyB, id, csv);
      expect(b.statusCode).to.equal(403);
    });

    it("withholds a text: gone from the export, the stance still in the log", async () => {
      const r = await withhold(app, agencyA, id, 0);
      expect(r.statusCode, r.body).to.equal(201);
      const again = await withhold(app, agencyA, id, 0);
      expect(again.statusCode).to.equal(409);
      const exp = await app.inject({ method: "GET", url: `/api/consultations/${id}/export` });
      expect(exp.statusCode).to.equal(200);
      const lines = exp.body
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines[0]).to.include({ index: 0, withheld: true });
      expect(lines[0]).to.not.have.property("text");
      expect(lines[0]).to.not.have.property("salt");
      expect(lines[1]).to.have.property("text");
      const mod = decodeEntry(lines[r.json().index].leaf);
      expect(mod).to.include({ type: "moderation", target: 0, reason: "personal-data" });
      expect(exp.body).to.not.contain("DROP TABLE");
    });

    it("refuses opinions on unknown sections and closing before closesAt", async () => {
      const r = await giveOpinion(app, citizen, id, { section: "dieu-99", stance: "agree" });
      expect(r.statusCode).to.equal(400);
      const c = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/close`,
        headers: bearer(agencyA),
      });
      expect(c.statusCode).to.equal(409);
      const t = await app.inject({ method: "GET", url: `/api/consultations/${id}/tally` });
      expect(t.statusCode).to.equal(409);
      expect(
        (await app.inject({ method: "GET", url: "/api/consultations/999999/tally" })).statusCode,
      ).to.equal(404);
    });

    it("gives an admin no power over any agency's consultation (403)", async () => {
      const admin = await devToken(app, "admin-1", "admin");
      for (const [method, url, payload, type] of [
        ["POST", `/api/consultations/${id}/close`, undefined, undefined],
        ["POST", `/api/consultations/${id}/entries/1/withhold`, { reason: "spam" }, undefined],
        ["PUT", `/api/consultations/${id}/draft`, DRAFT, undefined],
        [
          "POST",
          `/api/consultations/${id}/opinions/import`,
          "section,stance,text,collectedAt,location\n",
          "text/csv",
        ],
        ["POST", "/api/consultations", { ...DRAFT, opensAt: 0, closesAt: 4_000_000_000 }, undefined],
      ] as const) {
        const r = await app.inject({
          method,
          url,
          headers: { ...bearer(admin), ...(type ? { "content-type": type } : {}) },
          payload,
        });
        expect(r.statusCode, `${method} ${url}: ${r.body}`).to.equal(403);
      }
    });

    it("revises the draft on chain (agency A only)", async () => {
      const body = {
        ...DRAFT,
        sections: [...DRAFT.sections, { id: "dieu-4", title: "Điều 4. Hiệu lực", text: "..." }],
      };
      const b = await app.inject({
        method: "PUT",
        url: `/api/consultations/${id}/draft`,
        headers: bearer(agencyB),
        payload: body,
      });
      expect(b.statusCode).to.equal(403);
      const r = await app.inject({
        method: "PUT",
        url: `/api/consultations/${id}/draft`,
        headers: bearer(agencyA),
        payload: body,
      });
      expect(r.statusCode, r.body).to.equal(200);
      expect(r.json().draftVersion).to.equal(2);
      const o = await giveOpinion(app, citizen, id, { section: "dieu-4", stance: "agree" });
      expect(o.statusCode).to.equal(201);
      expect(decodeEntry(o.json().entry)).to.include({ draftVersion: 2 });
    });

    it("serves health, metrics and the OpenAPI docs", async () => {
      const h = await app.inject({ method: "GET", url: "/api/health" });
      expect(h.statusCode, h.body).to.equal(200);
      expect(h.json()).to.include({ ok: true, db: true });
      expect(h.json().chain.chainId).to.equal(31337);
      expect(h.json().backlog).to.be.greaterThan(0);
      // operators only: a bearer token from the configuration
      for (const headers of [{}, { authorization: "Bearer wrong-token" }, bearer(citizen)]) {
        const refused = await app.inject({ method: "GET", url: "/metrics", headers });
        expect(refused.statusCode, JSON.stringify(headers)).to.equal(401);
        expect(refused.body).to.not.contain("gopy_");
      }
      const m = await app.inject({ method: "GET", url: "/metrics", headers: bearer(METRICS_TOKEN) });
      expect(m.statusCode).to.equal(200);
      expect(m.body).to.contain("gopy_opinions_accepted_total");
      // replayed idempotent retries are not counted: 5 online opinions, 2 offline ones were appended
      expect(m.body).to.match(/gopy_opinions_accepted_total\{channel="online"\} 5\n/);
      expect(m.body).to.match(/gopy_opinions_accepted_total\{channel="offline"\} 2\n/);
      expect(m.body).to.contain("gopy_backlog_entries");
      // coarse: entries per group commit in decades, nothing finer to line up with single requests
      const buckets = [...m.body.matchAll(/gopy_group_commit_entries_bucket\{le="([^"]+)"\}/g)].map(
        (x) => x[1],
      );
      expect(buckets).to.deep.equal(["1", "10", "100", "1000", "10000", "+Inf"]);
      // the store's statements (each BEGIN and COMMIT too), counted since it opened: an opinion costs some
      const trips = (body: string) => Number(/^gopy_store_round_trips_total (\d+)$/m.exec(body)?.[1]);
      expect(trips(m.body)).to.be.greaterThan(0);
      const o = await giveOpinion(app, citizen, id, { section: "dieu-1", stance: "neutral" });
      expect(o.statusCode, o.body).to.equal(201);
      const again = await app.inject({ method: "GET", url: "/metrics", headers: bearer(METRICS_TOKEN) });
      expect(trips(again.body)).to.be.greaterThan(trips(m.body) + 4);
      const d = await app.inject({ method: "GET", url: "/docs/json" });
      expect(d.statusCode).to.equal(200);
      expect(Object.keys(d.json().paths)).to.include("/api/consultations/{id}/log/proof");
    });
  });
}

describe("service: web client at /", () => {
  it("serves web/dist at / with an SPA fallback, and JSON 404s under /api", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gopy-web-"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>Gopy</title>");
    writeFileSync(join(dir, "app.js"), "console.log(1)");
    const app = await testApp(
      testConfig(null, {
        WEB_DIST: dir,
        PUBLIC_RPC_URL: "https://rpc.public.example.org/v1?key=public",
        CSP_CONNECT_SRC: "https://mirror.example.org, https://rpc2.example.net/",
      }),
    );
    try {
      const root = await app.inject({ method: "GET", url: "/" });
      expect(root.statusCode).to.equal(200);
      expect(root.body).to.contain("<title>Gopy</title>");
      const script = await app.inject({ method: "GET", url: "/app.js" });
      expect(script.body).to.contain("console.log");
      const spa = await app.inject({ method: "GET", url: "/consultations/1/verify" });
      expect(spa.statusCode).to.equal(200);
      expect(spa.body).to.contain("<title>Gopy</title>");
      // the client's own policy: its scripts only, no inline script, no framing; it may read the API (same
      // origin), the advertised RPC, the configured extra origins and the citizen's own local node
      for (const reply of [root, script, spa]) {
        const policy = Object.fromEntries(
          String(reply.headers["content-security-policy"])
            .split(";")
            .map((directive) => directive.trim().split(/\s+/))
            .map(([name, ...sources]) => [name, sources]),
        );
        expect(policy["script-src"]).to.deep.equal(["'self'"]);
        expect(policy["frame-ancestors"]).to.deep.equal(["'none'"]);
        expect(policy["object-src"]).to.deep.equal(["'none'"]);
        expect(policy["connect-src"]).to.have.members([
          "'self'",
          "https://rpc.public.example.org",
          "https://mirror.example.org",
          "https://rpc2.example.net",
          "http://127.0.0.1:*",
          "http://localhost:*",
        ]);
      }
      const api = await app.inject({ method: "GET", url: "/api/nothing-here" });
      expect(api.statusCode).to.equal(404);
      expect(api.json()).to.have.keys("error", "message");
      // no chain configured: reads work, opening is a clear 503
      const h = await app.inject({ method: "GET", url: "/api/health" });
      expect(h.json()).to.include({ ok: true, chain: null });
    } finally {
      await app.close();
    }
  });
});
