// An append-only RFC 9162 Merkle log. It keeps the hash of every perfect subtree it completes
// (2n - 1 hashes for n leaves) behind a small TreeStore, and in memory only the O(log n) "frontier"
// of perfect subtrees covering the current leaves. Appending hashes amortized one node per leaf and
// reads nothing; every root, inclusion proof and consistency proof reads O(log n) stored hashes in
// one getNodes call, which is what lets the service back the store with its database.
import { bytesToHex, type Hex, hashToBytes } from "../encoding.ts";
import { ProtocolError } from "../errors.ts";
import { EMPTY_ROOT, nodeHashBytes } from "../hash.ts";

/** A perfect subtree: the 2^level leaves starting at leaf index * 2^level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

export interface StoredNode extends NodeId {
  readonly hash: Uint8Array;
}

/** Where a MerkleLog keeps its perfect-subtree hashes. Both methods may be synchronous. */
export interface TreeStore {
  /** The hashes of `ids`, in the same order. Every requested node was put before. */
  getNodes(ids: readonly NodeId[]): Uint8Array[] | Promise<Uint8Array[]>;
  /** Stores newly completed subtrees; called once per append or appendBatch. */
  putNodes(nodes: readonly StoredNode[]): void | Promise<void>;
}

/**
 * TreeStore in memory: per level, one contiguous buffer of 32-byte hashes. Millions of small
 * Uint8Array objects would make the garbage collector, not hashing, the cost of a large log.
 */
export class MemoryTreeStore implements TreeStore {
  readonly #levels: { bytes: Uint8Array; count: number }[] = [];

  getNodes(ids: readonly NodeId[]): Uint8Array[] {
    return ids.map(({ level, index }) => {
      const row = this.#levels[level];
      if (row === undefined || index >= row.count) {
        throw new ProtocolError(
          "invalid_argument",
          `tree store has no node at level ${level}, index ${index}`,
        );
      }
      return row.bytes.subarray(index * 32, index * 32 + 32);
    });
  }

  putNodes(nodes: readonly StoredNode[]): void {
    for (const { level, index, hash } of nodes) {
      let row = this.#levels[level];
      if (row === undefined) {
        row = { bytes: new Uint8Array(32 * 1024), count: 0 };
        this.#levels[level] = row;
      }
      if ((index + 1) * 32 > row.bytes.length) {
        const grown = new Uint8Array(Math.max(row.bytes.length * 2, (index + 1) * 32));
        grown.set(row.bytes);
        row.bytes = grown;
      }
      row.bytes.set(hash, index * 32);
      if (index >= row.count) row.count = index + 1;
    }
  }
}

/** Throws an invalid_size ProtocolError unless `value` is a non-negative safe integer. */
export function assertSize(value: unknown, what: string): asserts value is number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ProtocolError(
      "invalid_size",
      `${what} must be a non-negative safe integer, got ${String(value)}`,
    );
  }
}

/** The largest power of two strictly below n (n >= 2): RFC 9162's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The perfect subtrees that make up leaves [start, end), left to right. */
function perfectSubtrees(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: at / size });
    at += size;
  }
  return out;
}

/** A range of leaves [start, end) whose Merkle Tree Hash is one element of a proof. */
type LeafRange = readonly [start: number, end: number];

/** Inclusion proof ranges for leaf `index` in a tree of `size` leaves, leaf-side first (RFC 9162 PATH). */
function inclusionRanges(index: number, size: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
    }
  }
  return topDown.reverse();
}

/** Consistency proof ranges from size1 to size2, leaf-side first (RFC 9162 SUBPROOF). */
function consistencyRanges(size1: number, size2: number): LeafRange[] {
  const topDown: LeafRange[] = [];
  let lo = 0;
  let hi = size2;
  let startsAtRoot = true;
  while (size1 !== hi) {
    const k = splitPoint(hi - lo);
    if (size1 <= lo + k) {
      topDown.push([lo + k, hi]);
      hi = lo + k;
    } else {
      topDown.push([lo, lo + k]);
      lo += k;
      startsAtRoot = false;
    }
  }
  const ranges = topDown.reverse();
  // The subtree the old tree ends in is only sent when the verifier cannot derive it from root1.
  if (!startsAtRoot) ranges.unshift([lo, hi]);
  return ranges;
}

/**
 * The stored nodes a consistency proof from size1 to size2 reads: a verifier that streams a log and
 * keeps only these (and the frontier) can still prove that its anchored heads are consistent.
 */
export function consistencyProofNodes(size1: number, size2: number): NodeId[] {
  assertSize(size1, "size1");
  assertSize(size2, "size2");
  if (size1 === 0 || size1 >= size2) return [];
  return consistencyRanges(size1, size2).flatMap(([start, end]) => perfectSubtrees(start, end));
}

/** Reads `ids` from the store, refusing an answer that does not hold one 32-byte hash per id. */
async function readNodes(store: TreeStore, ids: readonly NodeId[]): Promise<Uint8Array[]> {
  const hashes = await store.getNodes(ids);
  if (
    !Array.isArray(hashes) ||
    hashes.length !== ids.length ||
    hashes.some((h) => !(h instanceof Uint8Array) || h.length !== 32)
  ) {
    throw new ProtocolError(
      "invalid_argument",
      `tree store returned a malformed answer for ${ids.length} nodes`,
    );
  }
  return hashes;
}

/** Folds the hashes of consecutive perfect subtrees right to left into their Merkle Tree Hash. */
function foldRight(hashes: readonly Uint8Array[]): Uint8Array {
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHashBytes(hashes[i]!, acc);
  return acc;
}

