// The verification core (web/src/verify.ts) and the audit core, run from receipt + proof + head only:
// first in Node, then the same scenarios in real headless Chromium through a Vite browser bundle.
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import {
  computeTally,
  contentHash,
  decodeEntry,
  entryString,
  formatTime,
  type Hex,
  leafHash,
  MerkleLog,
  type ModerationEntry,
  type OpinionEntry,
  type Receipt,
  receiptKeyFromSeed,
  signReceipt,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";
import { Auditor } from "../../web/src/audit-core.ts";
import {
  type HeadInput,
  type ProofInput,
  parseReceiptInput,
  receiptToFragment,
  verifyAll,
} from "../../web/src/verify.ts";
import { INHERITED_SECTION_IDS } from "../support/names.ts";
import { launch, needChromium, ROOT } from "./helpers.ts";

const T0 = Date.parse("2026-11-29T10:00:00.000Z");
const hex32 = (b: number): Hex => `0x${b.toString(16).padStart(2, "0").repeat(32)}` as Hex;

interface Scenario {
  name: string;
  input: { receipt: unknown; keys: unknown[]; head: HeadInput; proof: ProofInput | null; now: number };
  verdict: "valid" | "invalid" | "pending";
  failedStep?: string;
  overdue?: boolean;
}

function opinion(i: number, text: string, salt: Hex): OpinionEntry {
  return {
    v: 1,
    type: "opinion",
    consultation: "1",
    draftVersion: 1,
    section: `dieu-${(i % 3) + 1}`,
    stance: (["agree", "disagree", "neutral"] as const)[i % 3]!,
    contentHash: contentHash(salt, text),
    author: hex32(i + 1),
    channel: "online",
    submittedAt: formatTime(T0 + i * 1000),
    replaces: null,
  };
}

async function scenarios(): Promise<Scenario[]> {
  const key = receiptKeyFromSeed(new Uint8Array(32).fill(7));
  const otherKey = receiptKeyFromSeed(new Uint8Array(32).fill(9));
  const log = new MerkleLog();
  const entries: string[] = [];
  for (let i = 0; i < 8; i++) {
    const e = entryString(opinion(i, `ý kiến số ${i}`, hex32(100 + i)));
    entries.push(e);
    await log.append(leafHash(utf8Encode(e)));
  }
  const idx = 5;
  const text = "ý kiến số 5";
  const fields = {
    consultation: "1",
    leafIndex: idx,
    leafHash: leafHash(utf8Encode(entries[idx]!)),
    entry: entries[idx]!,
    text,
    salt: hex32(100 + idx),
    issuedAt: formatTime(T0 + 5000),
    anchorDeadline: formatTime(T0 + 5000 + 300_000),
  };
  const receipt: Receipt = signReceipt(fields, key);
  const keys = [key.publicJwk];
  const head: HeadInput = {
    treeSize: 8,
    rootHash: await log.root(8),
    anchoredAt: T0 / 1000 + 60,
    frozen: false,
  };
  const proof: ProofInput = { leafIndex: idx, treeSize: 8, proof: await log.inclusionProof(idx, 8) };
  const now = T0 + 120_000;
  const base = { receipt, keys, head, proof, now };
  const textChanged = { ...receipt, text: `${text.slice(0, -1)}6` };
  const other = new MerkleLog();
  for (const e of entries) await other.append(leafHash(utf8Encode(e)));
  await other.append(hex32(0xee));
  const proofOtherRoot: ProofInput = {
    leafIndex: idx,
    treeSize: 9,
    proof: await other.inclusionProof(idx, 9),
  };
  const proofSmallerTree: ProofInput = {
    leafIndex: idx,
    treeSize: 7,
    proof: await log.inclusionProof(idx, 7),
  };
  const stanceChanged = {
    ...receipt,
    entry: receipt.entry.replace('"disagree"', '"agree"').replace('"neutral"', '"agree"'),
  };
  const pendingHead: HeadInput = { treeSize: 5, rootHash: await log.root(5), anchoredAt: 0, frozen: false };
  return [
    { name: "a genuine, anchored receipt", input: base, verdict: "valid" },
    {
      name: "one character of the text changed",
      input: { ...base, receipt: textChanged },
      verdict: "invalid",
      failedStep: "contentHash",
    },
    {
      name: "a proof against a different root (a longer log)",
      input: { ...base, proof: proofOtherRoot },
      verdict: "invalid",
      failedStep: "proof",
    },
    {
      name: "a proof against a different root (a shorter log)",
      input: { ...base, proof: proofSmallerTree },
      verdict: "invalid",
      failedStep: "proof",
    },
    {
      name: "a different anchored root on chain",
      input: { ...base, head: { ...head, rootHash: hex32(0xab) } },
      verdict: "invalid",
      failedStep: "proof",
    },
    {
      name: "no proof offered for an anchored leaf",
      input: { ...base, proof: null },
      verdict: "invalid",
      failedStep: "proof",
    },
    {
      name: "the entry's stance changed",
      input: { ...base, receipt: stanceChanged },
      verdict: "invalid",
      failedStep: "leafHash",
    },
    {
      name: "the leaf index changed",
      input: { ...base, receipt: { ...receipt, leafIndex: 4 } },
      verdict: "invalid",
      failedStep: "signature",
    },
    {
      name: "the deadline moved",
      input: { ...base, receipt: { ...receipt, anchorDeadline: formatTime(T0 + 9_999_999) } },
      verdict: "invalid",
      failedStep: "signature",
    },
    {
      name: "signed by an unknown key",
      input: { ...base, keys: [otherKey.publicJwk] },
      verdict: "invalid",
      failedStep: "signature",
    },
    {
      name: "not a receipt",
      input: { ...base, receipt: { hello: "world" } },
      verdict: "invalid",
      failedStep: "format",
    },
    {
      name: "not yet anchored, before the deadline",
      input: { ...base, head: pendingHead, proof: null },
      verdict: "pending",
      overdue: false,
    },
    {
      name: "not anchored after the deadline",
      input: { ...base, head: pendingHead, proof: null, now: T0 + 3_600_000 },
      verdict: "pending",
      overdue: true,
    },
    {
      name: "not in a frozen log",
      input: { ...base, head: { ...pendingHead, frozen: true }, proof: null },
      verdict: "invalid",
      failedStep: "head",
    },
  ];
}

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
      const out = await build({
        configFile: false,
        logLevel: "warn",
        root: ROOT,
        build: {
          write: false,
          minify: false,
          lib: { entry: join(ROOT, "test/web/fixtures/harness.ts"), formats: ["es"], fileName: "harness" },
        },
      });
      const outputs = Array.isArray(out) ? out : [out];
      const chunk = (outputs[0] as { output: { type: string; code?: string }[] }).output.find(
        (o) => o.type === "chunk",
      );
      browser = await launch();
      page = await browser.newPage();
      await page.setContent("<!doctype html><title>harness</title>");
      await page.addScriptTag({ type: "module", content: chunk!.code! });
      await page.waitForFunction(() => "gopy" in globalThis);
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

    it("verifies a receipt in <= 100 ms once proof and head are in hand", async () => {
      const input = cases[0]!.input;
      const times = await page.evaluate((inp) => {
        const g = (
          globalThis as unknown as { gopy: { verify: { verifyAll: (i: unknown) => { verdict: string } } } }
        ).gopy;
        const out: number[] = [];
        for (let i = 0; i < 25; i++) {
          const t0 = performance.now();
          const r = g.verify.verifyAll(inp);
          out.push(performance.now() - t0);
          if (r.verdict !== "valid") throw new Error("not valid");
        }
        return out;
      }, input);
      const first = times[0]!;
      const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
      console.log(
        JSON.stringify({
          metric: "web.verify_receipt_ms",
          value: Number(median.toFixed(2)),
          unit: "ms",
          first: Number(first.toFixed(2)),
          browser: "chromium",
        }),
      );
      expect(first).to.be.at.most(100);
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
