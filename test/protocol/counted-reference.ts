// A deliberately naive transcription of the counted map's definition (docs/PROTOCOL.md, "Counted
// map"): recursive subtree hashes over a list of leaves and the canonical proof, used only as an
// oracle for CountedMap's storage-backed algorithm. It shares no code with protocol/.
import { createHash } from "node:crypto";

export interface RefLeaf {
  readonly key: Uint8Array;
  readonly leafIndex: number;
  readonly leafHash: Uint8Array;
}

const ZERO = new Uint8Array(32);

const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const bit = (key: Uint8Array, i: number) => (key[Math.floor(i / 8)]! >> (7 - (i % 8))) & 1;

export function refKey(author: string, section: string): Uint8Array {
  return sha(new TextEncoder().encode(`${author}:${section}`));
}

export function refLeafNode(leaf: RefLeaf): Uint8Array {
  const index = new Uint8Array(8);
  new DataView(index.buffer).setBigUint64(0, BigInt(leaf.leafIndex));
  return sha(Uint8Array.of(2), leaf.key, index, leaf.leafHash);
}

/** The hash of the subtree at `depth` holding `leaves` (all sharing their first `depth` bits). */
export function refHash(leaves: readonly RefLeaf[], depth = 0): Uint8Array {
  if (leaves.length === 0) return ZERO;
  if (leaves.length === 1) return refLeafNode(leaves[0]!);
  const left = leaves.filter((l) => bit(l.key, depth) === 0);
  const right = leaves.filter((l) => bit(l.key, depth) === 1);
  return sha(Uint8Array.of(1), refHash(left, depth + 1), refHash(right, depth + 1));
}

/** The canonical proof for `key`: the siblings down to where its path holds at most one leaf. */
export function refProof(leaves: readonly RefLeaf[], key: Uint8Array) {
  const siblings: Uint8Array[] = [];
  let here = leaves;
  for (let depth = 0; here.length > 1; depth++) {
    const b = bit(key, depth);
    siblings.push(
      refHash(
        here.filter((l) => bit(l.key, depth) !== b),
        depth + 1,
      ),
    );
    here = here.filter((l) => bit(l.key, depth) === b);
  }
  return { siblings, leaf: here[0] ?? null };
}
