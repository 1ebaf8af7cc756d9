/** PostgreSQL store through pg. Several service instances may share one database; one of them anchors (advisory lock). */
import pg from "pg";
import {
  backlogFrom,
  checkLogSize,
  consultationFrom,
  draftFrom,
  draftIntentFrom,
  entryFrom,
  intentFrom,
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
     id BIGINT PRIMARY KEY,
     agency TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     opens_at BIGINT NOT NULL,
     closes_at BIGINT NOT NULL,
     created_at BIGINT NOT NULL,
     draft_version INTEGER NOT NULL,
     tree_size BIGINT NOT NULL DEFAULT 0,
     anchored_size BIGINT NOT NULL DEFAULT 0,
     tally_document TEXT,
     tally_hash TEXT,
     tally_tx TEXT
   );
   CREATE TABLE drafts (
     consultation_id BIGINT NOT NULL REFERENCES consultations (id),
     version INTEGER NOT NULL,
     hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections JSONB NOT NULL,
     tx_hash TEXT,
     created_at BIGINT NOT NULL,
     PRIMARY KEY (consultation_id, version)
   );
   CREATE INDEX drafts_hash ON drafts (hash);
   CREATE TABLE entries (
     consultation_id BIGINT NOT NULL,
     idx BIGINT NOT NULL,
     leaf TEXT NOT NULL,
     leaf_hash TEXT NOT NULL,
     kind TEXT NOT NULL,
     author TEXT,
     section TEXT,
     text TEXT,
     salt TEXT,
     withheld BOOLEAN NOT NULL DEFAULT FALSE,
     created_at BIGINT NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   );
   CREATE INDEX entries_leaf_hash ON entries (consultation_id, leaf_hash);
   CREATE INDEX entries_author ON entries (consultation_id, author, section, idx) WHERE kind = 'opinion';
   CREATE TABLE nodes (
     consultation_id BIGINT NOT NULL,
     level INTEGER NOT NULL,
     idx BIGINT NOT NULL,
     hash BYTEA NOT NULL,
     PRIMARY KEY (consultation_id, level, idx)
   );
   CREATE TABLE receipts (
     consultation_id BIGINT NOT NULL,
     idx BIGINT NOT NULL,
     subject_key TEXT NOT NULL,
     idempotency_key TEXT UNIQUE,
     receipt TEXT NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   );
   CREATE INDEX receipts_subject ON receipts (subject_key);
   CREATE TABLE intents (
     id BIGSERIAL PRIMARY KEY,
     consultation_id BIGINT NOT NULL,
     kind TEXT NOT NULL,
     tree_size BIGINT NOT NULL,
     root_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     block_number BIGINT,
     anchored_at BIGINT,
     gas_used BIGINT,
     created_at BIGINT NOT NULL
   );
   CREATE INDEX intents_consultation ON intents (consultation_id, status);`,
  `CREATE TABLE draft_intents (
     id BIGSERIAL PRIMARY KEY,
     kind TEXT NOT NULL,
     consultation_id BIGINT,
     agency TEXT NOT NULL,
     draft_hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections JSONB NOT NULL,
     opens_at BIGINT,
     closes_at BIGINT,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     created_at BIGINT NOT NULL
   );
   CREATE INDEX draft_intents_status ON draft_intents (status);`,
];

export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private lockClient: pg.PoolClient | null = null;
  private lockHeld = false;

  constructor(url: string, schema = "public") {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    this.schema = schema;
    this.pool = new pg.Pool({ connectionString: url, max: 10, options: `-c search_path=${schema}` });
    this.pool.on("error", () => {
      /* a broken idle client is dropped by the pool; the next query reconnects */
    });
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      await c.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  async migrate(): Promise<void> {
    await this.pool.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await this.tx(async (c) => {
      // serialize concurrent migrations of several instances
      await c.query("SELECT pg_advisory_xact_lock(1735356537)");
      await c.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const r = await c.query("SELECT max(version) AS v FROM schema_version");
      const current = r.rows[0]?.v == null ? 0 : Number(r.rows[0].v);
      for (let v = current; v < MIGRATIONS.length; v++) {
        await c.query(MIGRATIONS[v]!);
        await c.query("INSERT INTO schema_version (version) VALUES ($1)", [v + 1]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.lockClient) {
      this.lockClient.release(true);
      this.lockClient = null;
    }
    await this.pool.end();
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  async createConsultation(
    c: Omit<ConsultationRecord, "treeSize" | "anchoredSize" | "tally">,
    draft: DraftRecord,
  ): Promise<void> {
    await this.tx((cl) => this.insertConsultation(cl, c, draft));
  }

  private async insertConsultation(
    cl: pg.PoolClient,
    c: Omit<ConsultationRecord, "treeSize" | "anchoredSize" | "tally">,
    draft: DraftRecord,
  ): Promise<void> {
    await cl.query(
      `INSERT INTO consultations (id, agency, title, summary, opens_at, closes_at, created_at, draft_version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [c.id, c.agency, c.title, c.summary, c.opensAt, c.closesAt, c.createdAt, c.draftVersion],
    );
    await this.insertDraft(cl, draft);
  }

  private async insertDraft(c: pg.PoolClient, d: DraftRecord): Promise<void> {
    await c.query(
      `INSERT INTO drafts (consultation_id, version, hash, title, summary, sections, tx_hash, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        d.consultationId,
        d.version,
        d.hash,
        d.title,
        d.summary,
        JSON.stringify(d.sections),
        d.txHash,
        d.createdAt,
      ],
    );
  }

  async getConsultation(id: number): Promise<ConsultationRecord | null> {
    const r = await this.pool.query("SELECT * FROM consultations WHERE id = $1", [id]);
    return r.rows[0] ? consultationFrom(r.rows[0]) : null;
  }

  async listConsultations(): Promise<ConsultationRecord[]> {
    const r = await this.pool.query("SELECT * FROM consultations ORDER BY created_at DESC, id DESC");
    return r.rows.map(consultationFrom);
  }

  async addDraft(draft: DraftRecord): Promise<void> {
    await this.tx((c) => this.insertDraftVersion(c, draft));
  }

  private async insertDraftVersion(c: pg.PoolClient, draft: DraftRecord): Promise<void> {
    await this.insertDraft(c, draft);
    await c.query("UPDATE consultations SET draft_version = $1, title = $2, summary = $3 WHERE id = $4", [
      draft.version,
      draft.title,
      draft.summary,
      draft.consultationId,
    ]);
  }

  async addDraftIntent(i: NewDraftIntent): Promise<number> {
    const r = await this.pool.query(
      `INSERT INTO draft_intents (kind, consultation_id, agency, draft_hash, title, summary, sections, opens_at,
                                  closes_at, tx_hash, raw_tx, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
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
      ],
    );
    return Number(r.rows[0].id);
  }

  async pendingDraftIntents(): Promise<DraftIntent[]> {
    const r = await this.pool.query("SELECT * FROM draft_intents WHERE status = 'pending' ORDER BY id");
    return r.rows.map(draftIntentFrom);
  }

  async completeDraftIntent(id: number, outcome: DraftOutcome): Promise<boolean> {
    return this.tx(async (c) => {
      // the row lock makes completion idempotent across instances (a request and a reconciler may race)
      const r = await c.query("SELECT * FROM draft_intents WHERE id = $1 FOR UPDATE", [id]);
      if (!r.rows[0]) throw new Error(`draft intent ${id} does not exist`);
      const intent = draftIntentFrom(r.rows[0]);
      if (intent.status === "done") return false;
      const { consultation, draft } = recordsOfDraftIntent(intent, outcome);
      if (consultation) await this.insertConsultation(c, consultation, draft);
      else await this.insertDraftVersion(c, draft);
      await c.query("UPDATE draft_intents SET status = 'done', consultation_id = $1 WHERE id = $2", [
        outcome.consultationId,
        id,
      ]);
      return true;
    });
  }

  async failDraftIntent(id: number): Promise<void> {
    await this.pool.query("UPDATE draft_intents SET status = 'failed' WHERE id = $1 AND status = 'pending'", [
      id,
    ]);
  }

  async getDraft(consultationId: number, version?: number): Promise<DraftRecord | null> {
    const r =
      version === undefined
        ? await this.pool.query(
            "SELECT * FROM drafts WHERE consultation_id = $1 ORDER BY version DESC LIMIT 1",
            [consultationId],
          )
        : await this.pool.query("SELECT * FROM drafts WHERE consultation_id = $1 AND version = $2", [
            consultationId,
            version,
          ]);
    return r.rows[0] ? draftFrom(r.rows[0]) : null;
  }

  async findDraftsByHash(hash: Hex): Promise<DraftRecord[]> {
    const result = await this.pool.query(
      "SELECT * FROM drafts WHERE hash = $1 ORDER BY consultation_id, version",
      [hash],
    );
    return result.rows.map(draftFrom);
  }

  treeStore(consultationId: number): TreeStoreLike {
    return {
      getNodes: (ids: readonly NodeId[]) => this.getNodes(consultationId, ids),
      putNodes: async (nodes: readonly TreeNode[]) => {
        await this.putNodes(this.pool, consultationId, nodes);
      },
    };
  }

  private async getNodes(consultationId: number, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    const r = await this.pool.query(
      `SELECT n.level, n.idx, n.hash FROM nodes n
       JOIN unnest($2::int[], $3::bigint[]) AS q(level, idx) ON n.level = q.level AND n.idx = q.idx
       WHERE n.consultation_id = $1`,
      [consultationId, ids.map((i) => i.level), ids.map((i) => i.index)],
    );
    const found = new Map<string, Uint8Array>();
    for (const row of r.rows) {
      const b = row.hash as Buffer;
      found.set(`${row.level}:${row.idx}`, new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    }
    return ids.map((id) => {
      const h = found.get(`${id.level}:${id.index}`);
      if (!h)
        throw new Error(`tree node (${id.level}, ${id.index}) of consultation ${consultationId} missing`);
      return h;
    });
  }

  private async putNodes(
    c: pg.Pool | pg.PoolClient,
    consultationId: number,
    nodes: readonly TreeNode[],
  ): Promise<void> {
    for (let off = 0; off < nodes.length; off += 5000) {
      const chunk = nodes.slice(off, off + 5000);
      await c.query(
        `INSERT INTO nodes (consultation_id, level, idx, hash)
         SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bytea[])
         ON CONFLICT (consultation_id, level, idx) DO UPDATE SET hash = excluded.hash`,
        [
          consultationId,
          chunk.map((n) => n.level),
          chunk.map((n) => n.index),
          chunk.map((n) => Buffer.from(n.hash)),
        ],
      );
    }
  }

  async appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): Promise<void> {
    await this.tx(async (c) => {
      // the row lock serializes appends to one log across service instances
      const r = await c.query("SELECT tree_size FROM consultations WHERE id = $1 FOR UPDATE", [
        consultationId,
      ]);
      checkLogSize(consultationId, r.rows[0], expectedSize);
      for (let off = 0; off < entries.length; off += 2000) {
        const chunk = entries.slice(off, off + 2000);
        const idx = chunk.map((_, k) => expectedSize + off + k);
        await c.query(
          `INSERT INTO entries (consultation_id, idx, leaf, leaf_hash, kind, author, section, text, salt, created_at)
           SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                                    $8::text[], $9::text[], $10::bigint[])`,
          [
            consultationId,
            idx,
            chunk.map((e) => e.leaf),
            chunk.map((e) => e.leafHash),
            chunk.map((e) => e.kind),
            chunk.map((e) => e.author),
            chunk.map((e) => e.section),
            chunk.map((e) => e.text),
            chunk.map((e) => e.salt),
            chunk.map((e) => e.createdAt),
          ],
        );
        const withReceipt = chunk.map((e, k) => ({ e, i: idx[k]! })).filter((x) => x.e.receipt !== null);
        if (withReceipt.length > 0) {
          const ins = await c.query(
            `INSERT INTO receipts (consultation_id, idx, subject_key, idempotency_key, receipt)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[])
             ON CONFLICT (idempotency_key) DO NOTHING`,
            [
              consultationId,
              withReceipt.map((x) => x.i),
              withReceipt.map((x) => x.e.subjectKey),
              withReceipt.map((x) => x.e.idempotencyKey),
              withReceipt.map((x) => x.e.receipt),
            ],
          );
          if (ins.rowCount !== withReceipt.length)
            throw new StoreConflictError("idempotency key already used");
        }
        for (const e of chunk) {
          if (e.withholdTarget !== null) {
            await c.query(
              "UPDATE entries SET withheld = TRUE, text = NULL, salt = NULL WHERE consultation_id = $1 AND idx = $2",
              [consultationId, e.withholdTarget],
            );
          }
        }
      }
      await this.putNodes(c, consultationId, nodes);
      await c.query("UPDATE consultations SET tree_size = $1 WHERE id = $2", [
        expectedSize + entries.length,
        consultationId,
      ]);
    });
  }

  async getEntries(consultationId: number, start: number, end: number): Promise<EntryRecord[]> {
    const r = await this.pool.query(
      "SELECT * FROM entries WHERE consultation_id = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
      [consultationId, start, end],
    );
    return r.rows.map(entryFrom);
  }

  async findLeaf(consultationId: number, leafHash: Hex): Promise<number | null> {
    const r = await this.pool.query(
      "SELECT min(idx) AS i FROM entries WHERE consultation_id = $1 AND leaf_hash = $2",
      [consultationId, leafHash],
    );
    return r.rows[0]?.i == null ? null : Number(r.rows[0].i);
  }

  async latestOpinion(consultationId: number, author: Hex, section: string): Promise<number | null> {
    const r = await this.pool.query(
      "SELECT max(idx) AS i FROM entries WHERE consultation_id = $1 AND author = $2 AND section = $3 AND kind = 'opinion'",
      [consultationId, author, section],
    );
    return r.rows[0]?.i == null ? null : Number(r.rows[0].i);
  }

  async getIdempotent(idempotencyKey: string): Promise<string | null> {
    const r = await this.pool.query("SELECT receipt FROM receipts WHERE idempotency_key = $1", [
      idempotencyKey,
    ]);
    return r.rows[0] ? String(r.rows[0].receipt) : null;
  }

  async receiptsFor(subjectKey: string): Promise<string[]> {
    const r = await this.pool.query(
      "SELECT receipt FROM receipts WHERE subject_key = $1 ORDER BY consultation_id, idx",
      [subjectKey],
    );
    return r.rows.map((x) => String(x.receipt));
  }

  async addIntent(i: NewIntent): Promise<number> {
    const r = await this.pool.query(
      `INSERT INTO intents (consultation_id, kind, tree_size, root_hash, tx_hash, raw_tx, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [i.consultationId, i.kind, i.treeSize, i.rootHash, i.txHash, i.rawTx, i.createdAt],
    );
    return Number(r.rows[0].id);
  }

  async pendingIntents(consultationId?: number): Promise<AnchorIntent[]> {
    const r =
      consultationId === undefined
        ? await this.pool.query("SELECT * FROM intents WHERE status = 'pending' ORDER BY id")
        : await this.pool.query(
            "SELECT * FROM intents WHERE status = 'pending' AND consultation_id = $1 ORDER BY id",
            [consultationId],
          );
    return r.rows.map(intentFrom);
  }

  async resolveIntent(
    id: number,
    outcome:
      | { status: "mined"; blockNumber: number; anchoredAt: number; gasUsed: number }
      | { status: "failed" },
  ): Promise<void> {
    await this.tx(async (c) => {
      if (outcome.status === "failed") {
        await c.query("UPDATE intents SET status = 'failed' WHERE id = $1", [id]);
        return;
      }
      const r = await c.query(
        `UPDATE intents SET status = 'mined', block_number = $1, anchored_at = $2, gas_used = $3 WHERE id = $4
         RETURNING consultation_id, kind, tree_size`,
        [outcome.blockNumber, outcome.anchoredAt, outcome.gasUsed, id],
      );
      const row = r.rows[0];
      if (row && row.kind === "anchor") {
        await c.query("UPDATE consultations SET anchored_size = GREATEST(anchored_size, $1) WHERE id = $2", [
          Number(row.tree_size),
          Number(row.consultation_id),
        ]);
      }
    });
  }

  async lastAnchor(consultationId: number): Promise<AnchorIntent | null> {
    const r = await this.pool.query(
      `SELECT * FROM intents WHERE consultation_id = $1 AND kind = 'anchor' AND status = 'mined'
       ORDER BY tree_size DESC, id DESC LIMIT 1`,
      [consultationId],
    );
    return r.rows[0] ? intentFrom(r.rows[0]) : null;
  }

  async setTally(consultationId: number, t: TallyRecord): Promise<void> {
    await this.pool.query(
      "UPDATE consultations SET tally_document = $1, tally_hash = $2, tally_tx = $3 WHERE id = $4",
      [t.document, t.hash, t.txHash, consultationId],
    );
  }

  async backlog(cutoff: number): Promise<BacklogInfo> {
    const r = await this.pool.query(
      `SELECT count(*) AS backlog,
              coalesce(sum(CASE WHEN e.created_at < $1 THEN 1 ELSE 0 END), 0) AS overdue,
              min(e.created_at) AS oldest
       FROM consultations c JOIN entries e ON e.consultation_id = c.id AND e.idx >= c.anchored_size`,
      [cutoff],
    );
    return backlogFrom(r.rows[0]);
  }

  async tryAnchorLock(): Promise<boolean> {
    try {
      if (this.lockClient && this.lockHeld) {
        await this.lockClient.query("SELECT 1"); // still connected, so still held
        return true;
      }
      if (!this.lockClient) this.lockClient = await this.pool.connect();
      // one anchorer per schema (one deployment), whatever else shares the database
      const r = await this.lockClient.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [
        `gopy-anchor:${this.schema}`,
      ]);
      this.lockHeld = r.rows[0]?.ok === true;
      return this.lockHeld;
    } catch {
      if (this.lockClient) this.lockClient.release(true);
      this.lockClient = null;
      this.lockHeld = false;
      return false;
    }
  }
}
