// One CountedMap update. Every subtree above a changed key is a task: read what it held (one getNodes
// per level), decide what it becomes (a leaf, or a branch whose changed children are the next level's
// tasks), then, once its children are done, write its new record and hash it into its parent's. A big
// update goes down a group of at most GROUP_ITEMS changed keys at a time, so its working set stays small.
//
// The tasks and the leaf records live in typed arrays indexed by number, not in an object each: an
// update of a million keys touches several million subtrees, and allocating (then collecting) an
// object for each cost several times the hashing.
import { sha256, sha256Into } from "#sha256";
import { ProtocolError } from "../errors.ts";
import type { CountedAddress, CountedNode, CountedStore } from "./counted.ts";
import { COUNTED_KEY_BITS, LEAF_RECORD_BYTES } from "./verify.ts";

/** Record sizes: a leaf's (key, index, leaf hash) and a branch's two child hashes. */
const LEAF = LEAF_RECORD_BYTES;
const BRANCH = 64;
/** What a task's subtree held before the update: not read yet, nothing, one leaf, or a branch. */
const [UNREAD, EMPTY, STORED_LEAF, STORED_BRANCH] = [0, 1, 2, 3] as const;

/** Changed keys below one group of tasks that go down together (one getNodes per level). */
const GROUP_ITEMS = 1024;

/** The store's answer for `addresses`, refusing one that is not a record (or null) per address. */
export async function readRecords(
  store: CountedStore,
  addresses: readonly CountedAddress[],
  treeSize: number,
): Promise<readonly (Uint8Array | null)[]> {
  const records = await store.getNodes(addresses, treeSize);
  if (
    !Array.isArray(records) ||
    records.length !== addresses.length ||
    records.some(
      (r) => r !== null && (!(r instanceof Uint8Array) || (r.length !== LEAF && r.length !== BRANCH)),
    )
  ) {
    throw new ProtocolError(
      "invalid_argument",
      `counted store returned a malformed answer for ${addresses.length} records`,
    );
  }
  return records;
}

/** The first `depth` bits of `bytes[from, from + 32)`, as a store address's path. */
export function pathOf(bytes: Uint8Array, from: number, depth: number): Uint8Array {
  const path = bytes.slice(from, from + ((depth + 7) >> 3));
  if (depth & 7) path[path.length - 1]! &= 0xff << (8 - (depth & 7));
  return path;
}

// Scratch for 0x02 || leaf record and 0x01 || branch record (hashing is synchronous).
const leafInput = new Uint8Array(1 + LEAF);
leafInput[0] = 0x02;
const branchInput = new Uint8Array(1 + BRANCH);
branchInput[0] = 0x01;

/** The hash input of a record: 0x02 || leaf record, or 0x01 || left || right. */
function nodeInput(bytes: Uint8Array, from: number, length: number): Uint8Array {
  const input = length === LEAF ? leafInput : branchInput;
  for (let i = 0; i < length; i++) input[i + 1] = bytes[from + i]!;
  return input;
}

/** The node of a record: SHA-256(0x02 || leaf record) or SHA-256(0x01 || left || right). */
export function recordNode(bytes: Uint8Array, from: number, length: number): Uint8Array {
  return sha256(nodeInput(bytes, from, length));
}

export class Rewrite {
  readonly #store: CountedStore;
  /** The tree size the map is at (what is read) and the one the update brings it to (what is written). */
  readonly #readSize: number;
  readonly #writeSize: number;
  /** Leaf records, 72 bytes each: the updates, then the stored leaves that move down beside them. */
  #records: Uint8Array;
  #recordCount: number;
  /** Record numbers of the updates; each task's changed keys are a range of it. */
  readonly #order: Int32Array;

  // Per task. A task's changed keys are #order[lo, hi) plus, when #moved >= 0, the stored leaf of an
  // ancestor that moves down with them. #leaf is the record number of what it becomes, or -1 for a
  // branch, whose new record is #branch[task * 64, +64).
  #lo = new Int32Array(256);
  #hi = new Int32Array(256);
  #moved = new Int32Array(256);
  #parent = new Int32Array(256);
  #side = new Uint8Array(256);
  #stored = new Uint8Array(256);
  #leaf = new Int32Array(256);
  #branch = new Uint8Array(256 * BRANCH);
  #path: Uint8Array[] = [];
  /** Tasks in use: the levels being worked on, a stack that shrinks as groups finish. */
  #tasks = 0;

