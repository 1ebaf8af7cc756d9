// The verification core (web/src/verify.ts) and the audit core, run from receipt + proof + head only:
// first in Node, then the same scenarios in real headless Chromium through a Vite browser bundle.
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import {
  computeTally,
  decodeEntry,
  entryString,
  formatTime,
  type Hex,
  leafHash,
  MerkleLog,
  type ModerationEntry,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";
import { Auditor } from "../../web/src/audit-core.ts";
import { parseReceiptInput, receiptToFragment, verifyAll } from "../../web/src/verify.ts";
import { INHERITED_SECTION_IDS } from "../support/names.ts";
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

  it("carries receipts in #r= fragments and verify links", () => {
    const receipt = cases[0]!.input.receipt;
    const frag = receiptToFragment(receipt);
    expect(frag).to.match(/^[A-Za-z0-9_-]+$/);
    expect(parseReceiptInput(`https://example.org/verify#r=${frag}`)).to.deep.equal(receipt);
    expect(parseReceiptInput(JSON.stringify(receipt))).to.deep.equal(receipt);
  });

  it("the audit core counts sections named like Object.prototype members, in the draft or removed from it", async () => {
    const inDraft = INHERITED_SECTION_IDS.filter((_, i) => i % 2 === 0);
    const log = new MerkleLog();
    const lines = [];
    for (const [index, section] of INHERITED_SECTION_IDS.entries()) {
      const text = `góp ý ${index}`;
      const salt = hex32(index);
      const leaf = entryString({ ...opinion(index, text, salt), section });
      const hash = leafHash(utf8Encode(leaf));
      await log.append(hash);
      lines.push({ index, leaf, leafHash: hash, text, salt });
    }
    const n = lines.length;
    const auditor = new Auditor("1", inDraft, [n], n);
    for (const line of lines) await auditor.push(line);
    const report = await auditor.finish();
    const expected = computeTally(
      "1",
      inDraft,
      lines.map((l) => ({ index: l.index, entry: decodeEntry(l.leaf) })),
      n,
      await log.root(n),
    );
    expect(report.problems).to.deep.equal([]);
    expect(report.tally).to.deep.equal(expected);
    expect(Object.keys(report.tally!.sections).sort()).to.deep.equal([...INHERITED_SECTION_IDS]);
    expect(report.tallyHash).to.equal(tallyHash(expected));
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

    it("the audit core recomputes roots and the tally in the browser as protocol/ does in Node", async () => {
      const n = 1500;
      const lines: { index: number; leaf: string; leafHash: Hex; text?: string; salt?: Hex }[] = [];
      const log = new MerkleLog();
      for (let i = 0; i < n; i++) {
        let leaf: string;
        let text: string | undefined;
        let salt: Hex | undefined;
        if (i > 0 && i % 500 === 0) {
          const m: ModerationEntry = {
            v: 1,
            type: "moderation",
            consultation: "1",
            target: i - 1,
            action: "withhold-text",
            reason: "personal-data",
            by: hex32(3),
            at: formatTime(T0),
          };
          leaf = entryString(m);
        } else {
          salt = hex32(i % 250);
          text = `góp ý ${i}`;
          leaf = entryString({ ...opinion(i % 40, text, salt), submittedAt: formatTime(T0 + i) });
        }
        const lh = leafHash(utf8Encode(leaf));
        await log.append(lh);
        lines.push({ index: i, leaf, leafHash: lh, text, salt });
      }
      const sections = ["dieu-1", "dieu-2", "dieu-3"];
      const checkpoints = [1, 700, 1024, n];
      const expectedTally = computeTally(
        "1",
        sections,
        lines.map((l) => ({ index: l.index, entry: decodeEntry(l.leaf) })),
        n,
        await log.root(n),
      );
      const expected = {
        root: await log.root(n),
        roots: Object.fromEntries(
          await Promise.all(checkpoints.map(async (s) => [String(s), await log.root(s)] as const)),
        ),
        tallyHash: tallyHash(expectedTally),
      };
      // Node
      const a = new Auditor("1", sections, checkpoints, n);
      for (const l of lines) await a.push(l);
      const nodeReport = await a.finish();
      expect(nodeReport.problemCount).to.equal(0);
      expect(nodeReport.root).to.equal(expected.root);
      expect(nodeReport.rootsAt).to.deep.equal(expected.roots);
      expect(nodeReport.tallyHash).to.equal(expected.tallyHash);
      // Chromium, with one tampered text
      const tampered = lines.map((l) => (l.index === 42 ? { ...l, text: `${l.text}!` } : l));
      const browserReport = await page.evaluate(
        async ({ lines, sections, checkpoints, n }) => {
          const g = (
            globalThis as unknown as {
              gopy: {
                Auditor: new (
                  ...a: unknown[]
                ) => {
                  push(l: unknown): Promise<void>;
                  finish(): Promise<{
                    root: string;
                    rootsAt: Record<string, string>;
                    tallyHash: string;
                    problems: { index: number; kind: string }[];
                  }>;
                };
              };
            }
          ).gopy;
          const aud = new g.Auditor("1", sections, checkpoints, n);
          for (const l of lines) await aud.push(l);
          return aud.finish();
        },
        { lines: tampered, sections, checkpoints, n },
      );
      expect(browserReport.root).to.equal(expected.root);
      expect(browserReport.rootsAt).to.deep.equal(expected.roots);
      expect(browserReport.tallyHash).to.equal(expected.tallyHash);
      expect(browserReport.problems.map((p) => [p.index, p.kind])).to.deep.equal([[42, "contentHash"]]);
    });
  });
});
