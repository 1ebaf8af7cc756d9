// The audit's per-entry rules, fed in process: logs whose heads are "anchored" in the facts given to
// the auditor, so that only the rule under test can fail. (The CLI tests run them against a real chain.)
import { expect } from "chai";
import { EXIT } from "../../audit/codes.ts";
import type { AuditResult, ChainFacts } from "../../audit/core.ts";
import { Auditor, COUNTED_NOT_CHECKABLE, tallyDifferences } from "../../audit/core.ts";
import { checkBlock } from "../../audit/line.ts";
import { spillingAuditState } from "../../audit/spill.node.ts";
import type { AuditState } from "../../audit/state.ts";
import { lineBlocks } from "../../audit/stream.ts";
import type { Draft, Entry, Hex, OpinionEntry } from "../../protocol/index.ts";
import {
  COUNTED_ZERO,
  CountedMap,
  computeTally,
  contentHash,
  countedUpdate,
  draftHash,
  entryString,
  formatTime,
  leafHash,
  MerkleLog,
  pseudonym,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";
import { WORKED_OPINION } from "../protocol/worked-example.ts";
import { INHERITED_SECTION_IDS } from "../support/names.ts";
import { testDraft } from "./fixtures/generate.ts";

const OPENS = Date.parse("2026-05-01T00:00:00.000Z");
const CLOSES = Date.parse("2026-06-01T00:00:00.000Z");
const SALT = `0x${"11".repeat(32)}` as Hex;
const secret = new Uint8Array(32).fill(7);
const alice = pseudonym(secret, "citizen", "1", "alice");
const bob = pseudonym(secret, "citizen", "1", "bob");

/** A moderation entry by `by` withholding the text of entry `target`. */
function withholding(target: number, by: Hex): Entry {
  const at = formatTime(OPENS + 5000);
  return {
    v: 1,
    type: "moderation",
    consultation: "1",
    target,
    action: "withhold-text",
    reason: "personal-data",
    by,
    at,
  };
}

/** The worked example's opinion, by alice, inside this file's window, changed by `over`. */
function opinion(over: Partial<OpinionEntry>): OpinionEntry {
  const submittedAt = formatTime(OPENS + 1000);
  return { ...WORKED_OPINION, contentHash: contentHash(SALT, "ý kiến"), author: alice, submittedAt, ...over };
}

/** What the auditor would read from the chain: consultation 1 with one anchored head of `treeSize` at `root`. */
function chainFacts(
  treeSize: number,
  root: Hex,
  o: { chainId: number; anchoredAt: number; blockNumber: number },
  draft: Draft = testDraft(),
): ChainFacts {
  return {
    chainId: o.chainId,
    contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    consultation: "1",
    agency: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    draftHash: draftHash(draft),
    draftURI: "",
    draftVersion: 1,
    opensAt: OPENS / 1000,
    closesAt: CLOSES / 1000,
    head: { treeSize, rootHash: root, anchoredAt: o.anchoredAt },
    recordTallyHash: `0x${"00".repeat(32)}`,
    anchors: [
      {
        treeSize,
        rootHash: root,
        countedRoot: null,
        blockNumber: o.blockNumber,
        txHash: `0x${"22".repeat(32)}`,
      },
    ],
    tally: null,
  };
}

async function audit(
  entries: readonly Entry[],
  withheld: readonly number[] = [],
  draft: Draft = testDraft(),
): Promise<AuditResult> {
  const log = new MerkleLog();
  const lines = entries.map((e, index) => {
    const leaf = entryString(e);
    const hash = leafHash(utf8Encode(leaf));
    const extra =
      e.type === "opinion"
        ? withheld.includes(index)
          ? { withheld: true }
          : { text: "ý kiến", salt: SALT }
        : {};
    return { line: JSON.stringify({ index, leaf, leafHash: hash, ...extra }), hash };
  });
  await log.appendBatch(lines.map((l) => l.hash));
  const root = await log.root();
  const facts = chainFacts(
    entries.length,
    root,
    { chainId: 31337, anchoredAt: CLOSES / 1000, blockNumber: 5 },
    draft,
  );
  const auditor = new Auditor(facts, draft);
  for (const { line } of lines) await auditor.push(line);
  return auditor.finish(performance.now());
}

/**
 * Audits `entries` against heads anchored at `sizes`, each with the countedRoot `countedRootAt` gives
 * (default: the map the service keeps, built here with protocol's CountedMap from the same entries).
 */
async function auditAnchored(
  entries: readonly Entry[],
  sizes: readonly number[],
  countedRootAt?: (size: number, honest: Hex) => Hex | null,
  o: { withheld?: ReadonlySet<number>; state?: AuditState } = {},
): Promise<AuditResult> {
  const log = new MerkleLog();
  const map = new CountedMap();
  const lines: string[] = [];
  const anchors: ChainFacts["anchors"][number][] = [];
  for (const [index, e] of entries.entries()) {
    const leaf = entryString(e);
    const hash = leafHash(utf8Encode(leaf));
    const shown =
      e.type !== "opinion"
        ? {}
        : o.withheld?.has(index)
          ? { withheld: true }
          : { text: "ý kiến", salt: SALT };
    lines.push(JSON.stringify({ index, leaf, leafHash: hash, ...shown }));
    await log.append(hash);
    const update = countedUpdate(index, e, hash);
    await map.update(update ? [update] : [], index + 1);
    if (sizes.includes(index + 1)) {
      const honest = await map.root();
      anchors.push({
        treeSize: index + 1,
        rootHash: await log.root(),
        countedRoot: countedRootAt ? countedRootAt(index + 1, honest) : honest,
        blockNumber: anchors.length + 2,
        txHash: `0x${"22".repeat(32)}`,
      });
    }
  }
  const last = anchors[anchors.length - 1]!;
  const facts: ChainFacts = {
    ...chainFacts(last.treeSize, last.rootHash, { chainId: 31337, anchoredAt: 0, blockNumber: 9 }),
    anchors,
  };
  const auditor = new Auditor(facts, testDraft(), o.state ? { state: o.state } : {});
  for (const line of lines) await auditor.push(line);
  return auditor.finish(performance.now());
}

const kinds = (r: AuditResult) => r.failures.map((f) => f.kind);

describe("audit rules", () => {
  it("accepts a replacement that points to the author's latest opinion on the section", async () => {
    const r = await audit([
      opinion({}),
      opinion({ author: bob }),
      opinion({ section: "dieu-2" }),
      opinion({ stance: "disagree", replaces: 0 }),
      opinion({ stance: "neutral", replaces: 3 }),
    ]);
    expect(r.failures).to.deep.equal([]);
    expect(r.exitCode).to.equal(0);
    expect(r.tally.document?.sections["dieu-1"]?.total).to.deep.equal({ agree: 1, disagree: 0, neutral: 1 });
  });

  it("fails two live opinions of one author on one section: replaces", async () => {
    const r = await audit([opinion({}), opinion({ stance: "disagree" })]);
    expect(kinds(r)).to.deep.equal(["replaces"]);
    expect(r.exitCode).to.equal(EXIT.replaces);
  });

  it("fails a replacement pointing to an opinion that is no longer the latest", async () => {
    const r = await audit([opinion({}), opinion({ replaces: 0 }), opinion({ replaces: 0 })]);
    expect(kinds(r)).to.deep.equal(["replaces"]);
  });

  it("fails an opinion submitted before opensAt or at/after closesAt: time-window", async () => {
    for (const at of [OPENS - 1, CLOSES, CLOSES + 86_400_000]) {
      const r = await audit([opinion({ submittedAt: formatTime(at) })]);
      expect(kinds(r), formatTime(at)).to.deep.equal(["time-window"]);
      expect(r.exitCode).to.equal(EXIT["time-window"]);
    }
    expect((await audit([opinion({ submittedAt: formatTime(OPENS) })])).exitCode).to.equal(0);
  });

  it("fails an opinion on a draft version the chain never had, or of another consultation: entry-invalid", async () => {
    expect(kinds(await audit([opinion({ draftVersion: 2 })]))).to.deep.equal(["entry-invalid"]);
    const other = await audit([
      opinion({ consultation: "2", author: pseudonym(secret, "citizen", "2", "alice") }),
    ]);
    expect(kinds(other)).to.include("entry-invalid");
  });

  it("lists withheld texts with their moderation entries; fails moderation of a non-opinion", async () => {
    const by = pseudonym(secret, "officer", "1", "officer");
    const mod = (target: number) => withholding(target, by);
    const ok = await audit([opinion({}), mod(0)], [0]);
    expect(ok.exitCode).to.equal(0);
    expect(ok.withheld).to.deep.equal([
      { index: 0, moderation: [{ index: 1, reason: "personal-data", by, at: formatTime(OPENS + 5000) }] },
    ]);
    expect(ok.tally.document?.totals.total.agree).to.equal(1);
    expect(kinds(await audit([opinion({}), mod(1)], [0]))).to.include("moderation");
    expect(kinds(await audit([opinion({}), mod(0), mod(1)], [0]))).to.deep.equal(["moderation"]);
    // Moderated but its text still public.
    expect(kinds(await audit([opinion({}), mod(0)]))).to.deep.equal(["moderation"]);
  });

  it("fails a leaf that is valid JSON but not canonical: entry-invalid", async () => {
    const leaf = JSON.stringify(opinion({}), null, 1);
    const line = JSON.stringify({
      index: 0,
      leaf,
      leafHash: leafHash(utf8Encode(leaf)),
      text: "ý kiến",
      salt: SALT,
    });
    const log = new MerkleLog();
    await log.append(leafHash(utf8Encode(leaf)));
    const root = await log.root();
    const auditor = new Auditor(
      chainFacts(1, root, { chainId: 1, anchoredAt: 0, blockNumber: 1 }),
      testDraft(),
    );
    await auditor.push(line);
    const r = await auditor.finish(performance.now());
    expect(kinds(r)).to.deep.equal(["entry-invalid"]);
  });

  it("recounts sections named like Object.prototype members, in the draft or removed from it", async () => {
    const ids = INHERITED_SECTION_IDS;
    const draft = {
      ...testDraft(),
      sections: ids.filter((_, i) => i % 2 === 0).map((id) => ({ id, title: id, text: "" })),
    };
    const entries = ids.map((section) => opinion({ section }));
    const r = await audit(entries, [], draft);
    expect(r.failures).to.deep.equal([]);
    const expected = computeTally(
      "1",
      draft.sections.map((s) => s.id),
      entries.map((entry, index) => ({ index, entry })),
      entries.length,
      r.anchors[0]!.chainRoot,
    );
    expect(r.tally.document).to.deep.equal(expected);
    expect(r.tally.computedTallyHash).to.equal(tallyHash(expected));
  });

  it("recomputes the counted map at every anchored head and compares it with the anchored countedRoot", async () => {
    const entries = [
      opinion({}),
      opinion({ author: bob, stance: "disagree" }),
      opinion({ section: "dieu-2" }),
      opinion({ stance: "disagree", replaces: 0 }),
      opinion({ author: bob, section: "dieu-3" }),
    ];
    const honest = await auditAnchored(entries, [2, 4, 5]);
    expect(honest.failures).to.deep.equal([]);
    expect(honest.counted).to.deep.equal({ checked: 3, notCheckable: 0, note: null });
    expect(honest.anchors.map((a) => a.countedOk)).to.deep.equal([true, true, true]);

    // A head whose countedRoot is not the map of the log it anchors (here: as if the replacement at
    // leaf 3 had not happened, so alice's first opinion still counted).
    let before: Hex | null = null;
    const stale = await auditAnchored(entries, [2, 3, 4], (size, root) => {
      if (size === 3) before = root;
      return size === 4 ? before : root;
    });
    expect(kinds(stale)).to.deep.equal(["counted"]);
    expect(stale.exitCode).to.equal(EXIT.counted);
    expect(stale.anchors.map((a) => a.countedOk)).to.deep.equal([true, true, false]);
    expect(stale.failures[0]!.examples[0]).to.match(
      /size 4 .* countedRoot 0x[0-9a-f]{64}; the export's map gives/,
    );
    const empty = await auditAnchored(entries, [5], () => COUNTED_ZERO);
    expect(kinds(empty)).to.deep.equal(["counted"]);
  });

  it("gives the same result with its state spilled to a temporary SQLite file as in memory", async () => {
    // 600 entries: opinions of 40 authors on 5 sections (replacing their earlier ones), every 30th a
    // moderation withholding the opinion before it; the last one moderates an early opinion (an old chunk).
    const by = pseudonym(secret, "officer", "1", "officer");
    const authors = Array.from({ length: 40 }, (_, i) => pseudonym(secret, "citizen", "1", `c${i}`));
    const live = new Map<string, number>();
    const entries: Entry[] = [];
    const withheld = new Set<number>();
    const moderate = (target: number) => withholding(target, by);
    for (let i = 0; i < 599; i++) {
      if (i % 30 === 29) {
        entries.push(moderate(i - 1));
        withheld.add(i - 1);
        continue;
      }
      const author = authors[(i * 7) % 40]!;
      const section = `dieu-${(Math.floor(i / 7) % 5) + 1}`;
      const key = `${author}/${section}`;
      entries.push(
        opinion({ author, section, stance: i % 3 ? "agree" : "neutral", replaces: live.get(key) ?? null }),
      );
      live.set(key, i);
    }
    entries.push(moderate(3));
    withheld.add(3);
    const sizes = [100, 333, 512, 600];
    const inMemory = await auditAnchored(entries, sizes, undefined, { withheld });
    expect(inMemory.failures).to.deep.equal([]);
    expect(inMemory.withheld).to.have.length(20);
    const spilled = await auditAnchored(entries, sizes, undefined, {
      withheld,
      state: spillingAuditState({ keys: 16, countedRecords: 24, flagChunks: 2, flagChunkLeaves: 64 }),
    });
    const { seconds: _a, ...memoryResult } = inMemory;
    const { seconds: _b, ...spilledResult } = spilled;
    expect(spilledResult).to.deep.equal(memoryResult);
    // And it still finds what is wrong: an opinion that replaces one no longer live.
    const broken = [...entries];
    broken[590] = { ...(broken[590] as OpinionEntry), replaces: 0 };
    const spilledBroken = await auditAnchored(broken, sizes, undefined, {
      withheld,
      state: spillingAuditState({ keys: 16, countedRecords: 24, flagChunks: 2, flagChunkLeaves: 64 }),
    });
    expect(kinds(spilledBroken)).to.deep.equal(["replaces"]);
  });

  it("says the counted map is not checkable on a registry without countedRoot, and does not fail for it", async () => {
    const r = await auditAnchored([opinion({}), opinion({ author: bob })], [1, 2], () => null);
    expect(r.failures).to.deep.equal([]);
    expect(r.exitCode).to.equal(0);
    expect(r.counted).to.deep.equal({ checked: 0, notCheckable: 2, note: COUNTED_NOT_CHECKABLE });
    expect(r.anchors.map((a) => a.countedOk)).to.deep.equal([null, null]);
  });

  it("explains a published tally with an extra section named like an Object.prototype member", () => {
    const computed = computeTally("1", ["dieu-1"], [], 0, `0x${"00".repeat(32)}`);
    const zero = { agree: 0, disagree: 0, neutral: 0 };
    const extra = { online: { ...zero, agree: 1 }, offline: zero, total: { ...zero, agree: 1 } };
    const published = { ...computed, sections: { ...computed.sections, toString: extra } };
    expect(tallyDifferences(published, computed)).to.deep.equal([
      "section toString online agree: published 1, recomputed 0",
      "section toString total agree: published 1, recomputed 0",
    ]);
  });

  it("cuts a byte stream into whole lines across chunk boundaries, UTF-8 included, and flags invalid UTF-8", async () => {
    const text = Buffer.from('{"a":"Tôi đồng ý"}\n{"b":2}\n\u00e9\n');
    const bad = Buffer.from([0x7b, 0xff, 0x7d, 0x0a, 0x31]);
    async function* chunks() {
      for (let i = 0; i < text.length; i += 3) yield text.subarray(i, i + 3);
      yield bad;
    }
    const ctx = { consultation: "1", draftVersion: 1, openMs: OPENS, closeMs: CLOSES, sections: [] };
    const out: string[] = [];
    for await (const parts of lineBlocks(chunks(), 8)) {
      const block = checkBlock(parts, ctx);
      let next = 0;
      for (let i = 0; i < block.count; i++) {
        const extra = block.extras[next]?.[0] === i ? block.extras[next++]![1] : null;
        out.push(extra?.problems?.[0]?.[1] ?? "");
      }
    }
    expect(out).to.deep.equal([
      '"leaf" is missing or not a string',
      '"leaf" is missing or not a string',
      "not a JSON object (Unexpected token 'é', \"é\" is not valid JSON)",
      "not valid UTF-8",
      "not a JSON object (not an object)",
    ]);
  });
});
