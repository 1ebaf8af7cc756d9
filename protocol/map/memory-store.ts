// CountedStore in memory. Records live in fixed-size cells of a few large buffers, found through an
// open-addressing table of cell numbers: millions of small objects would make the garbage collector,
// not hashing, the cost of a large map (see MemoryTreeStore). With `history`, a rewritten address
// gets a new cell linked to its older one, so every earlier tree size stays readable; without it
// (what an auditor needs) a rewrite overwrites the cell, and reading an older size of a node that
// changed since is refused.
import { bytesToHex } from "../encoding.ts";
import { ProtocolError } from "../errors.ts";
import type { CountedAddress, CountedNode, CountedStore } from "./counted.ts";

/** Bytes per cell: the record (64 or 72 bytes), then the first 8 bytes of its path. */
const CELL = 80;
const CELLS_PER_CHUNK = 1 << 15;
const LEAF_FLAG = 1 << 9;
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
  /** Per cell: depth | LEAF_FLAG. */
  #meta = new Uint16Array(1024);
  /** Per cell: the tree size it was written at. */
  #version = new Uint32Array(1024);
  /** Per cell, with history: the cell of the same address's previous record, or -1. */
  #previous = new Int32Array(0);
  #cells = 0;
  /** Open addressing: cell + 1 of an address's newest record, 0 when free. */
  #table = new Int32Array(1 << 12);
  #used = 0;
  #slot = 0;
  readonly #deep = new Map<string, number>();

  constructor(options: MemoryCountedStoreOptions = {}) {
    this.#history = options.history === true;
    if (this.#history) this.#previous = new Int32Array(1024);
  }

  /** Number of records held (all versions, with history). */
  get size(): number {
    return this.#cells;
  }

  getNodes(addresses: readonly CountedAddress[], treeSize: number): (Uint8Array | null)[] {
    return addresses.map((address) => {
      let cell = this.#find(address);
      while (cell >= 0 && this.#version[cell]! > treeSize) {
        if (!this.#history) {
          throw new ProtocolError(
            "invalid_size",
            `this counted store keeps only the latest records: the one at depth ${address.depth} was rewritten at tree size ${this.#version[cell]}, after ${treeSize}`,
          );
        }
        cell = this.#previous[cell]!;
      }
      if (cell < 0) return null;
      const chunk = this.#chunks[cell >>> 15]!;
      const offset = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
      return chunk.subarray(offset, offset + (this.#meta[cell]! & LEAF_FLAG ? 72 : 64));
    });
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
      if (cell >= 0 && this.#version[cell]! > treeSize) {
        throw new ProtocolError(
          "invalid_size",
          `a record was already written at a tree size above ${treeSize}`,
        );
      }
      if (cell >= 0 && !(this.#history && this.#version[cell] !== treeSize)) {
        this.#write(cell, node, treeSize);
        continue;
      }
      const older = cell;
      cell = this.#newCell();
      if (this.#history) this.#previous[cell] = older;
      // Written before it is indexed: a rehash reads the depth and path from the cell.
      this.#write(cell, node, treeSize);
      if (node.depth > TABLE_DEPTH) this.#deep.set(deepKey(node), cell);
      else if (older >= 0) this.#table[slot] = cell + 1;
      else this.#insert(slot, cell);
    }
  }

  #write(cell: number, node: CountedNode, treeSize: number): void {
    const chunk = this.#chunks[cell >>> 15]!;
    const offset = (cell & (CELLS_PER_CHUNK - 1)) * CELL;
    // Byte loops: TypedArray.set and fill cost more than copying 80 bytes.
    const { record, path } = node;
    for (let i = 0; i < record.length; i++) chunk[offset + i] = record[i]!;
    for (let i = 0; i < 8; i++) chunk[offset + 72 + i] = i < path.length ? path[i]! : 0;
    this.#meta[cell] = node.depth | (record.length === 72 ? LEAF_FLAG : 0);
    this.#version[cell] = treeSize;
  }

  #newCell(): number {
    const cell = this.#cells++;
    if (cell % CELLS_PER_CHUNK === 0) this.#chunks.push(new Uint8Array(CELLS_PER_CHUNK * CELL));
    if (cell >= this.#meta.length) {
      this.#meta = grow(this.#meta, new Uint16Array(this.#meta.length * 2));
      this.#version = grow(this.#version, new Uint32Array(this.#version.length * 2));
      if (this.#history) this.#previous = grow(this.#previous, new Int32Array(this.#previous.length * 2));
    }
    return cell;
  }

  /**
   * The newest cell of `address`, or -1. For a table address it leaves in #slot the slot holding it
   * or, when absent, the free slot to insert it at (a field, not a returned pair: this is the hot path).
   */
  #find(address: CountedAddress): number {
    if (address.depth > TABLE_DEPTH) return this.#deep.get(deepKey(address)) ?? -1;
    const mask = this.#table.length - 1;
    const { depth, path } = address;
    for (
      let slot = hashAddress(depth, path, 0, Math.min(8, path.length)) & mask;
      ;
      slot = (slot + 1) & mask
    ) {
      const entry = this.#table[slot]!;
      if (entry === 0 || this.#matches(entry - 1, address)) {
        this.#slot = slot;
        return entry - 1;
      }
    }
  }

  #matches(cell: number, address: CountedAddress): boolean {
    if ((this.#meta[cell]! & (LEAF_FLAG - 1)) !== address.depth) return false;
    const chunk = this.#chunks[cell >>> 15]!;
    const offset = (cell & (CELLS_PER_CHUNK - 1)) * CELL + 72;
    const path = address.path;
    for (let i = 0; i < 8; i++) if (chunk[offset + i] !== (i < path.length ? path[i] : 0)) return false;
    return true;
  }

  #insert(slot: number, cell: number): void {
    this.#table[slot] = cell + 1;
    if (++this.#used * 2 <= this.#table.length) return;
    // Rehash every newest cell into a table twice the size.
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    const mask = this.#table.length - 1;
    for (const entry of old) {
      if (entry === 0) continue;
      const c = entry - 1;
      const depth = this.#meta[c]! & (LEAF_FLAG - 1);
      let s = hashAddress(depth, this.#chunks[c >>> 15]!, (c & (CELLS_PER_CHUNK - 1)) * CELL + 72, 8) & mask;
      while (this.#table[s] !== 0) s = (s + 1) & mask;
      this.#table[s] = entry;
    }
  }
}

function grow<T extends Uint16Array | Uint32Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
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
