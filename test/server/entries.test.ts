/**
 * What the service writes into a consultation's log, read back the way anyone reads it (the log API): citizens,
 * officers and offline rows have pseudonyms from separate namespaces, and every time in an entry is published to
 * the second (so a stranger watching the network cannot match a request to its leaf by the millisecond), inside
 * the consultation's opensAt..closesAt. Real Hardhat node, real SQLite, the service's clock moved by the test.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  decodeEntry,
  type Entry,
  ed25519NoteKey,
  formatTime,
  type ModerationEntry,
  type OpinionEntry,
  parseTime,
  type Receipt,
} from "../../protocol/index.ts";
import { ManualClock } from "../../server/clock.ts";
import { Ingest } from "../../server/ingest.ts";
import { SqliteStore } from "../../server/store/index.ts";
import { devToken, testApp, testChain, testConfig, tmpSqlite } from "./helpers.ts";
import { DRAFT, giveOpinion, importCsv, openConsultation, withhold } from "./requests.ts";

const CSV_HEADER = "section,stance,text,collectedAt,location";

describe("entries the service writes", function () {
  this.timeout(120_000);
  const clock = new ManualClock(Date.now());
  let app: FastifyInstance;
  let store: SqliteStore;
  let agency: string;

  before(async () => {
    const chain = await testChain();
    store = new SqliteStore(tmpSqlite());
    await store.migrate();
    app = await testApp(testConfig(chain), { clock, store, startAnchorer: false });
    agency = await devToken(app, "officer-entries", "agency", "bo-tu-phap");
  });
  after(async () => {
    await app?.close();
    await store?.close();
  });

  async function entryAt(id: number, index: number): Promise<Entry> {
    const r = await app.inject({
      method: "GET",
      url: `/api/consultations/${id}/log/entries?start=${index}&end=${index + 1}`,
    });
    expect(r.statusCode, r.body).to.equal(200);
    return decodeEntry((r.json() as { entries: { leaf: string }[] }).entries[0]!.leaf);
  }

  /** The dev IdP stamps tokens with the service's clock: mint them before the test moves it. */
  const citizen = (sub: string) => devToken(app, sub);

  async function opinion(id: number, token: string, section = "dieu-1"): Promise<OpinionEntry> {
    const r = await giveOpinion(app, token, id, { section, stance: "agree", text: "an opinion" });
    expect(r.statusCode, r.body).to.equal(201);
    return decodeEntry((r.json() as Receipt).entry) as OpinionEntry;
  }

  async function importRows(id: number, csv: string): Promise<number[]> {
    const r = await importCsv(app, agency, id, csv);
    expect(r.statusCode, r.body).to.equal(201);
    return (r.json() as { leafIndices: number[] }).leafIndices;
  }

  async function withholdEntry(id: number, index: number): Promise<number> {
    const r = await withhold(app, agency, id, index);
    expect(r.statusCode, r.body).to.equal(201);
    return (r.json() as { index: number }).index;
  }

  async function windowOf(id: number): Promise<{ opensMs: number; closesMs: number }> {
    const c = (await app.inject({ method: "GET", url: `/api/consultations/${id}` })).json() as {
      opensAt: number;
      closesAt: number;
    };
    return { opensMs: c.opensAt * 1000, closesMs: c.closesAt * 1000 };
  }

  it("never gives a citizen the pseudonym of an offline row or of an officer", async () => {
    clock.set(Date.now());
    const id = await openConsultation(app, agency);
    const csv = `${CSV_HEADER}\r\ndieu-1,agree,collected at a meeting,${Math.floor(clock.now() / 1000)},Xã A\r\n`;
    const [offlineIndex] = await importRows(id, csv);
    const offline = (await entryAt(id, offlineIndex!)) as OpinionEntry;
    // the identity provider may issue any subject, including the one the offline row is keyed by
    const csvHash = createHash("sha256").update(csv).digest("hex");
    const lookalike = await opinion(id, await citizen(`offline:${csvHash}:2`));
    expect(lookalike.author).to.not.equal(offline.author);
    expect(lookalike.replaces, "a citizen's opinion replaced an offline row").to.equal(null);

    const moderation = (await entryAt(id, await withholdEntry(id, offlineIndex!))) as ModerationEntry;
    const officerLookalike = await opinion(id, await citizen("officer:officer-entries"), "dieu-2");
    expect(officerLookalike.author).to.not.equal(moderation.by);
  });

  it("publishes entry times floored to the second, inside opensAt..closesAt, and keeps the exact time private", async () => {
    clock.set(Date.now());
    const id = await openConsultation(app, agency);
    const { opensMs, closesMs } = await windowOf(id);
    const [early, late] = [await citizen("early-citizen"), await citizen("late-citizen")];

    clock.set(opensMs + 999);
    const first = await opinion(id, early);
    expect(first.submittedAt).to.equal(formatTime(opensMs));

    clock.set(closesMs - 1);
    const last = await opinion(id, late);
    expect(last.submittedAt).to.equal(formatTime(closesMs - 1000));

    const [offlineIndex] = await importRows(
      id,
      `${CSV_HEADER}\r\ndieu-2,neutral,,${formatTime(opensMs + 1456)},Xã B\r\n`,
    );
    const offline = (await entryAt(id, offlineIndex!)) as OpinionEntry;
    expect(offline.submittedAt).to.equal(formatTime(opensMs + 1000));

    const moderation = (await entryAt(id, await withholdEntry(id, offlineIndex!))) as ModerationEntry;
    expect(moderation.at).to.equal(formatTime(closesMs - 1000));

    for (const t of [first.submittedAt, last.submittedAt, offline.submittedAt, moderation.at]) {
      expect(t.endsWith(".000Z"), t).to.equal(true);
      expect(parseTime(t)).to.be.within(opensMs, closesMs - 1);
    }
    // operations (backlog, overdue anchoring) still see when each entry was accepted, to the millisecond
    const rows = await store.getEntries(id, 0, 2);
    expect(rows.map((r) => r.createdAt)).to.deep.equal([opensMs + 999, closesMs - 1]);
  });

  it("refuses an online opinion whose batch commits at or after closesAt (its time would be out of the window)", async () => {
    clock.set(Date.now());
    const id = await openConsultation(app, agency);
    const { closesMs } = await windowOf(id);
    const late = new ManualClock(closesMs);
    const ingest = new Ingest({
      store,
      clock: late,
      checkpointKey: (id) => ed25519NoteKey(`test.example/logs/${id}`, new Uint8Array(32).fill(3)),
      maxAnchorDelayMs: 60_000,
      groupCommitMax: 100,
    });
    // the route saw the consultation open a moment ago; the batch commits at closesAt
    const submission = {
      kind: "opinion" as const,
      draftVersion: 1,
      section: DRAFT.sections[0]!.id,
      stance: "agree" as const,
      text: "just in time?",
      author: `0x${"ab".repeat(32)}` as const,
      channel: "online" as const,
      collectedAt: null,
      subjectKey: "subject-key",
      idempotencyKey: null,
    };
    const outcome = await ingest.submit(id, submission).then(
      (a) => a,
      (e: unknown) => e,
    );
    expect(outcome).to.have.property("statusCode", 409);
    expect(outcome).to.have.property("code", "closed");
    expect((await store.getConsultation(id))?.treeSize).to.equal(0);
  });
});
