// The audit's state that grows with the consultation: per key (author, section) the latest opinion,
// per leaf a few flags for moderation, and the counted map's records. Behind this small interface so
// that the browser keeps it in memory (memoryAuditState) and the CLI moves it to a temporary SQLite file
// once it passes a limit (audit/spill.node.ts), keeping the auditor's memory bounded at any size.
import { type CountedStore, MemoryCountedStore } from "../protocol/index.ts";

/** The latest opinion of each key (the 32-byte counted-map key of author and section). */
export interface LatestOpinions {
  /**
   * Makes the opinion at log `index`, with tally `mark`, the latest of the key key[at, at + 32); returns
   * the previous latest's index, or -1 when the key had none (then previousMark is meaningless).
   */
  swap(key: Uint8Array, at: number, index: number, mark: number): number;
  /** The mark of the opinion the last swap() replaced. */
  readonly previousMark: number;
}

/** A byte of flags per log leaf. */
export interface LeafFlags {
  get(index: number): number;
  set(index: number, flags: number): void;
}

export interface AuditState {
  readonly latest: LatestOpinions;
  readonly flags: LeafFlags;
  /** Serves the latest records only (an auditor never reads an older map). */
  readonly counted: CountedStore;
  /** Releases what the state holds (a temporary file). */
  close(): void;
}

const KEY = 32;

/**
 * Open-addressing table from 32-byte keys (hashes, so their first bytes are a good hash) to a log index
 * and a mark, in typed arrays: an object per key would make the garbage collector the cost.
 */
export class KeyTable {
  #keys: Uint8Array;
  /** Log index + 1 per slot, 0 when free: 4 bytes a slot, for logs of up to 2^32 - 2 entries. */
  #index: Uint32Array;
  #mark: Uint32Array;
  #count = 0;
  /** Set by find(): the slot of the key, or the free slot where it would go. */
  slot = 0;

  constructor(capacity = 1 << 12) {
    let size = 1 << 4;
    while (size < capacity) size *= 2;
    this.#keys = new Uint8Array(size * KEY);
    this.#index = new Uint32Array(size);
    this.#mark = new Uint32Array(size);
  }

  get count(): number {
    return this.#count;
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.#keys.byteLength + this.#index.byteLength + this.#mark.byteLength;
  }

  /** Looks key[at, at + 32) up: its index (or -1), with `slot` left at its slot or the free one. */
  find(key: Uint8Array, at: number): number {
    const keys = this.#keys;
    const mask = this.#index.length - 1;
    let slot = ((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) & mask;
    for (; ; slot = (slot + 1) & mask) {
      const index = this.#index[slot]! - 1;
      if (index < 0) break;
      const base = slot * KEY;
      let same = true;
      for (let b = 0; b < KEY; b++) {
        if (keys[base + b] !== key[at + b]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.slot = slot;
        return index;
      }
    }
    this.slot = slot;
    return -1;
  }

  markAt(slot: number): number {
    return this.#mark[slot]!;
  }

  /** Sets the value at the slot find() left (a new key is inserted there). */
  setAt(slot: number, key: Uint8Array, at: number, index: number, mark: number): void {
    if (!(index >= 0 && index < 0xffffffff))
      throw new RangeError(`log index ${index} is beyond what the audit's key table holds (2^32 - 2)`);
    if (this.#index[slot] === 0) {
      this.#keys.set(key.subarray(at, at + KEY), slot * KEY);
      this.#count++;
    }
    this.#index[slot] = index + 1;
    this.#mark[slot] = mark;
    if (this.#count * 4 > this.#index.length * 3) this.#grow();
  }

  /** Calls fn(key bytes, index, mark) for every key (the key bytes are a view, valid during the call). */
  forEach(fn: (key: Uint8Array, index: number, mark: number) => void): void {
    for (let slot = 0; slot < this.#index.length; slot++) {
      const index = this.#index[slot]! - 1;
      if (index >= 0) fn(this.#keys.subarray(slot * KEY, slot * KEY + KEY), index, this.#mark[slot]!);
    }
  }

  clear(): void {
    this.#index.fill(0);
    this.#count = 0;
  }

  #grow(): void {
    const keys = this.#keys;
    const index = this.#index;
    const mark = this.#mark;
    this.#keys = new Uint8Array(keys.length * 2);
    this.#index = new Uint32Array(index.length * 2);
    this.#mark = new Uint32Array(mark.length * 2);
    this.#count = 0;
    for (let slot = 0; slot < index.length; slot++) {
      if (index[slot] === 0) continue;
      this.find(keys, slot * KEY);
      this.setAt(this.slot, keys, slot * KEY, index[slot]! - 1, mark[slot]!);
    }
  }
}

/** LatestOpinions in a KeyTable. */
export class MemoryLatestOpinions implements LatestOpinions {
  readonly table: KeyTable;
  previousMark = 0;

  constructor(table = new KeyTable()) {
    this.table = table;
  }

  swap(key: Uint8Array, at: number, index: number, mark: number): number {
    const previous = this.table.find(key, at);
    const slot = this.table.slot;
    if (previous >= 0) this.previousMark = this.table.markAt(slot);
    this.table.setAt(slot, key, at, index, mark);
    return previous;
  }
}

/** Leaves per chunk of flags. */
export const FLAG_CHUNK_BITS = 16;
export const FLAG_CHUNK = 1 << FLAG_CHUNK_BITS;

/** LeafFlags in chunks of FLAG_CHUNK bytes, all in memory. */
export class MemoryLeafFlags implements LeafFlags {
  readonly #chunks: Uint8Array[] = [];

  get(index: number): number {
    return this.#chunks[Math.floor(index / FLAG_CHUNK)]?.[index % FLAG_CHUNK] ?? 0;
  }

  set(index: number, flags: number): void {
    const c = Math.floor(index / FLAG_CHUNK);
    while (this.#chunks.length <= c) this.#chunks.push(new Uint8Array(FLAG_CHUNK));
    this.#chunks[c]![index % FLAG_CHUNK] = flags;
  }
}

/** Everything in memory: the browser's state (a Web Worker's memory is the tab's). */
export function memoryAuditState(): AuditState {
  return {
    latest: new MemoryLatestOpinions(),
    flags: new MemoryLeafFlags(),
    counted: new MemoryCountedStore(),
    close() {},
  };
}
