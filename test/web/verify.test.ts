// The verification core (web/src/verify.ts), run from receipt + proof + head only: first in Node, then
// the same scenarios in real headless Chromium through a Vite browser bundle. (The audit runs in
// test/web/audit-parity.test.ts.)
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import {
  ed25519NoteKey,
  entryString,
  formatTime,
  leafHash,
  MerkleLog,
  receiptV2,
  signCheckpoint,
  utf8Encode,
} from "../../protocol/index.ts";
import { parseReceiptInput, receiptToFragment, verifyAll } from "../../web/src/verify.ts";
import { hex32, opinion, type Scenario, scenarios, T0 } from "./fixtures/scenarios.ts";
import { launch, needChromium, openHarness } from "./helpers.ts";

function summary(r: { verdict: string; failedStep?: string; overdue: boolean }) {
  return { verdict: r.verdict, failedStep: r.failedStep, overdue: r.overdue };
}

describe("web: receipt verification core", () => {
  let cases: Scenario[];
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    cases = await scenarios();
  });
  after(async () => {
    await browser?.close();
  });

  it("decides every scenario as expected in Node", () => {
    for (const c of cases) {
      const r = verifyAll(c.input as Parameters<typeof verifyAll>[0]);
      expect(summary(r), c.name).to.deep.equal({
        verdict: c.verdict,
        failedStep: c.failedStep,
        overdue: c.overdue ?? false,
      });
      const failed = r.steps.filter((s) => s.ok === false).map((s) => s.step);
      expect(failed, c.name).to.deep.equal(c.failedStep ? [c.failedStep] : []);
    }
  });

  it("the counted step says whether the anchored map counts the entry, and which later entry replaced it", () => {
    for (const c of cases.filter((x) => x.counted !== undefined)) {
      const r = verifyAll(c.input as Parameters<typeof verifyAll>[0]);
      expect(r.counted, c.name).to.equal(c.counted);
      expect(r.replacedBy?.leafIndex, c.name).to.equal(c.replacedBy);
    }
    const step = (name: string) =>
      verifyAll(cases.find((c) => c.name === name)!.input as Parameters<typeof verifyAll>[0]).steps.find(
        (s) => s.step === "counted",
      )!;
    expect(
      step("counted: a later opinion of the same author on the same section replaced it"),
    ).to.deep.include({
      code: "step.counted.replaced",
      params: {
        root: step("counted: a later opinion of the same author on the same section replaced it").params.root,
        treeSize: 9,
        current: 8,
        held: "step.counted.heldNo",
      },
    });
    expect(step("counted: replaced by an entry whose receipt this browser holds").params.held).to.equal(
      "step.counted.heldYes",
    );
    expect(step("counted: a proof with a non-hex sibling").detail).to.match(
      /sibling 0 .*not a 32-byte 0x-hex/,
    );
    expect(step("counted: not checkable on a registry without countedRoot (never invalid)")).to.include({
      ok: null,
      code: "step.counted.unsupported",
    });
    const unknown = verifyAll(
      cases.find((c) => c.name === "signed by a key the registry never listed")!.input as Parameters<
        typeof verifyAll
      >[0],
    ).steps.find((s) => s.step === "signature")!;
    expect(unknown.code).to.equal("step.signature.notOnChain");
    expect(unknown.params.registry).to.equal(`0x${"ab".repeat(20)}`);
  });

  it("says a withheld text was withheld, not tampered with", () => {
    const withheld = cases.find((c) => c.name.startsWith("a receipt whose text was withheld"))!;
    const step = verifyAll(withheld.input as Parameters<typeof verifyAll>[0]).steps.find(
      (s) => s.step === "contentHash",
    );
    expect(step).to.include({ ok: null, code: "step.contentHash.withheld" });
  });

  it("v2: the checkpoint, inclusion and consistency steps, a fork named as such, and no log key", async () => {
    const logKey = ed25519NoteKey("example.gov.vn/logs/1", new Uint8Array(32).fill(4));
    const trust = { originPrefix: "example.gov.vn/logs", publicKey: logKey.publicKey };
    const tree = new MerkleLog();
    const entries = Array.from({ length: 8 }, (_, i) =>
      entryString(opinion(i, `ý kiến ${i}`, hex32(100 + i))),
    );
    await tree.appendBatch(entries.map((e) => leafHash(utf8Encode(e))));
    // the receipt of entry 2, from the group commit that ended at size 4; the chain anchored size 8 since
    const checkpoint = signCheckpoint(
      { origin: logKey.name, size: 4, rootHash: await tree.root(4), extensions: [] },
      [logKey],
    );
    const receipt = receiptV2(
      {
        consultation: "1",
        leafIndex: 2,
        leafHash: leafHash(utf8Encode(entries[2]!)),
        entry: entries[2]!,
        text: "ý kiến 2",
        salt: hex32(102),
        issuedAt: formatTime(T0),
        anchorDeadline: formatTime(T0 + 300_000),
      },
      { proof: await tree.inclusionProof(2, 4), checkpoint },
    );
    const head = { treeSize: 8, rootHash: await tree.root(8), anchoredAt: T0 / 1000 + 60, frozen: false };
    const consistency = {
      kind: "consistency" as const,
      size1: 4,
      size2: 8,
      proof: await tree.consistencyProof(4, 8),
    };
    const input = { receipt, keys: [], log: trust, head, proof: consistency, now: T0 + 120_000 };
    const valid = verifyAll(input);
    expect(valid.verdict).to.equal("valid");
    expect(valid.steps.map((s) => [s.step, s.ok])).to.deep.equal([
      ["format", true],
      ["checkpoint", true],
      ["contentHash", true],
      ["leafHash", true],
      ["inclusion", true],
      ["agreement", null],
      ["head", true],
      ["proof", true],
      ["counted", null],
    ]);
    expect(valid.steps.find((s) => s.step === "proof")!.code).to.equal("step.proof.consistent");

    // a head of another history (entry 3, inside the receipt's checkpoint, differs): consistency fails, named a fork
    const other = new MerkleLog();
    const leaves = entries.map((e) => leafHash(utf8Encode(e)));
    leaves[3] = hex32(0xee);
    await other.appendBatch(leaves);
    const forked = verifyAll({
      ...input,
      head: { ...head, rootHash: await other.root(8) },
      proof: { ...consistency, proof: await other.consistencyProof(4, 8) },
    });
    expect(forked).to.include({ verdict: "invalid", failedStep: "proof" });
    expect(forked.steps.find((s) => s.step === "proof")!.code).to.equal("step.proof.fork");
    expect(verifyAll({ ...input, proof: null })).to.include({ verdict: "invalid", failedStep: "proof" });

    // a head between the leaf and the checkpoint: the inclusion proof to it, as for v1
    const head3 = { ...head, treeSize: 3, rootHash: await tree.root(3) };
    const inclusion3 = { leafIndex: 2, treeSize: 3, proof: await tree.inclusionProof(2, 3) };
    expect(verifyAll({ ...input, head: head3, proof: inclusion3 }).verdict).to.equal("valid");
    expect(
      verifyAll({ ...input, head: { ...head, treeSize: 2, rootHash: await tree.root(2) }, proof: null })
        .verdict,
    ).to.equal("pending");

    // without the trust root's log key, a v2 receipt cannot be checked: it says so at the checkpoint step
    const noKey = verifyAll({ ...input, log: null });
    expect(noKey).to.include({ verdict: "invalid", failedStep: "checkpoint" });
    expect(noKey.steps.find((s) => s.step === "checkpoint")!.code).to.equal("step.checkpoint.noLogKey");
  });

  it("carries receipts in #r= fragments and verify links", () => {
    const receipt = cases[0]!.input.receipt;
    const frag = receiptToFragment(receipt);
    expect(frag).to.match(/^[A-Za-z0-9_-]+$/);
    expect(parseReceiptInput(`https://example.org/verify#r=${frag}`)).to.deep.equal(receipt);
    expect(parseReceiptInput(JSON.stringify(receipt))).to.deep.equal(receipt);
  });

  describe("in headless Chromium", () => {
    before(async function () {
      this.timeout(120_000);
      needChromium(this);
      browser = await launch();
      page = await openHarness(browser);
    });

    it("decides every scenario exactly as Node does", async () => {
      const results = await page.evaluate(
        (inputs) => {
          const g = (
            globalThis as unknown as {
              gopy: {
                verify: {
                  verifyAll: (i: unknown) => { verdict: string; failedStep?: string; overdue: boolean };
                };
              };
            }
          ).gopy;
          return inputs.map((i) => {
            const r = g.verify.verifyAll(i);
            return { verdict: r.verdict, failedStep: r.failedStep ?? null, overdue: r.overdue };
          });
        },
        cases.map((c) => c.input),
      );
      cases.forEach((c, i) => {
        expect(results[i], c.name).to.deep.equal({
          verdict: c.verdict,
          failedStep: c.failedStep ?? null,
          overdue: c.overdue ?? false,
        });
      });
    });
  });
});
