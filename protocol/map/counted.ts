// The counted map of a consultation: for every (author, section), the log position of the author's
// latest opinion on it, as a sparse Merkle tree (verify.ts has the hashing and the proof check).
//
// Storage: one record per non-empty subtree, at its address (depth, path = the first `depth` bits of
// its keys). A subtree holding one leaf stores the leaf (key || uint64 leafIndex || leafHash, 72 bytes:
// its node is SHA-256(0x02 || record)); one holding more stores its two children's hashes (left ||
// right, 64 bytes: its node is SHA-256(0x01 || record)). Reading the records along a key's path gives
// both the way down and every sibling, so a proof reads about log2(keys) records; an update reads and
// rewrites only the subtrees above the changed keys.
//
// Versions: records are written under the tree size the update brings the map to, and read as "the
// record written at the greatest tree size <= N". That is exact because keys are never removed: a
// subtree, once non-empty, stays non-empty, and only goes from one leaf to a branch, never back, so
// an address that has no record at or below N was empty at N. A database keeps a row per (address,
// tree size) and serves every earlier size from the same table: the cost is one row per rewritten
// node per update (about 2 + log2(keys / batch) per changed key), which is why the service should
// update the map once per anchored head rather than once per opinion. A store that only ever serves
// the latest size (an auditor) may overwrite records in place.
import { bytesToHex, type Hex, hashToBytes, isHash } from "../encoding.ts";
import type { Entry } from "../entry.ts";
import { ProtocolError } from "../errors.ts";
import { assertSize } from "../merkle/log.ts";
import { MemoryCountedStore } from "./memory-store.ts";
import { pathOf, Rewrite, readRecords, recordNode } from "./rewrite.ts";
import {
  COUNTED_KEY_BITS,
  type CountedLeaf,
  type CountedProof,
  type CountedQuery,
  countedKeyBytes,
  keyBit,
  LEAF_RECORD_BYTES,
  recordLeafIndex,
  writeLeafRecord,
} from "./verify.ts";

/** A subtree: the keys whose first `depth` bits are `path` (ceil(depth / 8) bytes, later bits zero). */
export interface CountedAddress {
  readonly depth: number;
  readonly path: Uint8Array;
}

/** A subtree's record: 72 bytes for a single leaf, 64 (left || right child hash) for more. */
export interface CountedNode extends CountedAddress {
  readonly record: Uint8Array;
}

/**
 * Where a CountedMap keeps its records. Both methods may be synchronous.
 * - getNodes answers, for each address, the record put at the greatest `treeSize` <= the one asked
 *   (null if none). The bytes may be views into the store, valid until the next putNodes.
 * - putNodes is called one or more times per CountedMap.update (about once per level of the tree),
 *   all with the update's new treeSize, never with a smaller treeSize than before. Its `path` arrays
 *   are the store's to keep, but its `record` bytes are views into the map's working memory, reused
 *   once the call returns: a store that keeps them (a buffer for a later transaction) must copy them.
 *   A database store buffers the rows and commits them once update() resolves, in the transaction that
 *   records the map's new tree size; CountedMap.open(store, size) then resumes from it. Reads during an
 *   update are at the old tree size and never of an address already put in that update.
 */
export interface CountedStore {
  getNodes(
    addresses: readonly CountedAddress[],
    treeSize: number,
  ): readonly (Uint8Array | null)[] | Promise<readonly (Uint8Array | null)[]>;
  putNodes(nodes: readonly CountedNode[], treeSize: number): void | Promise<void>;
}

/** One change to the map: `key` now points to the log entry at `leafIndex`. */
export type CountedUpdate = CountedLeaf;

/**
 * The map update for log entry `leafIndex` with leaf hash `leafHash`: opinions set their key
 * (author, section), replacing an earlier opinion; moderation leaves the map alone (null).
 */
export function countedUpdate(leafIndex: number, entry: Entry, leafHash: Hex): CountedUpdate | null {
  if (
    typeof entry !== "object" ||
    entry === null ||
    (entry.type !== "opinion" && entry.type !== "moderation")
  ) {
    throw new ProtocolError("invalid_entry", "entry must be a decoded opinion or moderation entry");
  }
  if (entry.type === "moderation") return null;
  assertSize(leafIndex, "leafIndex");
  if (!isHash(leafHash)) throw new ProtocolError("invalid_hex", "leafHash must be a 32-byte 0x-hex hash");
  return { key: bytesToHex(countedKeyBytes(entry.author, entry.section)), leafIndex, leafHash };
}

const ZERO_BYTES = new Uint8Array(32);

/** The key a query names, as bytes; throws a ProtocolError when it names none. */
function queryKey(query: CountedQuery): Uint8Array {
  if (typeof query === "string") return hashToBytes(query, "key");
  if (typeof query !== "object" || query === null) {
    throw new ProtocolError("invalid_argument", "a query is a key or {author, section}");
  }
  return countedKeyBytes(query.author, query.section);
}

