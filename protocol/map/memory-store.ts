// CountedStore in memory. Records live in fixed-size cells of a few large buffers, found through an
// open-addressing table of cell numbers: millions of small objects would make the garbage collector,
// not hashing, the cost of a large map (see MemoryTreeStore). A cell also holds what a lookup compares
// (depth, first path bytes) and its tree size, so that finding and rewriting a record touches the table
// and one cell. With `history`, a rewritten address gets a new cell linked to its older one, so every
// earlier tree size stays readable; without it (what an auditor needs) a rewrite overwrites the cell,
// and reading a record at a tree size older than its last rewrite is refused.
import { bytesToHex, hexToBytes } from "../encoding.ts";
import { ProtocolError } from "../errors.ts";
import type { CountedAddress, CountedNode, CountedStore } from "./counted.ts";

// A cell: [0, 72) the record (a branch uses 64), [72, 80) the path's first 8 bytes (zero-padded),
// 80 the depth's low byte, 81 its high bit | LEAF_FLAG, [84, 88) the tree size (little-endian).
const CELL = 88;
const PATH_AT = 72;
const DEPTH_AT = 80;
const SIZE_AT = 84;
const LEAF_FLAG = 2;
const CHUNK_BITS = 15;
const CELLS_PER_CHUNK = 1 << CHUNK_BITS;
/** Addresses deeper than this are looked up by their full path in a Map (rare: keys are hashes). */
const TABLE_DEPTH = 64;
const MAX_TREE_SIZE = 2 ** 32 - 1;

export interface MemoryCountedStoreOptions {
  /** Keep the record of every tree size, not only the latest (default false). */
  readonly history?: boolean;
}

export class MemoryCountedStore implements CountedStore {
  readonly #history: boolean;
  readonly #chunks: Uint8Array[] = [];
  /** With history: per cell, the cell of the same address's previous record, or -1. */
  #previous = new Int32Array(0);
  #cells = 0;
  /**
   * Open addressing, two numbers a slot: cell + 1 of an address's newest record (0 when free), then the
   * address's 32-bit hash, compared before the cell so that a probe rarely touches a cell that is not it.
   */
  #table = new Int32Array(2 << 12);
  #used = 0;
  /** Set by #find: the slot of the address found (or the free one to insert it at), and its hash. */
  #slot = 0;
  #hash = 0;
  readonly #deep = new Map<string, number>();

  constructor(options: MemoryCountedStoreOptions = {}) {
    this.#history = options.history === true;
    if (this.#history) this.#previous = new Int32Array(1024);
  }

  /** Number of records held (every tree size's, with history). */
  get size(): number {
    return this.#cells;
  }

  getNodes(addresses: readonly CountedAddress[], treeSize: number): (Uint8Array | null)[] {
    const out: (Uint8Array | null)[] = [];
    for (const address of addresses) {
      let cell = this.#find(address);
      while (cell >= 0 && this.#sizeOf(cell) > treeSize) {
        if (!this.#history) {
          throw new ProtocolError(
            "invalid_size",
            `this counted store keeps only the latest records: the one at depth ${address.depth} was rewritten at tree size ${this.#sizeOf(cell)}, after ${treeSize}`,
          );
        }
        cell = this.#previous[cell]!;
      }
      if (cell < 0) {
        out.push(null);
        continue;
      }
      const chunk = this.#chunks[cell >>> CHUNK_BITS]!;
      const at = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
      out.push(chunk.subarray(at, at + (chunk[at + DEPTH_AT + 1]! & LEAF_FLAG ? 72 : 64)));
    }
    return out;
  }

  putNodes(nodes: readonly CountedNode[], treeSize: number): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > MAX_TREE_SIZE) {
      throw new ProtocolError(
        "invalid_size",
        `the in-memory counted store holds tree sizes up to ${MAX_TREE_SIZE}`,
      );
    }
    for (const node of nodes) {
      let cell = this.#find(node);
      const slot = this.#slot;
      const hash = this.#hash;
      if (cell >= 0 && this.#sizeOf(cell) > treeSize) {
        throw new ProtocolError(
          "invalid_size",
          `a record was already written at a tree size above ${treeSize}`,
        );
      }
      if (cell >= 0 && !(this.#history && this.#sizeOf(cell) !== treeSize)) {
        this.#write(cell, node, treeSize);
        continue;
      }
      const older = cell;
      cell = this.#newCell();
      if (this.#history) this.#previous[cell] = older;
      // Written before it is indexed: a rehash reads the depth and path from the cell.
      this.#write(cell, node, treeSize);
      if (node.depth > TABLE_DEPTH) this.#deep.set(deepKey(node), cell);
      else if (older >= 0) this.#table[2 * slot] = cell + 1;
      else this.#insert(slot, cell, hash);
    }
  }

  /**
   * The newest record of every address, in no particular order (for a store that moves its records
   * elsewhere, such as an auditor's that spills to disk). The records are views into the store.
   */
  *latestNodes(): Generator<CountedNode> {
    const table = this.#table;
    for (let i = 0; i < table.length; i += 2) {
      if (table[i] !== 0) yield this.#nodeOf(table[i]! - 1, null);
    }
    for (const [key, cell] of this.#deep) yield this.#nodeOf(cell, key);
  }

  #nodeOf(cell: number, deep: string | null): CountedNode {
    const chunk = this.#chunks[cell >>> CHUNK_BITS]!;
    const at = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
    const depth = chunk[at + DEPTH_AT]! | ((chunk[at + DEPTH_AT + 1]! & 1) << 8);
    const record = chunk.subarray(at, at + (chunk[at + DEPTH_AT + 1]! & LEAF_FLAG ? 72 : 64));
    const path =
      deep === null
        ? chunk.slice(at + PATH_AT, at + PATH_AT + ((depth + 7) >> 3))
        : hexToBytes(deep.slice(deep.indexOf(":") + 1), (depth + 7) >> 3, "path");
    return { depth, path, record };
  }

  #sizeOf(cell: number): number {
    const chunk = this.#chunks[cell >>> CHUNK_BITS]!;
    const at = (cell & (CELLS_PER_CHUNK - 1)) * CELL + SIZE_AT;
    return (chunk[at]! | (chunk[at + 1]! << 8) | (chunk[at + 2]! << 16) | (chunk[at + 3]! << 24)) >>> 0;
  }

