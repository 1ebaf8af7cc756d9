/**
 * One conformance suite, run against every store backend (a real SQLite file, with and without the writer thread,
 * and a real PostgreSQL schema). Every test opens a fresh, migrated store of its own and sets up its own state.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { expect } from "chai";
import pg from "pg";
import {
  CountedMap,
  type CountedUpdate,
  contentHash,
  countedKey,
  entryString,
  formatTime,
  leafHash,
  MemoryCountedStore,
  MerkleLog,
  receiptKeyFromSeed,
  signReceipt,
  utf8Encode,
  verifyCountedProof,
  verifyInclusion,
  verifyReceipt,
  WITHHELD_SALT,
} from "../../protocol/index.ts";
import { ServiceError } from "../../server/errors.ts";
import { foldWords, simhash, simhashBands } from "../../server/reading.ts";
import type {
  DraftRecord,
  Hex,
  NewDraftIntent,
  NewModerationEntry,
  NewOpinionEntry,
  Store,
} from "../../server/store/index.ts";
import {
  newModerationEntry,
  PostgresStore,
  SqliteStore,
  StoreConflictError,
} from "../../server/store/index.ts";
import { connectionOptions } from "../../server/store/postgres.ts";
import { createBareConsultation, writeReadingStep } from "../support/readings.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { dropSchema } from "./helpers.ts";

const h = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const receiptKey = receiptKeyFromSeed(new Uint8Array(32).fill(5));
/** closesAt of the consultations below (Unix seconds), and a time before it (ms). */
const CLOSES_AT = 2_000_000_000;
const BEFORE_CLOSE = CLOSES_AT * 1000 - 60_000;

/** An opinion at `index` of consultation `id`, with a really signed receipt. */
function opinion(id: number, index: number, over: Partial<NewOpinionEntry> = {}): NewOpinionEntry {
  const text = over.text ?? `ý kiến ${index} '; DROP TABLE entries; -- <script>`;
  const salt = over.salt ?? h(index + 1);
  const author = over.author ?? h(1000 + (index % 3));
  const section = over.section ?? `s${index % 2}`;
  const leaf = entryString({
    v: 1,
    type: "opinion",
    consultation: String(id),
    draftVersion: 1,
    section,
    stance: "agree",
    contentHash: contentHash(salt, text),
    author,
    channel: over.channel ?? "online",
    submittedAt: formatTime(BEFORE_CLOSE),
    replaces: null,
  });
  const lh = leafHash(utf8Encode(leaf));
  const receipt = signReceipt(
    {
      consultation: String(id),
      leafIndex: index,
      leafHash: lh,
      entry: leaf,
      text,
      salt,
      issuedAt: formatTime(BEFORE_CLOSE),
      anchorDeadline: formatTime(BEFORE_CLOSE + 300_000),
    },
    receiptKey,
  );
  return {
    leaf,
    leafHash: lh,
    kind: "opinion",
    channel: "online",
    author,
    section,
    text,
    salt,
    createdAt: BEFORE_CLOSE + index,
    subjectKey: `subj-${index % 3}`,
    idempotencyKey: null,
    receipt: JSON.stringify(receipt),
    withholdTarget: null,
    ...over,
  };
}

function withholding(id: number, target: number, over: Partial<NewModerationEntry> = {}): NewModerationEntry {
  const leaf = entryString({
    v: 1,
    type: "moderation",
    consultation: String(id),
    target,
    action: "withhold-text",
    reason: "personal-data",
    by: h(77),
    at: formatTime(BEFORE_CLOSE),
  });
  return { ...newModerationEntry(leaf, leafHash(utf8Encode(leaf)), target, BEFORE_CLOSE), ...over };
}

function draft(id: number, version: number, hash = h(version)): DraftRecord {
  return {
    consultationId: id,
    version,
    hash,
    title: `Dự thảo ${version}`,
    summary: "Tóm tắt",
    sections: [
      { id: "d1", title: "Điều 1", text: "Nội dung" },
      { id: "d2", title: "Điều 2", text: "Nội dung 2" },
    ],
    txHash: h(99),
    createdAt: 5,
  };
}

async function newConsultation(store: Store, id: number, createdAt = 10 + id): Promise<void> {
  await store.createConsultation(
    {
      id,
      agency: "bo-tu-phap",
      title: "Dự thảo 1",
      summary: "Tóm tắt",
      opensAt: 100,
      closesAt: CLOSES_AT,
      createdAt,
      draftVersion: 1,
    },
    draft(id, 1),
  );
}

function draftIntent(over: Partial<NewDraftIntent> = {}): NewDraftIntent {
  return {
    kind: "open",
    consultationId: null,
    agency: "bo-tu-phap",
    hash: h(500),
    title: "Dự thảo mở",
    summary: "Tóm tắt",
    sections: [{ id: "d1", title: "Điều 1", text: "Nội dung" }],
    opensAt: 100,
    closesAt: CLOSES_AT,
    txHash: h(501),
    rawTx: "0x02ab",
    createdAt: 40,
    ...over,
  };
}

/** Counted map updates for log entries [from, to): `keys` distinct keys, so keys repeat when fewer than entries. */
function countedUpdates(from: number, to: number, keys: number): CountedUpdate[] {
  return Array.from({ length: to - from }, (_, i) => ({
    key: countedKey(h(5000 + ((from + i) % keys)), "d1"),
    leafIndex: from + i,
    leafHash: h(9_000_000 + from + i),
  }));
}

/** Brings consultation `id`'s counted map to `treeSize` with `updates`, as the anchorer does; resolves to the root. */
async function updateCounted(
  store: Store,
  id: number,
  updates: CountedUpdate[],
  treeSize: number,
): Promise<Hex> {
  const session = await store.openCountedUpdate(id);
  const map = await CountedMap.open(session, session.from.treeSize);
  const root = await map.update(updates, treeSize);
  await session.commit({ treeSize, root });
  return root;
}

/** The error a promise (or a call, sync or async) rejects with; fails the test when it resolves. */
async function refusal(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return e;
  }
  throw new Error("expected a refusal");
}

async function expectClosed(p: Promise<unknown>): Promise<void> {
  const e = await refusal(p);
  expect(e, String(e)).to.be.instanceOf(ServiceError);
  expect(e).to.include({ statusCode: 409, code: "closed" });
}

/** Yields to the event loop until the condition holds. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolver, to hold a callback open until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface Opened {
  store: Store;
  /** PostgreSQL: the schema. */
  schema?: string;
  /** Another instance on the same database (not migrated again). */
  another(): Store;
  /** Runs raw SQL on the database (upgrade tests), with `?` placeholders. */
  raw(sql: string, params?: (string | number | null)[]): Promise<void>;
  drop(): Promise<void>;
}

interface Backend {
  name: string;
  /** A fresh database, migrated to `version` (default: the latest). */
  open(version?: number): Promise<Opened>;
  /** What the former per-backend migrations made beyond the shared versions 1 and 2, if anything. */
  former?: string;
}

