/**
 * PostgreSQL dialect of the SQL store, through pg. Several service instances may share one database (one schema per
 * deployment): appends serialize on the consultation's row lock, one instance anchors (advisory lock), and operator
 * keys serialize on advisory locks.
 */
import pg from "pg";
import type { Row } from "./rows.ts";
import type { ColumnTypes, ForeignKeys } from "./schema.ts";
import type { BulkColumn, BulkInsert, SqlDialect, SqlParam, SqlPort, SqlValue } from "./sql.ts";
import { SqlStore } from "./sql.ts";
import type { NodeId } from "./types.ts";

const TYPES: ColumnTypes = {
  bigint: "BIGINT",
  bytes: "BYTEA",
  json: "JSONB",
  boolean: "BOOLEAN",
  false: "FALSE",
  true: "TRUE",
  serialKey: "BIGSERIAL PRIMARY KEY",
  table: "",
  keyedTable: "",
};

const ARRAY_TYPES: Record<BulkColumn[1], string> = {
  bigint: "bigint[]",
  integer: "int[]",
  text: "text[]",
  bytes: "bytea[]",
};

/** Rows per bulk statement: bounds one message, not a parameter count (each column is one array parameter). */
const BULK_ROWS = 2000;

/** Key of the migration lock (any constant: it only has to be the same in every instance). */
const MIGRATION_LOCK = 1735356537;

/** `unnest(?::type[], …)`: rows bound as one typed array per column. */
const unnestSql = (columns: readonly BulkColumn[]): string =>
  `unnest(${columns.map(([, type]) => `?::${ARRAY_TYPES[type]}`).join(", ")})`;

/** The parameters of unnestSql: each column's values across the rows. */
const columnArrays = (columns: readonly BulkColumn[], rows: readonly (readonly SqlValue[])[]): SqlValue[][] =>
  columns.map((_, c) => rows.map((row) => row[c] ?? null));

const insertSql = (table: string, columns: readonly BulkColumn[], suffix = "", where = ""): string =>
  `INSERT INTO ${table} (${columns.map(([name]) => name).join(", ")})
   SELECT * FROM ${unnestSql(columns)} ${where} ${suffix}`;

const numberedCache = new Map<string, string>();

/** `?` placeholders as PostgreSQL's $1, $2, … (the core's SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let out = numberedCache.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    numberedCache.set(sql, out);
  }
  return out;
}

/** pg sends Buffers as bytea; a Uint8Array becomes one. */
function pgValue(v: SqlParam): unknown {
  if (Array.isArray(v)) return v.map(pgValue);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

/** Counts what is sent to the server: every query of the dialect goes through `send`, BEGIN and COMMIT included. */
class RoundTrips {
  count = 0;
  send(q: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]): Promise<pg.QueryResult> {
    this.count++;
    return params === undefined ? q.query(sql) : q.query(sql, params);
  }
}

function portOf(trips: RoundTrips, q: pg.Pool | pg.PoolClient): SqlPort {
  const query = (sql: string, params: readonly SqlParam[] = []) =>
    trips.send(q, numbered(sql), params.map(pgValue));
  return {
    get: async (sql, params) => (await query(sql, params)).rows[0] as Row | undefined,
    all: async (sql, params) => (await query(sql, params)).rows as Row[],
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    exec: async (script) => {
      await trips.send(q, script);
    },
  };
}

class PostgresDialect implements SqlDialect {
  readonly kind = "postgres" as const;
  readonly types = TYPES;
  readonly forUpdate = " FOR UPDATE";
  private readonly pool: pg.Pool;
  /** Connections that hold operator locks, apart so waiting for a lock never starves fn of a connection. */
  private readonly lockPool: pg.Pool;
  private readonly schema: string;
  readonly db: SqlPort;
  private anchorClient: pg.PoolClient | null = null;
  private anchorHeld = false;
  private readonly trips = new RoundTrips();

