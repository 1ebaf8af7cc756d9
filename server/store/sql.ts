/**
 * The SQL store, written once: every statement of the Store interface, against a small port (get / all / run /
 * exec, and transactions) with `?` placeholders. A dialect (sqlite.ts, postgres.ts) provides the port and the few
 * things that really differ: binding many rows at once, reading tree nodes, the row lock of the append transaction,
 * the anchoring and operator locks, the migration lock and the column types of the one migration list (schema.ts).
 */
import { ServiceError } from "../errors.ts";
import { simhashBands } from "../reading.ts";
import {
  attachmentFileFrom,
  attachmentsColumn,
  backlogFrom,
  consultationFrom,
  draftFrom,
  draftIntentFrom,
  entryFrom,
  intentFrom,
  keyIntentFrom,
  type Row,
  recordsOfDraftIntent,
  responseFrom,
  responseIntentFrom,
  withheldReceiptJson,
} from "./rows.ts";
import { type ColumnTypes, type ForeignKeys, MIGRATIONS } from "./schema.ts";
import {
  type AnchorIntent,
  type AppendOptions,
  type AttachmentFile,
  type BacklogInfo,
  type CampaignCandidate,
  type CampaignSummary,
  type CheckpointRecord,
  type ConsultationRecord,
  type CountedAddress,
  type CountedLag,
  type CountedNode,
  type CountedStoreLike,
  type CountedUpdateSession,
  type CountedVersion,
  type DraftIntent,
  type DraftOutcome,
  type DraftRecord,
  type EntryRecord,
  type Hex,
  type KeyIntent,
  type NewConsultation,
  type NewDraftIntent,
  type NewEntry,
  type NewIntent,
  type NewKeyIntent,
  type NewResponseIntent,
  type NodeId,
  type ReadingFilter,
  type ReadingPage,
  type ReadingRecord,
  type ReadingStats,
  type ReadingWrite,
  type ResponseIntent,
  type ResponseRecord,
  type Store,
  StoreConflictError,
  type TallyRecord,
  type TreeNode,
  type TreeStoreLike,
} from "./types.ts";

export type SqlValue = string | number | Uint8Array | null;
/** A statement parameter: a value, or (PostgreSQL's unnest) an array of values. */
export type SqlParam = SqlValue | readonly SqlValue[];

/** One connection's statements, or one transaction's. `?` marks a parameter. */
export interface SqlPort {
  get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined>;
  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** Returns the number of rows the statement changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
  /** Several statements, no parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** A column of a bulk insert, with its type (PostgreSQL binds each column as one typed array). */
export type BulkColumn = readonly [name: string, type: "bigint" | "integer" | "text" | "bytes"];

/** Rows for one table of SqlDialect.insertAll: `INSERT INTO table (columns) <rows> <suffix>`. */
export interface BulkInsert {
  table: string;
  columns: readonly BulkColumn[];
  rows: readonly (readonly SqlValue[])[];
  /** After the rows, e.g. an ON CONFLICT clause. */
  suffix?: string;
}

/** A statement and its parameters. */
export interface SqlStatement {
  sql: string;
  params: SqlParam[];
}

/** A FROM item and its parameters (SqlDialect.relation). */
export interface SqlRelation {
  sql: string;
  params: SqlParam[];
}

export interface SqlDialect {
  readonly kind: Store["kind"];
  /** Statements outside any transaction. */
  readonly db: SqlPort;
  readonly types: ColumnTypes;
  /** Appended to a SELECT whose rows stay locked until the transaction ends (SQLite: the write lock does it). */
  readonly forUpdate: string;
  /** Runs fn in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T>;
  /** Runs the migration transaction, one instance at a time. */
  migration(fn: (tx: SqlPort) => Promise<void>): Promise<void>;
  /** Gives an existing table these foreign keys, checking its rows. */
  addForeignKeys(tx: SqlPort, fks: ForeignKeys): Promise<void>;
  /** `INSERT INTO table (columns) <rows> <suffix>`; returns the rows inserted (an ON CONFLICT suffix may skip some). */
  insertMany(
    tx: SqlPort,
    table: string,
    columns: readonly BulkColumn[],
    rows: readonly (readonly SqlValue[])[],
    suffix?: string,
  ): Promise<number>;
  /**
   * A guard statement (one returning at most one row, e.g. an UPDATE … RETURNING) and, only when it returns its row,
   * several tables' inserts of one transaction, in as few statements as the dialect can (PostgreSQL: one with the
   * guard, for up to its bulk rows per table); returns the guard's row and the rows inserted per insert, in order
   * (an ON CONFLICT suffix may skip some).
   */
  guardedInsert(
    tx: SqlPort,
    guard: SqlStatement,
    inserts: readonly BulkInsert[],
  ): Promise<{ guard: Row | undefined; inserted: number[] }>;
  /**
   * Rows given as a relation to read FROM in one statement, whatever their number: `<sql>` names its columns and
   * `i`, each row's position (from 1). Text and integer columns only.
   */
  relation(
    alias: string,
    columns: readonly BulkColumn[],
    rows: readonly (readonly SqlValue[])[],
  ): SqlRelation;
  /**
   * The rows of `select(key)` for each of `keys`, together: `select` is a SELECT with its own ORDER BY … LIMIT in
   * which `key` stands for the key, before any of its other parameters (`params`). PostgreSQL: one statement, LATERAL
   * over an array; SQLite (no LATERAL): compounds of up to 100 branches.
   */
  selectEachKey(
    port: SqlPort,
    select: (key: string) => string,
    keys: readonly number[],
    params: readonly SqlParam[],
  ): Promise<Row[]>;
  /** Records of one counted map, each the row at the greatest tree size <= `treeSize` (null: none), in the order asked. */
  getCountedNodes(
    port: SqlPort,
    consultationId: number,
    addresses: readonly CountedAddress[],
    treeSize: number,
  ): Promise<(Uint8Array | null)[]>;
  /** Hashes of one log's tree nodes, in the order asked; throws when one is missing. */
  getNodes(port: SqlPort, consultationId: number, ids: readonly NodeId[]): Promise<Uint8Array[]>;
  /** Statements sent to the database so far, each BEGIN, COMMIT and ROLLBACK included (SQLite: executed). */
  roundTrips(): number;
  tryAnchorLock(): Promise<boolean>;
  /** Runs fn holding the cross-instance lock of an operator key (the in-process queue is the core's). */
  lockOperator<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The reading index's full-text search over its `folded` column (termSearch below; an interface so another may come). */
export interface ReadingSearch {
  /** Before these existing readings change or leave: forgets what the search holds of them. */
  unindex(tx: SqlPort, consultationId: number, indices: readonly number[]): Promise<void>;
  /** After these readings were inserted or changed: indexes them as `readings` now holds them. */
  index(tx: SqlPort, consultationId: number, indices: readonly number[]): Promise<void>;
  /**
   * Rows of `readings` of the section below `before` (null: from the newest) containing every word of
   * `filter.words` and matching the other filters, newest first.
   */
  find(
    port: SqlPort,
    consultationId: number,
    section: string,
    filter: ReadingFilter,
    before: number | null,
    limit: number,
  ): Promise<{ rows: Row[]; resumeBefore: number | null }>;
}

/** Postings of a search's rarest term read per statement, and at most per page: what bounds a page's cost. */
const SCAN_BATCH = 512;
const SCAN_BUDGET = 2048;

/** Indices per statement of the term index's IN lists. */
const TERM_CHUNK = 500;

function termsOf(r: Row): string[] {
  const terms = new Set(
    String(r.folded)
      .split(" ")
      .filter((w) => w.length > 0),
  );
  terms.add(`_t${r.stance}`);
  terms.add(`_h${r.channel}`);
  if (r.campaign != null) terms.add(`_c${Number(r.campaign)}`);
  return [...terms];
}

function filterTerms(filter: ReadingFilter): string[] {
  const terms = new Set(filter.words ?? []);
  if (filter.stance !== undefined) terms.add(`_t${filter.stance}`);
  if (filter.channel !== undefined) terms.add(`_h${filter.channel}`);
  if (filter.campaign !== undefined) terms.add(`_c${filter.campaign}`);
  return [...terms];
}

const TERM_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["section", "text"],
  ["term", "text"],
  ["idx", "bigint"],
];
const TERM_COUNT_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["section", "text"],
  ["term", "text"],
  ["n", "bigint"],
];

