import { expect } from "chai";
import {
  bytesToHex,
  type Hex,
  leafHash,
  MemoryTreeStore,
  MerkleLog,
  ProtocolError,
  verifyConsistency,
  verifyInclusion,
} from "../../protocol/index.ts";
import { randomBytesFrom, seededRandom, TEST_SEED } from "../support/random.ts";
import { mth, path, proof } from "./reference.ts";

const rand = seededRandom(TEST_SEED);
const randomBytes = (n: number) => randomBytesFrom(rand, n);
const randomHash = (): Hex => bytesToHex(randomBytes(32));
const randInt = (max: number) => Math.floor(rand() * max);

/** Every way to spoil a proof: flip each bit of each element, drop or add elements. */
function spoiledProofs(p: readonly Hex[]): Hex[][] {
  const out: Hex[][] = [];
  p.forEach((h, i) => {
    for (let bit = 0; bit < 256; bit++) {
      const bytes = Buffer.from(h.slice(2), "hex");
      bytes[bit >> 3]! ^= 1 << (bit & 7);
      out.push(p.map((x, j) => (j === i ? bytesToHex(bytes) : x)));
    }
  });
  if (p.length > 0) out.push(p.slice(1), p.slice(0, -1));
  out.push([...p, randomHash()], [randomHash(), ...p], [...p, p[p.length - 1] ?? randomHash()]);
  return out;
}

async function buildLog(n: number) {
  // Random contents of random length, prefixed with the position so that no two leaves are equal.
  const entries = Array.from({ length: n }, (_, i) =>
    Buffer.concat([Buffer.from(`${i}:`), randomBytes(randInt(40))]),
  );
  const log = new MerkleLog();
  for (const e of entries) await log.append(leafHash(e));
  return { entries, log };
}

