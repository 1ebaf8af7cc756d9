import { expect } from "chai";
import {
  EMPTY_ROOT,
  hexToBytes,
  leafHash,
  MerkleLog,
  verifyConsistency,
  verifyInclusion,
} from "../../protocol/index.ts";
import { missing } from "../support/requires.ts";
import {
  consistencyVectors,
  inclusionVectors,
  RFC6962_LEAVES,
  RFC6962_ROOTS,
  toHex,
  VECTORS_DIR,
  vectorsAvailable,
} from "./vectors.ts";

const is32 = (b: Uint8Array | null) => b !== null && b.length === 32;

describe("RFC 6962 test tree", () => {
  it("has the empty root SHA-256('')", () => {
    expect(EMPTY_ROOT).to.equal("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("reproduces the published root at every size from 1 to 8", async () => {
    const log = new MerkleLog();
    for (const leaf of RFC6962_LEAVES) await log.append(leafHash(hexToBytes(`0x${leaf}`)));
    for (let size = 1; size <= 8; size++)
      expect(await log.root(size)).to.equal(`0x${RFC6962_ROOTS[size - 1]}`);
  });
});

describe("published RFC 6962 proof vectors (transparency-dev/merkle testdata)", () => {
  if (!vectorsAvailable) {
    missing("the RFC 6962 vectors", `a folder ${VECTORS_DIR}`);
    return;
  }

  // Policy (see docs/PROTOCOL.md): every hash must be 32 bytes. A few "additional" vectors use short
  // placeholder roots and expect acceptance; Gopy refuses them, like any malformed hash.
  const expectAccept = (wantErr: boolean, hashes: (Uint8Array | null)[]) => !wantErr && hashes.every(is32);

  const inclusion = inclusionVectors();
  const consistency = consistencyVectors();

  it("finds both kinds of vectors, valid and invalid", () => {
    expect(inclusion.length).to.be.greaterThan(20);
    expect(consistency.length).to.be.greaterThan(60);
    expect(inclusion.some((v) => !v.wantErr) && inclusion.some((v) => v.wantErr)).to.equal(true);
    expect(consistency.some((v) => !v.wantErr) && consistency.some((v) => v.wantErr)).to.equal(true);
  });

  for (const v of inclusion) {
    it(`inclusion ${v.name}: ${v.wantErr ? "rejects" : "accepts"}`, () => {
      const got = verifyInclusion(
        toHex(v.leafHash),
        v.leafIdx,
        v.treeSize,
        v.proof.map(toHex),
        toHex(v.root),
      );
      expect(got).to.equal(expectAccept(v.wantErr, [v.leafHash, v.root, ...v.proof]));
    });
  }

  for (const v of consistency) {
    it(`consistency ${v.name}: ${v.wantErr ? "rejects" : "accepts"}`, () => {
      const got = verifyConsistency(v.size1, v.size2, v.proof.map(toHex), toHex(v.root1), toHex(v.root2));
      expect(got).to.equal(expectAccept(v.wantErr, [v.root1, v.root2, ...v.proof]));
    });
  }

  it("MerkleLog produces exactly the published valid proofs for the RFC 6962 tree", async () => {
    const log = new MerkleLog();
    for (const leaf of RFC6962_LEAVES) await log.append(leafHash(hexToBytes(`0x${leaf}`)));
    let compared = 0;
    for (const v of inclusion.filter((x) => !x.wantErr && x.treeSize <= 8 && is32(x.root))) {
      if (toHex(v.root) !== (await log.root(v.treeSize))) continue;
      expect(await log.inclusionProof(v.leafIdx, v.treeSize)).to.deep.equal(v.proof.map(toHex));
      compared++;
    }
    for (const v of consistency.filter(
      (x) => !x.wantErr && x.size2 <= 8 && x.size1 > 0 && x.size1 < x.size2,
    )) {
      if (toHex(v.root2) !== (await log.root(v.size2))) continue;
      expect(await log.consistencyProof(v.size1, v.size2)).to.deep.equal(v.proof.map(toHex));
      compared++;
    }
    expect(compared).to.be.greaterThan(5);
  });
});
