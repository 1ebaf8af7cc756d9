/**
 * Nothing lands past the final head, and a withheld text leaves the stored receipts: through the ingest queue and
 * the service's routes, on a real SQLite file and a real local Hardhat node.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  draftHash,
  ed25519NoteKey,
  type Receipt,
  verifyReceipt,
  WITHHELD_SALT,
} from "../../protocol/index.ts";
import { ManualClock, OffsetClock } from "../../server/clock.ts";
import { Ingest } from "../../server/ingest.ts";
import { SqliteStore } from "../../server/store/index.ts";
import { devToken, receiptLog, rpc, testApp, testChain, testConfig, tmpSqlite } from "./helpers.ts";
import { bearer, DRAFT, giveOpinion, importCsv, openConsultation, withhold } from "./requests.ts";

describe("closing: the ingest queue", () => {
  const closesAt = Date.UTC(2026, 0, 2) / 1000;
  let store: SqliteStore;
  let clock: ManualClock;
  let ingest: Ingest;

  beforeEach(async () => {
    store = new SqliteStore(tmpSqlite());
    await store.migrate();
    const sections = DRAFT.sections;
    await store.createConsultation(
      {
        id: 1,
        agency: "bo-tu-phap",
        title: DRAFT.title,
        summary: DRAFT.summary,
        opensAt: closesAt - 86_400,
        closesAt,
        createdAt: 1,
        draftVersion: 1,
      },
      {
        consultationId: 1,
        version: 1,
        hash: draftHash(DRAFT),
        ...DRAFT,
        sections,
        txHash: null,
        createdAt: 1,
      },
    );
    clock = new ManualClock(closesAt * 1000 - 1);
    ingest = new Ingest({
      store,
      clock,
      checkpointKey: (id) => ed25519NoteKey(`test.example/logs/${id}`, new Uint8Array(32).fill(3)),
      maxAnchorDelayMs: 300_000,
      groupCommitMax: 64,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  /** `at`: when an offline opinion was collected (an online one carries its batch's time). */
  const opinion = (channel: "online" | "offline", at: number) => ({
    kind: "opinion" as const,
    draftVersion: 1,
    section: "dieu-1",
    stance: "agree" as const,
    text: "ý kiến",
    author: `0x${"ab".repeat(32)}` as const,
    channel,
    collectedAt: channel === "offline" ? at : null,
    subjectKey: "subject",
    idempotencyKey: null,
  });

  it("refuses an online opinion that passed the route's check but is committed at closesAt", async () => {
    // the route checked the schedule before closesAt; the batch is built once the clock has reached it
    const late = ingest.submit(1, opinion("online", clock.now()));
    clock.set(closesAt * 1000);
    const e = await late.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).to.include({ statusCode: 409, code: "closed" });
    expect((await store.getConsultation(1))?.treeSize).to.equal(0);
    // an offline opinion collected before closesAt still imports after it, until the close procedure starts
    await ingest.submit(1, opinion("offline", closesAt * 1000 - 5_000));
    expect((await store.getConsultation(1))?.treeSize).to.equal(1);
  });
});

describe("closing: through the service", function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let nodeUrl: string;
  const clock = new OffsetClock();

  before(async () => {
    const chain = await testChain();
    nodeUrl = chain.node.url;
    app = await testApp(testConfig(chain, { TX_TIMEOUT: "1" }), { startAnchorer: false, clock });
  });
  after(async () => {
    await rpc(nodeUrl, "evm_setAutomine", [true]).catch(() => {});
    await rpc(nodeUrl, "evm_mine").catch(() => {});
    await app?.close();
  });

  it("refuses CSV imports and withholdings once close has started, while the final head is still pending", async () => {
    const agency = await devToken(app, "officer-closing", "agency", "bo-tu-phap");
    const citizen = await devToken(app, "citizen-closing");
    const id = await openConsultation(app, agency, 60);
    const given = await giveOpinion(app, citizen, id, {
      section: "dieu-1",
      stance: "agree",
      text: "trước khi đóng",
    });
    expect(given.statusCode, given.body).to.equal(201);
    const collectedAt = Math.floor(clock.now() / 1000);

    // past closesAt; the chain mines nothing, so close() stops with the final head's transaction pending
    clock.offset = 120_000;
    await rpc(nodeUrl, "evm_setAutomine", [false]);
    const close = await app.inject({
      method: "POST",
      url: `/api/consultations/${id}/close`,
      headers: bearer(agency),
    });
    expect(close.statusCode, close.body).to.equal(503);

    const imported = await importCsv(
      app,
      agency,
      id,
      `section,stance,text,collectedAt,location\ndieu-2,disagree,giấy,${collectedAt},Hà Nội\n`,
    );
    expect(imported.statusCode, imported.body).to.equal(409);
    expect(imported.json()).to.include({ error: "closed" });
    const withheld = await withhold(app, agency, id, 0);
    expect(withheld.statusCode, withheld.body).to.equal(409);
    expect(withheld.json()).to.include({ error: "closed" });
    const c = await app.inject({ method: "GET", url: `/api/consultations/${id}/log/head` });
    expect(c.json().treeSize).to.equal(1);
  });
});

describe("withholding: the stored receipt", function () {
  this.timeout(120_000);
  let app: FastifyInstance;

  before(async () => {
    app = await testApp(testConfig(await testChain()), { startAnchorer: false });
  });
  after(async () => {
    await app?.close();
  });

  it("no longer holds the text or salt: /api/me/opinions and a replay serve it redacted, still verifiable", async () => {
    const agency = await devToken(app, "officer-withhold", "agency", "bo-tu-phap");
    const citizen = await devToken(app, "citizen-withhold");
    const id = await openConsultation(app, agency);
    const give = () =>
      giveOpinion(
        app,
        citizen,
        id,
        { section: "dieu-1", stance: "disagree", text: "số điện thoại của tôi là 0912 345 678" },
        "once",
      );
    const first = await give();
    expect(first.statusCode, first.body).to.equal(201);
    const original = first.json() as Receipt;
    const w = await withhold(app, agency, id, original.leafIndex);
    expect(w.statusCode, w.body).to.equal(201);

    const redacted = { ...original, text: "", salt: WITHHELD_SALT };
    const replay = await give();
    expect(replay.statusCode).to.equal(201);
    expect(replay.json()).to.deep.equal(redacted);
    const mine = await app.inject({ method: "GET", url: "/api/me/opinions", headers: bearer(citizen) });
    expect(mine.json().receipts).to.deep.equal([redacted]);
    expect(mine.body).to.not.contain("0912");
    const check = verifyReceipt(redacted, [], await receiptLog(app, id));
    expect(check.valid).to.equal(true);
    expect(check.steps.map((s) => [s.step, s.ok])).to.deep.include(["contentHash", null]);
  });
});
