/**
 * Receipts v2 from the group commit (SQLite and PostgreSQL): one checkpoint signature per batch, each receipt's
 * tlog-proof leads to it, a retry returns the identical receipt, and withholding redacts a v2 receipt that still
 * verifies.
 */
import { expect } from "chai";
import {
  draftHash,
  ed25519NoteKey,
  ed25519NoteVerifier,
  openCheckpoint,
  parseTlogProof,
  type ReceiptLog,
  type ReceiptV2,
  verifyReceipt,
  WITHHELD_SALT,
} from "../../protocol/index.ts";
import { ManualClock } from "../../server/clock.ts";
import { Ingest, type OpinionSubmission } from "../../server/ingest.ts";
import { PostgresStore, SqliteStore, type Store } from "../../server/store/index.ts";
import { dropSchema, PG_URL, storeBackends, tempSchema, tmpSqlite } from "./helpers.ts";
import { DRAFT } from "./requests.ts";

const PREFIX = "receipts.example/logs";
const SEED = new Uint8Array(32).fill(0x2a);
const log: ReceiptLog = { originPrefix: PREFIX, publicKey: ed25519NoteKey(`${PREFIX}/1`, SEED).publicKey };

for (const backend of storeBackends((b) => `receipts v2 from the group commit (${b})`)) {
  describe(`receipts v2 from the group commit (${backend})`, () => {
    let store: Store;
    let schema: string | null = null;
    let ingest: Ingest;
    /** How many checkpoints the ingest signed. */
    let signatures = 0;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 8));

    beforeEach(async () => {
      if (backend === "postgres") {
        schema = tempSchema("receipts");
        store = new PostgresStore(PG_URL!, schema);
      } else {
        store = new SqliteStore(tmpSqlite());
      }
      await store.migrate();
      const closesAt = Date.UTC(2026, 0, 2) / 1000;
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
        { consultationId: 1, version: 1, hash: draftHash(DRAFT), ...DRAFT, txHash: null, createdAt: 1 },
      );
      signatures = 0;
      ingest = new Ingest({
        store,
        clock,
        checkpointKey: (id) => {
          const key = ed25519NoteKey(`${PREFIX}/${id}`, SEED);
          return {
            ...key,
            sign: (m) => {
              signatures++;
              return key.sign(m);
            },
          };
        },
        maxAnchorDelayMs: 300_000,
        groupCommitMax: 64,
      });
    });
    afterEach(async () => {
      await store.close();
      if (schema) await dropSchema(PG_URL!, schema);
      schema = null;
    });

    const opinion = (i: number, idempotencyKey: string | null = null): OpinionSubmission => ({
      kind: "opinion",
      draftVersion: 1,
      section: DRAFT.sections[i % DRAFT.sections.length]!.id,
      stance: "agree",
      text: `ý kiến số ${i}`,
      author: `0x${(i % 16).toString(16).repeat(64)}`,
      channel: "online",
      collectedAt: null,
      subjectKey: `citizen-${i}`,
      idempotencyKey,
    });

    it("signs one checkpoint for a batch of N opinions; each receipt's proof leads to it", async () => {
      const first = await ingest.submit(1, opinion(100));
      expect(signatures).to.equal(1);
      const n = 21;
      const accepted = await Promise.all(Array.from({ length: n }, (_, i) => ingest.submit(1, opinion(i))));
      expect(signatures, "one signature for the whole batch").to.equal(2);
      const receipts = accepted.map((a) => JSON.parse(a.receiptJson!) as ReceiptV2);
      const notes = new Set(receipts.map((r) => parseTlogProof(r.proof).checkpoint));
      expect(notes.size).to.equal(1);
      const [note] = [...notes];
      const verifier = ed25519NoteVerifier(`${PREFIX}/1`, log.publicKey);
      const { checkpoint } = openCheckpoint(note, verifier, { origin: `${PREFIX}/1` });
      expect(checkpoint.size).to.equal(n + 1);
      const committed = await store.getConsultation(1);
      expect(committed?.treeSize).to.equal(n + 1);
      receipts.forEach((r, i) => {
        expect(r.v).to.equal(2);
        expect(r.leafIndex).to.equal(i + 1);
        const check = verifyReceipt(r, [], log);
        expect(check.valid, JSON.stringify(check.steps)).to.equal(true);
        expect(check.checkpoint?.rootHash).to.equal(checkpoint.rootHash);
      });
      // the first batch's receipt still proves its leaf against its own (smaller) checkpoint
      expect(verifyReceipt(JSON.parse(first.receiptJson!), [], log).checkpoint?.size).to.equal(1);
      // what is stored is what the citizen got
      const stored = (await store.receiptsFor("citizen-3")).map((j) => JSON.parse(j));
      expect(stored).to.deep.equal([receipts[3]]);
    });

    it("an idempotent retry returns the identical receipt, never a second entry", async () => {
      const [a] = await Promise.all([ingest.submit(1, opinion(1, "k-1")), ingest.submit(1, opinion(2))]);
      const retry = await ingest.submit(1, opinion(1, "k-1"));
      expect(retry.receiptJson).to.equal(a.receiptJson);
      expect((await store.getConsultation(1))?.treeSize).to.equal(2);
      expect(await store.getIdempotent("k-1")).to.equal(a.receiptJson);
    });

    it("withholding redacts a v2 receipt's text and salt; it still verifies (withheld step)", async () => {
      const a = await ingest.submit(1, opinion(5, "k-5"));
      await ingest.submit(1, {
        kind: "moderation",
        target: a.index,
        reason: "personal-data",
        by: `0x${"cd".repeat(32)}`,
      });
      const redacted = JSON.parse((await store.getIdempotent("k-5"))!) as ReceiptV2;
      expect(redacted).to.deep.equal({ ...JSON.parse(a.receiptJson!), text: "", salt: WITHHELD_SALT });
      const check = verifyReceipt(redacted, [], log);
      expect(check.valid).to.equal(true);
      expect(check.steps.map((s) => [s.step, s.ok])).to.deep.equal([
        ["format", true],
        ["checkpoint", true],
        ["contentHash", null],
        ["leafHash", true],
        ["inclusion", true],
      ]);
    });
  });
}