function conformance(backend: Backend): void {
  describe(`store conformance: ${backend.name}`, () => {
    let db: Opened;
    let store: Store;
    const others: Store[] = [];
    beforeEach(async () => {
      db = await backend.open();
      store = db.store;
    });
    afterEach(async () => {
      for (const o of others.splice(0)) await o.close();
      await store.close();
      await db.drop();
    });
    const another = (): Store => {
      const s = db.another();
      others.push(s);
      return s;
    };

    it("migrates idempotently, answers ping, and not once closed", async () => {
      await store.migrate();
      expect(await store.ping()).to.equal(true);
      const second = another();
      await second.migrate();
      expect(await second.ping()).to.equal(true);
      await second.close();
      others.splice(0);
      expect(await second.ping()).to.equal(false);
    });

    it("upgrades a database of the former migrations (version 2): rows kept, withheld receipts redacted, keys enforced", async () => {
      const old = await backend.open(2);
      try {
        await newConsultation(old.store, 1);
        const kept = opinion(1, 0, { idempotencyKey: "kept" });
        const withheld = opinion(1, 1, { idempotencyKey: "withheld" });
        for (const [index, e, isWithheld] of [
          [0, kept, false],
          [1, withheld, true],
        ] as const) {
          await old.raw(
            `INSERT INTO entries (consultation_id, idx, leaf, leaf_hash, kind, author, section, text, salt, withheld,
                                  created_at)
             VALUES (1, ?, ?, ?, 'opinion', ?, ?, ?, ?, ${isWithheld ? "TRUE" : "FALSE"}, ?)`,
            [
              index,
              e.leaf,
              e.leafHash,
              e.author,
              e.section,
              isWithheld ? null : e.text,
              isWithheld ? null : e.salt,
              e.createdAt,
            ],
          );
          // the former stores kept the withheld opinion's text and salt in its receipt
          await old.raw(
            "INSERT INTO receipts (consultation_id, idx, subject_key, idempotency_key, receipt) VALUES (1, ?, ?, ?, ?)",
            [index, e.subjectKey, e.idempotencyKey, e.receipt],
          );
        }
        await old.raw("UPDATE consultations SET tree_size = 2 WHERE id = 1");
        const intentBefore = await old.store.addIntent({
          consultationId: 1,
          kind: "anchor",
          treeSize: 2,
          rootHash: h(2),
          txHash: h(3),
          rawTx: "0x01",
          createdAt: 1,
        });
        const draftIntentBefore = await old.store.addDraftIntent(draftIntent());
        if (backend.former) await old.raw(backend.former);

        await old.store.migrate();
        expect(await old.store.getConsultation(1)).to.include({ treeSize: 2, closingAt: null });
        expect(await old.store.getIdempotent("kept")).to.equal(kept.receipt);
        expect(JSON.parse((await old.store.getIdempotent("withheld"))!)).to.deep.equal({
          ...JSON.parse(withheld.receipt),
          text: "",
          salt: WITHHELD_SALT,
        });
        expect((await old.store.getEntries(1, 0, 2)).map((e) => e.withheld)).to.deep.equal([false, true]);
        expect((await old.store.pendingIntents()).map((i) => i.id)).to.deep.equal([intentBefore]);
        // ids keep counting from where they were
        const intentAfter = await old.store.addIntent({
          consultationId: 1,
          kind: "anchor",
          treeSize: 2,
          rootHash: h(2),
          txHash: h(4),
          rawTx: "0x01",
          createdAt: 2,
        });
        expect(intentAfter).to.be.greaterThan(intentBefore);
        expect(await old.store.addDraftIntent(draftIntent())).to.be.greaterThan(draftIntentBefore);
        await refusal(old.store.addDraft(draft(404, 2)));
        await old.store.appendEntries(1, 2, [opinion(1, 2)], []);
        await old.store.markClosing(1, 3);
        await expectClosed(old.store.appendEntries(1, 3, [opinion(1, 3)], []));
        await old.store.migrate();
      } finally {
        await old.store.close();
        await old.drop();
      }
    });

    it("creates, lists (newest first) and reads consultations", async () => {
      await newConsultation(store, 1, 20);
      await newConsultation(store, 2, 30);
      await newConsultation(store, 3, 30);
      expect((await store.listConsultations()).map((c) => c.id)).to.deep.equal([3, 2, 1]);
      expect(await store.getConsultation(1)).to.deep.equal({
        id: 1,
        agency: "bo-tu-phap",
        title: "Dự thảo 1",
        summary: "Tóm tắt",
        opensAt: 100,
        closesAt: CLOSES_AT,
        createdAt: 20,
        draftVersion: 1,
        treeSize: 0,
        anchoredSize: 0,
        closingAt: null,
        tally: null,
        publicCounts: true,
      });
      expect(await store.getConsultation(404)).to.equal(null);
    });

    it("adds draft versions and finds drafts by version and by hash", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      await store.addDraft({ ...draft(1, 2), title: "Dự thảo 2", summary: "Mới" });
      await store.addDraft(draft(2, 2, h(1))); // the same text as both first drafts
      expect(await store.getConsultation(1)).to.include({
        draftVersion: 2,
        title: "Dự thảo 2",
        summary: "Mới",
      });
      expect((await store.getDraft(1))?.version).to.equal(2);
      expect(await store.getDraft(1, 1)).to.deep.equal(draft(1, 1));
      expect(await store.getDraft(1, 7)).to.equal(null);
      expect(await store.getDraft(404)).to.equal(null);
      expect((await store.findDraftsByHash(h(1))).map((d) => [d.consultationId, d.version])).to.deep.equal([
        [1, 1],
        [2, 1],
        [2, 2],
      ]);
      expect((await store.findDraftsByHash(h(2))).map((d) => [d.consultationId, d.version])).to.deep.equal([
        [1, 2],
      ]);
      expect(await store.findDraftsByHash(h(77))).to.deep.equal([]);
    });

    it("refuses orphans (foreign keys) and writes nothing of a refused transaction", async () => {
      await newConsultation(store, 1);
      await refusal(store.addDraft(draft(404, 2)));
      expect(await store.findDraftsByHash(h(2))).to.deep.equal([]);
      // the consultation row is written first, then its draft is refused: nothing stays
      await refusal(
        store.createConsultation({ ...(await store.getConsultation(1))!, id: 5 }, draft(404, 1, h(55))),
      );
      expect(await store.getConsultation(5)).to.equal(null);
      await refusal(
        store.addIntent({
          consultationId: 404,
          kind: "anchor",
          treeSize: 1,
          rootHash: h(1),
          txHash: h(2),
          rawTx: "0x01",
          createdAt: 1,
        }),
      );
      await refusal(() => store.treeStore(404).putNodes([{ level: 0, index: 0, hash: new Uint8Array(32) }]));
      await refusal(store.addDraftIntent(draftIntent({ kind: "revise", consultationId: 404 })));
      expect(await store.pendingIntents()).to.deep.equal([]);
      expect(await store.pendingDraftIntents()).to.deep.equal([]);
    });

    it("backs a MerkleLog through treeStore, reopens it, and names a missing node", async () => {
      await newConsultation(store, 2);
      const log = new MerkleLog(store.treeStore(2));
      const leaves = Array.from({ length: 37 }, (_, i) => leafHash(new Uint8Array([i])));
      await log.appendBatch(leaves);
      const root = await log.root();
      const reopened = await MerkleLog.open(store.treeStore(2), 37);
      expect(await reopened.root()).to.equal(root);
      const proof = await reopened.inclusionProof(11);
      expect(verifyInclusion(leaves[11]!, 11, 37, proof, root)).to.equal(true);
      const e = await refusal(() => store.treeStore(2).getNodes([{ level: 0, index: 999 }]));
      expect(String(e)).to.match(/\(0, 999\).*missing/);
    });

    it("appends entries atomically with nodes, receipts and idempotency keys", async () => {
      await newConsultation(store, 1);
      const es = [0, 1, 2, 3].map((i) => opinion(1, i, { idempotencyKey: i === 0 ? "idem-0" : null }));
      await store.appendEntries(1, 0, es, [{ level: 0, index: 0, hash: new Uint8Array(32).fill(7) }]);
      expect((await store.getConsultation(1))?.treeSize).to.equal(4);
      const got = await store.getEntries(1, 1, 3);
      expect(got).to.deep.equal(
        [1, 2].map((i) => ({
          index: i,
          leaf: es[i]!.leaf,
          leafHash: es[i]!.leafHash,
          text: es[i]!.text,
          salt: es[i]!.salt,
          withheld: false,
          createdAt: es[i]!.createdAt,
        })),
      );
      expect(await store.getEntries(1, 4, 10)).to.deep.equal([]);
      expect(await store.findLeaf(1, es[3]!.leafHash)).to.equal(3);
      expect(await store.findLeaf(1, h(12345))).to.equal(null);
      expect(await store.getIdempotent("idem-0")).to.equal(es[0]!.receipt);
      expect(await store.getIdempotent("nope")).to.equal(null);
      expect(await store.receiptsFor("subj-0")).to.deep.equal([es[0]!.receipt, es[3]!.receipt]);
      expect(await store.receiptsFor("nobody")).to.deep.equal([]);
      expect(await store.latestOpinion(1, h(1000), "s0")).to.equal(0);
      expect(await store.latestOpinion(1, h(1000), "s1")).to.equal(3);
      expect(await store.latestOpinion(1, h(1001), "s0")).to.equal(null);
      const nodes = await store.treeStore(1).getNodes([{ level: 0, index: 0 }]);
      expect(Buffer.from(nodes[0]!).equals(Buffer.alloc(32, 7))).to.equal(true);
    });

    it("looks up a batch's latest opinions and stored idempotency keys in one statement each, in the order asked", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      // authors h(1000 + i % 3), sections s(i % 2); one key JSON and SQL would both have to escape
      const es = [0, 1, 2, 3, 4, 5].map((i) =>
        opinion(1, i, { idempotencyKey: i % 2 === 0 ? `many-${i}` : null }),
      );
      const odd = opinion(1, 6, { section: "s.6", idempotencyKey: `many-"'\\é` });
      await store.appendEntries(1, 0, [...es, odd], []);
      const elsewhere = opinion(2, 0, {
        author: h(1001),
        section: "s1",
        idempotencyKey: "other-consultation",
      });
      await store.appendEntries(2, 0, [elsewhere], []);
      let trips = store.roundTrips();
      const latest = await store.latestOpinions(1, [
        { author: h(1002), section: "s1" },
        { author: h(1009), section: "s0" },
        { author: h(1000), section: "s0" },
        { author: h(1001), section: "s1" },
        { author: h(1000), section: "s.6" },
        { author: h(1000), section: "s0" },
      ]);
      expect(latest).to.deep.equal([5, null, 0, 1, 6, 0]);
      expect(store.roundTrips() - trips).to.equal(1);
      trips = store.roundTrips();
      const receipts = await store.idempotentReceipts([
        "many-4",
        "nope",
        "many-0",
        "other-consultation",
        `many-"'\\é`,
      ]);
      expect(receipts).to.deep.equal([es[4]!.receipt, null, es[0]!.receipt, elsewhere.receipt, odd.receipt]);
      expect(store.roundTrips() - trips).to.equal(1);
      expect(await store.latestOpinions(1, [])).to.deep.equal([]);
      expect(await store.idempotentReceipts([])).to.deep.equal([]);
    });

    it("lists a subject's receipts in log order per consultation", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      const a = opinion(2, 0, { subjectKey: "me" });
      const b = opinion(1, 0, { subjectKey: "me" });
      const c = opinion(2, 1, { subjectKey: "me" });
      await store.appendEntries(2, 0, [a], []);
      await store.appendEntries(1, 0, [b], []);
      await store.appendEntries(2, 1, [c], []);
      expect(await store.receiptsFor("me")).to.deep.equal([b.receipt, a.receipt, c.receipt]);
    });

    it("refuses a stale size or a missing consultation, writing nothing", async () => {
      await newConsultation(store, 1);
      await store.appendEntries(1, 0, [opinion(1, 0), opinion(1, 1)], []);
      for (const stale of [1, 3]) {
        expect(await refusal(store.appendEntries(1, stale, [opinion(1, stale)], []))).to.be.instanceOf(
          StoreConflictError,
        );
      }
      expect(await refusal(store.appendEntries(404, 0, [opinion(404, 0)], []))).to.be.instanceOf(
        StoreConflictError,
      );
      expect((await store.getConsultation(1))?.treeSize).to.equal(2);
      expect(await store.getEntries(1, 0, 10)).to.have.length(2);
    });

    it("finds the campaign candidates of earlier steps by band, newest first, with their campaign", async () => {
      await createBareConsultation(store, "dieu-1", "Dự thảo");
      const letter =
        "Chúng tôi đề nghị giữ nguyên quy định về thời hạn sử dụng đất nông nghiệp vì người dân cần ổn định lâu dài";
      const opinion = (index: number, text: string) => ({
        index,
        section: "dieu-1",
        stance: "disagree",
        channel: "online",
        submittedAt: "2026-12-02T10:00:00Z",
        text,
        replaces: null,
      });
      // each in a step of its own: the later ones find the earlier ones only through the store
      await writeReadingStep(store, 0, [opinion(0, letter)]);
      await writeReadingStep(store, 1, [
        opinion(1, "Một ý kiến khác hẳn về quy hoạch khu công nghiệp của tỉnh"),
      ]);
      await writeReadingStep(store, 2, [opinion(2, `${letter}.`)]);
      await writeReadingStep(store, 3, [opinion(3, `${letter}!`)]);
      const { readings } = await store.listReadings(1, "dieu-1", {}, null, 10);
      expect(readings.map((r) => [r.index, r.campaign])).to.deep.equal([
        [3, 0],
        [2, 0],
        [1, null],
        [0, 0],
      ]);
      const bands = simhashBands(simhash(foldWords(letter))!);
      const found = await store.campaignCandidates(1, "dieu-1", bands, 2);
      // two per band, the newest first, each with its campaign
      expect(found.map((c) => [c.band, c.index, c.campaign])).to.deep.equal(
        bands.flatMap((band) => [
          [band, 3, 0],
          [band, 2, 0],
        ]),
      );
    });

    it("commits an append made afterPrevious only after, and only if, the append it was built on committed", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      // pipelined on a commit that goes through: both land, in order
      const first = store.appendEntries(1, 0, [opinion(1, 0)], []);
      const second = store.appendEntries(1, 1, [opinion(1, 1)], [], { afterPrevious: true });
      await Promise.all([first, second]);
      expect((await store.getConsultation(1))?.treeSize).to.equal(2);
      // built on an append refused (a stale size): refused too, though its own size would then be right, since
      // another writer grew the log by as many entries
      const stale = store.appendEntries(1, 1, [opinion(1, 1)], []);
      const onStale = store.appendEntries(1, 2, [opinion(1, 2)], [], { afterPrevious: true });
      const onOther = store.appendEntries(2, 0, [opinion(2, 0)], [], { afterPrevious: true });
      expect(await refusal(stale)).to.be.instanceOf(StoreConflictError);
      const refused = await refusal(onStale);
      expect(refused).to.be.instanceOf(StoreConflictError);
      expect((refused as Error).message).to.match(/did not commit/);
      await onOther; // another consultation's appends do not wait on this one's
      expect((await store.getConsultation(1))?.treeSize).to.equal(2);
      expect(await store.getEntries(1, 0, 10)).to.have.length(2);
      // an append built again on what is committed goes through
      await store.appendEntries(1, 2, [opinion(1, 2)], []);
      expect((await store.getConsultation(1))?.treeSize).to.equal(3);
    });

    it("appends a batch larger than one bulk statement whole, or (a key repeated in its last rows) not at all", async () => {
      await newConsultation(store, 1);
      const n = 4_100; // PostgreSQL binds 2,000 rows of each table per statement
      const es = Array.from({ length: n }, (_, i) => opinion(1, i, { idempotencyKey: `bulk-${i}` }));
      const nodes = es.map((_, i) => ({ level: 0, index: i, hash: new Uint8Array(32).fill(i % 251) }));
      const repeated = [...es.slice(0, n - 1), opinion(1, n - 1, { idempotencyKey: "bulk-3" })];
      expect(await refusal(store.appendEntries(1, 0, repeated, nodes))).to.be.instanceOf(StoreConflictError);
      expect((await store.getConsultation(1))?.treeSize).to.equal(0);
      expect(await store.getEntries(1, 0, n)).to.deep.equal([]);
      expect(await store.getIdempotent("bulk-0")).to.equal(null);
      await store.appendEntries(1, 0, es, nodes);
      expect((await store.getConsultation(1))?.treeSize).to.equal(n);
      expect((await store.getEntries(1, 0, n)).map((e) => e.leafHash)).to.deep.equal(
        es.map((e) => e.leafHash),
      );
      const keys = [0, 1999, 2000, 4099].map((i) => `bulk-${i}`);
      expect(await store.idempotentReceipts(keys)).to.deep.equal(
        [0, 1999, 2000, 4099].map((i) => es[i]!.receipt),
      );
      const read = await store.treeStore(1).getNodes([{ level: 0, index: 4099 }]);
      expect(Buffer.from(read[0]!).equals(Buffer.alloc(32, 4099 % 251))).to.equal(true);
    });

    it("refuses an idempotency key already stored or repeated in the batch, writing nothing", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      await store.appendEntries(1, 0, [opinion(1, 0, { idempotencyKey: "k" })], []);
      const node = { level: 0, index: 1, hash: new Uint8Array(32).fill(3) };
      // keys are global: another consultation cannot reuse it either
      for (const [id, size, batch] of [
        [1, 1, [opinion(1, 1), opinion(1, 2, { idempotencyKey: "k" })]],
        [2, 0, [opinion(2, 0, { idempotencyKey: "k" })]],
        [2, 0, [opinion(2, 0, { idempotencyKey: "twice" }), opinion(2, 1, { idempotencyKey: "twice" })]],
      ] as const) {
        expect(await refusal(store.appendEntries(id, size, batch, [node]))).to.be.instanceOf(
          StoreConflictError,
        );
      }
      expect((await store.getConsultation(1))?.treeSize).to.equal(1);
      expect((await store.getConsultation(2))?.treeSize).to.equal(0);
      expect(await store.getEntries(2, 0, 10)).to.deep.equal([]);
      expect(await store.getIdempotent("twice")).to.equal(null);
      expect(await refusal(() => store.treeStore(1).getNodes([{ level: 0, index: 1 }]))).to.be.an("error");
    });

    it("withholds a target's text and salt and redacts its stored receipt, keeping the signature", async () => {
      await newConsultation(store, 1);
      const target = opinion(1, 0, { idempotencyKey: "idem-w", subjectKey: "citizen" });
      await store.appendEntries(1, 0, [target, opinion(1, 1, { subjectKey: "citizen" })], []);
      await store.appendEntries(1, 2, [withholding(1, 0)], []);
      const [entry, kept] = await store.getEntries(1, 0, 2);
      expect(entry).to.include({ withheld: true, text: null, salt: null, leaf: target.leaf });
      expect(kept).to.include({ withheld: false });
      const original = JSON.parse(target.receipt);
      const replayed = JSON.parse((await store.getIdempotent("idem-w"))!);
      expect(replayed).to.deep.equal({ ...original, text: "", salt: WITHHELD_SALT });
      const mine = (await store.receiptsFor("citizen")).map((r) => JSON.parse(r));
      expect(mine[0]).to.deep.equal(replayed);
      expect(mine[1].text).to.equal(kept!.text);
      const check = verifyReceipt(replayed, [receiptKey.publicJwk]);
      expect(check.valid).to.equal(true);
      expect(check.steps.find((s) => s.step === "contentHash")?.ok).to.equal(null);
    });

    it("redacts the receipt of an opinion withheld in its own batch", async () => {
      await newConsultation(store, 1);
      const target = opinion(1, 0, { idempotencyKey: "same-batch", text: null, salt: null });
      await store.appendEntries(1, 0, [target, withholding(1, 0)], []);
      expect((await store.getEntries(1, 0, 1))[0]).to.include({ withheld: true, text: null, salt: null });
      expect(JSON.parse((await store.getIdempotent("same-batch"))!)).to.include({
        text: "",
        salt: WITHHELD_SALT,
      });
    });

    it("refuses every entry once the consultation is closing, and marks closing once", async () => {
      await newConsultation(store, 1);
      await store.appendEntries(1, 0, [opinion(1, 0)], []);
      const marked = await store.markClosing(1, 1_234);
      expect(marked).to.include({ id: 1, treeSize: 1, closingAt: 1_234 });
      expect(await store.markClosing(1, 9_999)).to.include({ closingAt: 1_234 });
      expect(await store.getConsultation(1)).to.include({ closingAt: 1_234 });
      expect(await store.markClosing(404, 1)).to.equal(null);
      await expectClosed(store.appendEntries(1, 1, [opinion(1, 1)], []));
      await expectClosed(store.appendEntries(1, 1, [opinion(1, 1, { channel: "offline" })], []));
      await expectClosed(store.appendEntries(1, 1, [withholding(1, 0)], []));
      expect((await store.getConsultation(1))?.treeSize).to.equal(1);
      expect(await store.getEntries(1, 0, 5)).to.have.length(1);
      expect((await store.getEntries(1, 0, 1))[0]?.withheld).to.equal(false);
    });

    it("refuses every entry once the tally is stored", async () => {
      await newConsultation(store, 1);
      await store.setTally(1, { document: '{"v":1}', hash: h(8), txHash: h(9) });
      expect((await store.getConsultation(1))?.tally).to.deep.equal({
        document: '{"v":1}',
        hash: h(8),
        txHash: h(9),
      });
      await expectClosed(store.appendEntries(1, 0, [opinion(1, 0, { channel: "offline" })], []));
      expect((await store.getConsultation(1))?.treeSize).to.equal(0);
    });

    it("refuses an online opinion accepted at or after closesAt; offline ones still import until closing", async () => {
      await newConsultation(store, 1);
      const closesAtMs = CLOSES_AT * 1000;
      await store.appendEntries(1, 0, [opinion(1, 0, { createdAt: closesAtMs - 1 })], []);
      await expectClosed(store.appendEntries(1, 1, [opinion(1, 1, { createdAt: closesAtMs })], []));
      // one late online opinion refuses its whole batch
      await expectClosed(
        store.appendEntries(
          1,
          1,
          [opinion(1, 1, { channel: "offline" }), opinion(1, 2, { createdAt: closesAtMs + 5 })],
          [],
        ),
      );
      expect((await store.getConsultation(1))?.treeSize).to.equal(1);
      await store.appendEntries(
        1,
        1,
        [opinion(1, 1, { channel: "offline", createdAt: closesAtMs + 60_000 }), withholding(1, 0)],
        [],
      );
      expect((await store.getConsultation(1))?.treeSize).to.equal(3);
    });

    it("orders an append racing the closing mark: committed before it, or refused after", async () => {
      for (let id = 1; id <= 6; id++) {
        await newConsultation(store, id);
        await store.appendEntries(id, 0, [opinion(id, 0)], []);
        // half the rounds start the mark first
        const markFirst = id % 2 === 1;
        const early = markFirst ? store.markClosing(id, 5) : null;
        const append = store.appendEntries(id, 1, [opinion(id, 1)], []);
        const closing = early ?? store.markClosing(id, 5);
        const [appended, marked] = await Promise.allSettled([append, closing]);
        if (marked.status !== "fulfilled") throw new Error(`markClosing failed: ${String(marked.reason)}`);
        const size = (await store.getConsultation(id))!.treeSize;
        expect(marked.value?.treeSize, `round ${id}`).to.equal(size);
        if (appended.status === "fulfilled") expect(size).to.equal(2);
        else {
          expect(appended.reason).to.include({ statusCode: 409, code: "closed" });
          expect(size).to.equal(1);
        }
      }
    });

    it("records anchoring intents and their outcome; anchoredSize only grows", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      await store.appendEntries(
        1,
        0,
        [0, 1, 2, 3, 4].map((i) => opinion(1, i)),
        [],
      );
      const intent = (treeSize: number, kind: "anchor" | "tally" = "anchor") => ({
        consultationId: 1,
        kind,
        treeSize,
        rootHash: h(treeSize),
        txHash: h(30 + treeSize),
        rawTx: "0x01" as Hex,
        createdAt: 50 + treeSize,
      });
      const three = await store.addIntent(intent(3));
      const five = await store.addIntent(intent(5));
      const other = await store.addIntent({ ...intent(1), consultationId: 2 });
      expect((await store.pendingIntents()).map((p) => p.id)).to.deep.equal([three, five, other]);
      const pending = await store.pendingIntents(1);
      expect(pending).to.deep.equal([
        {
          id: three,
          ...intent(3),
          status: "pending",
          blockNumber: null,
          anchoredAt: null,
          gasUsed: null,
        },
        { id: five, ...intent(5), status: "pending", blockNumber: null, anchoredAt: null, gasUsed: null },
      ]);
      expect(await store.lastAnchor(1)).to.equal(null);
      await store.resolveIntent(five, { status: "mined", blockNumber: 9, anchoredAt: 1300, gasUsed: 60_000 });
      await store.resolveIntent(three, {
        status: "mined",
        blockNumber: 7,
        anchoredAt: 1234,
        gasUsed: 50_000,
      });
      expect((await store.getConsultation(1))?.anchoredSize).to.equal(5);
      expect(await store.lastAnchor(1)).to.include({
        id: five,
        treeSize: 5,
        blockNumber: 9,
        anchoredAt: 1300,
      });
      await store.resolveIntent(other, { status: "failed" });
      expect(await store.pendingIntents()).to.deep.equal([]);
      expect(await store.lastAnchor(2)).to.equal(null);
      expect((await store.getConsultation(2))?.anchoredSize).to.equal(0);
      // a tally intent is not an anchor: it moves neither lastAnchor nor anchoredSize
      const tally = await store.addIntent({ ...intent(6, "tally") });
      await store.resolveIntent(tally, { status: "mined", blockNumber: 11, anchoredAt: 1400, gasUsed: 1 });
      expect((await store.lastAnchor(1))?.id).to.equal(five);
      expect((await store.getConsultation(1))?.anchoredSize).to.equal(5);
    });

    it("reports the backlog of unanchored entries over all consultations", async () => {
      expect(await store.backlog(0)).to.deep.equal({ backlog: 0, overdue: 0, oldestPending: null });
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      await store.appendEntries(
        1,
        0,
        [0, 1, 2].map((i) => opinion(1, i, { createdAt: 1_000 + i })),
        [],
      );
      await store.appendEntries(2, 0, [opinion(2, 0, { createdAt: 900 })], []);
      expect(await store.backlog(1_001)).to.deep.equal({ backlog: 4, overdue: 2, oldestPending: 900 });
      const id = await store.addIntent({
        consultationId: 2,
        kind: "anchor",
        treeSize: 1,
        rootHash: h(1),
        txHash: h(2),
        rawTx: "0x01",
        createdAt: 5,
      });
      await store.resolveIntent(id, { status: "mined", blockNumber: 1, anchoredAt: 1, gasUsed: 1 });
      expect(await store.backlog(1_001)).to.deep.equal({ backlog: 3, overdue: 1, oldestPending: 1_000 });
    });

    it("completes an opening draft intent once: the consultation and its first draft", async () => {
      const id = await store.addDraftIntent(draftIntent());
      const [pending] = await store.pendingDraftIntents();
      expect(pending).to.deep.equal({ id, ...draftIntent(), status: "pending", publicCounts: true });
      expect(await store.completeDraftIntent(id, { consultationId: 42, version: 1, at: 77 })).to.equal(true);
      expect(await store.completeDraftIntent(id, { consultationId: 42, version: 1, at: 78 })).to.equal(false);
      expect(await store.pendingDraftIntents()).to.deep.equal([]);
      expect(await store.getConsultation(42)).to.include({
        agency: "bo-tu-phap",
        title: "Dự thảo mở",
        opensAt: 100,
        closesAt: CLOSES_AT,
        createdAt: 77,
        draftVersion: 1,
      });
      expect(await store.getDraft(42)).to.deep.equal({
        consultationId: 42,
        version: 1,
        hash: h(500),
        title: "Dự thảo mở",
        summary: "Tóm tắt",
        sections: draftIntent().sections,
        txHash: h(501),
        createdAt: 77,
      });
      expect(
        await refusal(store.completeDraftIntent(404, { consultationId: 1, version: 1, at: 1 })),
      ).to.be.an("error");
    });

    it("completes a revision intent as a new draft version; a failed intent is completed when mined after all", async () => {
      await newConsultation(store, 1);
      const revise = await store.addDraftIntent(
        draftIntent({ kind: "revise", consultationId: 1, hash: h(600), opensAt: null, closesAt: null }),
      );
      const dropped = await store.addDraftIntent(draftIntent({ hash: h(700), txHash: h(701) }));
      await store.failDraftIntent(dropped);
      expect((await store.pendingDraftIntents()).map((i) => i.id)).to.deep.equal([revise]);
      expect(await store.completeDraftIntent(revise, { consultationId: 1, version: 2, at: 90 })).to.equal(
        true,
      );
      expect(await store.getConsultation(1)).to.include({ draftVersion: 2, title: "Dự thảo mở" });
      expect(await store.getDraft(1)).to.include({ version: 2, hash: h(600), createdAt: 90 });
      // failing a done intent changes nothing; a failed one the chain mined after all is stored
      await store.failDraftIntent(revise);
      expect(await store.completeDraftIntent(revise, { consultationId: 1, version: 2, at: 91 })).to.equal(
        false,
      );
      expect(await store.completeDraftIntent(dropped, { consultationId: 8, version: 1, at: 95 })).to.equal(
        true,
      );
      expect((await store.getDraft(8))?.hash).to.equal(h(700));
    });

    it("keeps every recorded version of a counted map: roots and proofs as protocol's in-memory map gives them", async () => {
      await newConsultation(store, 1);
      const reference = new CountedMap(new MemoryCountedStore({ history: true }));
      // three heads; the second replaces some keys of the first, the third is big enough to flush mid-update
      const heads = [
        { size: 40, updates: countedUpdates(0, 40, 40) },
        { size: 90, updates: countedUpdates(40, 90, 30) },
        { size: 12_090, updates: countedUpdates(90, 12_090, 12_000) },
      ];
      const roots: Hex[] = [];
      for (const { size, updates } of heads) {
        const root = await updateCounted(store, 1, updates, size);
        expect(root).to.equal(await reference.update(updates, size));
        roots.push(root);
      }
      expect(await store.countedVersion(1)).to.deep.equal({ treeSize: 12_090, root: roots[2] });
      expect(await store.countedVersion(1, 90)).to.deep.equal({ treeSize: 90, root: roots[1] });
      expect(await store.countedVersion(1, 91)).to.equal(null);
      expect(await store.countedVersion(2)).to.equal(null);
      // a reader (another instance too) serves every recorded size, present and absent keys
      const reader = another();
      for (const [k, { size }] of heads.entries()) {
        const map = await CountedMap.open(reader.countedStore(1), size);
        expect(await map.root()).to.equal(roots[k]);
        for (const key of [heads[0]!.updates[3]!.key, heads[1]!.updates[5]!.key, h(123_456)]) {
          const served = await map.proof(key, size);
          expect(served).to.deep.equal(await reference.proof(key, size));
          expect(verifyCountedProof(served, key, { treeSize: size, countedRoot: roots[k]! })).to.equal(true);
        }
      }
      expect(String(await refusal(async () => store.countedStore(1).putNodes([], 100)))).to.match(
        /openCountedUpdate/,
      );
    });

    it("drops the rows of a counted update that never recorded its version, and refuses two updates from one version", async () => {
      await newConsultation(store, 1);
      const first = countedUpdates(0, 50, 50);
      const root50 = await updateCounted(store, 1, first, 50);
      // an update that wrote rows (more than one flush: it also moves the first keys down) and then crashed
      // before its commit
      const crashed = await store.openCountedUpdate(1);
      expect(crashed.from).to.deep.equal({ treeSize: 50, root: root50 });
      const bad = countedUpdates(50, 12_050, 12_000);
      await (await CountedMap.open(crashed, 50)).update(bad, 12_050);
      // the next update starts again from 50 and touches only a few paths: the crashed rows must not show through
      const good = countedUpdates(50, 55, 5).map((u, i) => ({ ...u, key: countedKey(h(7000 + i), "d2") }));
      const reference = new CountedMap();
      await reference.update(first, 50);
      const root = await updateCounted(store, 1, good, 12_050);
      expect(root).to.equal(await reference.update(good, 12_050));
      const map = await CountedMap.open(store.countedStore(1), 12_050);
      for (const key of [good[2]!.key, first[3]!.key, first[20]!.key, bad[4_000]!.key]) {
        expect(await map.proof(key)).to.deep.equal(await reference.proof(key));
      }
      // the crashed session cannot record its version now
      expect(await refusal(crashed.commit({ treeSize: 12_050, root: h(1) }))).to.be.instanceOf(
        StoreConflictError,
      );
      // two updates opened from one version: the second to commit is refused, and nothing of it is recorded
      const a = await store.openCountedUpdate(1);
      const b = await store.openCountedUpdate(1);
      const more = countedUpdates(12_050, 12_060, 10);
      const rootA = await (await CountedMap.open(a, 12_050)).update(more, 12_060);
      await (await CountedMap.open(b, 12_050)).update(more.slice(0, 5), 12_055);
      await a.commit({ treeSize: 12_060, root: rootA });
      expect(await refusal(b.commit({ treeSize: 12_055, root: h(2) }))).to.be.instanceOf(StoreConflictError);
      expect(await store.countedVersion(1)).to.deep.equal({ treeSize: 12_060, root: rootA });
      expect(await store.countedVersion(1, 12_055)).to.equal(null);
      // a consultation that does not exist has no map to update
      expect(await refusal(store.openCountedUpdate(404))).to.be.an("error");
    });

    it("reports how far the counted maps are behind the logs and the anchored heads", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      expect(await store.countedLag()).to.deep.equal({ entries: 0, unmappedHeads: 0 });
      await store.appendEntries(1, 0, [opinion(1, 0), opinion(1, 1), opinion(1, 2)], []);
      await store.appendEntries(2, 0, [opinion(2, 0)], []);
      const anchor = async (id: number, treeSize: number) => {
        const intent = await store.addIntent({
          consultationId: id,
          kind: "anchor",
          treeSize,
          rootHash: h(treeSize),
          txHash: h(1000 + id * 10 + treeSize),
          rawTx: "0x01",
          createdAt: 1,
        });
        await store.resolveIntent(intent, { status: "mined", blockNumber: 1, anchoredAt: 1, gasUsed: 1 });
      };
      await anchor(1, 2);
      expect(await store.countedLag()).to.deep.equal({ entries: 4, unmappedHeads: 1 });
      await updateCounted(store, 1, countedUpdates(0, 2, 2), 2);
      expect(await store.countedLag()).to.deep.equal({ entries: 2, unmappedHeads: 0 });
    });

    it("stores attachments once by hash, and drafts listing them (absent when none)", async () => {
      const content = new Uint8Array([0x25, 0x50, 0x44, 0x46, 0, 255]);
      const file = {
        sha256: h(900),
        mediaType: "application/pdf",
        content,
        agency: "bo-tu-phap",
        createdAt: 3,
      };
      expect(await store.getAttachment(h(900))).to.equal(null);
      expect(await store.attachmentSize(h(900))).to.equal(null);
      await store.putAttachment(file);
      // the same hash again keeps the first upload as it is
      await store.putAttachment({ ...file, agency: "bo-y-te", createdAt: 4 });
      expect(await store.getAttachment(h(900))).to.deep.equal(file);
      expect(await store.attachmentSize(h(900))).to.equal(6);
      await newConsultation(store, 1);
      const attachments = [{ title: "Tờ trình", mediaType: "application/pdf", sha256: h(900), bytes: 6 }];
      await store.addDraft({ ...draft(1, 2), attachments });
      expect(await store.getDraft(1, 1)).to.not.have.property("attachments");
      expect((await store.getDraft(1, 2))?.attachments).to.deep.equal(attachments);
      expect((await store.listDrafts(1)).map((d) => [d.version, d.attachments?.length ?? 0])).to.deep.equal([
        [1, 0],
        [2, 1],
      ]);
      expect(await store.listDrafts(2)).to.deep.equal([]);
      const id = await store.addDraftIntent(draftIntent({ attachments }));
      expect((await store.pendingDraftIntents()).find((i) => i.id === id)?.attachments).to.deep.equal(
        attachments,
      );
      await store.completeDraftIntent(id, { consultationId: 5, version: 1, at: 9 });
      expect((await store.getDraft(5))?.attachments).to.deep.equal(attachments);
    });

    it("records response intents; a mined one is stored once under the registry's version, latest first", async () => {
      await newConsultation(store, 1);
      const intent = {
        consultationId: 1,
        agency: "bo-tu-phap",
        version: 1,
        hash: h(910),
        document: '{"v":1}',
        txHash: h(911),
        rawTx: h(912),
        createdAt: 20,
      };
      expect(await store.getResponse(1)).to.equal(null);
      const first = await store.addResponseIntent(intent);
      const second = await store.addResponseIntent({ ...intent, version: 2, hash: h(920), txHash: h(921) });
      const dropped = await store.addResponseIntent({ ...intent, version: 2, hash: h(930), txHash: h(931) });
      expect((await store.pendingResponseIntents(1)).map((i) => i.id)).to.deep.equal([
        first,
        second,
        dropped,
      ]);
      expect(await store.pendingResponseIntents(2)).to.deep.equal([]);
      expect((await store.pendingResponseIntents())[0]).to.deep.equal({
        ...intent,
        id: first,
        status: "pending",
      });
      await store.failResponseIntent(dropped);
      expect(await store.completeResponseIntent(first, { version: 1, at: 30 })).to.equal(true);
      expect(await store.completeResponseIntent(first, { version: 1, at: 31 })).to.equal(false);
      expect(await store.completeResponseIntent(second, { version: 2, at: 40 })).to.equal(true);
      expect(await store.pendingResponseIntents()).to.deep.equal([]);
      expect(await store.getResponse(1)).to.deep.equal({
        consultationId: 1,
        version: 2,
        hash: h(920),
        document: '{"v":1}',
        txHash: h(921),
        createdAt: 40,
      });
      expect((await store.getResponse(1, 1))?.hash).to.equal(h(910));
      expect(await store.getResponse(1, 3)).to.equal(null);
      // a response of a consultation the store does not hold is an orphan: refused
      const orphan = await refusal(store.addResponseIntent({ ...intent, consultationId: 404 }));
      expect(orphan).to.be.an("error");
      expect(await refusal(store.completeResponseIntent(9999, { version: 1, at: 1 }))).to.be.an("error");
    });

    it("records receipt-key intents, pending until mined or failed", async () => {
      const add = {
        kind: "add" as const,
        publicKey: h(800),
        agency: "bo-tu-phap",
        txHash: h(801),
        rawTx: h(802),
      };
      const first = await store.addKeyIntent({ ...add, createdAt: 10 });
      const second = await store.addKeyIntent({ ...add, kind: "retire", txHash: h(803), createdAt: 11 });
      expect(await store.pendingKeyIntents()).to.deep.equal([
        { ...add, id: first, status: "pending", createdAt: 10 },
        { ...add, id: second, kind: "retire", txHash: h(803), status: "pending", createdAt: 11 },
      ]);
      await store.resolveKeyIntent(first, "mined");
      await store.resolveKeyIntent(second, "failed");
      expect(await store.pendingKeyIntents()).to.deep.equal([]);
    });

    it("records published checkpoints once per size, the latest by size, and finds sizes in a range", async () => {
      await newConsultation(store, 61);
      expect(await store.latestCheckpoint(61)).to.equal(null);
      expect(await store.hasCheckpointBetween(61, 0, 1000)).to.equal(false);
      const cp = (size: number, note: string) => ({
        consultationId: 61,
        treeSize: size,
        rootHash: h(size),
        note,
        createdAt: 100 + size,
      });
      expect(await store.addCheckpoint(cp(300, "a\n"))).to.equal(true);
      expect(await store.addCheckpoint(cp(300, "other\n"))).to.equal(false); // kept as first published
      expect(await store.addCheckpoint(cp(256, "b\n"))).to.equal(true);
      expect(await store.latestCheckpoint(61)).to.deep.equal(cp(300, "a\n"));
      expect(await store.hasCheckpointBetween(61, 256, 300)).to.equal(true);
      expect(await store.hasCheckpointBetween(61, 257, 300)).to.equal(false);
      expect(await store.hasCheckpointBetween(61, 300, 301)).to.equal(true);
      expect(await store.hasCheckpointBetween(62, 0, 1000)).to.equal(false);
    });

    it("grants the anchoring lock to its one instance, round after round", async () => {
      expect(await store.tryAnchorLock()).to.equal(true);
      expect(await store.tryAnchorLock()).to.equal(true);
    });

    it("runs operator-locked work of one key one at a time, in call order; other keys are not held up", async () => {
      const order: string[] = [];
      let active = 0;
      const held = gate();
      const work = (name: string, wait?: Promise<void>) => async () => {
        active++;
        expect(active, "two holders of one key").to.equal(1);
        order.push(`${name}+`);
        await wait;
        order.push(`${name}-`);
        active--;
        return name;
      };
      const first = store.withOperatorLock("agency-a", work("first", held.promise));
      const failing = store.withOperatorLock("agency-a", async () => {
        order.push("failing");
        throw new Error("boom");
      });
      const third = store.withOperatorLock("agency-a", work("third"));
      try {
        await until(() => order.length > 0);
        // another key runs while agency-a is held
        expect(await store.withOperatorLock("agency-b", async () => "b")).to.equal("b");
        expect(order).to.deep.equal(["first+"]);
      } finally {
        held.open();
      }
      expect(await first).to.equal("first");
      expect(String(await refusal(failing))).to.match(/boom/);
      expect(await third).to.equal("third");
      expect(order).to.deep.equal(["first+", "first-", "failing", "third+", "third-"]);
    });
  });
}