/** An append-only RFC 9162 Merkle log over SHA-256. */
export class MerkleLog {
  readonly #store: TreeStore;
  #size = 0;
  /** Hashes of the perfect subtrees covering [0, size), largest (leftmost) first. */
  #frontier: Uint8Array[] = [];
  #appending = false;

  /** An empty log whose nodes go to `store` (in memory by default). */
  constructor(store: TreeStore = new MemoryTreeStore()) {
    this.#store = store;
  }

  /** Reopens a log of `size` leaves already in `store`, reading O(log size) hashes. */
  static async open(store: TreeStore, size: number): Promise<MerkleLog> {
    assertSize(size, "size");
    const log = new MerkleLog(store);
    if (size > 0) log.#frontier = await readNodes(store, perfectSubtrees(0, size));
    log.#size = size;
    return log;
  }

  /** The number of leaves. */
  get size(): number {
    return this.#size;
  }

  /**
   * The perfect subtrees covering the log, largest first, with their hashes (held in memory). With the nodes the next
   * appendBatch puts, they are every node an inclusion proof of that batch's leaves in the new tree reads.
   */
  frontierNodes(): StoredNode[] {
    return perfectSubtrees(0, this.#size).map((id, i) => ({ ...id, hash: this.#frontier[i]! }));
  }

  /** Appends one leaf hash; resolves to its index once the store holds it. */
  async append(leafHash: Hex): Promise<number> {
    return this.appendBatch([leafHash]);
  }

  /**
   * Appends leaf hashes in order with one putNodes call; resolves to the first one's index. When the
   * store fails, the log is left as it was before the call.
   */
  async appendBatch(leafHashes: readonly Hex[]): Promise<number> {
    if (!Array.isArray(leafHashes))
      throw new ProtocolError("invalid_argument", "leafHashes must be an array");
    return this.#append(leafHashes.map((h, i) => hashToBytes(h, `leaf hash ${i}`)));
  }

  /**
   * appendBatch for leaf hashes packed one after the other, 32 bytes each (an auditor streaming millions
   * of leaves); the bytes are read during the call, not kept.
   */
  async appendPacked(leafHashes: Uint8Array): Promise<number> {
    if (!(leafHashes instanceof Uint8Array) || leafHashes.length % 32 !== 0)
      throw new ProtocolError("invalid_argument", "leafHashes must be a whole number of 32-byte hashes");
    const leaves: Uint8Array[] = [];
    for (let at = 0; at < leafHashes.length; at += 32) leaves.push(leafHashes.slice(at, at + 32));
    return this.#append(leaves);
  }

  async #append(leaves: readonly Uint8Array[]): Promise<number> {
    if (this.#appending) {
      throw new ProtocolError("invalid_argument", "another append to this log has not finished");
    }
    const first = this.#size;
    const frontier = this.#frontier.slice();
    const nodes: StoredNode[] = [];
    let size = first;
    for (const leaf of leaves) {
      let index = size;
      let level = 0;
      let hash = leaf;
      nodes.push({ level, index, hash });
      // Each trailing 1 bit of the old size is a perfect subtree that the new leaf completes.
      while (index % 2 === 1) {
        hash = nodeHashBytes(frontier.pop()!, hash);
        index = (index - 1) / 2;
        level++;
        nodes.push({ level, index, hash });
      }
      frontier.push(hash);
      size++;
    }
    this.#appending = true;
    try {
      await this.#store.putNodes(nodes);
    } finally {
      this.#appending = false;
    }
    this.#size = size;
    this.#frontier = frontier;
    return first;
  }

  /** The Merkle Tree Hash of the first `size` leaves (default: all). */
  async root(size: number = this.#size): Promise<Hex> {
    this.#assertWithin(size, "size");
    if (size === 0) return EMPTY_ROOT;
    if (size === this.#size) return bytesToHex(foldRight(this.#frontier));
    return bytesToHex(foldRight(await readNodes(this.#store, perfectSubtrees(0, size))));
  }

  /** RFC 9162 inclusion proof for leaf `index` in the tree of the first `size` leaves. */
  async inclusionProof(index: number, size: number = this.#size): Promise<Hex[]> {
    this.#assertWithin(size, "size");
    assertSize(index, "index");
    if (index >= size)
      throw new ProtocolError("invalid_index", `leaf index ${index} is not below tree size ${size}`);
    return this.#hashRanges(inclusionRanges(index, size));
  }

  /** RFC 9162 consistency proof from the first `size1` leaves to the first `size2` (default: all). */
  async consistencyProof(size1: number, size2: number = this.#size): Promise<Hex[]> {
    this.#assertWithin(size2, "size2");
    assertSize(size1, "size1");
    if (size1 > size2)
      throw new ProtocolError("invalid_size", `size1 ${size1} is larger than size2 ${size2}`);
    if (size1 === 0 || size1 === size2) return [];
    return this.#hashRanges(consistencyRanges(size1, size2));
  }

  #assertWithin(size: unknown, what: string): asserts size is number {
    assertSize(size, what);
    if (size > this.#size) {
      throw new ProtocolError(
        "invalid_size",
        `${what} ${size} is larger than the log (${this.#size} leaves)`,
      );
    }
  }

  /** Merkle Tree Hashes of `ranges`, reading all the stored subtrees they need at once. */
  async #hashRanges(ranges: readonly LeafRange[]): Promise<Hex[]> {
    const parts = ranges.map(([start, end]) => perfectSubtrees(start, end));
    const hashes = await readNodes(this.#store, parts.flat());
    let at = 0;
    return parts.map((ids) => {
      const slice = hashes.slice(at, at + ids.length);
      at += ids.length;
      return bytesToHex(foldRight(slice));
    });
  }
}
