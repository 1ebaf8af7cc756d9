// CountedMap against the naive recursive definition (counted-reference.ts) on random maps, and every
// altered proof refused. Seeded: GOPY_TEST_SEED replays a run.
import { expect } from "chai";
import {
  bytesToHex,
  COUNTED_ZERO,
  CountedMap,
  type CountedProof,
  type CountedUpdate,
  checkCountedProof,
  type Hex,
  hexToBytes,
  MemoryCountedStore,
  ProtocolError,
  verifyCountedProof,
} from "../../protocol/index.ts";
import { randomBytesFrom, TEST_SEED, testRandom } from "../support/random.ts";
import { type RefLeaf, refHash, refProof } from "./counted-reference.ts";

const rand = testRandom("counted.property");
const randInt = (max: number) => Math.floor(rand() * max);
const randomBytes = (n: number) => randomBytesFrom(rand, n);
const flipBit = (bytes: Uint8Array, i: number) => {
  const out = bytes.slice();
  out[i >> 3]! ^= 1 << (7 - (i & 7));
  return out;
};
const flipHex = (hex: Hex, i: number) => bytesToHex(flipBit(hexToBytes(hex), i));

/**
 * Keys spread uniformly, or clustered: sharing a prefix of 8 to 255 bits with an earlier key, so that
 * paths run deep (to depth 256) and chains of one-sided branches appear.
 */
function newKey(known: readonly Uint8Array[], clustered: boolean): Uint8Array {
  if (!clustered || known.length === 0 || rand() < 0.3) return randomBytes(32);
  let key = known[randInt(known.length)]!;
  const from = rand() < 0.5 ? 8 + randInt(56) : 200 + randInt(56);
  key = flipBit(key, from);
  for (let i = from + 1; i < 256; i++) if (rand() < 0.5) key = flipBit(key, i);
  return key;
}

/** A random map grown batch by batch, with the reference's view of it at every tree size. */
class Model {
  readonly leaves = new Map<Hex, RefLeaf>();
  readonly snapshots: { treeSize: number; leaves: RefLeaf[] }[] = [];
  treeSize = 0;

  /** The next batch: `count` opinions in log order, some replacing earlier keys, some gaps (moderation). */
  batch(count: number, clustered: boolean): CountedUpdate[] {
    const known = [...this.leaves.values()].map((l) => l.key);
    const updates: CountedUpdate[] = [];
    for (let i = 0; i < count; i++) {
      const key = known.length > 0 && rand() < 0.3 ? known[randInt(known.length)]! : newKey(known, clustered);
      this.treeSize += 1 + (rand() < 0.1 ? randInt(3) : 0);
      const leaf: RefLeaf = { key, leafIndex: this.treeSize - 1, leafHash: randomBytes(32) };
      this.leaves.set(bytesToHex(key), leaf);
      updates.push({ key: bytesToHex(key), leafIndex: leaf.leafIndex, leafHash: bytesToHex(leaf.leafHash) });
    }
    if (rand() < 0.3) this.treeSize += randInt(3);
    this.snapshots.push({ treeSize: this.treeSize, leaves: [...this.leaves.values()] });
    return updates;
  }

  /** Keys to prove: present ones, random absent ones, and absent ones next to present ones. */
  queries(leaves: readonly RefLeaf[], n: number): Uint8Array[] {
    const out: Uint8Array[] = [randomBytes(32)];
    for (let i = 0; i < n && leaves.length > 0; i++) {
      const present = leaves[randInt(leaves.length)]!.key;
      out.push(present, flipBit(present, 255), flipBit(present, randInt(24)));
    }
    return out;
  }
}

const toHexLeaf = (l: RefLeaf | null) =>
  l && { key: bytesToHex(l.key), leafIndex: l.leafIndex, leafHash: bytesToHex(l.leafHash) };