describe(`MerkleLog against the RFC 9162 definitions (seed ${TEST_SEED})`, () => {
  it("matches recursive MTH, PATH and PROOF byte for byte on every size and position up to 40", async () => {
    const { entries, log } = await buildLog(40);
    for (let n = 1; n <= 40; n++) {
      const prefix = entries.slice(0, n);
      expect(await log.root(n)).to.equal(bytesToHex(mth(prefix)));
      for (let m = 0; m < n; m++) {
        expect(await log.inclusionProof(m, n)).to.deep.equal(path(m, prefix).map(bytesToHex));
      }
      for (let m = 1; m < n; m++) {
        expect(await log.consistencyProof(m, n)).to.deep.equal(proof(m, prefix).map(bytesToHex));
      }
    }
  });

  it("proves inclusion and consistency in random trees of up to 3,000 leaves, and every spoiled proof fails", async () => {
    const { entries, log } = await buildLog(3000);
    const hashes = entries.map((e) => leafHash(e));
    for (let trial = 0; trial < 12; trial++) {
      const size = 1 + randInt(3000);
      const index = randInt(size);
      const root = await log.root(size);
      const p = await log.inclusionProof(index, size);
      const leaf = hashes[index]!;
      expect(verifyInclusion(leaf, index, size, p, root), `inclusion ${index}/${size}`).to.equal(true);
      for (const bad of spoiledProofs(p))
        expect(verifyInclusion(leaf, index, size, bad, root)).to.equal(false);
      // A wrong position is checked against the real root of the claimed size: RFC 9162 binds the proof
      // to (index, size) only through the root, which a verifier reads from the anchored head.
      for (const [i, s] of [
        [index + 1, size],
        [index - 1, size],
        [index, size + 1],
        [index, size - 1],
        [size, size],
      ] as const) {
        if (s < 1 || s > log.size) continue;
        expect(verifyInclusion(leaf, i, s, p, await log.root(s)), `wrong position ${i}/${s}`).to.equal(false);
      }
      expect(verifyInclusion(randomHash(), index, size, p, root)).to.equal(false);
      expect(verifyInclusion(leaf, index, size, p, randomHash())).to.equal(false);

      const size1 = 1 + randInt(size);
      const root1 = await log.root(size1);
      const c = await log.consistencyProof(size1, size);
      expect(verifyConsistency(size1, size, c, root1, root), `consistency ${size1}->${size}`).to.equal(true);
      if (size1 === size) continue;
      for (const bad of spoiledProofs(c))
        expect(verifyConsistency(size1, size, bad, root1, root)).to.equal(false);
      for (const [s1, s2] of [
        [size1 + 1, size],
        [size1 - 1, size],
        [size1, size + 1],
        [size1, size - 1],
      ] as const) {
        if (s1 < 1 || s2 > log.size || s1 > s2) continue;
        const [r1, r2] = [await log.root(s1), await log.root(s2)];
        expect(verifyConsistency(s1, s2, c, r1, r2), `wrong sizes ${s1}->${s2}`).to.equal(false);
      }
      expect(verifyConsistency(size1, size, c, root, root1)).to.equal(false);
    }
  });

  it("reopens from its store with the same root and proofs, and keeps appending", async () => {
    const store = new MemoryTreeStore();
    const log = new MerkleLog(store);
    const leaves = Array.from({ length: 777 }, randomHash);
    await log.appendBatch(leaves.slice(0, 500));
    for (const l of leaves.slice(500)) await log.append(l);
    const reopened = await MerkleLog.open(store, 600);
    expect(await reopened.root()).to.equal(await log.root(600));
    await reopened.appendBatch(leaves.slice(600));
    expect(await reopened.root()).to.equal(await log.root());
    expect(await reopened.inclusionProof(123, 700)).to.deep.equal(await log.inclusionProof(123, 700));
  });

  it("leaves the log unchanged when its store fails during an append", async () => {
    const failing = new MemoryTreeStore();
    const log = new MerkleLog(failing);
    await log.appendBatch([randomHash(), randomHash(), randomHash()]);
    const before = await log.root();
    const put = failing.putNodes.bind(failing);
    failing.putNodes = () => {
      throw new Error("disk full");
    };
    let caught: unknown;
    try {
      await log.append(randomHash());
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).to.equal("disk full");
    expect(log.size).to.equal(3);
    expect(await log.root()).to.equal(before);
    failing.putNodes = put;
    expect(await log.append(randomHash())).to.equal(3);
  });

  it("reads O(log n) stored hashes per proof, never O(n)", async () => {
    let reads = 0;
    const store = new MemoryTreeStore();
    const counting = {
      getNodes: (ids: readonly { level: number; index: number }[]) => {
        reads += ids.length;
        return store.getNodes(ids);
      },
      putNodes: store.putNodes.bind(store),
    };
    const log = new MerkleLog(counting);
    await log.appendBatch(Array.from({ length: 100_003 }, randomHash));
    for (const [index, size] of [
      [0, 100_003],
      [99_999, 100_002],
      [65_535, 65_537],
    ] as const) {
      reads = 0;
      await log.inclusionProof(index, size);
      expect(reads).to.be.at.most(2 * 17);
      reads = 0;
      await log.consistencyProof(index + 1, size);
      expect(reads).to.be.at.most(2 * 17);
    }
  });

  it("refuses malformed arguments with a ProtocolError that says what is wrong", async () => {
    const { log } = await buildLog(10);
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => log.append("0x1234" as Hex), /32 bytes/],
      [() => log.append("0xZZ" as Hex), /hex/],
      [() => log.append(`0x${"AB".repeat(32)}` as Hex), /lowercase/],
      [() => log.root(11), /larger than the log/],
      [() => log.root(-1), /non-negative safe integer/],
      [() => log.root(1.5), /non-negative safe integer/],
      [() => log.root(2 ** 53), /non-negative safe integer/],
      [() => log.inclusionProof(10, 10), /not below tree size/],
      [() => log.inclusionProof(0, 11), /larger than the log/],
      [() => log.consistencyProof(5, 4), /size1 5 is larger than size2 4/],
      [() => log.consistencyProof(Number.NaN, 4), /non-negative safe integer/],
    ];
    for (const [call, message] of cases) {
      let caught: unknown;
      try {
        await call();
      } catch (error) {
        caught = error;
      }
      expect(caught, String(message)).to.be.instanceOf(ProtocolError);
      expect((caught as Error).message).to.match(message);
    }
  });

  it("verification returns false, never throws, on malformed input", () => {
    const h = randomHash();
    const junk: unknown[] = [undefined, null, 1, "0x", "nothex", [h.toUpperCase()], {}, [1]];
    for (const j of junk) {
      expect(verifyInclusion(j as Hex, 0, 1, [], h)).to.equal(false);
      expect(verifyInclusion(h, 0, 1, j as Hex[], h)).to.equal(false);
      expect(verifyConsistency(1, 2, j as Hex[], h, h)).to.equal(false);
      expect(verifyConsistency(j as number, 2, [h], h, h)).to.equal(false);
    }
    expect(verifyInclusion(h, -1, 1, [], h)).to.equal(false);
    expect(verifyInclusion(h, 0, 0, [], h)).to.equal(false);
  });
});