/**
 * A search of B-tree term postings: every page is one backward range read of the rarest term's postings from the
 * cursor, each candidate checked against the other terms by primary key, so its cost is the page (and how rarely
 * the terms meet), never the size of the article. FTS5 was measured slower here: its rowid range constraint does not
 * seek (a page deep in a million readings read the doclist from its start: 30 to 170 ms), and PostgreSQL's tsvector
 * with GIN left the plan to the planner (a page of common words that meet rarely: 40 to 230 ms at p99).
 */
function termSearch({ insertMany, relation }: Pick<SqlDialect, "insertMany" | "relation">): ReadingSearch {
  const apply = async (tx: SqlPort, consultationId: number, indices: readonly number[], sign: 1 | -1) => {
    for (let at = 0; at < indices.length; at += TERM_CHUNK) {
      const chunk = indices.slice(at, at + TERM_CHUNK);
      if (chunk.length === 0) continue;
      const rows = await tx.all(
        `SELECT idx, section, stance, channel, campaign, folded FROM readings
         WHERE consultation_id = ? AND idx IN (${chunk.map(() => "?").join(", ")})`,
        [consultationId, ...chunk],
      );
      const deltas = new Map<string, { section: string; term: string; n: number }>();
      const postings: SqlValue[][] = [];
      for (const r of rows) {
        const section = String(r.section);
        for (const term of termsOf(r)) {
          const key = `${section}\u0000${term}`;
          const d = deltas.get(key) ?? { section, term, n: 0 };
          d.n += sign;
          deltas.set(key, d);
          postings.push([consultationId, section, term, Number(r.idx)]);
        }
      }
      if (sign === 1) await insertMany(tx, "reading_terms", TERM_COLUMNS, postings, "ON CONFLICT DO NOTHING");
      else if (postings.length > 0) {
        // every posting of the chunk in one statement
        const q = relation(
          "q",
          TERM_COLUMNS.slice(1),
          postings.map((p) => p.slice(1)),
        );
        await tx.run(
          `DELETE FROM reading_terms WHERE consultation_id = ?
           AND (section, term, idx) IN (SELECT q.section, q.term, q.idx FROM ${q.sql})`,
          [consultationId, ...q.params],
        );
      }
      await insertMany(
        tx,
        "reading_term_counts",
        TERM_COUNT_COLUMNS,
        [...deltas.values()].map((d) => [consultationId, d.section, d.term, d.n]),
        "ON CONFLICT (consultation_id, section, term) DO UPDATE SET n = reading_term_counts.n + excluded.n",
      );
    }
  };
  return {
    unindex: (tx, consultationId, indices) => apply(tx, consultationId, indices, -1),
    index: (tx, consultationId, indices) => apply(tx, consultationId, indices, 1),
    async find(port, consultationId, section, filter, before, limit) {
      const terms = filterTerms(filter);
      const counted = await port.all(
        `SELECT term, n FROM reading_term_counts WHERE consultation_id = ? AND section = ?
         AND term IN (${terms.map(() => "?").join(", ")})`,
        [consultationId, section, ...terms],
      );
      const n = new Map(counted.map((r) => [String(r.term), Number(r.n)]));
      if (terms.some((term) => !(Number(n.get(term)) > 0))) return { rows: [], resumeBefore: null };
      const [driver, ...others] = [...terms].sort((a, b) => n.get(a)! - n.get(b)!);
      // The rarest term's postings, backwards from the cursor, a batch at a time, each batch's candidates checked
      // against the other terms by primary key. A page reads at most SCAN_BUDGET postings: terms that are common
      // but rarely meet would otherwise make one page read a whole article's postings, so such a page may come
      // back short (even empty) with `resumeBefore` where the scan stopped, and "load more" goes on from there.
      const found: number[] = [];
      let from = before;
      let scanned = 0;
      let exhausted = false;
      while (found.length < limit && scanned < SCAN_BUDGET) {
        const batch = await port.all(
          `SELECT idx FROM reading_terms WHERE consultation_id = ? AND section = ? AND term = ?
           ${from === null ? "" : "AND idx < ?"} ORDER BY idx DESC LIMIT ?`,
          [consultationId, section, driver!, ...(from === null ? [] : [from]), SCAN_BATCH],
        );
        let candidates = batch.map((r) => Number(r.idx));
        for (const term of others) {
          if (candidates.length === 0) break;
          const present = await port.all(
            `SELECT idx FROM reading_terms WHERE consultation_id = ? AND section = ? AND term = ?
             AND idx IN (${candidates.map(() => "?").join(", ")})`,
            [consultationId, section, term, ...candidates],
          );
          const has = new Set(present.map((r) => Number(r.idx)));
          candidates = candidates.filter((idx) => has.has(idx));
        }
        for (const idx of candidates) if (found.length < limit) found.push(idx);
        scanned += batch.length;
        if (batch.length < SCAN_BATCH) {
          exhausted = true;
          break;
        }
        from = Number(batch[batch.length - 1]!.idx);
      }
      const resumeBefore = found.length < limit && !exhausted ? from : null;
      if (found.length === 0) return { rows: [], resumeBefore };
      const rows = await port.all(
        `SELECT * FROM readings WHERE consultation_id = ? AND idx IN (${found.map(() => "?").join(", ")})
         ORDER BY idx DESC`,
        [consultationId, ...found],
      );
      return { rows, resumeBefore };
    },
  };
}

/** The WHERE clause (after `consultation_id = ? AND section = ?`) and parameters of a listing's other filters. */
export function readingFilterSql(
  filter: ReadingFilter,
  before: number | null,
): { sql: string; params: SqlValue[] } {
  let sql = "";
  const params: SqlValue[] = [];
  if (filter.stance !== undefined) {
    sql += " AND stance = ?";
    params.push(filter.stance);
  }
  if (filter.channel !== undefined) {
    sql += " AND channel = ?";
    params.push(filter.channel);
  }
  if (filter.campaign !== undefined) {
    sql += " AND campaign = ?";
    params.push(filter.campaign);
  }
  if (before !== null) {
    sql += " AND idx < ?";
    params.push(before);
  }
  return { sql, params };
}

