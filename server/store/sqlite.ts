/**
 * SQLite dialect of the SQL store, through Node's built-in node:sqlite (DatabaseSync), WAL, synchronous=FULL: a
 * commit is durable. One process serves a file: it anchors, and its in-process queue is the operator lock.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { ServiceError } from "../errors.ts";
import type { Row } from "./rows.ts";
import type { ColumnTypes, ForeignKeys } from "./schema.ts";
import type { SqlDialect, SqlParam, SqlPort } from "./sql.ts";
import { SqlStore } from "./sql.ts";
import type { AppendOptions, NewEntry, NodeId, TreeNode } from "./types.ts";
import { StoreConflictError } from "./types.ts";

const TYPES: ColumnTypes = {
  bigint: "INTEGER",
  bytes: "BLOB",
  json: "TEXT",
  boolean: "INTEGER",
  false: "0",
  true: "1",
  serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT",
  table: " STRICT",
  keyedTable: " STRICT, WITHOUT ROWID",
};

/** Branches per compound statement of selectEachKey (SQLite's compound SELECT limit is 500 terms). */
const COMPOUND_BRANCHES = 100;

const values = (params: readonly SqlParam[]): SQLInputValue[] => params as SQLInputValue[];

/**
 * One DatabaseSync connection as a SqlPort. Statements run synchronously; a transaction spans awaits, so while one
 * is open other statements and transactions of this connection wait for it (they would otherwise run inside it).
 */
