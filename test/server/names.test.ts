/**
 * Ids that are also names of Object.prototype's members (`constructor`, `toString`, `hasOwnProperty`...) are
 * ordinary ids: a draft's sections may be called so, opinions and offline rows on them count, the tally carries
 * them, and a JSON document keyed by them parses as it reads. Only `__proto__` is refused, where JSON.parse would
 * make an own property that a later copy turns into a prototype. On a chain of its own, so moving its time
 * forward to close the consultation disturbs no other test.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import type { TallyDocument } from "../../protocol/index.ts";
import { advanceChainTime } from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { parseJsonBody } from "../../server/http.ts";
import { type Chain, startChain } from "../support/stack.ts";
import { devToken, testApp, testConfig } from "./helpers.ts";
import { bearer, importCsv, ONE_ARTICLE, openFor, postConsultation } from "./requests.ts";

const INHERITED = ["constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf", "prototype"];

describe("ids named like Object.prototype's members", function () {
  this.timeout(120_000);

  it("parses JSON documents keyed by such ids; refuses __proto__ at any depth", () => {
    const keyed = Object.fromEntries(INHERITED.map((id) => [id, { stance: "agree" }]));
    const parsed = parseJsonBody(Buffer.from(JSON.stringify({ sections: keyed }))) as {
      sections: Record<string, unknown>;
    };
    expect(Object.keys(parsed.sections)).to.deep.equal(INHERITED);
    for (const id of INHERITED) expect(Object.hasOwn(parsed.sections, id), id).to.equal(true);
    expect(() => parseJsonBody(Buffer.from('{"a":{"__proto__":{"admin":true}}}'))).to.throw(/__proto__/);
    // spelled with escapes, which JSON.parse decodes into the same key
    expect(() => parseJsonBody(Buffer.from('{"a":{"\\u005f_proto__":{"admin":true}}}'))).to.throw(
      /__proto__/,
    );
    expect(() => parseJsonBody(Buffer.from('{"\\u005F\\u005Fproto\\u005F_":1}'))).to.throw(/__proto__/);
    // escapes elsewhere are data
    expect(parseJsonBody(Buffer.from('{"text":"\\u0110i\\u1ec1u 1"}'))).to.deep.equal({ text: "Điều 1" });
  });

  describe("as section ids, through opening, opinions, offline import, close and tally", () => {
    let chain: Chain;
    let app: FastifyInstance;
    const clock = new OffsetClock();

    before(async () => {
      chain = await startChain();
      app = await testApp(testConfig(chain, { ANCHOR_INTERVAL: "200ms" }), { clock });
    });
    after(async () => {
      await app?.close();
      await chain?.node.stop();
    });

    it("counts every opinion on them and publishes a tally keyed by them", async () => {
      const agency = await devToken(app, "officer-names", "agency", "bo-tu-phap");
      const now = Math.floor(Date.now() / 1000);
      const sections = INHERITED.map((id) => ({ id, title: `Điều ${id}`, text: `Nội dung ${id}` }));
      const proto = [{ id: "__proto__", title: "x", text: "" }];
      const refused = await postConsultation(app, agency, {
        ...ONE_ARTICLE,
        sections: proto,
        ...openFor(60),
      });
      expect(refused.statusCode, refused.body).to.equal(400);

      const opened = await postConsultation(app, agency, {
        title: "Dự thảo",
        summary: "Tên điều lạ",
        sections,
        opensAt: now,
        closesAt: now + 60,
      });
      expect(opened.statusCode, opened.body).to.equal(201);
      const id = opened.json().id as number;

      for (const [i, section] of INHERITED.entries()) {
        for (const citizen of ["a", "b"]) {
          const r = await app.inject({
            method: "POST",
            url: `/api/consultations/${id}/opinions`,
            headers: bearer(await devToken(app, `citizen-${citizen}`)),
            payload: { section, stance: i % 2 === 0 ? "agree" : "disagree", text: section },
          });
          expect(r.statusCode, r.body).to.equal(201);
        }
      }
      const csv = `section,stance,text,collectedAt,location\n${INHERITED.map((s) => `${s},neutral,${s},${now},Xã A`).join("\n")}\n`;
      const imported = await importCsv(app, agency, id, csv);
      expect(imported.statusCode, imported.body).to.equal(201);

      // past closesAt, on the service's clock and on the chain's
      clock.offset += 120_000;
      await advanceChainTime(chain.node.url, 120);
      const closed = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/close`,
        headers: bearer(agency),
      });
      expect(closed.statusCode, closed.body).to.equal(200);
      const tally = closed.json().document as TallyDocument;
      expect(Object.keys(tally.sections)).to.have.members(INHERITED);
      for (const [i, section] of INHERITED.entries()) {
        const counts = tally.sections[section]!;
        expect(counts.online, section).to.deep.equal(
          i % 2 === 0 ? { agree: 2, disagree: 0, neutral: 0 } : { agree: 0, disagree: 2, neutral: 0 },
        );
        expect(counts.offline, section).to.deep.equal({ agree: 0, disagree: 0, neutral: 1 });
      }
      const served = await app.inject({ method: "GET", url: `/api/consultations/${id}/tally` });
      expect(served.json()).to.deep.equal(closed.json());
    });
  });
});
