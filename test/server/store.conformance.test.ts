/** One conformance suite, run against both store implementations (real SQLite file, real PostgreSQL). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { leafHash, MerkleLog, verifyInclusion } from "../../protocol/index.ts";
import {
  type DraftRecord,
  type Hex,
  type NewEntry,
  PostgresStore,
  SqliteStore,
  type Store,
  StoreConflictError,
} from "../../server/store/index.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { dropSchema } from "./helpers.ts";

const h = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

function entry(i: number, over: Partial<NewEntry> = {}): NewEntry {
  const leaf = JSON.stringify({ n: i, t: "x" });
  return {
    leaf,
    leafHash: leafHash(new TextEncoder().encode(leaf)),
    kind: "opinion",
    author: h(1000 + (i % 3)),
    section: `s${i % 2}`,
    text: `text ${i} '; DROP TABLE entries; -- <script>`,
    salt: h(i),
    createdAt: 1_000 + i,
    subjectKey: `subj-${i % 3}`,
    idempotencyKey: null,
    receipt: JSON.stringify({ i }),
    withholdTarget: null,
    ...over,
  };
}

function draft(id: number, version: number): DraftRecord {
  return {
    consultationId: id,
    version,
    hash: h(version),
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

async function newConsultation(store: Store, id: number): Promise<void> {
  await store.createConsultation(
    {
      id,
      agency: "bo-tu-phap",
      title: "Dự thảo 1",
      summary: "Tóm tắt",
      opensAt: 100,
      closesAt: 200,
      createdAt: 10 + id,
      draftVersion: 1,
    },
    draft(id, 1),
  );
}

function conformance(name: string, open: () => Promise<Store>, cleanup: () => Promise<void>): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
      await cleanup();
    });

    it("migrates idempotently and answers ping", async () => {
      await store.migrate();
      expect(await store.ping()).to.equal(true);
    });

    it("creates, lists (newest first) and reads consultations and drafts", async () => {
      await newConsultation(store, 1);
      await newConsultation(store, 2);
      const list = await store.listConsultations();
      expect(list.map((c) => c.id)).to.deep.equal([2, 1]);
      const c = await store.getConsultation(1);
      expect(c).to.include({ id: 1, agency: "bo-tu-phap", treeSize: 0, anchoredSize: 0, draftVersion: 1 });
      expect(c?.tally).to.equal(null);
      expect(await store.getConsultation(404)).to.equal(null);
      await store.addDraft({ ...draft(1, 2), title: "Dự thảo 2" });
      expect((await store.getConsultation(1))?.draftVersion).to.equal(2);
      expect((await store.getDraft(1))?.version).to.equal(2);
      expect((await store.getDraft(1, 1))?.sections[0]).to.deep.equal({
        id: "d1",
        title: "Điều 1",
        text: "Nội dung",
      });
      expect(await store.getDraft(1, 7)).to.equal(null);
      expect(await store.getConsultation(1)).to.include({ title: "Dự thảo 2" });
      expect((await store.findDraftsByHash(h(2))).map((d) => [d.consultationId, d.version])).to.deep.equal([
        [1, 2],
      ]);
      expect(await store.findDraftsByHash(h(77))).to.deep.equal([]);
    });

    it("backs a MerkleLog through treeStore and reopens it", async () => {
      const log = new MerkleLog(store.treeStore(2));
      const leaves = Array.from({ length: 37 }, (_, i) => leafHash(new Uint8Array([i])));
      await log.appendBatch(leaves);
      const root = await log.root();
      const reopened = await MerkleLog.open(store.treeStore(2), 37);
      expect(await reopened.root()).to.equal(root);
      const proof = await reopened.inclusionProof(11);
      expect(verifyInclusion(leaves[11]!, 11, 37, proof, root)).to.equal(true);
    });

    it("appends entries atomically with nodes, receipts and idempotency keys", async () => {
      const es = [0, 1, 2, 3].map((i) => entry(i, { idempotencyKey: i === 0 ? "idem-0" : null }));
      await store.appendEntries(1, 0, es, [{ level: 0, index: 0, hash: new Uint8Array(32).fill(7) }]);
      const c = await store.getConsultation(1);
      expect(c?.treeSize).to.equal(4);
      const got = await store.getEntries(1, 1, 3);
      expect(got.map((e) => e.index)).to.deep.equal([1, 2]);
      expect(got[0]).to.include({
        leaf: es[1]!.leaf,
        leafHash: es[1]!.leafHash,
        text: es[1]!.text,
        withheld: false,
      });
      expect(await store.findLeaf(1, es[3]!.leafHash)).to.equal(3);
      expect(await store.findLeaf(1, h(12345))).to.equal(null);
      expect(await store.getIdempotent("idem-0")).to.equal(es[0]!.receipt);
      expect(await store.getIdempotent("nope")).to.equal(null);
      expect(await store.receiptsFor("subj-0")).to.deep.equal([es[0]!.receipt, es[3]!.receipt]);
      expect(await store.latestOpinion(1, h(1000), "s0")).to.equal(0);
      expect(await store.latestOpinion(1, h(1000), "s1")).to.equal(3);
      expect(await store.latestOpinion(1, h(1001), "s0")).to.equal(null);
      const nodes = await store.treeStore(1).getNodes([{ level: 0, index: 0 }]);
      expect(Buffer.from(nodes[0]!).equals(Buffer.alloc(32, 7))).to.equal(true);
    });

    it("refuses a stale size or a reused idempotency key, writing nothing", async () => {
      let err: unknown;
      try {
        await store.appendEntries(1, 3, [entry(9)], []);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreConflictError);
      err = undefined;
      try {
        await store.appendEntries(1, 4, [entry(4), entry(5, { idempotencyKey: "idem-0" })], []);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(StoreConflictError);
      expect((await store.getConsultation(1))?.treeSize).to.equal(4);
      expect(await store.getEntries(1, 4, 10)).to.deep.equal([]);
    });

    it("withholds a target's text and salt with a moderation entry", async () => {
      await store.appendEntries(
        1,
        4,
        [
          entry(4, {
            kind: "moderation",
            author: null,
            section: null,
            text: null,
            salt: null,
            receipt: null,
            subjectKey: null,
            withholdTarget: 2,
          }),
        ],
        [],
      );
      const [e2] = await store.getEntries(1, 2, 3);
      expect(e2).to.include({ withheld: true, text: null, salt: null });
    });

    it("records anchoring intents and their outcome; reports the backlog", async () => {
      const cutoff = 1_002;
      let b = await store.backlog(cutoff);
      expect(b.backlog).to.equal(5);
      expect(b.overdue).to.equal(2); // created 1000, 1001
      expect(b.oldestPending).to.equal(1000);
      const id = await store.addIntent({
        consultationId: 1,
        kind: "anchor",
        treeSize: 3,
        rootHash: h(3),
        txHash: h(33),
        rawTx: "0x01",
        createdAt: 50,
      });
      const pending = await store.pendingIntents(1);
      expect(pending.map((p) => p.id)).to.deep.equal([id]);
      expect(pending[0]).to.include({
        status: "pending",
        treeSize: 3,
        rootHash: h(3),
        txHash: h(33),
        rawTx: "0x01",
      });
      expect(await store.pendingIntents(2)).to.deep.equal([]);
      expect(await store.lastAnchor(1)).to.equal(null);
      await store.resolveIntent(id, { status: "mined", blockNumber: 7, anchoredAt: 1234, gasUsed: 50_000 });
      expect(await store.pendingIntents()).to.deep.equal([]);
      expect(await store.lastAnchor(1)).to.include({
        treeSize: 3,
        blockNumber: 7,
        anchoredAt: 1234,
        status: "mined",
      });
      expect((await store.getConsultation(1))?.anchoredSize).to.equal(3);
      b = await store.backlog(cutoff);
      expect(b.backlog).to.equal(2);
      const failed = await store.addIntent({
        consultationId: 1,
        kind: "anchor",
        treeSize: 5,
        rootHash: h(5),
        txHash: h(55),
        rawTx: "0x02",
        createdAt: 60,
      });
      await store.resolveIntent(failed, { status: "failed" });
      expect((await store.lastAnchor(1))?.treeSize).to.equal(3);
    });

    it("stores the tally", async () => {
      await store.setTally(1, { document: '{"v":1}', hash: h(8), txHash: h(9) });
      expect((await store.getConsultation(1))?.tally).to.deep.equal({
        document: '{"v":1}',
        hash: h(8),
        txHash: h(9),
      });
    });

    it("grants the anchoring lock", async () => {
      expect(await store.tryAnchorLock()).to.equal(true);
      expect(await store.tryAnchorLock()).to.equal(true);
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), "gopy-store-"));
conformance(
  "SQLite",
  async () => {
    const s = new SqliteStore(join(dir, "test.sqlite"));
    await s.migrate();
    return s;
  },
  async () => rmSync(dir, { recursive: true, force: true }),
);

const dir2 = mkdtempSync(join(tmpdir(), "gopy-store-w-"));
conformance(
  "SQLite (writer thread)",
  async () => {
    const s = new SqliteStore(join(dir2, "test.sqlite"), { writerThread: true });
    await s.migrate();
    return s;
  },
  async () => rmSync(dir2, { recursive: true, force: true }),
);

const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
if (!pgUrl) {
  describe("store conformance: PostgreSQL", () => missing("PostgreSQL", POSTGRES_HOW));
} else {
  const schema = `gopy_test_${process.pid}_${Date.now()}`;
  conformance(
    "PostgreSQL",
    async () => {
      const s = new PostgresStore(pgUrl, schema);
      await s.migrate();
      return s;
    },
    async () => {
      await dropSchema(pgUrl, schema);
    },
  );

  describe("store: PostgreSQL anchoring lock", () => {
    it("is held by exactly one of two instances", async () => {
      const s2 = `gopy_lock_${process.pid}_${Date.now()}`;
      const a = new PostgresStore(pgUrl, s2);
      const b = new PostgresStore(pgUrl, s2);
      try {
        await a.migrate();
        const gotA = await a.tryAnchorLock();
        const gotB = await b.tryAnchorLock();
        expect([gotA, gotB].filter(Boolean)).to.have.length(1);
      } finally {
        await a.close();
        await b.close();
        await dropSchema(pgUrl, s2);
      }
    });
  });
}