  #write(cell: number, node: CountedNode, treeSize: number): void {
    const chunk = this.#chunks[cell >>> CHUNK_BITS]!;
    const at = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
    // Byte loops: TypedArray.set and fill cost more than copying 88 bytes.
    const { record, path, depth } = node;
    for (let i = 0; i < record.length; i++) chunk[at + i] = record[i]!;
    for (let i = 0; i < 8; i++) chunk[at + PATH_AT + i] = i < path.length ? path[i]! : 0;
    chunk[at + DEPTH_AT] = depth & 0xff;
    chunk[at + DEPTH_AT + 1] = (depth >> 8) | (record.length === 72 ? LEAF_FLAG : 0);
    for (let i = 0; i < 4; i++) chunk[at + SIZE_AT + i] = (treeSize >>> (8 * i)) & 0xff;
  }

  #newCell(): number {
    const cell = this.#cells++;
    if ((cell & (CELLS_PER_CHUNK - 1)) === 0) this.#chunks.push(new Uint8Array(CELLS_PER_CHUNK * CELL));
    if (this.#history && cell >= this.#previous.length) {
      const grown = new Int32Array(this.#previous.length * 2);
      grown.set(this.#previous);
      this.#previous = grown;
    }
    return cell;
  }

  /** The newest cell of `address`, or -1; for a table address, #slot is left at its slot (or a free one). */
  #find(address: CountedAddress): number {
    if (address.depth > TABLE_DEPTH) return this.#deep.get(deepKey(address)) ?? -1;
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    const { depth, path } = address;
    const hash = hashAddress(depth, path, 0, Math.min(8, path.length)) | 0;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = table[2 * slot]!;
      if (entry === 0 || (table[2 * slot + 1] === hash && this.#matches(entry - 1, depth, path))) {
        this.#slot = slot;
        this.#hash = hash;
        return entry - 1;
      }
    }
  }

  #matches(cell: number, depth: number, path: Uint8Array): boolean {
    const chunk = this.#chunks[cell >>> CHUNK_BITS]!;
    const at = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
    if (chunk[at + DEPTH_AT] !== (depth & 0xff) || (chunk[at + DEPTH_AT + 1]! & 1) !== depth >> 8)
      return false;
    for (let i = 0; i < 8; i++) if (chunk[at + PATH_AT + i] !== (i < path.length ? path[i] : 0)) return false;
    return true;
  }

  #insert(slot: number, cell: number, hash: number): void {
    this.#table[2 * slot] = cell + 1;
    this.#table[2 * slot + 1] = hash;
    if (++this.#used * 4 <= this.#table.length) return;
    // Rehash into a table twice the size, by the hashes kept in the table.
    const old = this.#table;
    const table = new Int32Array(old.length * 2);
    const mask = (table.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] === 0) continue;
      let s = old[i + 1]! & mask;
      while (table[2 * s] !== 0) s = (s + 1) & mask;
      table[2 * s] = old[i]!;
      table[2 * s + 1] = old[i + 1]!;
    }
    this.#table = table;
  }
}

function deepKey(address: CountedAddress): string {
  return `${address.depth}:${bytesToHex(address.path)}`;
}

/**
 * Mixes a depth and the first 8 bytes of its path (bytes[from, from + length), zeros after) into 32
 * bits. A map's keys are hashes, so those bytes are uniformly random below the top few levels.
 */
function hashAddress(depth: number, bytes: Uint8Array, from: number, length: number): number {
  let high = 0;
  let low = 0;
  for (let i = 0; i < 4; i++) high = (high << 8) | (i < length ? bytes[from + i]! : 0);
  for (let i = 4; i < 8; i++) low = (low << 8) | (i < length ? bytes[from + i]! : 0);
  let h = Math.imul(high ^ Math.imul(depth + 1, 0x9e3779b1), 0x85ebca6b) ^ low;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}
