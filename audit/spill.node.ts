// The CLI's AuditState: in memory up to a limit, then in a temporary SQLite file (node:sqlite), so that a
// national consultation audits in bounded memory. Each part keeps a bounded in-memory table of what it
// wrote last (the next entries mostly touch it) and writes it out to the file, in one transaction, when
// the table is full; a lookup the table cannot answer reads the file. The file is deleted on close().
// Node only: the browser keeps its state in memory (memoryAuditState).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  type CountedAddress,
  type CountedNode,
  type CountedStore,
  MemoryCountedStore,
} from "../protocol/index.ts";
import {
  type AuditState,
  FLAG_CHUNK,
  KeyTable,
  type LatestOpinions,
  type LeafFlags,
  memoryAuditState,
} from "./state.ts";

export interface SpillLimits {
  /** Keys (author, section) held in memory (default 750,000: about 45 MB). */
  readonly keys?: number;
  /** Counted-map records held in memory (default three times the keys: about 250 MB; a map holds about two records a key). */
  readonly countedRecords?: number;
  /** Chunks of leaf flags held in memory (default 64 chunks of FLAG_CHUNK leaves: 4 Mi leaves, 4 MB). */
  readonly flagChunks?: number;
  /** Leaves per chunk of flags (default FLAG_CHUNK; smaller in tests, to make them spill). */
  readonly flagChunkLeaves?: number;
  /** Where the temporary file goes (default: the OS's temporary directory). */
  readonly dir?: string;
}

export const DEFAULT_SPILL_KEYS = 750_000;