const READING_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["idx", "bigint"],
  ["section", "text"],
  ["stance", "text"],
  ["channel", "text"],
  ["submitted_at", "text"],
  ["text", "text"],
  ["withheld_reason", "text"],
  ["folded", "text"],
  ["campaign", "bigint"],
];
const COUNT_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["section", "text"],
  ["stance", "text"],
  ["channel", "text"],
  ["n", "bigint"],
];
const HOUR_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["hour", "bigint"],
  ["channel", "text"],
  ["n", "bigint"],
];
const INDEX_COLUMNS: readonly BulkColumn[] = [["idx", "bigint"]];
const BAND_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["section", "text"],
  ["band", "integer"],
  ["idx", "bigint"],
  ["simhash", "text"],
];

function readingFrom(r: Row): ReadingRecord {
  return {
    index: Number(r.idx),
    section: String(r.section),
    stance: String(r.stance),
    channel: String(r.channel),
    submittedAt: String(r.submitted_at),
    text: r.text == null ? null : String(r.text),
    withheldReason: r.withheld_reason == null ? null : String(r.withheld_reason),
    campaign: r.campaign == null ? null : Number(r.campaign),
  };
}

const ENTRY_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["idx", "bigint"],
  ["leaf", "text"],
  ["leaf_hash", "text"],
  ["kind", "text"],
  ["author", "text"],
  ["section", "text"],
  ["text", "text"],
  ["salt", "text"],
  ["created_at", "bigint"],
];
const RECEIPT_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["idx", "bigint"],
  ["subject_key", "text"],
  ["idempotency_key", "text"],
  ["receipt", "text"],
];
const NODE_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["level", "integer"],
  ["idx", "bigint"],
  ["hash", "bytes"],
];

/** The insert of one log's tree nodes (a node written again keeps its latest hash). */
const nodeInsert = (consultationId: number, nodes: readonly TreeNode[]): BulkInsert => ({
  table: "nodes",
  columns: NODE_COLUMNS,
  rows: nodes.map((n) => [consultationId, n.level, n.index, n.hash]),
  suffix: "ON CONFLICT (consultation_id, level, idx) DO UPDATE SET hash = excluded.hash",
});

const COUNTED_NODE_COLUMNS: readonly BulkColumn[] = [
  ["consultation_id", "bigint"],
  ["depth", "integer"],
  ["path", "bytes"],
  ["tree_size", "bigint"],
  ["record", "bytes"],
];

/** Rows of a counted map update written per transaction: bounds the update's memory and how long it holds a lock. */
const COUNTED_FLUSH_ROWS = 20_000;

const COUNTED_EMPTY_ROOT: Hex = `0x${"00".repeat(32)}`;

// A draft (or draft intent) without attachments is written as the very row it was before migration 6 (the column
// stays null), so rows without them never depend on the column.
const attached = (d: { attachments?: readonly unknown[] }): string =>
  d.attachments?.length ? ", attachments" : "";
const withAttachments = (d: DraftRecord | NewDraftIntent): SqlValue[] =>
  d.attachments?.length ? [attachmentsColumn(d.attachments)] : [];

/** Runs callers of one key one after the other, in call order. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // forget an idle key so the map does not keep settled promises
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** Why nothing may be appended to a consultation now (its row read under the append lock), or null. */
function finalHeadRefusal(id: number, row: Row, entries: readonly NewEntry[]): ServiceError | null {
  if (row.closing_at != null || row.tally_hash != null) {
    return new ServiceError(409, "closed", `consultation ${id} is closed: its final head is frozen`);
  }
  const closesAtMs = Number(row.closes_at) * 1000;
  if (entries.some((e) => e.channel === "online" && e.createdAt >= closesAtMs)) {
    return new ServiceError(409, "closed", `consultation ${id} closed before the opinion was accepted`);
  }
  return null;
}

export class SqlStore implements Store {
  readonly kind: Store["kind"];
  protected readonly dialect: SqlDialect;
  private readonly operatorQueue = new KeyedQueue();
  private readonly search: ReadingSearch;

  constructor(dialect: SqlDialect) {
    this.dialect = dialect;
    this.kind = dialect.kind;
    this.search = termSearch({
      insertMany: (tx, table, columns, rows, suffix) => dialect.insertMany(tx, table, columns, rows, suffix),
      relation: (alias, columns, rows) => dialect.relation(alias, columns, rows),
    });
  }

  /** Migrates to the latest version (or, for tests of an upgrade, to `upTo`). */
  async migrate(upTo = MIGRATIONS.length): Promise<void> {
    const d = this.dialect;
    await d.migration(async (tx) => {
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)${d.types.table}`);
      const row = await tx.get("SELECT max(version) AS v FROM schema_version");
      const current = row?.v == null ? 0 : Number(row.v);
      for (let v = current; v < upTo; v++) {
        const m = MIGRATIONS[v]!;
        if (m.schema) await tx.exec(m.schema(d.types));
        for (const fks of m.foreignKeys ?? []) await d.addForeignKeys(tx, fks);
        await m.data?.(tx);
        await tx.run("INSERT INTO schema_version (version) VALUES (?)", [v + 1]);
      }
    });
  }

  close(): Promise<void> {
    return this.dialect.close();
  }

  roundTrips(): number {
    return this.dialect.roundTrips();
  }

  async ping(): Promise<boolean> {
    try {
      await this.dialect.db.get("SELECT 1");
      return true;
    } catch {
      return false;
    }
  }

  async createConsultation(c: NewConsultation, draft: DraftRecord): Promise<void> {
    await this.dialect.transaction((tx) => this.insertConsultation(tx, c, draft));
  }

  private async insertConsultation(tx: SqlPort, c: NewConsultation, draft: DraftRecord): Promise<void> {
    await tx.run(
      `INSERT INTO consultations (id, agency, title, summary, opens_at, closes_at, created_at, draft_version)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [c.id, c.agency, c.title, c.summary, c.opensAt, c.closesAt, c.createdAt, c.draftVersion],
    );
    // the column's default is true; written only when false, so the statement above is every version's
    if (c.publicCounts === false) {
      await tx.run("UPDATE consultations SET public_counts = FALSE WHERE id = ?", [c.id]);
    }
    await this.insertDraft(tx, draft);
  }

  private async insertDraft(tx: SqlPort, d: DraftRecord): Promise<void> {
    await tx.run(
      `INSERT INTO drafts (consultation_id, version, hash, title, summary, sections, tx_hash, created_at${attached(d)})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?${attached(d) && ", ?"})`,
      [
        d.consultationId,
        d.version,
        d.hash,
        d.title,
        d.summary,
        JSON.stringify(d.sections),
        d.txHash,
        d.createdAt,
        ...withAttachments(d),
      ],
    );
  }

  async getConsultation(id: number): Promise<ConsultationRecord | null> {
    const r = await this.dialect.db.get("SELECT * FROM consultations WHERE id = ?", [id]);
    return r ? consultationFrom(r) : null;
  }

  async listConsultations(): Promise<ConsultationRecord[]> {
    const rows = await this.dialect.db.all("SELECT * FROM consultations ORDER BY created_at DESC, id DESC");
    return rows.map(consultationFrom);
  }

  async addDraft(draft: DraftRecord): Promise<void> {
    await this.dialect.transaction((tx) => this.insertDraftVersion(tx, draft));
  }

