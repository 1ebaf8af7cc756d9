/**
 * One operator key, many transactions at once: openings of consultations racing each other and the
 * anchorer. Signing takes the node's pending nonce, so without serialization two of them would take the
 * same nonce and one would be refused. Real Hardhat node, real SQLite.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { DRAFT, devToken, openConsultation, testApp, testChain, testConfig } from "./helpers.ts";

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
    const opinion = await app.inject({
      method: "POST",
      url: `/api/consultations/${first}/opinions`,
      headers: { authorization: `Bearer ${citizen}` },
      payload: { section: DRAFT.sections[0]!.id, stance: "agree", text: "ok" },
    });
    expect(opinion.statusCode).to.equal(201);
    const ids = await Promise.all(Array.from({ length: 6 }, () => openConsultation(app, agency)));
    expect(new Set(ids).size).to.equal(6);
    expect(Math.min(...ids)).to.be.greaterThan(first);
  });
});
