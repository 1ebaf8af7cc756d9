// The Solidity RFC9162 library (through RFC9162Harness) against protocol/: same roots, same accept and
// reject decisions, on random trees, on every mutation of a proof, and on the published RFC 6962 vectors.
import { expect } from "chai";
import { network } from "hardhat";
import {
  bytesToHex,
  EMPTY_ROOT,
  type Hex,
  leafHash,
  MerkleLog,
  nodeHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "../../protocol/index.ts";
import { missing } from "../support/requires.ts";
import {
  all32,
  flipBit,
  loadVectors,
  random,
  randomHash,
  shapeMutations,
  toHex,
  VECTORS_DIR,
} from "./helpers.ts";

const { ethers } = await network.create();
const leavesOf = new WeakMap<MerkleLog, Hex[]>();

async function randomLog(size: number): Promise<MerkleLog> {
  const log = new MerkleLog();
  const leaves: Hex[] = [];
  for (let i = 0; i < size; i++) leaves.push(leafHash(new TextEncoder().encode(`entry ${i} ${random()}`)));
  await log.appendBatch(leaves);
  leavesOf.set(log, leaves);
  return log;
}

describe("RFC9162 library (Solidity) agrees with protocol/", () => {
  // biome-ignore lint/suspicious/noExplicitAny: ethers contract methods are untyped without typechain
  let lib: any;
  before(async () => {
    lib = await ethers.deployContract("RFC9162Harness");
  });

  it("hashes leaves and nodes like protocol/", async () => {
    for (const entry of ["", "a", "x".repeat(31), "y".repeat(32), "z".repeat(33), "w".repeat(200)]) {
      const bytes = new TextEncoder().encode(entry);
      expect(await lib.hashLeaf(bytes)).to.equal(leafHash(bytes));
    }
    for (let i = 0; i < 5; i++) {
      const l = randomHash();
      const r = randomHash();
      expect(await lib.hashNode(l, r)).to.equal(nodeHash(l, r));
    }
    expect(bytesToHex(Buffer.from(EMPTY_ROOT.slice(2), "hex"))).to.equal(
      "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("accepts every inclusion proof of protocol/ for trees of 1..40 leaves, and recomputes its root", async () => {
    for (let size = 1; size <= 40; size++) {
      const log = await randomLog(size);
      const root = await log.root();
      for (let index = 0; index < size; index++) {
        const leaf = await leafAt(log, index);
        const proof = await log.inclusionProof(index);
        const [ok, computed] = await lib.rootFromInclusion(leaf, index, size, proof);
        expect(ok, `size ${size} index ${index}`).to.equal(true);
        expect(computed).to.equal(root);
        expect(await lib.verifyInclusion(leaf, index, size, proof, root)).to.equal(true);
      }
    }
  });

  it("accepts every consistency proof of protocol/ between sizes 1..33", async () => {
    const log = await randomLog(33);
    for (let size2 = 1; size2 <= 33; size2++) {
      const root2 = await log.root(size2);
      for (let size1 = 1; size1 <= size2; size1++) {
        const proof = await log.consistencyProof(size1, size2);
        const root1 = await log.root(size1);
        expect(verifyConsistency(size1, size2, proof, root1, root2)).to.equal(true);
        expect(await lib.verifyConsistency(size1, size2, proof, root1, root2), `${size1}->${size2}`).to.equal(
          true,
        );
      }
    }
  });

  it("refuses every single-bit mutation of proof elements and roots (consistency 5 -> 27, 8 -> 27)", async () => {
    const log = await randomLog(27);
    for (const [size1, size2] of [
      [5, 27],
      [8, 27],
    ] as const) {
      const proof = await log.consistencyProof(size1, size2);
      const root1 = await log.root(size1);
      const root2 = await log.root(size2);
      const checks: Promise<boolean>[] = [];
      for (let e = 0; e < proof.length; e++) {
        for (let bit = 0; bit < 256; bit++) {
          const bad = [...proof];
          bad[e] = flipBit(proof[e]!, bit);
          checks.push(lib.verifyConsistency(size1, size2, bad, root1, root2));
        }
      }
      for (let bit = 0; bit < 256; bit++) {
        checks.push(lib.verifyConsistency(size1, size2, proof, flipBit(root1, bit), root2));
        checks.push(lib.verifyConsistency(size1, size2, proof, root1, flipBit(root2, bit)));
      }
      const results = await Promise.all(checks);
      expect(results.length).to.equal(proof.length * 256 + 512);
      expect(results.every((r) => r === false)).to.equal(true);
    }
  });

  it("refuses every single-bit mutation of an inclusion proof, its leaf and its root", async () => {
    const log = await randomLog(21);
    const index = 12;
    const leaf = await leafAt(log, index);
    const proof = await log.inclusionProof(index);
    const root = await log.root();
    const checks: Promise<boolean>[] = [];
    for (let bit = 0; bit < 256; bit++) {
      for (let e = 0; e < proof.length; e++) {
        const bad = [...proof];
        bad[e] = flipBit(proof[e]!, bit);
        checks.push(lib.verifyInclusion(leaf, index, 21, bad, root));
      }
      checks.push(lib.verifyInclusion(flipBit(leaf, bit), index, 21, proof, root));
      checks.push(lib.verifyInclusion(leaf, index, 21, proof, flipBit(root, bit)));
    }
    const results = await Promise.all(checks);
    expect(results.every((r) => r === false)).to.equal(true);
  });

  it("refuses truncated, extended and reordered proofs; wrong sizes exactly as protocol/ does", async () => {
    const log = await randomLog(70);
    const wrongSizeAccepted: string[] = [];
    const pairs: [number, number][] = [
      [1, 2],
      [1, 70],
      [3, 7],
      [4, 8],
      [6, 8],
      [7, 8],
      [8, 9],
      [13, 64],
      [31, 33],
      [32, 70],
      [63, 64],
      [69, 70],
    ];
    for (const [size1, size2] of pairs) {
      const proof = await log.consistencyProof(size1, size2);
      const root1 = await log.root(size1);
      const root2 = await log.root(size2);
      for (const m of shapeMutations(proof)) {
        expect(
          await lib.verifyConsistency(size1, size2, m.proof, root1, root2),
          `${size1}->${size2} ${m.what}`,
        ).to.equal(false);
      }
      for (const [s1, s2] of [
        [size1 - 1, size2],
        [size1 + 1, size2],
        [size1, size2 - 1],
        [size1, size2 + 1],
        [size1 * 2, size2],
        [size1, size2 * 2],
        [0, size2],
        [size2, size1],
      ] as const) {
        if (s1 === size1 && s2 === size2) continue;
        // RFC 9162 does not always bind size2: the 1 -> 70 proof also verifies as 1 -> 69 against the
        // root of 70 leaves (same path shape). What matters is that both implementations agree.
        const expected = verifyConsistency(s1, s2, proof, root1, root2);
        expect(
          await lib.verifyConsistency(s1, s2, proof, root1, root2),
          `${size1}->${size2} as ${s1}->${s2}`,
        ).to.equal(expected);
        if (expected) wrongSizeAccepted.push(`${size1}->${size2} as ${s1}->${s2}`);
        const offByOne = Math.abs(s1 - size1) + Math.abs(s2 - size2) === 1;
        if (!offByOne) expect(expected, `${size1}->${size2} as ${s1}->${s2}`).to.equal(false);
      }
    }
    // Inclusion: index/size mutations.
    const root = await log.root(70);
    for (const index of [0, 1, 31, 32, 68, 69]) {
      const leaf = await leafAt(log, index);
      const proof = await log.inclusionProof(index, 70);
      for (const m of shapeMutations(proof)) {
        expect(await lib.verifyInclusion(leaf, index, 70, m.proof, root), `${index} ${m.what}`).to.equal(
          false,
        );
      }
      for (const [i, s] of [
        [index + 1, 70],
        [index ^ 2, 70],
        [index, 71],
        [index, 69],
        [index, 140],
        [index, 35],
        [70, 70],
      ] as const) {
        if (i === index && s === 70) continue;
        const expected = verifyInclusion(leaf, i, s, proof, root);
        expect(await lib.verifyInclusion(leaf, i, s, proof, root), `${index} as ${i}/${s}`).to.equal(
          expected,
        );
        if (expected) wrongSizeAccepted.push(`leaf ${index} as ${i}/${s}`);
        if (i !== index || Math.abs(s - 70) > 1)
          expect(expected, `leaf ${index} as ${i}/${s}`).to.equal(false);
      }
    }
    // A tree size one off often shares the path shape of the right one (RFC 9162 binds the size only
    // through that shape), so both implementations accept it; every other wrong size is refused.
    expect(wrongSizeAccepted.length).to.be.greaterThan(0);
  });

  it("agrees with protocol/ on random (possibly invalid) inputs", async () => {
    const log = await randomLog(100);
    for (let n = 0; n < 150; n++) {
      const size2 = 1 + Math.floor(random() * 100);
      const size1 = Math.floor(random() * (size2 + 2));
      const realSize1 = Math.max(1, Math.min(size1, size2));
      const proof = await log.consistencyProof(realSize1, size2);
      const root1 = await log.root(realSize1);
      const root2 = await log.root(size2);
      const mutated = random() < 0.5 ? proof : (shapeMutations(proof)[n % 3]?.proof ?? proof);
      const expected = verifyConsistency(size1, size2, mutated, root1, root2);
      expect(await lib.verifyConsistency(size1, size2, mutated, root1, root2), `${size1}->${size2}`).to.equal(
        expected,
      );

      const index = Math.floor(random() * (size2 + 1));
      const realIndex = Math.min(index, size2 - 1);
      const incl = await log.inclusionProof(realIndex, size2);
      const leaf = await leafAt(log, realIndex);
      const sol = await lib.rootFromInclusion(leaf, index, size2, incl);
      const ts = rootFromInclusionProof(leaf, index, size2, incl);
      expect(sol[0]).to.equal(ts.ok);
      if (ts.ok) expect(sol[1]).to.equal(ts.root);
    }
  });

  describe("published RFC 6962 / 9162 vectors (transparency-dev/merkle testdata)", () => {
    const vectors = loadVectors();
    if (vectors === undefined) {
      missing("the RFC 6962 vectors", `a folder ${VECTORS_DIR}`);
      return;
    }

    it(`runs all ${vectors.inclusion.length} inclusion vectors through the Solidity library`, async () => {
      let refusedByType = 0;
      expect(vectors.inclusion.length).to.be.greaterThan(0);
      for (const v of vectors.inclusion) {
        if (!all32(v.root, v.leafHash, ...v.proof)) {
          expect(v.wantErr, `${v.file} has a non-32-byte hash but expects success`).to.equal(true);
          await expectUnencodable(() =>
            lib.verifyInclusion(toHex(v.leafHash), v.leafIdx, v.treeSize, v.proof.map(toHex), toHex(v.root)),
          );
          refusedByType++;
          continue;
        }
        const got = await lib.verifyInclusion(
          toHex(v.leafHash),
          v.leafIdx,
          v.treeSize,
          v.proof.map(toHex),
          toHex(v.root),
        );
        expect(got, v.file).to.equal(!v.wantErr);
      }
      expect(refusedByType).to.be.lessThan(vectors.inclusion.length / 2);
    });

    it(`runs all ${vectors.consistency.length} consistency vectors through the Solidity library`, async () => {
      let refusedByType = 0;
      expect(vectors.consistency.length).to.be.greaterThan(0);
      for (const v of vectors.consistency) {
        if (!all32(v.root1, v.root2, ...v.proof)) {
          // Gopy's policy (vectors README): a hash that is not 32 bytes is refused, even in the one
          // vector (equal sizes, equal 12-byte roots) where a bare RFC reading accepts. A bytes32
          // parameter cannot carry it: the call is refused before the library runs.
          await expectUnencodable(() =>
            lib.verifyConsistency(v.size1, v.size2, v.proof.map(toHex), toHex(v.root1), toHex(v.root2)),
          );
          refusedByType++;
          continue;
        }
        const got = await lib.verifyConsistency(
          v.size1,
          v.size2,
          v.proof.map(toHex),
          toHex(v.root1),
          toHex(v.root2),
        );
        expect(got, v.file).to.equal(!v.wantErr);
      }
      expect(refusedByType).to.be.lessThan(vectors.consistency.length / 2);
    });
  });
});

/** Asserts that ethers refuses to ABI-encode the call (a hash that does not fit a bytes32). */
async function expectUnencodable(call: () => Promise<unknown>): Promise<void> {
  let error: unknown;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  expect(error, "call with a non-32-byte hash was encoded").to.be.instanceOf(Error);
  expect(String((error as Error).message)).to.match(
    /invalid BytesLike|data length|bytes32|overflow|invalid/i,
  );
}

/** The leaf hashes appended to a log made by randomLog. */
async function leafAt(log: MerkleLog, index: number): Promise<Hex> {
  const found = leavesOf.get(log)?.[index];
  if (found === undefined) throw new Error(`no leaf ${index}`);
  return found;
}
