/**
 * The group commit (server/ingest.ts) on each store engine, a real SQLite file and a real PostgreSQL schema: what a
 * batch costs in database round trips (the store's own count, as /metrics reports it), and what its opinions say of
 * each other and of the committed log (`replaces`, idempotent retries, withholding in the same batch, a batch rebuilt
 * after another instance appended).
 */
import { expect } from "chai";
import {
  decodeEntry,
  draftHash,
  ed25519NoteKey,
  MerkleLog,
  type OpinionEntry,
  type Receipt,
  verifyReceipt,
} from "../../protocol/index.ts";
import { ManualClock } from "../../server/clock.ts";
import { type Accepted, Ingest, type OpinionSubmission } from "../../server/ingest.ts";
import { ReadingIndexer } from "../../server/reading.ts";
import { Consultations } from "../../server/routes/context.ts";
import { type Hex, PostgresStore, SqliteStore, type Store } from "../../server/store/index.ts";
import { dropSchema, PG_URL, storeBackends, tempSchema, tmpSqlite } from "./helpers.ts";
import { DRAFT } from "./requests.ts";

const ID = 1;
const CLOSES_AT = 2_000_000_000;
const BATCH = 64;
/**
 * Round trips of one batch of opinions on PostgreSQL (up to 2,000 of them): the prefetch (2, run together) and the
 * append transaction (BEGIN; the size update and the rows of every table in one statement; COMMIT). Per-opinion
 * lookups made it 93 for this test's batch.
 */
const POSTGRES_BATCH_TRIPS = 5;

const author = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

function opinion(who: number, section: string, over: Partial<OpinionSubmission> = {}): OpinionSubmission {
  return {
    kind: "opinion",
    draftVersion: 1,
    section,
    stance: "agree",
    text: `ý kiến của ${who} về ${section}`,
    author: author(who),
    channel: "online",
    collectedAt: null,
    subjectKey: `subject-${who}`,
    idempotencyKey: null,
    ...over,
  };
}

const receiptOf = (a: Accepted): Receipt => JSON.parse(a.receiptJson!) as Receipt;
const entryOf = (a: Accepted): OpinionEntry => decodeEntry(receiptOf(a).entry) as OpinionEntry;

async function seed(store: Store): Promise<void> {
  await store.createConsultation(
    {
      id: ID,
      agency: "bo-tu-phap",
      title: DRAFT.title,
      summary: DRAFT.summary,
      opensAt: CLOSES_AT - 86_400 * 30,
      closesAt: CLOSES_AT,
      createdAt: 1,
      draftVersion: 1,
    },
    {
      consultationId: ID,
      version: 1,
      hash: draftHash(DRAFT),
      ...DRAFT,
      txHash: null,
      createdAt: 1,
    },
  );
}

