/**
 * The public moderation log: every withholding, with its reason code and the officer's pseudonym, in log order and
 * in pages, read without signing in; bad paging refused with 400. On SQLite and PostgreSQL, with a real local chain.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { pseudonym } from "../../protocol/index.ts";
import {
  devToken,
  dropSchema,
  PG_URL,
  storeBackends,
  tempSchema,
  testApp,
  testChain,
  testConfig,
} from "./helpers.ts";
import { giveOpinion, openConsultation, withhold } from "./requests.ts";

for (const backend of storeBackends((b) => `the public moderation log (${b})`)) {
  describe(`the public moderation log (${backend})`, function () {
    this.timeout(120_000);
    let app: FastifyInstance;
    const schema = tempSchema("modlog");

    before(async () => {
      const extra: Record<string, string> =
        backend === "postgres" ? { DATABASE_URL: PG_URL!, DATABASE_SCHEMA: schema } : {};
      app = await testApp(testConfig(await testChain(), extra), { startAnchorer: false });
    });
    after(async () => {
      await app?.close();
      if (backend === "postgres") await dropSchema(PG_URL!, schema);
    });

    it("lists every withheld opinion with its reason and the officer's pseudonym, in pages, without sign-in", async () => {
      const agency = await devToken(app, "officer-modlog", "agency", "bo-tu-phap");
      const id = await openConsultation(app, agency);
      const opinions: number[] = [];
      for (let i = 0; i < 5; i++) {
        const citizen = await devToken(app, `citizen-modlog-${i}`);
        const r = await giveOpinion(app, citizen, id, {
          section: "dieu-1",
          stance: "agree",
          text: `ý kiến ${i}`,
        });
        expect(r.statusCode, r.body).to.equal(201);
        opinions.push(r.json().leafIndex);
      }
      const reasons = ["personal-data", "off-topic", "abuse"];
      const moderation: number[] = [];
      for (const [i, target] of [opinions[1]!, opinions[3]!, opinions[4]!].entries()) {
        const w = await withhold(app, agency, id, target, reasons[i]);
        expect(w.statusCode, w.body).to.equal(201);
        moderation.push(w.json().index);
      }
      const officer = pseudonym(app.gopy.config.pseudonymSecret, "officer", String(id), "officer-modlog");

      const first = await app.inject({ method: "GET", url: `/api/consultations/${id}/moderation?limit=2` });
      expect(first.statusCode, first.body).to.equal(200);
      const page1 = first.json();
      expect(page1.moderation.map((m: { index: number }) => m.index)).to.deep.equal(moderation.slice(0, 2));
      expect(page1.moderation[0]).to.include({ target: opinions[1], reason: "personal-data", by: officer });
      expect(page1.moderation[0].action).to.equal("withhold-text");
      expect(page1.next).to.equal(String(moderation[1]));
      const second = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/moderation?limit=2&after=${page1.next}`,
      });
      const page2 = second.json();
      expect(
        page2.moderation.map((m: { target: number; reason: string }) => [m.target, m.reason]),
      ).to.deep.equal([[opinions[4], "abuse"]]);
      expect(page2.next).to.equal(null);
      // the log's entries, not a side table: each listed leaf hash is the entry's own
      const entries = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/log/entries?start=${moderation[0]}&end=${moderation[0]! + 1}`,
      });
      expect(entries.statusCode, entries.body).to.equal(200);
      expect(JSON.stringify(entries.json())).to.contain(page1.moderation[0].leafHash);
    });

    it("refuses paging it does not know, and an unknown consultation", async () => {
      for (const query of ["after=-1", "after=abc", "limit=0", "limit=101", "cursor=x"]) {
        const r = await app.inject({ method: "GET", url: `/api/consultations/1/moderation?${query}` });
        expect(r.statusCode, `${query}: ${r.body}`).to.equal(400);
      }
      const missing = await app.inject({ method: "GET", url: "/api/consultations/999999/moderation" });
      expect(missing.statusCode).to.equal(404);
    });
  });
}