  constructor(url: string, schema: string) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name ${schema}`);
    this.schema = schema;
    const options = connectionOptions(schema);
    this.pool = new pg.Pool({ connectionString: url, max: 10, options });
    this.lockPool = new pg.Pool({ connectionString: url, max: 10, options });
    for (const p of [this.pool, this.lockPool]) {
      p.on("error", () => {
        /* a broken idle client is dropped by the pool; the next query reconnects */
      });
    }
    this.db = portOf(this.trips, this.pool);
  }

  roundTrips(): number {
    return this.trips.count;
  }

  async transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await this.trips.send(client, "BEGIN");
      const out = await fn(portOf(this.trips, client));
      await this.trips.send(client, "COMMIT");
      return out;
    } catch (e) {
      await this.trips.send(client, "ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }

  migration(fn: (tx: SqlPort) => Promise<void>): Promise<void> {
    return this.transaction(async (tx) => {
      // serialize concurrent migrations of several instances, the schema's creation included
      await tx.get("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK]);
      await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await fn(tx);
    });
  }

  /** The table's foreign keys become exactly these (version 1 gave drafts one of its own). */
  async addForeignKeys(tx: SqlPort, { table, keys }: ForeignKeys): Promise<void> {
    const existing = await tx.all(
      "SELECT conname FROM pg_constraint WHERE conrelid = ?::regclass AND contype = 'f'",
      [table],
    );
    for (const c of existing) await tx.exec(`ALTER TABLE ${table} DROP CONSTRAINT "${String(c.conname)}"`);
    for (const k of keys) await tx.exec(`ALTER TABLE ${table} ADD FOREIGN KEY ${k}`);
  }

  insertMany: SqlDialect["insertMany"] = async (tx, table, columns, rows, suffix = "") => {
    const sql = insertSql(table, columns, suffix);
    let inserted = 0;
    for (let off = 0; off < rows.length; off += BULK_ROWS) {
      inserted += await tx.run(sql, columnArrays(columns, rows.slice(off, off + BULK_ROWS)));
    }
    return inserted;
  };

  /**
   * Data-modifying CTEs over unnest arrays: the guard and up to BULK_ROWS rows of every table in one statement (one
   * round trip), each insert's rows only if the guard returned its row, and a statement per further BULK_ROWS. The
   * statement's foreign keys are checked at its end, when the rows of all its CTEs are in (a receipt's entry is
   * inserted by the same statement).
   */
  guardedInsert: SqlDialect["guardedInsert"] = async (tx, guard, inserts) => {
    const inserted = inserts.map(() => 0);
    const chunks = Math.max(1, ...inserts.map((i) => Math.ceil(i.rows.length / BULK_ROWS)));
    let guardRow: Row | undefined;
    for (let c = 0; c < chunks; c++) {
      const parts: { at: number; insert: BulkInsert; rows: BulkInsert["rows"] }[] = [];
      inserts.forEach((insert, at) => {
        const rows = insert.rows.slice(c * BULK_ROWS, (c + 1) * BULK_ROWS);
        if (rows.length > 0) parts.push({ at, insert, rows });
      });
      // the first statement carries the guard; the others run only once it has returned its row
      const guarded = c === 0;
      const ctes = [
        ...(guarded ? [`g AS (${guard.sql})`] : []),
        ...parts.map(
          ({ insert }, k) =>
            `w${k} AS (${insertSql(insert.table, insert.columns, insert.suffix, guarded ? "WHERE EXISTS (SELECT 1 FROM g)" : "")} RETURNING 1)`,
        ),
      ];
      const counts = parts.map((_, k) => `(SELECT count(*) FROM w${k}) AS n${k}`);
      const row = await tx.get(
        guarded
          ? `WITH ${ctes.join(",\n")} SELECT ${["g.*", "(SELECT count(*) FROM g) AS guarded", ...counts].join(", ")}
             FROM (SELECT 1) AS one LEFT JOIN g ON TRUE`
          : `WITH ${ctes.join(",\n")} SELECT ${counts.join(", ")}`,
        [
          ...(guarded ? guard.params : []),
          ...parts.flatMap(({ insert, rows }) => columnArrays(insert.columns, rows)),
        ],
      );
      if (guarded) {
        if (Number(row?.guarded) === 0) return { guard: undefined, inserted };
        guardRow = row;
      }
      parts.forEach(({ at }, k) => {
        inserted[at]! += Number(row?.[`n${k}`] ?? 0);
      });
    }
    return { guard: guardRow, inserted };
  };

  relation: SqlDialect["relation"] = (alias, columns, rows) => ({
    sql: `${unnestSql(columns)} WITH ORDINALITY AS ${alias}(${columns.map(([name]) => name).join(", ")}, i)`,
    params: columnArrays(columns, rows),
  });

  async getNodes(port: SqlPort, consultationId: number, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    const rows = await port.all(
      `SELECT n.level, n.idx, n.hash FROM nodes n
       JOIN unnest(?::int[], ?::bigint[]) AS q(level, idx) ON n.level = q.level AND n.idx = q.idx
       WHERE n.consultation_id = ?`,
      [ids.map((i) => i.level), ids.map((i) => i.index), consultationId],
    );
    const found = new Map<string, Uint8Array>();
    for (const row of rows) {
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

  selectEachKey: SqlDialect["selectEachKey"] = (port, select, keys, params) =>
    port.all(`SELECT e.* FROM unnest(?::bigint[]) AS k(key) CROSS JOIN LATERAL (${select("k.key")}) e`, [
      [...keys],
      ...params,
    ]);

  getCountedNodes: SqlDialect["getCountedNodes"] = async (port, consultationId, addresses, treeSize) => {
    if (addresses.length === 0) return [];
    const rows = await port.all(
      `SELECT q.i, n.record FROM unnest(?::int[], ?::bytea[]) WITH ORDINALITY AS q(depth, path, i)
       CROSS JOIN LATERAL (
         SELECT record FROM counted_nodes
         WHERE consultation_id = ? AND depth = q.depth AND path = q.path AND tree_size <= ?
         ORDER BY tree_size DESC LIMIT 1
       ) n`,
      [addresses.map((a) => a.depth), addresses.map((a) => a.path), consultationId, treeSize],
    );
    const out: (Uint8Array | null)[] = addresses.map(() => null);
    for (const row of rows) {
      const b = row.record as Buffer;
      out[Number(row.i) - 1] = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
    return out;
  };

  async tryAnchorLock(): Promise<boolean> {
    try {
      if (this.anchorClient && this.anchorHeld) {
        await this.trips.send(this.anchorClient, "SELECT 1"); // still connected, so still held
        return true;
      }
      if (!this.anchorClient) this.anchorClient = await this.pool.connect();
      // one anchorer per schema (one deployment), whatever else shares the database
      const r = await this.trips.send(this.anchorClient, "SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [
        `gopy-anchor:${this.schema}`,
      ]);
      this.anchorHeld = r.rows[0]?.ok === true;
      return this.anchorHeld;
    } catch {
      if (this.anchorClient) this.anchorClient.release(true);
      this.anchorClient = null;
      this.anchorHeld = false;
      return false;
    }
  }

  async lockOperator<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.lockPool.connect();
    const lock = `gopy-operator:${this.schema}:${key}`;
    let broken: Error | undefined;
    try {
      await this.trips.send(client, "SELECT pg_advisory_lock(hashtextextended($1, 0))", [lock]);
      return await fn();
    } finally {
      try {
        await this.trips.send(client, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lock]);
      } catch (e) {
        broken = e instanceof Error ? e : new Error(String(e));
      }
      // a connection in doubt is closed, and its session's locks with it
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.anchorClient) {
      this.anchorClient.release(true);
      this.anchorClient = null;
    }
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }
}

/**
 * The session settings of every connection: the schema, and plans made for each execution. Our statements are
 * unnamed (planned each time anyway); the setting is for the foreign-key checks, which PostgreSQL plans once per
 * connection and keeps: planned while `entries` was tiny (as analyzed at its first rows), a receipt's check became
 * a sequential scan of every entry, which made each append slower as the log grew (the bench's "slow mode": an
 * append of 30 opinions spent 15 to 50 ms in that check at 10,000 entries).
 */
export function connectionOptions(schema: string): string {
  return `-c search_path=${schema} -c plan_cache_mode=force_custom_plan`;
}

/** The SQL store on a PostgreSQL schema. */
export class PostgresStore extends SqlStore {
  constructor(url: string, schema = "public") {
    super(new PostgresDialect(url, schema));
  }
}
