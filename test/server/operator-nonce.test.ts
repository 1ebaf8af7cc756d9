/**
 * One operator key, many transactions at once: openings of consultations racing each other, the anchorer and a
 * close, in one service instance and across two instances sharing one PostgreSQL database. Signing takes the node's
 * pending nonce, so without serialization two of them would take the same nonce and one would be refused. Real
 * Hardhat node, real SQLite and PostgreSQL.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { advanceChainTime } from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import type { TestChain } from "./helpers.ts";
import {
  devToken,
  dropSchema,
  PG_URL,
  startTestChain,
  tempSchema,
  testApp,
  testChain,
  testConfig,
} from "./helpers.ts";
import { DRAFT, giveOpinion, openConsultation } from "./requests.ts";

describe("transactions of one operator key at the same time", function () {
  this.timeout(120_000);
  let app: FastifyInstance;

  before(async () => {
    const chain = await testChain();
    app = await testApp(testConfig(chain, { ANCHOR_INTERVAL: "200ms" }));
  });
  after(async () => {
    await app?.close();
  });

  it("opens six consultations concurrently while the anchorer runs, each with its own id", async () => {
    const agency = await devToken(app, "officer-nonce", "agency", "bo-tu-phap");
    const citizen = await devToken(app, "citizen-nonce");
    const first = await openConsultation(app, agency);
    // give the anchorer something to send while the openings race
    const opinion = await giveOpinion(app, citizen, first, {
      section: DRAFT.sections[0]!.id,
      stance: "agree",
      text: "ok",
    });
    expect(opinion.statusCode).to.equal(201);
    const ids = await Promise.all(Array.from({ length: 6 }, () => openConsultation(app, agency)));
    expect(new Set(ids).size).to.equal(6);
    expect(Math.min(...ids)).to.be.greaterThan(first);
  });
});

describe("transactions of one operator key from two service instances on one PostgreSQL", function () {
  this.timeout(180_000);
  const pgUrl = PG_URL;
  if (!pgUrl) return missing("PostgreSQL", POSTGRES_HOW);
  const schema = tempSchema("nonce");
  // closing time comes by moving both instances' clock and this file's own chain together
  const clock = new OffsetClock();
  let chain: TestChain;
  let a: FastifyInstance;
  let b: FastifyInstance;

  before(async () => {
    chain = await startTestChain();
    const config = testConfig(chain, {
      DATABASE_URL: pgUrl,
      DATABASE_SCHEMA: schema,
      ANCHOR_INTERVAL: "100ms",
    });
    a = await testApp(config, { clock });
    b = await testApp(config, { clock }); // same secrets, same database, same operator keys
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await chain?.node.stop();
    await dropSchema(pgUrl, schema);
  });

  const post = (app: FastifyInstance, url: string, token: string, payload?: object) =>
    app.inject({ method: "POST", url, headers: { authorization: `Bearer ${token}` }, payload });

  it("a close racing an anchoring round and openings on the other instance never take a used nonce", async () => {
    const rounds = 2;
    const opinions = 10;
    // tokens are dated by the service's clock and checked against the real one: issued before it moves
    const agencyA = await devToken(a, "officer-nonce-a", "agency", "bo-tu-phap");
    const agencyB = await devToken(b, "officer-nonce-b", "agency", "bo-tu-phap");
    const citizens = await Promise.all(
      Array.from({ length: rounds * opinions }, (_, i) =>
        devToken(i % 2 === 0 ? a : b, `nonce-citizen-${i}`),
      ),
    );
    for (let round = 0; round < rounds; round++) {
      const closesAt = Math.floor(clock.now() / 1000) + 3600;
      const opened = await post(a, "/api/consultations", agencyA, { ...DRAFT, opensAt: 0, closesAt });
      expect(opened.statusCode, opened.body).to.equal(201);
      const closing = (opened.json() as { id: number }).id;
      // opinions through both instances, for the anchorer to send while the close runs
      await Promise.all(
        Array.from({ length: opinions }, async (_, i) => {
          const r = await post(
            i % 2 === 0 ? a : b,
            `/api/consultations/${closing}/opinions`,
            citizens[round * opinions + i]!,
            { section: DRAFT.sections[i % 3]!.id, stance: "agree", text: `round ${round}` },
          );
          expect(r.statusCode, r.body).to.equal(201);
        }),
      );
      await advanceChainTime(chain.node.url, 3601);
      clock.offset += 3601_000;
      const reopensAt = Math.floor(clock.now() / 1000) + 3600;
      const [closed, ...openings] = await Promise.all([
        post(b, `/api/consultations/${closing}/close`, agencyB),
        ...Array.from({ length: 6 }, (_, i) =>
          post(i % 2 === 0 ? a : b, "/api/consultations", i % 2 === 0 ? agencyA : agencyB, {
            ...DRAFT,
            title: `Race ${round}-${i}`,
            opensAt: 0,
            closesAt: reopensAt,
          }),
        ),
      ]);
      expect(closed!.statusCode, closed!.body).to.equal(200);
      expect(closed!.json().document.treeSize).to.equal(opinions);
      for (const r of openings) expect(r.statusCode, r.body).to.equal(201);
      const ids = openings.map((r) => (r.json() as { id: number }).id);
      expect(new Set(ids).size).to.equal(ids.length);
    }
  });
});