/** Expects `proof` to be exactly the reference's canonical proof, and to verify with the right answer. */
function expectReferenceProof(
  proof: CountedProof,
  leaves: readonly RefLeaf[],
  key: Uint8Array,
  treeSize: number,
) {
  const ref = refProof(leaves, key);
  const root = bytesToHex(refHash(leaves));
  expect(proof).to.deep.equal({
    treeSize,
    root,
    key: bytesToHex(key),
    siblings: ref.siblings.map(bytesToHex),
    leaf: toHexLeaf(ref.leaf),
  });
  const check = checkCountedProof(proof, bytesToHex(key), { treeSize, countedRoot: root });
  const present = ref.leaf !== null && bytesToHex(ref.leaf.key) === bytesToHex(key);
  expect(check).to.deep.equal({ ok: true, leaf: present ? toHexLeaf(ref.leaf) : null });
}

describe(`CountedMap against the recursive definition (seed ${TEST_SEED})`, () => {
  for (const clustered of [false, true]) {
    it(`agrees on roots after every batch and on every proof, at every earlier size too (${clustered ? "clustered" : "uniform"} keys)`, async () => {
      const model = new Model();
      const map = new CountedMap(new MemoryCountedStore({ history: true }));
      let deepest = 0;
      while (model.leaves.size < (clustered ? 400 : 2500)) {
        const updates = model.batch(randInt(rand() < 0.2 ? (clustered ? 300 : 1200) : 150), clustered);
        const root = await map.update(updates, model.treeSize);
        const snapshot = model.snapshots.at(-1)!;
        expect(root, `root at ${model.treeSize}`).to.equal(bytesToHex(refHash(snapshot.leaves)));
        for (const key of model.queries(snapshot.leaves, 3)) {
          const proof = await map.proof(bytesToHex(key));
          expectReferenceProof(proof, snapshot.leaves, key, model.treeSize);
          deepest = Math.max(deepest, proof.siblings.length);
        }
      }
      // Clustered keys reach the depths past 64 bits that the in-memory store indexes apart.
      if (clustered) expect(deepest).to.be.greaterThan(64);
      for (let i = 0; i < 8; i++) {
        const { treeSize, leaves } = model.snapshots[randInt(model.snapshots.length)]!;
        expect(await map.root(treeSize)).to.equal(bytesToHex(refHash(leaves)));
        for (const key of model.queries(leaves, 2)) {
          expectReferenceProof(await map.proof(bytesToHex(key), treeSize), leaves, key, treeSize);
        }
      }
      // The same updates replayed into a store without history give the same roots.
      const latest = new CountedMap(new MemoryCountedStore());
      const fresh = new CountedMap();
      const all = [...model.leaves.values()].sort((a, b) => a.leafIndex - b.leafIndex);
      const updates = all.map((l) => ({
        key: bytesToHex(l.key),
        leafIndex: l.leafIndex,
        leafHash: bytesToHex(l.leafHash),
      }));
      expect(await latest.update(updates, model.treeSize)).to.equal(await map.root());
      expect(await fresh.update(updates.slice(0, 1), model.treeSize)).to.equal(
        bytesToHex(refHash(all.slice(0, 1))),
      );
    });
  }

  it("keeps two keys that differ only in their last bit apart (a terminal at depth 256)", async () => {
    const a = randomBytes(32);
    const b = flipBit(a, 255);
    const leaves: RefLeaf[] = [a, b, randomBytes(32)].map((key, leafIndex) => ({
      key,
      leafIndex,
      leafHash: randomBytes(32),
    }));
    const map = new CountedMap();
    await map.update(leaves.map(toHexLeaf) as CountedUpdate[], 3);
    expect(await map.root()).to.equal(bytesToHex(refHash(leaves)));
    for (const key of [a, b]) {
      const proof = await map.proof(bytesToHex(key));
      expect(proof.siblings).to.have.length(256);
      expectReferenceProof(proof, leaves, key, 3);
    }
  });

  it("without history, a proof at an older size is either the reference's or refused, never wrong", async () => {
    const model = new Model();
    const map = new CountedMap(new MemoryCountedStore());
    for (let b = 0; b < 12; b++) await map.update(model.batch(40, false), model.treeSize);
    let refused = 0;
    for (const { treeSize, leaves } of model.snapshots) {
      for (const key of model.queries(leaves, 2)) {
        try {
          expectReferenceProof(await map.proof(bytesToHex(key), treeSize), leaves, key, treeSize);
        } catch (error) {
          if (!(error instanceof ProtocolError)) throw error;
          refused++;
        }
      }
    }
    expect(refused).to.be.greaterThan(0);
  });
});

