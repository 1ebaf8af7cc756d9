import { readFileSync } from "node:fs";
import { expect } from "chai";
import { canonicalJson, verifyConsistency, verifyInclusion, verifyReceipt } from "../../protocol/index.ts";
import { workedExample } from "./worked-example.ts";

const doc = readFileSync(new URL("../../docs/PROTOCOL.md", import.meta.url), "utf8");

describe("docs/PROTOCOL.md worked example", () => {
  it("prints exactly the values protocol/ computes", async () => {
    const ex = await workedExample();
    const values = [
      ex.author,
      ex.offlineAuthor,
      ex.officer,
      ex.contentHash,
      ex.entryText,
      ex.leafHash,
      ex.root3,
      ...ex.inclusion0at3,
      ...ex.consistency2to3,
      ex.draftText,
      ex.draftHash,
      ex.publicJwk.x,
      ex.receipt.keyId,
      ex.receipt.signature,
      ex.logKey.vkey,
      Buffer.from(ex.logKey.publicKey).toString("base64"),
      ex.receiptV2.proof.trimEnd(),
      canonicalJson(ex.tally),
      ex.tallyHash,
      ex.draftWithAttachmentText,
      ex.draftWithAttachmentHash,
      ex.responseText,
      ex.responseHash,
    ];
    for (const value of values) expect(doc, `docs/PROTOCOL.md should contain ${value}`).to.include(value);
  });

  it("and those values verify", async () => {
    const ex = await workedExample();
    expect(verifyInclusion(ex.leafHash, 0, 3, ex.inclusion0at3, ex.root3)).to.equal(true);
    expect(verifyConsistency(1, 3, ex.consistency1to3, ex.root1, ex.root3)).to.equal(true);
    expect(verifyReceipt(ex.receipt, [ex.publicJwk]).valid).to.equal(true);
    expect(verifyReceipt(ex.receiptV2, [], ex.logKey).valid).to.equal(true);
  });
});
