import { expect } from "chai";
import {
  bytesToHex,
  canonicalJson,
  computeTally,
  type Entry,
  type Hex,
  ProtocolError,
  sha256,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";
import { INHERITED_SECTION_IDS } from "../support/names.ts";

const author = (n: number) => `0x${n.toString(16).padStart(64, "0")}` as Hex;
const ROOT = `0x${"cd".repeat(32)}` as Hex;
const opinion = (
  who: number,
  section: string,
  stance: "agree" | "disagree" | "neutral",
  channel: "online" | "offline" = "online",
  replaces: number | null = null,
): Entry => ({
  v: 1,
  type: "opinion",
  consultation: "5",
  draftVersion: 1,
  section,
  stance,
  contentHash: author(1000 + who),
  author: author(who),
  channel,
  submittedAt: "2026-05-06T08:00:00.000Z",
  replaces,
});

describe("tally", () => {
  const entries: Entry[] = [
    opinion(1, "dieu-1", "agree"),
    opinion(2, "dieu-1", "disagree"),
    opinion(1, "dieu-1", "disagree", "online", 0), // replaces author 1's first opinion
    opinion(3, "dieu-1", "neutral", "offline"),
    opinion(1, "dieu-2", "agree"),
    {
      v: 1,
      type: "moderation",
      consultation: "5",
      target: 1,
      action: "withhold-text",
      reason: "personal-data",
      by: author(99),
      at: "2026-05-06T09:00:00.000Z",
    },
  ];
  const doc = computeTally(
    "5",
    ["dieu-1", "dieu-2", "dieu-3"],
    entries.map((entry, index) => ({ index, entry })),
    6,
    ROOT,
  );

  it("counts each author's latest opinion per section, split by channel, withheld texts included", () => {
    expect(doc.sections["dieu-1"]).to.deep.equal({
      online: { agree: 0, disagree: 2, neutral: 0 },
      offline: { agree: 0, disagree: 0, neutral: 1 },
      total: { agree: 0, disagree: 2, neutral: 1 },
    });
    expect(doc.sections["dieu-2"]!.total).to.deep.equal({ agree: 1, disagree: 0, neutral: 0 });
    expect(doc.totals.total).to.deep.equal({ agree: 1, disagree: 2, neutral: 1 });
  });

  it("lists every section of the draft, zero counts included", () => {
    expect(Object.keys(doc.sections).sort()).to.deep.equal(["dieu-1", "dieu-2", "dieu-3"]);
    expect(doc.sections["dieu-3"]!.total).to.deep.equal({ agree: 0, disagree: 0, neutral: 0 });
  });

  it("tallyHash is SHA-256 of the canonical document", () => {
    expect(tallyHash(doc)).to.equal(bytesToHex(sha256(utf8Encode(canonicalJson(doc)))));
    const changed = computeTally(
      "5",
      ["dieu-1", "dieu-2", "dieu-3"],
      entries.slice(0, 5).map((entry, index) => ({ index, entry })),
      5,
      ROOT,
    );
    expect(tallyHash(changed)).to.not.equal(tallyHash(doc));
  });

  it("counts sections named like Object.prototype members, in the draft or removed from it", () => {
    // Half the ids are in the draft; opinions on the others count under their own ids.
    const inDraft = INHERITED_SECTION_IDS.filter((_, i) => i % 2 === 0);
    const voted = INHERITED_SECTION_IDS.map((id, i) => opinion(i + 1, id, "agree"));
    const tally = computeTally(
      "5",
      inDraft,
      voted.map((entry, index) => ({ index, entry })),
      voted.length,
      ROOT,
    );
    const one = { agree: 1, disagree: 0, neutral: 0 };
    const none = { agree: 0, disagree: 0, neutral: 0 };
    const expected = JSON.parse(
      JSON.stringify({
        v: 1,
        consultation: "5",
        treeSize: voted.length,
        rootHash: ROOT,
        sections: Object.fromEntries(
          INHERITED_SECTION_IDS.map((id) => [id, { online: one, offline: none, total: one }]),
        ),
        totals: {
          online: { ...none, agree: voted.length },
          offline: none,
          total: { ...none, agree: voted.length },
        },
      }),
    );
    expect(tally).to.deep.equal(expected);
    expect(Object.keys(tally.sections).sort()).to.deep.equal([...INHERITED_SECTION_IDS]);
    expect(tallyHash(tally)).to.equal(bytesToHex(sha256(utf8Encode(canonicalJson(expected)))));
  });

  it("refuses a tally that skips entries, mixes consultations or claims another size", () => {
    expect(() => computeTally("5", ["dieu-1"], [{ index: 1, entry: entries[0]! }], 1, ROOT)).to.throw(
      ProtocolError,
      /log order/,
    );
    expect(() => computeTally("6", ["dieu-1"], [{ index: 0, entry: entries[0]! }], 1, ROOT)).to.throw(
      ProtocolError,
      /belongs to consultation 5/,
    );
    expect(() => computeTally("5", ["dieu-1"], [{ index: 0, entry: entries[0]! }], 2, ROOT)).to.throw(
      ProtocolError,
      /covers 1 entries but the tree has 2/,
    );
  });
});