conformance({
  name: "SQLite",
  open: (version) => openSqlite({}, version),
});
conformance({
  name: "SQLite (writer thread)",
  open: (version) => openSqlite({ writerThread: true }, version),
});

async function openSqlite(options: { writerThread?: boolean }, version?: number): Promise<Opened> {
  const dir = mkdtempSync(join(tmpdir(), "gopy-store-"));
  const path = join(dir, "test.sqlite");
  const store = new SqliteStore(path, options);
  await store.migrate(version);
  return {
    store,
    another: () => new SqliteStore(path, options),
    raw: async (sql, params = []) => {
      const raw = new DatabaseSync(path);
      try {
        raw.prepare(sql).run(...params);
      } finally {
        raw.close();
      }
    },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
let schemas = 0;

async function openPostgres(url: string, version?: number): Promise<Opened> {
  const schema = `gopy_conf_${process.pid}_${Date.now() % 1_000_000}_${schemas++}`;
  const store = new PostgresStore(url, schema);
  await store.migrate(version);
  return {
    store,
    schema,
    another: () => new PostgresStore(url, schema),
    raw: async (sql, params = []) => {
      const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        let n = 0;
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      } finally {
        await client.end();
      }
    },
    drop: () => dropSchema(url, schema),
  };
}

if (!pgUrl) {
  describe("store conformance: PostgreSQL", () => missing("PostgreSQL", POSTGRES_HOW));
} else {
  const url = pgUrl;
  conformance({
    name: "PostgreSQL",
    open: (version) => openPostgres(url, version),
    former: "ALTER TABLE drafts ADD FOREIGN KEY (consultation_id) REFERENCES consultations (id)",
  });

  describe("store: PostgreSQL connections", () => {
    let db: Opened;
    beforeEach(async () => {
      db = await openPostgres(url);
    });
    afterEach(async () => {
      await db.store.close();
      await db.drop();
    });

    it("plan a foreign-key lookup for the log as it is, not as it was when the table was tiny", async () => {
      // what PostgreSQL runs for a receipt's foreign key, planned as its trigger plans it: once per connection, kept
      await createBareConsultation(db.store, "dieu-1", "Dự thảo");
      const id = 1;
      const entries = (from: number, to: number) =>
        db.raw(
          `INSERT INTO entries (consultation_id, idx, leaf, leaf_hash, kind, created_at)
           SELECT ?, i, repeat('x', 300), 'h', 'opinion', 0 FROM generate_series(${from}, ${to}) AS i`,
          [id],
        );
      await entries(0, 49);
      await db.raw("ANALYZE entries"); // autovacuum's first analyze, at the log's first rows
      const planAt = async (options: string): Promise<string> => {
        const client = new pg.Client({ connectionString: url, options });
        await client.connect();
        try {
          await client.query(
            "PREPARE fk(bigint, bigint) AS SELECT 1 FROM ONLY entries x WHERE consultation_id = $1 AND idx = $2 FOR KEY SHARE OF x",
          );
          for (let i = 0; i < 6; i++) await client.query(`EXECUTE fk(${id}, ${i})`); // past the plan cache's custom tries
          await entries(50, 20_000);
          const plan = await client.query(`EXPLAIN EXECUTE fk(${id}, 19000)`);
          return plan.rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
        } finally {
          await client.query("DELETE FROM entries WHERE idx >= 50");
          await client.end();
        }
      };
      // without the setting the kept plan scans every entry: the check grows with the log
      expect(await planAt(`-c search_path=${db.schema}`)).to.match(/Seq Scan on entries/);
      expect(await planAt(connectionOptions(db.schema!))).to.match(/Index (Only )?Scan using entries_pkey/);
    });
  });

  describe("store: PostgreSQL, two instances on one schema", () => {
    let db: Opened;
    let other: Store;
    beforeEach(async () => {
      db = await openPostgres(url);
      other = db.another();
    });
    afterEach(async () => {
      await other.close();
      await db.store.close();
      await db.drop();
    });

    it("grants the anchoring lock to exactly one of them", async () => {
      const held = [await db.store.tryAnchorLock(), await other.tryAnchorLock()];
      expect(held.filter(Boolean)).to.have.length(1);
    });

    it("runs operator-locked work of one key in one instance at a time", async () => {
      const release = gate();
      const order: string[] = [];
      const first = db.store.withOperatorLock("agency-a", async () => {
        order.push("a+");
        await release.promise;
        order.push("a-");
      });
      try {
        await until(() => order.length > 0);
        const second = other.withOperatorLock("agency-a", async () => {
          order.push("b");
        });
        // the other instance is blocked on the database's lock: wait until PostgreSQL shows it waiting
        const lockName = `gopy-operator:${db.schema}:agency-a`;
        const probe = new pg.Client({ connectionString: url });
        await probe.connect();
        try {
          for (;;) {
            const r = await probe.query(
              `SELECT count(*)::int AS n FROM pg_locks
               WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1
                 AND classid = ((hashtextextended($1, 0) >> 32) & 4294967295)::oid
                 AND objid = (hashtextextended($1, 0) & 4294967295)::oid`,
              [lockName],
            );
            if (r.rows[0].n > 0 || order.includes("b")) break;
          }
        } finally {
          await probe.end();
        }
        expect(order).to.deep.equal(["a+"]);
        // another key is not held up by it
        await other.withOperatorLock("agency-b", async () => {
          order.push("other key");
        });
        release.open();
        await Promise.all([first, second]);
      } finally {
        release.open();
      }
      expect(order).to.deep.equal(["a+", "other key", "a-", "b"]);
    });
  });
}
