// The verification core (web/src/verify.ts), run from receipt + proof + head only: first in Node, then
// the same scenarios in real headless Chromium through a Vite browser bundle. (The audit runs in
// test/web/audit-parity.test.ts.)
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { parseReceiptInput, receiptToFragment, verifyAll } from "../../web/src/verify.ts";
import { type Scenario, scenarios } from "./fixtures/scenarios.ts";
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
