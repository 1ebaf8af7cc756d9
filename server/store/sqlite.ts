/** SQLite store through Node's built-in node:sqlite (DatabaseSync), WAL, synchronous=FULL: a commit is durable. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import {
  backlogFrom,
  checkLogSize,
  consultationFrom,
  draftFrom,
  draftIntentFrom,
  entryFrom,
  intentFrom,
  type Row,
  recordsOfDraftIntent,
} from "./rows.ts";
import {
  type AnchorIntent,
  type BacklogInfo,
  type ConsultationRecord,
  type DraftIntent,
  type DraftOutcome,
  type DraftRecord,
  type EntryRecord,
  type Hex,
  type NewDraftIntent,
  type NewEntry,
  type NewIntent,
  type NodeId,
  type Store,
  StoreConflictError,
  type TallyRecord,
  type TreeNode,
  type TreeStoreLike,
} from "./types.ts";

const MIGRATIONS: string[] = [
  `CREATE TABLE consultations (
     id INTEGER PRIMARY KEY,
     agency TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     opens_at INTEGER NOT NULL,
     closes_at INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     draft_version INTEGER NOT NULL,
     tree_size INTEGER NOT NULL DEFAULT 0,
     anchored_size INTEGER NOT NULL DEFAULT 0,
     tally_document TEXT,
     tally_hash TEXT,
     tally_tx TEXT
   ) STRICT;
   CREATE TABLE drafts (
     consultation_id INTEGER NOT NULL,
     version INTEGER NOT NULL,
     hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections TEXT NOT NULL,
     tx_hash TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (consultation_id, version)
   ) STRICT;
   CREATE INDEX drafts_hash ON drafts (hash);
   CREATE TABLE entries (
     consultation_id INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     leaf TEXT NOT NULL,
     leaf_hash TEXT NOT NULL,
     kind TEXT NOT NULL,
     author TEXT,
     section TEXT,
     text TEXT,
     salt TEXT,
     withheld INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX entries_leaf_hash ON entries (consultation_id, leaf_hash);
   CREATE INDEX entries_author ON entries (consultation_id, author, section, idx) WHERE kind = 'opinion';
   CREATE TABLE nodes (
     consultation_id INTEGER NOT NULL,
     level INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     hash BLOB NOT NULL,
     PRIMARY KEY (consultation_id, level, idx)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE receipts (
     consultation_id INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     subject_key TEXT NOT NULL,
     idempotency_key TEXT UNIQUE,
     receipt TEXT NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   ) STRICT;
   CREATE INDEX receipts_subject ON receipts (subject_key);
   CREATE TABLE intents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     consultation_id INTEGER NOT NULL,
     kind TEXT NOT NULL,
     tree_size INTEGER NOT NULL,
     root_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     block_number INTEGER,
     anchored_at INTEGER,
     gas_used INTEGER,
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX intents_consultation ON intents (consultation_id, status);`,
  `CREATE TABLE draft_intents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL,
     consultation_id INTEGER,
     agency TEXT NOT NULL,
     draft_hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections TEXT NOT NULL,
     opens_at INTEGER,
     closes_at INTEGER,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     created_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX draft_intents_status ON draft_intents (status);`,
];

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();
  private readonly writer: SqliteWriter | null;

  /**
   * @param options.writerThread run appendEntries (the group commit and its fsync) in a worker thread on its own
   *   connection, so the event loop keeps serving requests while the disk syncs. Reads stay on this connection (WAL).
   */
  constructor(path: string, options: { writerThread?: boolean } = {}) {
    this.writer = options.writerThread && path !== ":memory:" ? new SqliteWriter(path) : null;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec("PRAGMA journal_mode = WAL");
    // FULL: the WAL is fsynced at every commit, so an acknowledged opinion survives a power cut.
    this.db.exec("PRAGMA synchronous = FULL");
    this.db.exec("PRAGMA busy_timeout = 5000");
    this.db.exec("PRAGMA foreign_keys = ON");
  }

  private q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private tx<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.db.exec("COMMIT");
      return out;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  async migrate(): Promise<void> {
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT");
    const row = this.db.prepare("SELECT max(version) AS v FROM schema_version").get() as Row | undefined;
    const current = row?.v == null ? 0 : Number(row.v);
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.tx(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(v + 1);
      });
    }
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.stmts.clear();
    if (this.db.isOpen) this.db.close();
  }

  async ping(): Promise<boolean> {
    try {
      this.q("SELECT 1").get();
      return true;
    } catch {
      return false;
    }
  }

  async createConsultation(
    c: Omit<ConsultationRecord, "treeSize" | "anchoredSize" | "tally">,
    draft: DraftRecord,
  ): Promise<void> {
    this.tx(() => this.insertConsultation(c, draft));
  }

  private insertConsultation(
    c: Omit<ConsultationRecord, "treeSize" | "anchoredSize" | "tally">,
    draft: DraftRecord,
  ): void {
    this.q(
      `INSERT INTO consultations (id, agency, title, summary, opens_at, closes_at, created_at, draft_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.id, c.agency, c.title, c.summary, c.opensAt, c.closesAt, c.createdAt, c.draftVersion);
    this.insertDraft(draft);
  }

  private insertDraft(d: DraftRecord): void {
    this.q(
      `INSERT INTO drafts (consultation_id, version, hash, title, summary, sections, tx_hash, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      d.consultationId,
      d.version,
      d.hash,
      d.title,
      d.summary,
      JSON.stringify(d.sections),
      d.txHash,
      d.createdAt,
    );
  }

  async getConsultation(id: number): Promise<ConsultationRecord | null> {
    const r = this.q("SELECT * FROM consultations WHERE id = ?").get(id) as Row | undefined;
    return r ? consultationFrom(r) : null;
  }

  async listConsultations(): Promise<ConsultationRecord[]> {
    return (this.q("SELECT * FROM consultations ORDER BY created_at DESC, id DESC").all() as Row[]).map(
      consultationFrom,
    );
  }

  async addDraft(draft: DraftRecord): Promise<void> {
    this.tx(() => this.insertDraftVersion(draft));
  }

  private insertDraftVersion(draft: DraftRecord): void {
    this.insertDraft(draft);
    this.q("UPDATE consultations SET draft_version = ?, title = ?, summary = ? WHERE id = ?").run(
      draft.version,
      draft.title,
      draft.summary,
      draft.consultationId,
    );
  }

  async addDraftIntent(i: NewDraftIntent): Promise<number> {
    const r = this.q(
      `INSERT INTO draft_intents (kind, consultation_id, agency, draft_hash, title, summary, sections, opens_at,
                                  closes_at, tx_hash, raw_tx, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ).get(
      i.kind,
      i.consultationId,
      i.agency,
      i.hash,
      i.title,
      i.summary,
      JSON.stringify(i.sections),
      i.opensAt,
      i.closesAt,
      i.txHash,
      i.rawTx,
      i.createdAt,
    ) as Row;
    return Number(r.id);
  }

  async pendingDraftIntents(): Promise<DraftIntent[]> {
    return (this.q("SELECT * FROM draft_intents WHERE status = 'pending' ORDER BY id").all() as Row[]).map(
      draftIntentFrom,
    );
  }

  async completeDraftIntent(id: number, outcome: DraftOutcome): Promise<boolean> {
    return this.tx(() => {
      const r = this.q("SELECT * FROM draft_intents WHERE id = ?").get(id) as Row | undefined;
      if (!r) throw new Error(`draft intent ${id} does not exist`);
      const intent = draftIntentFrom(r);
      if (intent.status === "done") return false;
      const { consultation, draft } = recordsOfDraftIntent(intent, outcome);
      if (consultation) this.insertConsultation(consultation, draft);
      else this.insertDraftVersion(draft);
      this.q("UPDATE draft_intents SET status = 'done', consultation_id = ? WHERE id = ?").run(
        outcome.consultationId,
        id,
      );
      return true;
    });
  }

  async failDraftIntent(id: number): Promise<void> {
    this.q("UPDATE draft_intents SET status = 'failed' WHERE id = ? AND status = 'pending'").run(id);
  }

  async getDraft(consultationId: number, version?: number): Promise<DraftRecord | null> {
    const r = (
      version === undefined
        ? this.q("SELECT * FROM drafts WHERE consultation_id = ? ORDER BY version DESC LIMIT 1").get(
            consultationId,
          )
        : this.q("SELECT * FROM drafts WHERE consultation_id = ? AND version = ?").get(
            consultationId,
            version,
          )
    ) as Row | undefined;
    return r ? draftFrom(r) : null;
  }

  async findDraftsByHash(hash: Hex): Promise<DraftRecord[]> {
    const rows = this.q("SELECT * FROM drafts WHERE hash = ? ORDER BY consultation_id, version").all(
      hash,
    ) as Row[];
    return rows.map(draftFrom);
  }

  treeStore(consultationId: number): TreeStoreLike {
    return {
      getNodes: (ids: readonly NodeId[]) => this.getNodes(consultationId, ids),
      putNodes: (nodes: readonly TreeNode[]) => {
        this.tx(() => this.putNodes(consultationId, nodes));
      },
    };
  }

  private getNodes(consultationId: number, ids: readonly NodeId[]): Uint8Array[] {
    const s = this.q("SELECT hash FROM nodes WHERE consultation_id = ? AND level = ? AND idx = ?");
    return ids.map((id) => {
      const r = s.get(consultationId, id.level, id.index) as Row | undefined;
      if (!r)
        throw new Error(`tree node (${id.level}, ${id.index}) of consultation ${consultationId} missing`);
      return r.hash as Uint8Array;
    });
  }

  private putNodes(consultationId: number, nodes: readonly TreeNode[]): void {
    const s = this.q("INSERT OR REPLACE INTO nodes (consultation_id, level, idx, hash) VALUES (?, ?, ?, ?)");
    for (const n of nodes) s.run(consultationId, n.level, n.index, n.hash);
  }

  async appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): Promise<void> {
    if (this.writer) return this.writer.append(consultationId, expectedSize, entries, nodes);
    this.appendEntriesSync(consultationId, expectedSize, entries, nodes);
  }

  /** The append transaction itself (run here, or in the writer thread on its own connection). */
  appendEntriesSync(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): void {
    this.tx(() => {
      const r = this.q("SELECT tree_size FROM consultations WHERE id = ?").get(consultationId) as
        | Row
        | undefined;
      checkLogSize(consultationId, r, expectedSize);
      const ins = this.q(
        `INSERT INTO entries (consultation_id, idx, leaf, leaf_hash, kind, author, section, text, salt, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const rec = this.q(
        "INSERT INTO receipts (consultation_id, idx, subject_key, idempotency_key, receipt) VALUES (?, ?, ?, ?, ?)",
      );
      const idem = this.q("SELECT 1 FROM receipts WHERE idempotency_key = ?");
      const withhold = this.q(
        "UPDATE entries SET withheld = 1, text = NULL, salt = NULL WHERE consultation_id = ? AND idx = ?",
      );
      let i = expectedSize;
      for (const e of entries) {
        ins.run(
          consultationId,
          i,
          e.leaf,
          e.leafHash,
          e.kind,
          e.author,
          e.section,
          e.text,
          e.salt,
          e.createdAt,
        );
        if (e.receipt !== null && e.subjectKey !== null) {
          if (e.idempotencyKey !== null && idem.get(e.idempotencyKey)) {
            throw new StoreConflictError("idempotency key already used");
          }
          rec.run(consultationId, i, e.subjectKey, e.idempotencyKey, e.receipt);
        }
        if (e.withholdTarget !== null) withhold.run(consultationId, e.withholdTarget);
        i++;
      }
      this.putNodes(consultationId, nodes);
      this.q("UPDATE consultations SET tree_size = ? WHERE id = ?").run(i, consultationId);
    });
  }

  async getEntries(consultationId: number, start: number, end: number): Promise<EntryRecord[]> {
    return (
      this.q("SELECT * FROM entries WHERE consultation_id = ? AND idx >= ? AND idx < ? ORDER BY idx").all(
        consultationId,
        start,
        end,
      ) as Row[]
    ).map(entryFrom);
  }

  async findLeaf(consultationId: number, leafHash: Hex): Promise<number | null> {
    const r = this.q("SELECT min(idx) AS i FROM entries WHERE consultation_id = ? AND leaf_hash = ?").get(
      consultationId,
      leafHash,
    ) as Row | undefined;
    return r?.i == null ? null : Number(r.i);
  }

  async latestOpinion(consultationId: number, author: Hex, section: string): Promise<number | null> {
    const r = this.q(
      "SELECT max(idx) AS i FROM entries WHERE consultation_id = ? AND author = ? AND section = ? AND kind = 'opinion'",
    ).get(consultationId, author, section) as Row | undefined;
    return r?.i == null ? null : Number(r.i);
  }

  async getIdempotent(idempotencyKey: string): Promise<string | null> {
    const r = this.q("SELECT receipt FROM receipts WHERE idempotency_key = ?").get(idempotencyKey) as
      | Row
      | undefined;
    return r ? String(r.receipt) : null;
  }

  async receiptsFor(subjectKey: string): Promise<string[]> {
    return (
      this.q("SELECT receipt FROM receipts WHERE subject_key = ? ORDER BY consultation_id, idx").all(
        subjectKey,
      ) as Row[]
    ).map((r) => String(r.receipt));
  }

  async addIntent(i: NewIntent): Promise<number> {
    const r = this.q(
      `INSERT INTO intents (consultation_id, kind, tree_size, root_hash, tx_hash, raw_tx, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ).get(i.consultationId, i.kind, i.treeSize, i.rootHash, i.txHash, i.rawTx, i.createdAt) as Row;
    return Number(r.id);
  }

  async pendingIntents(consultationId?: number): Promise<AnchorIntent[]> {
    const rows =
      consultationId === undefined
        ? this.q("SELECT * FROM intents WHERE status = 'pending' ORDER BY id").all()
        : this.q("SELECT * FROM intents WHERE status = 'pending' AND consultation_id = ? ORDER BY id").all(
            consultationId,
          );
    return (rows as Row[]).map(intentFrom);
  }

  async resolveIntent(
    id: number,
    outcome:
      | { status: "mined"; blockNumber: number; anchoredAt: number; gasUsed: number }
      | { status: "failed" },
  ): Promise<void> {
    this.tx(() => {
      if (outcome.status === "failed") {
        this.q("UPDATE intents SET status = 'failed' WHERE id = ?").run(id);
        return;
      }
      this.q(
        "UPDATE intents SET status = 'mined', block_number = ?, anchored_at = ?, gas_used = ? WHERE id = ?",
      ).run(outcome.blockNumber, outcome.anchoredAt, outcome.gasUsed, id);
      const r = this.q("SELECT consultation_id, kind, tree_size FROM intents WHERE id = ?").get(id) as Row;
      if (r.kind === "anchor") {
        this.q("UPDATE consultations SET anchored_size = max(anchored_size, ?) WHERE id = ?").run(
          Number(r.tree_size),
          Number(r.consultation_id),
        );
      }
    });
  }

  async lastAnchor(consultationId: number): Promise<AnchorIntent | null> {
    const r = this.q(
      `SELECT * FROM intents WHERE consultation_id = ? AND kind = 'anchor' AND status = 'mined'
       ORDER BY tree_size DESC, id DESC LIMIT 1`,
    ).get(consultationId) as Row | undefined;
    return r ? intentFrom(r) : null;
  }

  async setTally(consultationId: number, t: TallyRecord): Promise<void> {
    this.q("UPDATE consultations SET tally_document = ?, tally_hash = ?, tally_tx = ? WHERE id = ?").run(
      t.document,
      t.hash,
      t.txHash,
      consultationId,
    );
  }

  async backlog(cutoff: number): Promise<BacklogInfo> {
    const r = this.q(
      `SELECT count(*) AS backlog,
              coalesce(sum(CASE WHEN e.created_at < ? THEN 1 ELSE 0 END), 0) AS overdue,
              min(e.created_at) AS oldest
       FROM consultations c JOIN entries e ON e.consultation_id = c.id AND e.idx >= c.anchored_size`,
    ).get(cutoff) as Row;
    return backlogFrom(r);
  }

  async tryAnchorLock(): Promise<boolean> {
    // One SQLite file serves one process: that process anchors.
    return true;
  }
}

interface WriterReply {
  id: number;
  error?: { conflict: boolean; message: string };
}

/** Client side of the writer thread (server/store/sqlite-writer.ts). */
class SqliteWriter {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(path: string) {
    this.worker = new Worker(new URL("./sqlite-writer.ts", import.meta.url), { workerData: { path } });
    this.worker.unref();
    this.worker.on("message", (m: WriterReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error)
        p.reject(m.error.conflict ? new StoreConflictError(m.error.message) : new Error(m.error.message));
      else p.resolve();
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => {
      if (code !== 0) fail(new Error(`SQLite writer thread exited with ${code}`));
    });
  }

  append(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // an unacknowledged commit keeps the process alive
      this.worker.postMessage({ id, consultationId, expectedSize, entries, nodes });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
