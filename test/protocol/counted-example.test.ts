import { readFileSync } from "node:fs";
import { expect } from "chai";
import { checkEntryCounted, verifyCountedProof } from "../../protocol/index.ts";
import { AUTHOR_A, AUTHOR_B, countedExample } from "./counted-example.ts";

const doc = readFileSync(new URL("../../docs/PROTOCOL.md", import.meta.url), "utf8");

describe("docs/PROTOCOL.md counted map worked example", () => {
  it("prints exactly the values protocol/ computes", async () => {
    const ex = await countedExample();
    const values = [
      AUTHOR_A,
      AUTHOR_B,
      ex.entryTexts[3]!,
      ...ex.leafHashes,
      ex.keyA1,
      ex.keyB1,
      ex.keyA2,
      ex.keyB2,
      ...ex.leafNodes,
      ex.leafNodeA1at3,
      ...Object.values(ex.byHand),
      ex.root3,
      `[${ex.proofA1at3.siblings.join(", ")}]`,
      `[${ex.proofB2at4.siblings.join(", ")}]`,
    ];
    for (const value of values) expect(doc, `docs/PROTOCOL.md should contain ${value}`).to.include(value);
    expect(ex.proofA1at4.siblings).to.deep.equal(ex.proofA1at3.siblings);
    expect([ex.proofA1at3.leaf?.leafIndex, ex.proofA1at4.leaf?.leafIndex, ex.proofB2at4.leaf]).to.deep.equal([
      0,
      3,
      null,
    ]);
  });

  it("computes by hand from the definition the root the map computes, and those proofs verify", async () => {
    const ex = await countedExample();
    expect(ex.byHand.root4).to.equal(ex.root4);
    const at3 = { treeSize: 3, countedRoot: ex.root3 };
    const at4 = { treeSize: 4, countedRoot: ex.root4 };
    expect(verifyCountedProof(ex.proofB2at4, { author: AUTHOR_B, section: "dieu-2" }, at4)).to.equal(true);
    const receipt0 = { author: AUTHOR_A, section: "dieu-1", leafIndex: 0, leafHash: ex.leafHashes[0]! };
    expect(checkEntryCounted(ex.proofA1at3, receipt0, at3)).to.deep.include({ ok: true, status: "counted" });
    expect(checkEntryCounted(ex.proofA1at4, receipt0, at4)).to.deep.include({ ok: true, status: "replaced" });
  });
});