/** Records read per getNodes call while walking a key's path. */
const PATH_WINDOW = 16;

/** A consultation's counted map over a CountedStore, at one tree size of its log. */
export class CountedMap {
  readonly #store: CountedStore;
  #treeSize = 0;
  #root: Uint8Array = ZERO_BYTES;
  #updating = false;

  /** An empty map (tree size 0) whose records go to `store` (in memory by default). */
  constructor(store: CountedStore = new MemoryCountedStore()) {
    this.#store = store;
  }

  /** Reopens the map that `store` holds at `treeSize`, reading one record. */
  static async open(store: CountedStore, treeSize: number): Promise<CountedMap> {
    assertSize(treeSize, "treeSize");
    const map = new CountedMap(store);
    map.#treeSize = treeSize;
    map.#root = await map.#rootAt(treeSize);
    return map;
  }

  /** The log size the map reflects: entries [0, treeSize) have been applied. */
  get treeSize(): number {
    return this.#treeSize;
  }

  /**
   * The map root at `treeSize` (default: the current one). An earlier size must be one the map was
   * updated to (the service: an anchored size); the map cannot tell the others apart.
   */
  async root(treeSize: number = this.#treeSize): Promise<Hex> {
    this.#assertWithin(treeSize);
    return bytesToHex(treeSize === this.#treeSize ? this.#root : await this.#rootAt(treeSize));
  }

  /**
   * Applies the opinions of log entries [this.treeSize, treeSize), in log order (leafIndex strictly
   * increasing; a key set twice keeps the later), and resolves to the new root. When the store fails,
   * the map stays at its previous tree size.
   */
  async update(updates: readonly CountedUpdate[], treeSize: number): Promise<Hex> {
    return this.#apply(this.#checkUpdates(updates, treeSize), treeSize);
  }

  /**
   * update() for changes already packed as leaf records (key || uint64 big-endian leafIndex || leafHash,
   * 72 bytes each, in log order): what an auditor streaming millions of opinions hands over without an
   * object per opinion. The records are read, not kept.
   */
  async updateRecords(packed: Uint8Array, treeSize: number): Promise<Hex> {
    assertSize(treeSize, "treeSize");
    if (!(packed instanceof Uint8Array) || packed.length % LEAF_RECORD_BYTES !== 0) {
      throw new ProtocolError("invalid_argument", "packed must be a whole number of 72-byte leaf records");
    }
    const n = packed.length / LEAF_RECORD_BYTES;
    const records = packed.slice();
    const dedup = new KeyDedup(records, n);
    let previous = this.#treeSize - 1;
    for (let i = 0; i < n; i++) {
      const index = recordLeafIndex(records.subarray(i * LEAF_RECORD_BYTES));
      this.#checkIndex(i, index, previous, treeSize);
      previous = index;
      dedup.add(i * LEAF_RECORD_BYTES);
    }
    return this.#apply({ records, count: dedup.count }, treeSize);
  }

  async #apply({ records, count }: { records: Uint8Array; count: number }, treeSize: number): Promise<Hex> {
    if (treeSize < this.#treeSize) {
      throw new ProtocolError("invalid_size", `treeSize ${treeSize} is below the map's ${this.#treeSize}`);
    }
    if (this.#updating)
      throw new ProtocolError("invalid_argument", "another update of this map has not finished");
    this.#updating = true;
    try {
      const root =
        count === 0
          ? this.#root
          : await new Rewrite(this.#store, this.#treeSize, treeSize, records, count).run();
      this.#treeSize = treeSize;
      this.#root = root;
    } finally {
      this.#updating = false;
    }
    return bytesToHex(this.#root);
  }

  /** The proof of what the map holds for `query` at `treeSize` (default: the current size). */
  async proof(query: CountedQuery, treeSize: number = this.#treeSize): Promise<CountedProof> {
    const key = queryKey(query);
    this.#assertWithin(treeSize);
    const siblings: Hex[] = [];
    let window: readonly (Uint8Array | null)[] = [];
    let windowStart = 0;
    let leaf: CountedLeaf | null = null;
    let root: Uint8Array | undefined;
    for (let depth = 0; ; depth++) {
      if (depth >= windowStart + window.length) {
        windowStart = depth;
        const addresses: CountedAddress[] = [];
        for (let d = depth; d < Math.min(depth + PATH_WINDOW, COUNTED_KEY_BITS + 1); d++) {
          addresses.push({ depth: d, path: pathOf(key, 0, d) });
        }
        window = await readRecords(this.#store, addresses, treeSize);
      }
      const record = window[depth - windowStart]!;
      if (depth === 0) root = record === null ? ZERO_BYTES : recordNode(record, 0, record.length);
      if (record === null) {
        if (depth > 0) throw this.#missing(depth);
        break; // the empty map
      }
      if (record.length === LEAF_RECORD_BYTES) {
        leaf = {
          key: bytesToHex(record.subarray(0, 32)),
          leafIndex: recordLeafIndex(record),
          leafHash: bytesToHex(record.subarray(40, 72)),
        };
        break;
      }
      if (depth === COUNTED_KEY_BITS) throw this.#missing(depth);
      const side = keyBit(key, depth);
      siblings.push(bytesToHex(record.subarray(32 - side * 32, 64 - side * 32)));
      if (record.subarray(side * 32, side * 32 + 32).every((b) => b === 0)) break; // the key's side is empty: absent
    }
    return { treeSize, root: bytesToHex(root!), key: bytesToHex(key), siblings, leaf };
  }

  /** The updates as leaf records, checked, one per key (the later wins), packed in one buffer. */
  #checkUpdates(updates: readonly CountedUpdate[], treeSize: number): { records: Uint8Array; count: number } {
    assertSize(treeSize, "treeSize");
    if (treeSize < this.#treeSize) {
      throw new ProtocolError("invalid_size", `treeSize ${treeSize} is below the map's ${this.#treeSize}`);
    }
    if (!Array.isArray(updates)) throw new ProtocolError("invalid_argument", "updates must be an array");
    // One buffer for every record: a separate 72-byte array each would live off V8's heap, and
    // allocating those costs more than hashing them.
    const records = new Uint8Array(updates.length * LEAF_RECORD_BYTES);
    const dedup = new KeyDedup(records, updates.length);
    let previous = this.#treeSize - 1;
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i] as Partial<CountedUpdate> | null;
      const index = u?.leafIndex;
      this.#checkIndex(i, index, previous, treeSize);
      previous = index;
      const at = dedup.count * LEAF_RECORD_BYTES;
      try {
        writeLeafRecord(records, at, u!.key!, index, u!.leafHash!);
      } catch (error) {
        throw new ProtocolError("invalid_argument", `update ${i}: ${(error as Error).message}`);
      }
      dedup.add(at);
    }
    return { records, count: dedup.count };
  }

  #checkIndex(i: number, index: unknown, previous: number, treeSize: number): asserts index is number {
    if (typeof index !== "number" || !Number.isSafeInteger(index) || index <= previous || index >= treeSize) {
      throw new ProtocolError(
        "invalid_index",
        `update ${i}: leafIndex ${String(index)} must be above ${previous} (log order) and below treeSize ${treeSize}`,
      );
    }
  }