class SqliteDialect implements SqlDialect {
  readonly kind = "sqlite" as const;
  readonly types = TYPES;
  readonly forUpdate = "";
  private readonly connection: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  /** Settles when the open transaction ends; null while none is open. */
  private open: Promise<void> | null = null;
  /** The last transaction queued. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Statements executed: every one goes through `step` or `script` (BEGIN and COMMIT included). */
  private executed = 0;
  /** The port a transaction's body uses: no waiting. */
  private readonly inTransaction: SqlPort = {
    get: async (sql, params = []) => this.step(sql).get(...values(params)) as Row | undefined,
    all: async (sql, params = []) => this.step(sql).all(...values(params)) as Row[],
    run: async (sql, params = []) => Number(this.step(sql).run(...values(params)).changes),
    exec: async (script) => this.script(script),
  };
  /** Outside transactions: each statement first waits for the open one to end. */
  readonly db: SqlPort = {
    get: (sql, params) => this.outside(() => this.inTransaction.get(sql, params)),
    all: (sql, params) => this.outside(() => this.inTransaction.all(sql, params)),
    run: (sql, params) => this.outside(() => this.inTransaction.run(sql, params)),
    exec: (script) => this.outside(() => this.inTransaction.exec(script)),
  };

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.connection = new DatabaseSync(path);
    this.connection.exec("PRAGMA journal_mode = WAL");
    // FULL: the WAL is fsynced at every commit, so an acknowledged opinion survives a power cut.
    this.connection.exec("PRAGMA synchronous = FULL");
    this.connection.exec("PRAGMA busy_timeout = 5000");
    this.connection.exec("PRAGMA foreign_keys = ON");
  }

  /** The prepared statement of `sql`, counted as one statement executed: call it once per execution. */
  private step(sql: string): StatementSync {
    this.executed++;
    let s = this.statements.get(sql);
    if (!s) {
      s = this.connection.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private script(sql: string): void {
    this.executed++;
    this.connection.exec(sql);
  }

  roundTrips(): number {
    return this.executed;
  }

  private async outside<T>(statement: () => Promise<T>): Promise<T> {
    while (this.open) await this.open;
    return statement();
  }

  transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T> {
    // queued: one transaction at a time on this connection
    const run = async (): Promise<T> => {
      let ended = (): void => {};
      this.open = new Promise((resolve) => {
        ended = resolve;
      });
      try {
        this.script("BEGIN IMMEDIATE");
        try {
          const out = await fn(this.inTransaction);
          this.script("COMMIT");
          return out;
        } catch (e) {
          if (this.connection.isTransaction) this.script("ROLLBACK");
          throw e;
        }
      } finally {
        this.open = null;
        ended();
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  migration(fn: (tx: SqlPort) => Promise<void>): Promise<void> {
    // BEGIN IMMEDIATE already serializes the processes opening one file
    return this.transaction(fn);
  }

  /** SQLite cannot add a constraint to a table: the table is rebuilt with it (its rows checked on the way). */
  async addForeignKeys(tx: SqlPort, { table, keys }: ForeignKeys): Promise<void> {
    const def = await tx.get("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]);
    if (!def) throw new Error(`table ${table} does not exist`);
    const create = String(def.sql);
    if (/\bREFERENCES\b/i.test(create)) throw new Error(`table ${table} already has foreign keys`);
    const indexes = await tx.all(
      "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
      [table],
    );
    const rebuilt = `${table}_rebuilt`;
    const close = create.lastIndexOf(")");
    const withKeys = `${create.slice(0, close).replace(/^CREATE TABLE\s+"?\w+"?/i, `CREATE TABLE ${rebuilt}`)}${keys
      .map((k) => `,\n     FOREIGN KEY ${k}`)
      .join("")}\n   ${create.slice(close)}`;
    await tx.exec(withKeys);
    await tx.exec(`INSERT INTO ${rebuilt} SELECT * FROM ${table}`);
    await tx.exec(`DROP TABLE ${table}`);
    await tx.exec(`ALTER TABLE ${rebuilt} RENAME TO ${table}`);
    for (const index of indexes) await tx.exec(String(index.sql));
  }

  /** One prepared statement run per row, synchronously: the rows of a batch cost no await each. */
  insertMany: SqlDialect["insertMany"] = async (tx, table, columns, rows, suffix = "") => {
    if (tx !== this.inTransaction) throw new Error("insertMany runs inside a transaction of this connection");
    const insert = `INSERT INTO ${table} (${columns.map(([name]) => name).join(", ")})
                    VALUES (${columns.map(() => "?").join(", ")}) ${suffix}`;
    let inserted = 0;
    for (const row of rows) inserted += Number(this.step(insert).run(...values(row)).changes);
    return inserted;
  };

  /** The guard, then each table's rows by insertMany: statements prepared once, no await per row. */
  guardedInsert: SqlDialect["guardedInsert"] = async (tx, guard, inserts) => {
    const row = await tx.get(guard.sql, guard.params);
    const inserted: number[] = [];
    for (const { table, columns, rows, suffix } of inserts) {
      inserted.push(row ? await this.insertMany(tx, table, columns, rows, suffix) : 0);
    }
    return { guard: row, inserted };
  };

  /** The rows as one JSON parameter (json_each): no bound on their number, unlike `?` placeholders. */
  relation: SqlDialect["relation"] = (alias, columns, rows) => {
    if (columns.some(([, type]) => type === "bytes"))
      throw new Error("a relation's columns are text or integers");
    return {
      sql: `(SELECT ${columns.map(([name], c) => `json_extract(value, '$[${c}]') AS ${name}`).join(", ")}, key + 1 AS i
             FROM json_each(?)) AS ${alias}`,
      params: [JSON.stringify(rows)],
    };
  };

  async getNodes(port: SqlPort, consultationId: number, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const read = async () => {
      const select = "SELECT hash FROM nodes WHERE consultation_id = ? AND level = ? AND idx = ?";
      return ids.map((id) => {
        const r = this.step(select).get(consultationId, id.level, id.index);
        if (!r)
          throw new Error(`tree node (${id.level}, ${id.index}) of consultation ${consultationId} missing`);
        return r.hash as Uint8Array;
      });
    };
    return port === this.inTransaction ? read() : this.outside(read);
  }

  selectEachKey: SqlDialect["selectEachKey"] = async (port, select, keys, params) => {
    const rows: Row[] = [];
    for (let at = 0; at < keys.length; at += COMPOUND_BRANCHES) {
      const chunk = keys.slice(at, at + COMPOUND_BRANCHES);
      const compound = chunk.map((_, k) => `SELECT * FROM (${select("?")}) e${k}`).join(" UNION ALL ");
      rows.push(
        ...(await port.all(
          compound,
          chunk.flatMap((key) => [key, ...params]),
        )),
      );
    }
    return rows;
  };

  getCountedNodes: SqlDialect["getCountedNodes"] = async (port, consultationId, addresses, treeSize) => {
    const read = async () => {
      const select = `SELECT record FROM counted_nodes WHERE consultation_id = ? AND depth = ? AND path = ? AND tree_size <= ?
         ORDER BY tree_size DESC LIMIT 1`;
      return addresses.map((a) => {
        const r = this.step(select).get(consultationId, a.depth, a.path, treeSize);
        return r ? (r.record as Uint8Array) : null;
      });
    };
    return port === this.inTransaction ? read() : this.outside(read);
  };

  async tryAnchorLock(): Promise<boolean> {
    // One SQLite file serves one process: that process anchors.
    return true;
  }

  lockOperator<T>(_key: string, fn: () => Promise<T>): Promise<T> {
    // one process: the core's in-process queue is the whole lock
    return fn();
  }

  async close(): Promise<void> {
    await this.queue;
    this.statements.clear();
    if (this.connection.isOpen) this.connection.close();
  }
}

/** The SQL store on a SQLite file. */
export class SqliteStore extends SqlStore {
  private readonly writer: SqliteWriter | null;

  /**
   * @param options.writerThread run appendEntries (the group commit and its fsync) in a worker thread on its own
   *   connection, so the event loop keeps serving requests while the disk syncs. Reads stay on this connection (WAL).
   */
  constructor(path: string, options: { writerThread?: boolean } = {}) {
    const writer = options.writerThread && path !== ":memory:" ? new SqliteWriter(path) : null;
    super(new SqliteDialect(path));
    this.writer = writer;
  }

  override appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
    options: AppendOptions = {},
  ): Promise<void> {
    // the writer thread's store keeps the order and the afterPrevious check: it runs the appends in turn
    if (this.writer) return this.writer.append(consultationId, expectedSize, entries, nodes, options);
    return super.appendEntries(consultationId, expectedSize, entries, nodes, options);
  }

  override roundTrips(): number {
    return super.roundTrips() + (this.writer?.roundTrips ?? 0);
  }

  override async close(): Promise<void> {
    await this.writer?.close();
    await super.close();
  }
}

/** An append's failure as it crosses from the writer thread: the error types the caller tells apart. */
export type WriterError =
  | { kind: "conflict"; message: string }
  | { kind: "service"; message: string; statusCode: number; code: string }
  | { kind: "other"; message: string };

export function writerErrorOf(e: unknown): WriterError {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof StoreConflictError) return { kind: "conflict", message };
  if (e instanceof ServiceError) return { kind: "service", message, statusCode: e.statusCode, code: e.code };
  return { kind: "other", message };
}

function errorOfWriter(e: WriterError): Error {
  if (e.kind === "conflict") return new StoreConflictError(e.message);
  if (e.kind === "service") return new ServiceError(e.statusCode, e.code, e.message);
  return new Error(e.message);
}

interface WriterReply {
  id: number;
  error?: WriterError;
  /** Statements the writer's connection has executed so far. */
  roundTrips: number;
}

/** Client side of the writer thread (server/store/sqlite-writer.ts). */
class SqliteWriter {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;
  /** Statements the writer thread has executed, as of its latest reply. */
  roundTrips = 0;

  constructor(path: string) {
    this.worker = new Worker(new URL("./sqlite-writer.ts", import.meta.url), { workerData: { path } });
    this.worker.unref();
    this.worker.on("message", (m: WriterReply) => {
      this.roundTrips = Math.max(this.roundTrips, m.roundTrips);
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(errorOfWriter(m.error));
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
    options: AppendOptions,
  ): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref(); // an unacknowledged commit keeps the process alive
      this.worker.postMessage({ id, consultationId, expectedSize, entries, nodes, options });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