/** The file and its statements, opened when a part first passes its limit. */
class SpillFile {
  readonly #dir: string;
  #db: DatabaseSync | null = null;
  readonly #statements = new Map<string, StatementSync>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  get db(): DatabaseSync {
    if (this.#db === null) {
      const folder = mkdtempSync(join(this.#dir, "gopy-audit-"));
      this.#db = new DatabaseSync(join(folder, "state.sqlite"));
      // A scratch file: losing it on a crash loses nothing (the audit is rerun), so no journal.
      this.#db.exec(`
        PRAGMA journal_mode = OFF;
        PRAGMA synchronous = OFF;
        PRAGMA cache_size = -32768;
        CREATE TABLE latest (key BLOB PRIMARY KEY, leaf INTEGER NOT NULL, mark INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE counted (depth INTEGER NOT NULL, path BLOB NOT NULL, record BLOB NOT NULL,
          PRIMARY KEY (depth, path)) WITHOUT ROWID;
        CREATE TABLE flags (chunk INTEGER PRIMARY KEY, bytes BLOB NOT NULL);
      `);
      this.folder = folder;
    }
    return this.#db;
  }

  folder: string | null = null;

  statement(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** Runs fn in one transaction. */
  batch(fn: () => void): void {
    this.db.exec("BEGIN");
    try {
      fn();
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.#db?.close();
    this.#db = null;
    if (this.folder !== null) rmSync(this.folder, { recursive: true, force: true });
    this.folder = null;
  }
}

class SpillingLatest implements LatestOpinions {
  readonly #file: SpillFile;
  readonly #limit: number;
  readonly #table: KeyTable;
  #spilled = false;
  previousMark = 0;

  constructor(file: SpillFile, limit: number) {
    this.#file = file;
    this.#limit = limit;
    this.#table = new KeyTable(Math.min(limit, 1 << 16));
  }

  swap(key: Uint8Array, at: number, index: number, mark: number): number {
    const table = this.#table;
    let previous = table.find(key, at);
    if (previous >= 0) {
      this.previousMark = table.markAt(table.slot);
    } else if (this.#spilled) {
      const row = this.#file
        .statement("SELECT leaf, mark FROM latest WHERE key = ?")
        .get(key.subarray(at, at + 32)) as { leaf: number; mark: number } | undefined;
      if (row !== undefined) {
        previous = row.leaf;
        this.previousMark = row.mark;
      }
    }
    table.setAt(table.slot, key, at, index, mark);
    if (table.count >= this.#limit) this.#spill();
    return previous;
  }

  #spill(): void {
    const insert = this.#file.statement("INSERT OR REPLACE INTO latest (key, leaf, mark) VALUES (?, ?, ?)");
    this.#file.batch(() =>
      this.#table.forEach((key, index, mark) => {
        insert.run(key, index, mark);
      }),
    );
    this.#table.clear();
    this.#spilled = true;
  }
}

class SpillingCounted implements CountedStore {
  readonly #file: SpillFile;
  readonly #limit: number;
  #cache = new MemoryCountedStore();
  #spilled = false;

  constructor(file: SpillFile, limit: number) {
    this.#file = file;
    this.#limit = limit;
  }

  getNodes(addresses: readonly CountedAddress[], treeSize: number): (Uint8Array | null)[] {
    const found = this.#cache.getNodes(addresses, treeSize);
    if (!this.#spilled) return found;
    const select = this.#file.statement("SELECT record FROM counted WHERE depth = ? AND path = ?");
    for (let i = 0; i < found.length; i++) {
      if (found[i] !== null) continue;
      const row = select.get(addresses[i]!.depth, addresses[i]!.path) as { record: Uint8Array } | undefined;
      found[i] = row ? row.record : null;
    }
    return found;
  }

  putNodes(nodes: readonly CountedNode[], treeSize: number): void {
    this.#cache.putNodes(nodes, treeSize);
    if (this.#cache.size < this.#limit) return;
    // Everything newer than the file is in the cache: write it out and start an empty one.
    const insert = this.#file.statement(
      "INSERT OR REPLACE INTO counted (depth, path, record) VALUES (?, ?, ?)",
    );
    this.#file.batch(() => {
      for (const node of this.#cache.latestNodes()) insert.run(node.depth, node.path, node.record);
    });
    this.#cache = new MemoryCountedStore();
    this.#spilled = true;
  }
}

class SpillingFlags implements LeafFlags {
  readonly #file: SpillFile;
  readonly #limit: number;
  readonly #leaves: number;
  /** Chunks in memory, least recently used first (a Map keeps insertion order). */
  readonly #chunks = new Map<number, Uint8Array>();

  constructor(file: SpillFile, limit: number, leaves: number) {
    this.#file = file;
    this.#limit = Math.max(1, limit);
    this.#leaves = leaves;
  }

  get(index: number): number {
    return this.#chunk(Math.floor(index / this.#leaves))[index % this.#leaves]!;
  }

  set(index: number, flags: number): void {
    this.#chunk(Math.floor(index / this.#leaves))[index % this.#leaves] = flags;
  }

  #chunk(n: number): Uint8Array {
    let chunk = this.#chunks.get(n);
    if (chunk !== undefined) {
      this.#chunks.delete(n);
      this.#chunks.set(n, chunk);
      return chunk;
    }
    if (this.#chunks.size >= this.#limit) {
      const [oldest, bytes] = this.#chunks.entries().next().value as [number, Uint8Array];
      this.#file.statement("INSERT OR REPLACE INTO flags (chunk, bytes) VALUES (?, ?)").run(oldest, bytes);
      this.#chunks.delete(oldest);
    }
    const row = this.#file.folder
      ? (this.#file.statement("SELECT bytes FROM flags WHERE chunk = ?").get(n) as
          | { bytes: Uint8Array }
          | undefined)
      : undefined;
    chunk = row ? new Uint8Array(row.bytes) : new Uint8Array(this.#leaves);
    this.#chunks.set(n, chunk);
    return chunk;
  }
}

/** An AuditState that moves to a temporary SQLite file past the limits; limits of Infinity keep it in memory. */
export function spillingAuditState(limits: SpillLimits = {}): AuditState {
  const keys = limits.keys ?? DEFAULT_SPILL_KEYS;
  if (keys === Number.POSITIVE_INFINITY) return memoryAuditState();
  const file = new SpillFile(limits.dir ?? tmpdir());
  return {
    latest: new SpillingLatest(file, keys),
    counted: new SpillingCounted(file, limits.countedRecords ?? 3 * keys),
    flags: new SpillingFlags(file, limits.flagChunks ?? 64, limits.flagChunkLeaves ?? FLAG_CHUNK),
    close: () => file.close(),
  };
}