  async #rootAt(treeSize: number): Promise<Uint8Array> {
    const [record] = await readRecords(this.#store, [{ depth: 0, path: new Uint8Array(0) }], treeSize);
    return record ? recordNode(record, 0, record.length) : ZERO_BYTES;
  }

  #missing(depth: number): ProtocolError {
    return new ProtocolError(
      "invalid_argument",
      `counted store has no record at depth ${depth} below a branch`,
    );
  }

  #assertWithin(treeSize: unknown): asserts treeSize is number {
    assertSize(treeSize, "treeSize");
    if (treeSize > this.#treeSize) {
      throw new ProtocolError("invalid_size", `treeSize ${treeSize} is beyond the map's ${this.#treeSize}`);
    }
  }
}

/**
 * Packs leaf records one per key, the later winning, in place: record `at` (just written at the end of
 * the kept ones) is kept, or copied over the earlier record of its key. A key set twice is found through
 * a table of record numbers indexed by the key's first bytes (keys are hashes): a Map keyed by hex
 * strings cost as much as the whole rewrite.
 */
class KeyDedup {
  readonly #records: Uint8Array;
  readonly #table: Int32Array;
  count = 0;

  constructor(records: Uint8Array, capacity: number) {
    this.#records = records;
    let size = 1;
    while (size < 2 * capacity) size *= 2;
    this.#table = new Int32Array(size);
  }

  add(at: number): void {
    const records = this.#records;
    const table = this.#table;
    const mask = table.length - 1;
    let slot =
      ((records[at]! << 24) | (records[at + 1]! << 16) | (records[at + 2]! << 8) | records[at + 3]!) & mask;
    for (; table[slot] !== 0; slot = (slot + 1) & mask) {
      const other = (table[slot]! - 1) * LEAF_RECORD_BYTES;
      let same = true;
      for (let b = 0; b < 32 && same; b++) same = records[other + b] === records[at + b];
      if (same) break;
    }
    const keep = this.count * LEAF_RECORD_BYTES;
    if (table[slot] === 0) {
      if (keep !== at) for (let b = 0; b < LEAF_RECORD_BYTES; b++) records[keep + b] = records[at + b]!;
      table[slot] = ++this.count;
    } else {
      // The same key again: this later opinion takes the earlier one's record.
      const other = (table[slot]! - 1) * LEAF_RECORD_BYTES;
      for (let b = 0; b < LEAF_RECORD_BYTES; b++) records[other + b] = records[at + b]!;
    }
  }
}