for (const backend of storeBackends((b) => `ingest: group commit (${b})`)) {
  describe(`ingest: group commit (${backend})`, () => {
    let store: Store;
    /** Another instance on the same database. */
    let other: Store;
    let drop = async (): Promise<void> => {};
    /** Entries per commit of the Ingests below, in commit order. */
    let commits: number[];
    const clock = new ManualClock(CLOSES_AT * 1000 - 3_600_000);

    const checkpointKey = (id: number) =>
      ed25519NoteKey(`test.example/logs/${id}`, new Uint8Array(32).fill(9));
    const ingestOn = (s: Store) =>
      new Ingest({
        store: s,
        clock,
        checkpointKey,
        maxAnchorDelayMs: 300_000,
        groupCommitMax: BATCH,
        onCommit: (_id, count) => commits.push(count),
      });

    beforeEach(async () => {
      commits = [];
      if (backend === "postgres") {
        const schema = tempSchema("ingest");
        store = new PostgresStore(PG_URL!, schema);
        other = new PostgresStore(PG_URL!, schema);
        drop = () => dropSchema(PG_URL!, schema);
      } else {
        const file = tmpSqlite();
        // as the service runs it: the append transaction in the writer thread
        store = new SqliteStore(file, { writerThread: true });
        other = new SqliteStore(file);
      }
      await store.migrate();
      await seed(store);
    });
    afterEach(async () => {
      await other.close();
      await store.close();
      await drop();
    });

    it(`commits ${BATCH} opinions in one batch, looking nothing up per opinion`, async () => {
      const ingest = ingestOn(store);
      // earlier opinions of half the authors: the batch below replaces them
      const earlier = await Promise.all(
        Array.from({ length: BATCH / 2 }, (_, k) => ingest.submit(ID, opinion(k, "dieu-1"))),
      );
      const before = store.roundTrips();
      const batch = await Promise.all(
        Array.from({ length: BATCH }, (_, k) =>
          ingest.submit(ID, opinion(k, "dieu-1", { idempotencyKey: k % 3 === 0 ? `key-${k}` : null })),
        ),
      );
      const trips = store.roundTrips() - before;
      expect(commits).to.deep.equal([BATCH / 2, BATCH]);
      batch.forEach((a, k) => {
        expect(a.index).to.equal(BATCH / 2 + k);
        expect(entryOf(a).replaces, `opinion ${k}`).to.equal(k < BATCH / 2 ? earlier[k]!.index : null);
      });
      // SQLite counts a statement per row written (entries, receipts, under 2 tree nodes per leaf); the lookups of
      // its opinions one by one came to 5.4 per opinion
      const bound = backend === "postgres" ? POSTGRES_BATCH_TRIPS : 5 * BATCH;
      console.log(`      round trips of a batch of ${BATCH} opinions (${backend}): ${trips}`);
      expect(trips).to.be.at.most(bound);
    });

    it("reads the consultation and its draft once for the opinions arriving together, not once each", async () => {
      const consultations = new Consultations(store, clock);
      const before = store.roundTrips();
      const read = await Promise.all(Array.from({ length: BATCH }, () => consultations.withDraft(ID)));
      expect(store.roundTrips() - before).to.equal(2);
      expect(new Set(read.map((r) => r.draft.hash))).to.deep.equal(new Set([draftHash(DRAFT)]));
      clock.set(clock.now() + 1000); // a second later the consultation is read again (it may have closed)
      await consultations.withDraft(ID);
      expect(store.roundTrips() - before).to.equal(4);
      const unknown = await consultations.withDraft(404).catch((e: unknown) => e);
      expect(unknown).to.include({ statusCode: 404 });
      // a failed read is not kept: the next request reads again
      expect(await consultations.withDraft(404).catch((e: unknown) => e)).to.include({ statusCode: 404 });
      expect(store.roundTrips() - before).to.equal(6);
    });

    it("indexes a batch for reading in statements that do not grow with its opinions (PostgreSQL)", async function () {
      if (backend !== "postgres") return this.skip(); // SQLite counts a statement per row its bulk inserts write
      const ingest = ingestOn(store);
      const indexer = new ReadingIndexer({ store, log: { warn: () => {} } });
      const text = (k: number) =>
        `Tôi đề nghị làm rõ điều khoản này để người dân dễ thực hiện, ý kiến số ${k}.`;
      const trips: number[] = [];
      for (let round = 0; round < 2; round++) {
        // the second round replaces every opinion of the first: removed readings, campaigns that grow
        await Promise.all(
          Array.from({ length: BATCH }, (_, k) => ingest.submit(ID, opinion(k, "dieu-1", { text: text(k) }))),
        );
        const before = store.roundTrips();
        await indexer.catchUp(ID);
        trips.push(store.roundTrips() - before);
      }
      console.log(
        `      round trips of a reading step of ${BATCH} opinions, then of their replacements: ${trips}`,
      );
      expect(await store.readingProgress(ID)).to.equal(2 * BATCH);
      const stats = await store.readingStats(ID);
      expect(stats.sections["dieu-1"]?.total).to.equal(BATCH);
      for (const t of trips) expect(t).to.be.at.most(30);
    });

    it("chains `replaces` inside one batch and across batches, per author and section", async () => {
      const ingest = ingestOn(store);
      const first = await Promise.all([
        ingest.submit(ID, opinion(1, "dieu-1")),
        ingest.submit(ID, opinion(2, "dieu-1")),
        ingest.submit(ID, opinion(1, "dieu-1")),
        ingest.submit(ID, opinion(1, "dieu-2")),
        ingest.submit(ID, opinion(1, "dieu-1")),
      ]);
      expect(commits).to.deep.equal([5]);
      expect(first.map((a) => entryOf(a).replaces)).to.deep.equal([null, null, 0, null, 2]);
      const next = await Promise.all([
        ingest.submit(ID, opinion(1, "dieu-1")),
        ingest.submit(ID, opinion(1, "dieu-2")),
        ingest.submit(ID, opinion(2, "dieu-2")),
      ]);
      expect(next.map((a) => [a.index, entryOf(a).replaces])).to.deep.equal([
        [5, 4],
        [6, 3],
        [7, null],
      ]);
    });

    it("gives a retry the first receipt: racing it, in a later batch, and through another instance", async () => {
      const ingest = ingestOn(store);
      const once = opinion(3, "dieu-1", { idempotencyKey: "retried" });
      const [a, b] = await Promise.all([ingest.submit(ID, once), ingest.submit(ID, once)]);
      expect(b).to.deep.equal(a);
      const later = await Promise.all([ingest.submit(ID, once), ingest.submit(ID, opinion(4, "dieu-1"))]);
      expect(later[0]).to.deep.equal(a);
      expect(later[1]!.index).to.equal(1);
      const elsewhere = await ingestOn(other).submit(ID, once);
      expect(receiptOf(elsewhere)).to.deep.equal(receiptOf(a));
      expect((await store.getConsultation(ID))!.treeSize).to.equal(2);
    });

    it("withholds an opinion in its own batch and one committed before, redacting their receipts", async () => {
      const ingest = ingestOn(store);
      const committed = await ingest.submit(ID, opinion(5, "dieu-1", { idempotencyKey: "committed" }));
      const [fresh, ofFresh, ofCommitted] = await Promise.all([
        ingest.submit(ID, opinion(6, "dieu-1", { idempotencyKey: "fresh" })),
        ingest.submit(ID, { kind: "moderation", target: 1, reason: "personal-data", by: author(99) }),
        ingest.submit(ID, { kind: "moderation", target: 0, reason: "personal-data", by: author(99) }),
      ]);
      expect(commits).to.deep.equal([1, 3]);
      expect([fresh.index, ofFresh.index, ofCommitted.index]).to.deep.equal([1, 2, 3]);
      const entries = await store.getEntries(ID, 0, 4);
      expect(entries.map((e) => [e.withheld, e.text])).to.deep.equal([
        [true, null],
        [true, null],
        [false, null],
        [false, null],
      ]);
      for (const key of ["committed", "fresh"]) {
        expect((JSON.parse((await store.getIdempotent(key))!) as Receipt).text, key).to.equal("");
      }
      expect(receiptOf(committed).text).to.not.equal("");
    });

    /**
     * What a citizen checks of each receipt: it verifies (checkpoint signature, inclusion proof) and its checkpoint's
     * root is the stored log's at that size.
     */
    async function expectReceiptsOfTheStoredLog(accepted: readonly Accepted[]): Promise<void> {
      const log = { originPrefix: "test.example/logs", publicKey: checkpointKey(ID).publicKey };
      const committed = await MerkleLog.open(
        store.treeStore(ID),
        (await store.getConsultation(ID))!.treeSize,
      );
      for (const a of accepted) {
        const check = verifyReceipt(receiptOf(a), [], log);
        expect(check.valid, JSON.stringify(check.steps)).to.equal(true);
        expect(check.checkpoint!.rootHash, `receipt ${a.index}`).to.equal(
          await committed.root(check.checkpoint!.size),
        );
      }
    }

    it("pipelines batches: the next is built while one commits, its `replaces` and proofs on top of it", async () => {
      const ingest = ingestOn(store);
      // more than a batch at once: the second is built on the first before the first has committed
      const accepted = await Promise.all(
        Array.from({ length: BATCH + 20 }, (_, k) =>
          ingest.submit(ID, opinion(k % 2 === 0 ? 1 : 100 + k, "dieu-1")),
        ),
      );
      expect(commits).to.deep.equal([BATCH, 20]);
      expect(accepted.map((a) => a.index)).to.deep.equal(accepted.map((_, k) => k));
      // author 1's opinions (every even one) each replace the one before, across the two batches too
      accepted.forEach((a, k) => {
        expect(entryOf(a).replaces, `opinion ${k}`).to.equal(k % 2 === 0 && k > 0 ? k - 2 : null);
      });
      await expectReceiptsOfTheStoredLog(accepted);
    });

    it("builds a batch again when the one it was built on met a conflict: in order, nothing lost", async () => {
      const mine = ingestOn(store);
      await mine.submit(ID, opinion(1, "dieu-1")); // this instance's log is cached at size 1
      const theirs = await ingestOn(other).submit(ID, opinion(1, "dieu-1"));
      expect(theirs.index).to.equal(1);
      // two batches, the second built on the first, which is refused (stale size): both are built again after
      // the other instance's entry
      const accepted = await Promise.all(
        Array.from({ length: BATCH + 20 }, (_, k) =>
          mine.submit(ID, opinion(k % 2 === 0 ? 1 : 100 + k, "dieu-1")),
        ),
      );
      expect(commits).to.deep.equal([1, 1, BATCH, 20]);
      expect(accepted.map((a) => a.index)).to.deep.equal(accepted.map((_, k) => 2 + k));
      expect(entryOf(accepted[0]!).replaces).to.equal(theirs.index);
      expect(entryOf(accepted[BATCH]!).replaces).to.equal(BATCH); // the first batch's last of author 1 (k = 62)
      expect((await store.getConsultation(ID))!.treeSize).to.equal(2 + BATCH + 20);
      await expectReceiptsOfTheStoredLog(accepted);
    });

    it("rebuilds a batch after another instance appended: its index and `replaces` follow the other's entry", async () => {
      const mine = ingestOn(store);
      const first = await mine.submit(ID, opinion(7, "dieu-1"));
      // the other instance appends behind this one's cached log, an opinion of the same author and section
      const theirs = await ingestOn(other).submit(ID, opinion(7, "dieu-1", { idempotencyKey: "theirs" }));
      expect(entryOf(theirs).replaces).to.equal(first.index);
      const [again, retried] = await Promise.all([
        mine.submit(ID, opinion(7, "dieu-1")),
        mine.submit(ID, opinion(8, "dieu-1", { idempotencyKey: "theirs" })),
      ]);
      // the first attempt was refused (stale size); the rebuilt batch saw the other's entry and its key
      expect([again.index, entryOf(again).replaces]).to.deep.equal([2, theirs.index]);
      expect(receiptOf(retried)).to.deep.equal(receiptOf(theirs));
      expect(commits).to.deep.equal([1, 1, 1]);
      expect((await store.getConsultation(ID))!.treeSize).to.equal(3);
    });
  });
}