  private async insertDraftVersion(tx: SqlPort, draft: DraftRecord): Promise<void> {
    await this.insertDraft(tx, draft);
    await tx.run("UPDATE consultations SET draft_version = ?, title = ?, summary = ? WHERE id = ?", [
      draft.version,
      draft.title,
      draft.summary,
      draft.consultationId,
    ]);
  }

  async getDraft(consultationId: number, version?: number): Promise<DraftRecord | null> {
    const r =
      version === undefined
        ? await this.dialect.db.get(
            "SELECT * FROM drafts WHERE consultation_id = ? ORDER BY version DESC LIMIT 1",
            [consultationId],
          )
        : await this.dialect.db.get("SELECT * FROM drafts WHERE consultation_id = ? AND version = ?", [
            consultationId,
            version,
          ]);
    return r ? draftFrom(r) : null;
  }

  async findDraftsByHash(hash: Hex): Promise<DraftRecord[]> {
    const rows = await this.dialect.db.all(
      "SELECT * FROM drafts WHERE hash = ? ORDER BY consultation_id, version",
      [hash],
    );
    return rows.map(draftFrom);
  }

  async addDraftIntent(i: NewDraftIntent): Promise<number> {
    const r = await this.dialect.db.get(
      `INSERT INTO draft_intents (kind, consultation_id, agency, draft_hash, title, summary, sections, opens_at,
                                  closes_at, tx_hash, raw_tx, created_at${attached(i)})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?${attached(i) && ", ?"}) RETURNING id`,
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
        ...withAttachments(i),
      ],
    );
    const id = Number(r!.id);
    if (i.publicCounts === false) {
      await this.dialect.db.run("UPDATE draft_intents SET public_counts = FALSE WHERE id = ?", [id]);
    }
    return id;
  }

  async pendingDraftIntents(): Promise<DraftIntent[]> {
    const rows = await this.dialect.db.all(
      "SELECT * FROM draft_intents WHERE status = 'pending' ORDER BY id",
    );
    return rows.map(draftIntentFrom);
  }

  async completeDraftIntent(id: number, outcome: DraftOutcome): Promise<boolean> {
    return this.dialect.transaction(async (tx) => {
      // the row lock makes completion idempotent across instances (a request and a reconciler may race)
      const r = await tx.get(`SELECT * FROM draft_intents WHERE id = ?${this.dialect.forUpdate}`, [id]);
      if (!r) throw new Error(`draft intent ${id} does not exist`);
      const intent = draftIntentFrom(r);
      if (intent.status === "done") return false;
      const { consultation, draft } = recordsOfDraftIntent(intent, outcome);
      if (consultation) await this.insertConsultation(tx, consultation, draft);
      else await this.insertDraftVersion(tx, draft);
      await tx.run("UPDATE draft_intents SET status = 'done', consultation_id = ? WHERE id = ?", [
        outcome.consultationId,
        id,
      ]);
      return true;
    });
  }

  async failDraftIntent(id: number): Promise<void> {
    await this.dialect.db.run(
      "UPDATE draft_intents SET status = 'failed' WHERE id = ? AND status = 'pending'",
      [id],
    );
  }

  treeStore(consultationId: number): TreeStoreLike {
    return {
      getNodes: (ids: readonly NodeId[]) => this.dialect.getNodes(this.dialect.db, consultationId, ids),
      putNodes: async (nodes: readonly TreeNode[]) => {
        await this.dialect.transaction((tx) => this.putNodes(tx, consultationId, nodes));
      },
    };
  }

  private async putNodes(tx: SqlPort, consultationId: number, nodes: readonly TreeNode[]): Promise<void> {
    const { table, columns, rows, suffix } = nodeInsert(consultationId, nodes);
    await this.dialect.insertMany(tx, table, columns, rows, suffix);
  }

  countedStore(consultationId: number): CountedStoreLike {
    return {
      getNodes: (addresses, treeSize) =>
        this.dialect.getCountedNodes(this.dialect.db, consultationId, addresses, treeSize),
      putNodes: () => {
        throw new Error("the counted map is written through openCountedUpdate");
      },
    };
  }

  async openCountedUpdate(consultationId: number): Promise<CountedUpdateSession> {
    const d = this.dialect;
    const from = await d.transaction(async (tx) => {
      // the empty map is version 0: every commit then has a version row to lock, the one it starts from
      await tx.run(
        `INSERT INTO counted_versions (consultation_id, tree_size, root) VALUES (?, 0, ?)
         ON CONFLICT (consultation_id, tree_size) DO NOTHING`,
        [consultationId, COUNTED_EMPTY_ROOT],
      );
      const from = (await this.latestCountedVersion(tx, consultationId))!;
      // rows of an update that crashed before recording its version
      await tx.run("DELETE FROM counted_nodes WHERE consultation_id = ? AND tree_size > ?", [
        consultationId,
        from.treeSize,
      ]);
      return from;
    });
    let rows: SqlValue[][] = [];
    let size: number | null = null;
    const flush = (tx: SqlPort) => {
      const batch = rows;
      rows = [];
      return d.insertMany(
        tx,
        "counted_nodes",
        COUNTED_NODE_COLUMNS,
        batch,
        "ON CONFLICT (consultation_id, depth, path, tree_size) DO UPDATE SET record = excluded.record",
      );
    };
    return {
      from,
      getNodes: (addresses, treeSize) => d.getCountedNodes(d.db, consultationId, addresses, treeSize),
      putNodes: async (nodes: readonly CountedNode[], treeSize: number) => {
        if (treeSize <= from.treeSize || (size !== null && treeSize !== size)) {
          throw new Error(
            `counted rows at tree size ${treeSize} do not belong to an update from ${from.treeSize}`,
          );
        }
        size = treeSize;
        // the records are views into the map's working memory: copies are kept
        for (const n of nodes) rows.push([consultationId, n.depth, n.path, treeSize, n.record.slice()]);
        if (rows.length >= COUNTED_FLUSH_ROWS) await d.transaction(flush);
      },
      commit: async (version: CountedVersion) => {
        if (version.treeSize <= from.treeSize) {
          throw new Error(`counted version ${version.treeSize} is not after ${from.treeSize}`);
        }
        if (size !== null && version.treeSize !== size) {
          throw new Error(
            `counted version ${version.treeSize} is not the size its rows were put at (${size})`,
          );
        }
        await d.transaction(async (tx) => {
          // the row lock of the version this update starts from: two updates from it commit one after the other
          const start = await tx.get(
            `SELECT root FROM counted_versions WHERE consultation_id = ? AND tree_size = ?${d.forUpdate}`,
            [consultationId, from.treeSize],
          );
          const latest = await this.latestCountedVersion(tx, consultationId);
          if (!start || latest?.treeSize !== from.treeSize) {
            throw new StoreConflictError(
              `counted map of consultation ${consultationId} is at ${latest?.treeSize ?? 0}, not ${from.treeSize}`,
            );
          }
          await flush(tx);
          await tx.run("INSERT INTO counted_versions (consultation_id, tree_size, root) VALUES (?, ?, ?)", [
            consultationId,
            version.treeSize,
            version.root,
          ]);
        });
      },
    };
  }

  private async latestCountedVersion(port: SqlPort, consultationId: number): Promise<CountedVersion | null> {
    const r = await port.get(
      `SELECT tree_size, root FROM counted_versions WHERE consultation_id = ?
       ORDER BY tree_size DESC LIMIT 1`,
      [consultationId],
    );
    return r ? { treeSize: Number(r.tree_size), root: String(r.root) as Hex } : null;
  }

  async countedVersion(consultationId: number, treeSize?: number): Promise<CountedVersion | null> {
    if (treeSize === undefined) return this.latestCountedVersion(this.dialect.db, consultationId);
    const r = await this.dialect.db.get(
      "SELECT tree_size, root FROM counted_versions WHERE consultation_id = ? AND tree_size = ?",
      [consultationId, treeSize],
    );
    return r ? { treeSize: Number(r.tree_size), root: String(r.root) as Hex } : null;
  }

  async countedLag(): Promise<CountedLag> {
    const r = await this.dialect.db.get(
      `SELECT coalesce(sum(c.tree_size - coalesce(v.size, 0)), 0) AS entries,
              coalesce(sum(CASE WHEN c.anchored_size > 0 AND NOT EXISTS (
                SELECT 1 FROM counted_versions w WHERE w.consultation_id = c.id AND w.tree_size = c.anchored_size
              ) THEN 1 ELSE 0 END), 0) AS unmapped
       FROM consultations c
       LEFT JOIN (SELECT consultation_id, max(tree_size) AS size FROM counted_versions GROUP BY consultation_id) v
         ON v.consultation_id = c.id`,
    );
    return { entries: Number(r?.entries ?? 0), unmappedHeads: Number(r?.unmapped ?? 0) };
  }

  /** Per consultation, whether this object's latest append committed (settles when it has run; one per log). */
  readonly #appended = new Map<number, Promise<boolean>>();

  appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
    options: AppendOptions = {},
  ): Promise<void> {
    const previous = this.#appended.get(consultationId);
    const run =
      options.afterPrevious && previous
        ? previous.then((committed) => {
            if (!committed) throw new StoreConflictError("the append this batch was built on did not commit");
            return this.#append(consultationId, expectedSize, entries, nodes);
          })
        : this.#append(consultationId, expectedSize, entries, nodes);
    const committed = run.then(
      () => true,
      () => false,
    );
    // kept once settled: an append made afterPrevious may come after its predecessor failed
    this.#appended.set(consultationId, committed);
    return run;
  }

  async #append(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): Promise<void> {
    const d = this.dialect;
    await d.transaction(async (tx) => {
      const receipts: SqlValue[][] = [];
      entries.forEach((e, k) => {
        if (e.kind === "opinion") {
          receipts.push([consultationId, expectedSize + k, e.subjectKey, e.idempotencyKey, e.receipt]);
        }
      });
      // the append lock and the size check, the guard of the rows: the row this UPDATE changes stays locked until
      // the commit, so one append (or closing mark) per log at a time, across instances. The rows are written only
      // when the size is the one expected; a refusal below rolls them back with the rest.
      const lock = {
        sql: `UPDATE consultations SET tree_size = ? WHERE id = ? AND tree_size = ?
              RETURNING closes_at, closing_at, tally_hash`,
        params: [expectedSize + entries.length, consultationId, expectedSize],
      };
      const { guard: row, inserted } = await d.guardedInsert(tx, lock, [
        {
          table: "entries",
          columns: ENTRY_COLUMNS,
          rows: entries.map((e, k) => [
            consultationId,
            expectedSize + k,
            e.leaf,
            e.leafHash,
            e.kind,
            e.author,
            e.section,
            e.text,
            e.salt,
            e.createdAt,
          ]),
        },
        {
          table: "receipts",
          columns: RECEIPT_COLUMNS,
          rows: receipts,
          suffix: "ON CONFLICT (idempotency_key) DO NOTHING",
        },
        nodeInsert(consultationId, nodes),
      ]);
      const refusal = row
        ? finalHeadRefusal(consultationId, row, entries)
        : await this.appendRefusal(tx, consultationId, expectedSize, entries);
      if (refusal) throw refusal;
      if (inserted[1] !== receipts.length) throw new StoreConflictError("idempotency key already used");
      // after the receipts: an opinion withheld in its own batch has its receipt redacted too
      for (const e of entries) {
        if (e.kind === "moderation") await this.withhold(tx, consultationId, e.withholdTarget);
      }
    });
  }

  /**
   * Why an append changed no consultation row (read under the append lock, in the order of the checks): the
   * consultation is missing, its final head refuses the entries, or its size is not the one expected.
   */
  private async appendRefusal(
    tx: SqlPort,
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
  ): Promise<Error> {
    const row = await tx.get(
      `SELECT tree_size, closes_at, closing_at, tally_hash FROM consultations WHERE id = ?${this.dialect.forUpdate}`,
      [consultationId],
    );
    if (!row) return new StoreConflictError(`consultation ${consultationId} does not exist`);
    return (
      finalHeadRefusal(consultationId, row, entries) ??
      new StoreConflictError(`log size is ${row.tree_size}, expected ${expectedSize}`)
    );
  }

  private async withhold(tx: SqlPort, consultationId: number, index: number): Promise<void> {
    await tx.run(
      "UPDATE entries SET withheld = TRUE, text = NULL, salt = NULL WHERE consultation_id = ? AND idx = ?",
      [consultationId, index],
    );
    const r = await tx.get("SELECT receipt FROM receipts WHERE consultation_id = ? AND idx = ?", [
      consultationId,
      index,
    ]);
    if (!r) return;
    await tx.run("UPDATE receipts SET receipt = ? WHERE consultation_id = ? AND idx = ?", [
      withheldReceiptJson(String(r.receipt)),
      consultationId,
      index,
    ]);
  }

  async markClosing(consultationId: number, at: number): Promise<ConsultationRecord | null> {
    return this.dialect.transaction(async (tx) => {
      const row = await tx.get(`SELECT * FROM consultations WHERE id = ?${this.dialect.forUpdate}`, [
        consultationId,
      ]);
      if (!row) return null;
      if (row.closing_at == null) {
        await tx.run("UPDATE consultations SET closing_at = ? WHERE id = ?", [at, consultationId]);
        return consultationFrom({ ...row, closing_at: at });
      }
      return consultationFrom(row);
    });
  }

  async getEntries(consultationId: number, start: number, end: number): Promise<EntryRecord[]> {
    const rows = await this.dialect.db.all(
      "SELECT * FROM entries WHERE consultation_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
      [consultationId, start, end],
    );
    return rows.map(entryFrom);
  }

  async listModerations(consultationId: number, after: number, limit: number): Promise<EntryRecord[]> {
    const rows = await this.dialect.db.all(
      "SELECT * FROM entries WHERE consultation_id = ? AND kind = 'moderation' AND idx > ? ORDER BY idx LIMIT ?",
      [consultationId, after, limit],
    );
    return rows.map(entryFrom);
  }

  async findLeaf(consultationId: number, leafHash: Hex): Promise<number | null> {
    const r = await this.dialect.db.get(
      "SELECT min(idx) AS i FROM entries WHERE consultation_id = ? AND leaf_hash = ?",
      [consultationId, leafHash],
    );
    return r?.i == null ? null : Number(r.i);
  }

  async latestOpinion(consultationId: number, author: Hex, section: string): Promise<number | null> {
    const r = await this.dialect.db.get(
      "SELECT max(idx) AS i FROM entries WHERE consultation_id = ? AND author = ? AND section = ? AND kind = 'opinion'",
      [consultationId, author, section],
    );
    return r?.i == null ? null : Number(r.i);
  }

  async latestOpinions(
    consultationId: number,
    of: readonly { author: Hex; section: string }[],
  ): Promise<(number | null)[]> {
    if (of.length === 0) return [];
    const q = this.dialect.relation(
      "q",
      [
        ["author", "text"],
        ["section", "text"],
      ],
      of.map((o) => [o.author, o.section]),
    );
    const rows = await this.dialect.db.all(
      `SELECT q.i, (SELECT max(e.idx) FROM entries e WHERE e.consultation_id = ? AND e.author = q.author
                      AND e.section = q.section AND e.kind = 'opinion') AS latest
       FROM ${q.sql}`,
      [consultationId, ...q.params],
    );
    const out: (number | null)[] = of.map(() => null);
    for (const r of rows) if (r.latest != null) out[Number(r.i) - 1] = Number(r.latest);
    return out;
  }

  async idempotentReceipts(idempotencyKeys: readonly string[]): Promise<(string | null)[]> {
    if (idempotencyKeys.length === 0) return [];
    const q = this.dialect.relation(
      "q",
      [["idempotency_key", "text"]],
      idempotencyKeys.map((k) => [k]),
    );
    const rows = await this.dialect.db.all(
      `SELECT q.i, r.receipt FROM ${q.sql} JOIN receipts r ON r.idempotency_key = q.idempotency_key`,
      q.params,
    );
    const out: (string | null)[] = idempotencyKeys.map(() => null);
    for (const r of rows) out[Number(r.i) - 1] = String(r.receipt);
    return out;
  }

  async getIdempotent(idempotencyKey: string): Promise<string | null> {
    const r = await this.dialect.db.get("SELECT receipt FROM receipts WHERE idempotency_key = ?", [
      idempotencyKey,
    ]);
    return r ? String(r.receipt) : null;
  }

  async receiptsFor(subjectKey: string): Promise<string[]> {
    const rows = await this.dialect.db.all(
      "SELECT receipt FROM receipts WHERE subject_key = ? ORDER BY consultation_id, idx",
      [subjectKey],
    );
    return rows.map((r) => String(r.receipt));
  }

  async addIntent(i: NewIntent): Promise<number> {
    const r = await this.dialect.db.get(
      `INSERT INTO intents (consultation_id, kind, tree_size, root_hash, tx_hash, raw_tx, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [i.consultationId, i.kind, i.treeSize, i.rootHash, i.txHash, i.rawTx, i.createdAt],
    );
    return Number(r!.id);
  }

  async pendingIntents(consultationId?: number): Promise<AnchorIntent[]> {
    const rows =
      consultationId === undefined
        ? await this.dialect.db.all("SELECT * FROM intents WHERE status = 'pending' ORDER BY id")
        : await this.dialect.db.all(
            "SELECT * FROM intents WHERE status = 'pending' AND consultation_id = ? ORDER BY id",
            [consultationId],
          );
    return rows.map(intentFrom);
  }

  async resolveIntent(
    id: number,
    outcome:
      | { status: "mined"; blockNumber: number; anchoredAt: number; gasUsed: number }
      | { status: "failed" },
  ): Promise<void> {
    await this.dialect.transaction(async (tx) => {
      if (outcome.status === "failed") {
        await tx.run("UPDATE intents SET status = 'failed' WHERE id = ?", [id]);
        return;
      }
      const r = await tx.get(
        `UPDATE intents SET status = 'mined', block_number = ?, anchored_at = ?, gas_used = ? WHERE id = ?
         RETURNING consultation_id, kind, tree_size`,
        [outcome.blockNumber, outcome.anchoredAt, outcome.gasUsed, id],
      );
      if (r?.kind === "anchor") {
        const size = Number(r.tree_size);
        await tx.run("UPDATE consultations SET anchored_size = ? WHERE id = ? AND anchored_size < ?", [
          size,
          Number(r.consultation_id),
          size,
        ]);
      }
    });
  }

  async addKeyIntent(i: NewKeyIntent): Promise<number> {
    const r = await this.dialect.db.get(
      `INSERT INTO key_intents (kind, public_key, agency, tx_hash, raw_tx, created_at)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      [i.kind, i.publicKey, i.agency, i.txHash, i.rawTx, i.createdAt],
    );
    return Number(r!.id);
  }

  async pendingKeyIntents(): Promise<KeyIntent[]> {
    const rows = await this.dialect.db.all("SELECT * FROM key_intents WHERE status = 'pending' ORDER BY id");
    return rows.map(keyIntentFrom);
  }

  async resolveKeyIntent(id: number, status: "mined" | "failed"): Promise<void> {
    await this.dialect.db.run("UPDATE key_intents SET status = ? WHERE id = ? AND status = 'pending'", [
      status,
      id,
    ]);
  }

  async lastAnchor(consultationId: number): Promise<AnchorIntent | null> {
    const r = await this.dialect.db.get(
      `SELECT * FROM intents WHERE consultation_id = ? AND kind = 'anchor' AND status = 'mined'
       ORDER BY tree_size DESC, id DESC LIMIT 1`,
      [consultationId],
    );
    return r ? intentFrom(r) : null;
  }

  async anchorAt(consultationId: number, treeSize: number): Promise<AnchorIntent | null> {
    const r = await this.dialect.db.get(
      `SELECT * FROM intents WHERE consultation_id = ? AND kind = 'anchor' AND status = 'mined' AND tree_size = ?
       ORDER BY id DESC LIMIT 1`,
      [consultationId, treeSize],
    );
    return r ? intentFrom(r) : null;
  }

  async addCheckpoint(c: CheckpointRecord): Promise<boolean> {
    const changed = await this.dialect.db.run(
      `INSERT INTO checkpoints (consultation_id, tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (consultation_id, tree_size) DO NOTHING`,
      [c.consultationId, c.treeSize, c.rootHash, c.note, c.createdAt],
    );
    return changed > 0;
  }

  async latestCheckpoint(consultationId: number): Promise<CheckpointRecord | null> {
    const r = await this.dialect.db.get(
      "SELECT * FROM checkpoints WHERE consultation_id = ? ORDER BY tree_size DESC LIMIT 1",
      [consultationId],
    );
    return r
      ? {
          consultationId: Number(r.consultation_id),
          treeSize: Number(r.tree_size),
          rootHash: String(r.root_hash) as Hex,
          note: String(r.note),
          createdAt: Number(r.created_at),
        }
      : null;
  }

  async hasCheckpointBetween(consultationId: number, from: number, to: number): Promise<boolean> {
    const r = await this.dialect.db.get(
      "SELECT 1 AS found FROM checkpoints WHERE consultation_id = ? AND tree_size >= ? AND tree_size < ? LIMIT 1",
      [consultationId, from, to],
    );
    return r !== undefined;
  }

  async setTally(consultationId: number, t: TallyRecord): Promise<void> {
    await this.dialect.db.run(
      "UPDATE consultations SET tally_document = ?, tally_hash = ?, tally_tx = ? WHERE id = ?",
      [t.document, t.hash, t.txHash, consultationId],
    );
  }

  async putAttachment(f: AttachmentFile): Promise<void> {
    await this.dialect.db.run(
      `INSERT INTO attachments (sha256, media_type, size, content, agency, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (sha256) DO NOTHING`,
      [f.sha256, f.mediaType, f.content.length, f.content, f.agency, f.createdAt],
    );
  }

  async getAttachment(sha256: Hex): Promise<AttachmentFile | null> {
    const r = await this.dialect.db.get("SELECT * FROM attachments WHERE sha256 = ?", [sha256]);
    return r ? attachmentFileFrom(r) : null;
  }

  async attachmentSize(sha256: Hex): Promise<number | null> {
    const r = await this.dialect.db.get("SELECT size FROM attachments WHERE sha256 = ?", [sha256]);
    return r ? Number(r.size) : null;
  }

  async listDrafts(consultationId: number): Promise<DraftRecord[]> {
    const rows = await this.dialect.db.all(
      "SELECT * FROM drafts WHERE consultation_id = ? ORDER BY version",
      [consultationId],
    );
    return rows.map(draftFrom);
  }

  async addResponseIntent(i: NewResponseIntent): Promise<number> {
    const r = await this.dialect.db.get(
      `INSERT INTO response_intents (consultation_id, agency, version, hash, document, tx_hash, raw_tx, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [i.consultationId, i.agency, i.version, i.hash, i.document, i.txHash, i.rawTx, i.createdAt],
    );
    return Number(r!.id);
  }

  async pendingResponseIntents(consultationId?: number): Promise<ResponseIntent[]> {
    const rows =
      consultationId === undefined
        ? await this.dialect.db.all("SELECT * FROM response_intents WHERE status = 'pending' ORDER BY id")
        : await this.dialect.db.all(
            "SELECT * FROM response_intents WHERE status = 'pending' AND consultation_id = ? ORDER BY id",
            [consultationId],
          );
    return rows.map(responseIntentFrom);
  }

  async completeResponseIntent(id: number, outcome: { version: number; at: number }): Promise<boolean> {
    return this.dialect.transaction(async (tx) => {
      // the row lock makes completion idempotent across instances (a request and a reconciler may race)
      const r = await tx.get(`SELECT * FROM response_intents WHERE id = ?${this.dialect.forUpdate}`, [id]);
      if (!r) throw new Error(`response intent ${id} does not exist`);
      const i = responseIntentFrom(r);
      if (i.status === "done") return false;
      await tx.run(
        `INSERT INTO responses (consultation_id, version, hash, document, tx_hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [i.consultationId, outcome.version, i.hash, i.document, i.txHash, outcome.at],
      );
      await tx.run("UPDATE response_intents SET status = 'done' WHERE id = ?", [id]);
      return true;
    });
  }

  async failResponseIntent(id: number): Promise<void> {
    await this.dialect.db.run(
      "UPDATE response_intents SET status = 'failed' WHERE id = ? AND status = 'pending'",
      [id],
    );
  }

  async getResponse(consultationId: number, version?: number): Promise<ResponseRecord | null> {
    const r =
      version === undefined
        ? await this.dialect.db.get(
            "SELECT * FROM responses WHERE consultation_id = ? ORDER BY version DESC LIMIT 1",
            [consultationId],
          )
        : await this.dialect.db.get("SELECT * FROM responses WHERE consultation_id = ? AND version = ?", [
            consultationId,
            version,
          ]);
    return r ? responseFrom(r) : null;
  }

  /**
   * From the consultations' sizes and, per consultation behind, two reads by primary key: its first unanchored entry
   * (the oldest, as entries are created in log order) and the first of them created at or after `cutoff` (the
   * overdue ones are those before it). A scrape reads the overdue entries at most, never the whole backlog: summing
   * over every pending entry held the event loop 145 ms per gauge at 20,000 pending.
   */
  async backlog(cutoff: number): Promise<BacklogInfo> {
    const rows = await this.dialect.db.all(
      `SELECT c.tree_size, c.anchored_size,
              (SELECT e.created_at FROM entries e WHERE e.consultation_id = c.id AND e.idx = c.anchored_size) AS oldest,
              (SELECT min(e.idx) FROM entries e WHERE e.consultation_id = c.id AND e.idx >= c.anchored_size
                 AND e.created_at >= ?) AS first_recent
       FROM consultations c WHERE c.tree_size > c.anchored_size`,
      [cutoff],
    );
    return backlogFrom(rows);
  }

  async readingProgress(consultationId: number): Promise<number> {
    const r = await this.dialect.db.get(
      "SELECT indexed_size FROM reading_progress WHERE consultation_id = ?",
      [consultationId],
    );
    return r ? Number(r.indexed_size) : 0;
  }

  async readingBehind(): Promise<number[]> {
    const rows = await this.dialect.db.all(
      `SELECT c.id FROM consultations c LEFT JOIN reading_progress p ON p.consultation_id = c.id
       WHERE c.tree_size > coalesce(p.indexed_size, 0) ORDER BY c.id`,
    );
    return rows.map((r) => Number(r.id));
  }

  async writeReadings(consultationId: number, w: ReadingWrite): Promise<boolean> {
    const d = this.dialect;
    return d.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO reading_progress (consultation_id, indexed_size) VALUES (?, 0)
         ON CONFLICT (consultation_id) DO NOTHING`,
        [consultationId],
      );
      // the row lock: two indexers (instances) of one consultation apply each step once
      const at = await tx.get(
        `SELECT indexed_size FROM reading_progress WHERE consultation_id = ?${d.forUpdate}`,
        [consultationId],
      );
      if (Number(at!.indexed_size) !== w.from) return false;
      const counts = new Map<string, { section: string; stance: string; channel: string; n: number }>();
      const count = (section: string, stance: string, channel: string, n: number) => {
        const key = JSON.stringify([section, stance, channel]);
        const c = counts.get(key) ?? { section, stance, channel, n: 0 };
        c.n += n;
        counts.set(key, c);
      };
      // what the search holds of the readings about to change or leave
      await this.search.unindex(tx, consultationId, [
        ...w.removes,
        ...w.withholds.map((x) => x.index),
        ...w.campaignStarts,
      ]);
      if (w.removes.length > 0) {
        const q = d.relation(
          "q",
          INDEX_COLUMNS,
          w.removes.map((index) => [index]),
        );
        const removed = await tx.all(
          `DELETE FROM readings WHERE consultation_id = ? AND idx IN (SELECT q.idx FROM ${q.sql})
           RETURNING section, stance, channel`,
          [consultationId, ...q.params],
        );
        for (const r of removed) count(String(r.section), String(r.stance), String(r.channel), -1);
      }
      for (const { index, reason } of w.withholds) {
        await tx.run(
          `UPDATE readings SET text = NULL, withheld_reason = ?, folded = '' WHERE consultation_id = ? AND idx = ?`,
          [reason, consultationId, index],
        );
      }
      if (w.campaignStarts.length > 0) {
        const q = d.relation(
          "q",
          INDEX_COLUMNS,
          w.campaignStarts.map((index) => [index]),
        );
        await tx.run(
          `UPDATE readings SET campaign = idx WHERE consultation_id = ? AND campaign IS NULL
           AND idx IN (SELECT q.idx FROM ${q.sql})`,
          [consultationId, ...q.params],
        );
      }
      await d.insertMany(
        tx,
        "readings",
        READING_COLUMNS,
        w.inserts.map((r) => [
          consultationId,
          r.index,
          r.section,
          r.stance,
          r.channel,
          r.submittedAt,
          r.text,
          r.withheldReason,
          r.folded,
          r.campaign,
        ]),
      );
      const bands: SqlValue[][] = [];
      const hours = new Map<string, { hour: number; channel: string; n: number }>();
      const arrived = (submittedAt: string, channel: string) => {
        const hour = Math.floor(Date.parse(submittedAt) / 3_600_000) * 3600;
        const key = `${hour}/${channel}`;
        const h = hours.get(key) ?? { hour, channel, n: 0 };
        h.n++;
        hours.set(key, h);
      };
      for (const r of w.inserts) {
        count(r.section, r.stance, r.channel, 1);
        if (r.simhash !== null) {
          for (const band of simhashBands(r.simhash)) {
            bands.push([consultationId, r.section, band, r.index, r.simhash]);
          }
        }
        arrived(r.submittedAt, r.channel);
      }
      // the hours count every opinion that arrived, replaced ones too; the counts only the current ones
      for (const r of w.arrivedOnly) arrived(r.submittedAt, r.channel);
      await d.insertMany(tx, "reading_bands", BAND_COLUMNS, bands, "ON CONFLICT DO NOTHING");
      // each table's changes in one statement (the keys are distinct: no row is changed twice)
      await d.insertMany(
        tx,
        "reading_counts",
        COUNT_COLUMNS,
        [...counts.values()]
          .filter((c) => c.n !== 0)
          .map((c) => [consultationId, c.section, c.stance, c.channel, c.n]),
        "ON CONFLICT (consultation_id, section, stance, channel) DO UPDATE SET n = reading_counts.n + excluded.n",
      );
      await d.insertMany(
        tx,
        "reading_hours",
        HOUR_COLUMNS,
        [...hours.values()].map((h) => [consultationId, h.hour, h.channel, h.n]),
        "ON CONFLICT (consultation_id, hour, channel) DO UPDATE SET n = reading_hours.n + excluded.n",
      );
      await this.search.index(tx, consultationId, [
        ...w.withholds.map((x) => x.index),
        ...w.campaignStarts,
        ...w.inserts.map((r) => r.index),
      ]);
      await tx.run("UPDATE reading_progress SET indexed_size = ? WHERE consultation_id = ?", [
        w.to,
        consultationId,
      ]);
      return true;
    });
  }

  async campaignCandidates(
    consultationId: number,
    section: string,
    bands: readonly number[],
    limit: number,
  ): Promise<CampaignCandidate[]> {
    // per band, its newest candidates: a compound of a hundred branches cost PostgreSQL more to plan than to run
    const rows = await this.dialect.selectEachKey(
      this.dialect.db,
      (band) => `SELECT b.band, b.idx, b.simhash, r.campaign FROM reading_bands b
         JOIN readings r ON r.consultation_id = b.consultation_id AND r.idx = b.idx
         WHERE b.band = ${band} AND b.consultation_id = ? AND b.section = ? ORDER BY b.idx DESC LIMIT ?`,
      bands,
      [consultationId, section, limit],
    );
    return rows.map((r) => ({
      band: Number(r.band),
      index: Number(r.idx),
      simhash: String(r.simhash),
      campaign: r.campaign == null ? null : Number(r.campaign),
    }));
  }

  async listReadings(
    consultationId: number,
    section: string,
    filter: ReadingFilter,
    before: number | null,
    limit: number,
  ): Promise<ReadingPage> {
    const d = this.dialect;
    if (filter.words && filter.words.length > 0) {
      const { rows, resumeBefore } = await this.search.find(
        d.db,
        consultationId,
        section,
        filter,
        before,
        limit,
      );
      return { readings: rows.map(readingFrom), resumeBefore };
    }
    const where = readingFilterSql(filter, before);
    const rows = await d.db.all(
      `SELECT * FROM readings WHERE consultation_id = ? AND section = ?${where.sql} ORDER BY idx DESC LIMIT ?`,
      [consultationId, section, ...where.params, limit],
    );
    return { readings: rows.map(readingFrom), resumeBefore: null };
  }

  async campaigns(consultationId: number, section: string, limit: number): Promise<CampaignSummary[]> {
    const db = this.dialect.db;
    const rows = await db.all(
      `SELECT campaign, count(*) AS n,
              sum(CASE WHEN stance = 'agree' THEN 1 ELSE 0 END) AS agree,
              sum(CASE WHEN stance = 'disagree' THEN 1 ELSE 0 END) AS disagree,
              sum(CASE WHEN stance = 'neutral' THEN 1 ELSE 0 END) AS neutral
       FROM readings WHERE consultation_id = ? AND section = ? AND campaign IS NOT NULL
       GROUP BY campaign HAVING count(*) > 1 ORDER BY n DESC, campaign LIMIT ?`,
      [consultationId, section, limit],
    );
    const out: CampaignSummary[] = [];
    for (const r of rows) {
      const campaign = Number(r.campaign);
      const sample = await db.get(
        `SELECT idx, text FROM readings WHERE consultation_id = ? AND section = ? AND campaign = ? AND text IS NOT NULL
         ORDER BY idx LIMIT 1`,
        [consultationId, section, campaign],
      );
      out.push({
        campaign,
        count: Number(r.n),
        stances: { agree: Number(r.agree), disagree: Number(r.disagree), neutral: Number(r.neutral) },
        sample: sample ? { leafIndex: Number(sample.idx), text: String(sample.text) } : null,
      });
    }
    return out;
  }

  async readingCampaigns(consultationId: number, start: number, end: number): Promise<Map<number, number>> {
    const rows = await this.dialect.db.all(
      `SELECT idx, campaign FROM readings WHERE consultation_id = ? AND idx >= ? AND idx < ? AND campaign IS NOT NULL`,
      [consultationId, start, end],
    );
    return new Map(rows.map((r) => [Number(r.idx), Number(r.campaign)]));
  }

  async readingStats(consultationId: number): Promise<ReadingStats> {
    const db = this.dialect.db;
    const stats: ReadingStats = {
      indexedSize: await this.readingProgress(consultationId),
      sections: {},
      channels: { online: 0, offline: 0 },
      hourly: [],
    };
    const counts = await db.all(
      "SELECT section, stance, channel, n FROM reading_counts WHERE consultation_id = ? ORDER BY section",
      [consultationId],
    );
    for (const r of counts) {
      const n = Number(r.n);
      const section = String(r.section);
      const s = Object.hasOwn(stats.sections, section)
        ? stats.sections[section]!
        : { agree: 0, disagree: 0, neutral: 0, total: 0 };
      stats.sections[section] = s;
      s[String(r.stance) as "agree"] += n;
      s.total += n;
      stats.channels[String(r.channel) as "online"] += n;
    }
    const hours = await db.all(
      "SELECT hour, channel, n FROM reading_hours WHERE consultation_id = ? ORDER BY hour",
      [consultationId],
    );
    for (const r of hours) {
      const hour = Number(r.hour);
      let last = stats.hourly.at(-1);
      if (last?.hour !== hour) {
        last = { hour, online: 0, offline: 0 };
        stats.hourly.push(last);
      }
      last[String(r.channel) as "online"] += Number(r.n);
    }
    return stats;
  }

  tryAnchorLock(): Promise<boolean> {
    return this.dialect.tryAnchorLock();
  }

  withOperatorLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    // queue here first, so one instance holds at most one lock connection per key
    return this.operatorQueue.run(key, () => this.dialect.lockOperator(key, fn));
  }
}