  constructor(store: CountedStore, readSize: number, writeSize: number, records: Uint8Array, count: number) {
    this.#store = store;
    this.#readSize = readSize;
    this.#writeSize = writeSize;
    this.#records = records;
    this.#recordCount = count;
    this.#order = Int32Array.from({ length: count }, (_, i) => i);
  }

  /** Rewrites the map and resolves to its new root hash. */
  async run(): Promise<Uint8Array> {
    const root = this.#newTask(0, this.#order.length, -1, -1, 0, UNREAD, new Uint8Array(0));
    await this.#level(root, root + 1, 0);
    return sha256(this.#input(root));
  }

  /** Rewrites tasks [from, to), all at `depth`, with everything below them. */
  async #level(from: number, to: number, depth: number): Promise<void> {
    await this.#readStored(from, to, depth);
    const childFrom = this.#tasks;
    for (let t = from; t < to; t++) this.#expand(t, depth);
    const childTo = this.#tasks;
    let start = childFrom;
    let items = 0;
    for (let c = childFrom; c < childTo; c++) {
      items += this.#hi[c]! - this.#lo[c]! + 1;
      if (items >= GROUP_ITEMS || c === childTo - 1) {
        await this.#level(start, c + 1, depth + 1);
        this.#tasks = childTo; // that group's descendants are written and hashed into it
        start = c + 1;
        items = 0;
      }
    }
    const nodes: CountedNode[] = [];
    for (let t = from; t < to; t++) {
      const leaf = this.#leaf[t]!;
      const record =
        leaf >= 0
          ? this.#records.subarray(leaf * LEAF, leaf * LEAF + LEAF)
          : this.#branch.subarray(t * BRANCH, t * BRANCH + BRANCH);
      nodes.push({ depth, path: this.#path[t]!, record });
      const parent = this.#parent[t]!;
      if (parent >= 0) sha256Into(this.#input(t), this.#branch, parent * BRANCH + this.#side[t]! * 32);
    }
    await this.#store.putNodes(nodes, this.#writeSize);
  }

  /** Reads what the unread tasks of [from, to) held; a stored leaf no update replaces moves down. */
  async #readStored(from: number, to: number, depth: number): Promise<void> {
    const unread: number[] = [];
    const addresses: CountedAddress[] = [];
    for (let t = from; t < to; t++) {
      if (this.#stored[t] !== UNREAD) continue;
      unread.push(t);
      addresses.push({ depth, path: this.#path[t]! });
    }
    if (unread.length === 0) return;
    const stored = await readRecords(this.#store, addresses, this.#readSize);
    for (let i = 0; i < unread.length; i++) {
      const t = unread[i]!;
      const record = stored[i]!;
      if (record === null) {
        this.#stored[t] = EMPTY;
      } else if (record.length === LEAF) {
        this.#stored[t] = STORED_LEAF;
        if (!this.#updatesKey(t, record)) this.#moved[t] = this.#addRecord(record);
      } else {
        this.#stored[t] = STORED_BRANCH;
        for (let b = 0; b < BRANCH; b++) this.#branch[t * BRANCH + b] = record[b]!;
      }
    }
  }

  /** Decides what task `t` becomes; a branch's changed children become new tasks. */
  #expand(t: number, depth: number): void {
    const lo = this.#lo[t]!;
    const hi = this.#hi[t]!;
    const moved = this.#moved[t]!;
    const storedBranch = this.#stored[t] === STORED_BRANCH;
    if (hi - lo + (moved >= 0 ? 1 : 0) === 1 && !storedBranch) {
      this.#leaf[t] = hi > lo ? this.#order[lo]! : moved;
      return;
    }
    if (depth === COUNTED_KEY_BITS)
      throw new ProtocolError("invalid_argument", "two keys share all 256 bits");
    this.#leaf[t] = -1;
    if (!storedBranch) this.#branch.fill(0, t * BRANCH, t * BRANCH + BRANCH);
    const split = this.#partition(lo, hi, depth);
    const movedSide = moved >= 0 ? this.#bit(moved, depth) : -1;
    for (let side = 0; side < 2; side++) {
      const childLo = side === 0 ? lo : split;
      const childHi = side === 0 ? split : hi;
      const childMoved = movedSide === side ? moved : -1;
      if (childLo === childHi && childMoved < 0) continue;
      // Below a stored branch the child may be stored too, unless its hash says it is empty.
      const offset = t * BRANCH + side * 32;
      let childStored: number = EMPTY;
      if (storedBranch) for (let b = 0; b < 32; b++) if (this.#branch[offset + b] !== 0) childStored = UNREAD;
      const first = childLo < childHi ? this.#order[childLo]! : childMoved;
      this.#newTask(
        childLo,
        childHi,
        childMoved,
        t,
        side,
        childStored,
        pathOf(this.#records, first * LEAF, depth + 1),
      );
    }
  }

  /** The hash input of task `t`'s new record. */
  #input(t: number): Uint8Array {
    const leaf = this.#leaf[t]!;
    return leaf >= 0
      ? nodeInput(this.#records, leaf * LEAF, LEAF)
      : nodeInput(this.#branch, t * BRANCH, BRANCH);
  }

  #bit(record: number, depth: number): number {
    return (this.#records[record * LEAF + (depth >> 3)]! >> (7 - (depth & 7))) & 1;
  }

  /** Reorders #order[lo, hi) so that keys with bit `depth` = 0 come first; returns where the 1s start. */
  #partition(lo: number, hi: number, depth: number): number {
    const order = this.#order;
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (this.#bit(order[i]!, depth) === 0) i++;
      else {
        const swap = order[i]!;
        order[i] = order[j]!;
        order[j] = swap;
        j--;
      }
    }
    return i;
  }

  /** True when one of task `t`'s changed keys is the key of `record`. */
  #updatesKey(t: number, record: Uint8Array): boolean {
    next: for (let i = this.#lo[t]!; i < this.#hi[t]!; i++) {
      const at = this.#order[i]! * LEAF;
      for (let b = 0; b < 32; b++) if (this.#records[at + b] !== record[b]) continue next;
      return true;
    }
    return false;
  }

  #addRecord(record: Uint8Array): number {
    if ((this.#recordCount + 1) * LEAF > this.#records.length) {
      const grown = new Uint8Array(Math.max(2 * this.#records.length, 64 * LEAF));
      grown.set(this.#records);
      this.#records = grown;
    }
    const n = this.#recordCount++;
    for (let b = 0; b < LEAF; b++) this.#records[n * LEAF + b] = record[b]!;
    return n;
  }

  #newTask(
    lo: number,
    hi: number,
    moved: number,
    parent: number,
    side: number,
    stored: number,
    path: Uint8Array,
  ): number {
    const t = this.#tasks++;
    if (t === this.#lo.length) this.#grow();
    this.#lo[t] = lo;
    this.#hi[t] = hi;
    this.#moved[t] = moved;
    this.#parent[t] = parent;
    this.#side[t] = side;
    this.#stored[t] = stored;
    this.#leaf[t] = -1;
    this.#path[t] = path;
    return t;
  }

  #grow(): void {
    const n = this.#lo.length * 2;
    const int32 = (from: Int32Array) => {
      const to = new Int32Array(n);
      to.set(from);
      return to;
    };
    this.#lo = int32(this.#lo);
    this.#hi = int32(this.#hi);
    this.#moved = int32(this.#moved);
    this.#parent = int32(this.#parent);
    this.#leaf = int32(this.#leaf);
    const side = new Uint8Array(n);
    side.set(this.#side);
    this.#side = side;
    const stored = new Uint8Array(n);
    stored.set(this.#stored);
    this.#stored = stored;
    const branch = new Uint8Array(n * BRANCH);
    branch.set(this.#branch);
    this.#branch = branch;
  }
}