/** Every way to alter a proof that must make it fail. */
function alteredProofs(p: CountedProof, otherLeaf: CountedProof["leaf"]): [string, CountedProof][] {
  const out: [string, CountedProof][] = [];
  const d = p.siblings.length;
  const withSiblings = (what: string, siblings: Hex[]) => out.push([what, { ...p, siblings }]);
  // Every bit of every sibling; on a deep (clustered) path, 16 random bits of each.
  p.siblings.forEach((s, i) => {
    const bits =
      d <= 24 ? Array.from({ length: 256 }, (_, b) => b) : Array.from({ length: 16 }, () => randInt(256));
    for (const b of bits)
      withSiblings(
        `sibling ${i} bit ${b}`,
        p.siblings.map((x, j) => (j === i ? flipHex(s, b) : x)),
      );
  });
  if (d > 0) {
    withSiblings("first dropped", p.siblings.slice(1));
    withSiblings("last dropped", p.siblings.slice(0, -1));
  }
  withSiblings("one added at the end", [...p.siblings, bytesToHex(randomBytes(32))]);
  withSiblings("one added at the start", [bytesToHex(randomBytes(32)), ...p.siblings]);
  withSiblings("ZERO added at the end", [...p.siblings, COUNTED_ZERO]);
  withSiblings("ZERO added at the start", [COUNTED_ZERO, ...p.siblings]);
  for (let i = 0; i + 1 < d; i++) {
    if (p.siblings[i] === p.siblings[i + 1]) continue;
    const swapped = p.siblings.slice();
    [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
    withSiblings(`siblings ${i} and ${i + 1} swapped`, swapped);
  }
  if (d > 1) withSiblings("reversed", p.siblings.slice().reverse());
  if (p.leaf !== null) {
    const leaf = p.leaf;
    for (const b of [0, Math.max(0, d - 1), d, 128, 255]) {
      out.push([`leaf key bit ${b}`, { ...p, leaf: { ...leaf, key: flipHex(leaf.key, b) } }]);
    }
    out.push(["leafIndex + 1", { ...p, leaf: { ...leaf, leafIndex: leaf.leafIndex + 1 } }]);
    if (leaf.leafIndex > 0)
      out.push(["leafIndex - 1", { ...p, leaf: { ...leaf, leafIndex: leaf.leafIndex - 1 } }]);
    out.push(["leafHash bit 7", { ...p, leaf: { ...leaf, leafHash: flipHex(leaf.leafHash, 7) } }]);
    out.push(["leaf removed", { ...p, leaf: null }]);
  }
  if (otherLeaf !== null && otherLeaf.key !== p.leaf?.key)
    out.push(["leaf replaced", { ...p, leaf: otherLeaf }]);
  out.push(["treeSize + 1", { ...p, treeSize: p.treeSize + 1 }]);
  if (p.treeSize > 0) out.push(["treeSize - 1", { ...p, treeSize: p.treeSize - 1 }]);
  out.push(["root bit 3", { ...p, root: flipHex(p.root, 3) }]);
  return out;
}

describe(`counted proofs under alteration (seed ${TEST_SEED})`, () => {
  it("refuses every altered proof: sibling bits, siblings dropped, added, reordered, leaf fields, sizes, roots", async () => {
    const model = new Model();
    const map = new CountedMap();
    const empty = await map.proof(bytesToHex(randomBytes(32)));
    await map.update(model.batch(1, false), model.treeSize);
    const one = model.snapshots[0]!.leaves;
    const single = [await map.proof(bytesToHex(one[0]!.key)), await map.proof(bytesToHex(randomBytes(32)))];
    await map.update(model.batch(900, false), model.treeSize);
    await map.update(model.batch(30, true), model.treeSize);
    const leaves = model.snapshots.at(-1)!.leaves;
    const proofs: CountedProof[] = [];
    for (const key of model.queries(leaves, 4)) proofs.push(await map.proof(bytesToHex(key)));
    // Every kind of terminal: a present leaf, an empty subtree, another key's leaf (absence).
    const kind = (p: CountedProof) =>
      p.leaf === null ? "empty" : p.leaf.key === p.key ? "present" : "other";
    for (let tries = 0; tries < 10_000 && new Set(proofs.map(kind)).size < 3; tries++) {
      proofs.push(await map.proof(bytesToHex(randomBytes(32))));
    }
    expect([...new Set(proofs.map(kind))].sort()).to.deep.equal(["empty", "other", "present"]);
    const someLeaf = toHexLeaf(leaves[0]!);
    type Case = { proof: CountedProof; leaves: readonly RefLeaf[] };
    const cases: Case[] = [
      ...proofs.map((proof) => ({ proof, leaves })),
      { proof: empty, leaves: [] },
      ...single.map((proof) => ({ proof, leaves: one })),
    ];
    let checked = 0;
    for (const { proof, leaves: held } of cases) {
      const at = { treeSize: proof.treeSize, countedRoot: bytesToHex(refHash(held)) };
      expect(verifyCountedProof(proof, proof.key, at), "the unaltered proof").to.equal(true);
      for (const [what, altered] of alteredProofs(proof, someLeaf)) {
        const check = checkCountedProof(altered, proof.key, at);
        expect(check.ok, `${what} (depth ${proof.siblings.length}) should fail`).to.equal(false);
        checked++;
      }
      // The proof asked for another key: refused; relabelled for it, refused unless it tells the truth.
      for (const b of [0, Math.max(0, proof.siblings.length - 1), 255]) {
        const other = flipHex(proof.key, b);
        expect(verifyCountedProof(proof, other, at), "a proof for another key").to.equal(false);
        const relabelled = checkCountedProof({ ...proof, key: other }, other, at);
        if (relabelled.ok) {
          const truth = refProof(held, hexToBytes(other));
          const present = truth.leaf !== null && bytesToHex(truth.leaf.key) === other;
          expect(relabelled.leaf, "a relabelled proof that verifies tells the truth").to.deep.equal(
            present ? toHexLeaf(truth.leaf) : null,
          );
        }
      }
    }
    expect(checked).to.be.greaterThan(20_000);
  });

  it("refuses a leaf terminal or an empty terminal whose own sibling is ZERO, as not canonical", async () => {
    const model = new Model();
    const map = new CountedMap();
    await map.update(model.batch(300, false), model.treeSize);
    const head = { treeSize: map.treeSize, countedRoot: await map.root() };
    const leaves = model.snapshots.at(-1)!.leaves;
    const present = await map.proof(bytesToHex(leaves[0]!.key));
    let empty = await map.proof(bytesToHex(randomBytes(32)));
    while (empty.leaf !== null) empty = await map.proof(bytesToHex(randomBytes(32)));
    for (const proof of [present, empty]) {
      const check = checkCountedProof(
        { ...proof, siblings: [...proof.siblings, COUNTED_ZERO] },
        proof.key,
        head,
      );
      expect(check).to.deep.include({ ok: false });
      expect((check as { reason: string }).reason).to.match(/ZERO.*not canonical/);
    }
  });
});
