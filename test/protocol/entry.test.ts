import { createHash } from "node:crypto";
import { expect } from "chai";
import {
  canonicalJson,
  contentHash,
  decodeEntry,
  encodeEntry,
  entryString,
  type Hex,
  leafHash,
  type OpinionEntry,
  ProtocolError,
  utf8Encode,
} from "../../protocol/index.ts";
import { INHERITED_SECTION_IDS } from "../support/names.ts";
import { seededRandom, TEST_SEED } from "../support/random.ts";

const nodeSha256Hex = (data: Uint8Array) => `0x${createHash("sha256").update(data).digest("hex")}`;
const SALT = `0x${"11".repeat(32)}` as Hex;
const AUTHOR = `0x${"aa".repeat(32)}` as Hex;

const sampleOpinion: OpinionEntry = {
  v: 1,
  type: "opinion",
  consultation: "7",
  draftVersion: 1,
  section: "dieu-2",
  stance: "agree",
  contentHash: contentHash(SALT, "Đồng ý với Điều 2."),
  author: AUTHOR,
  channel: "online",
  submittedAt: "2026-05-06T08:00:00.000Z",
  replaces: null,
};

function expectProtocolError(call: () => unknown, message: RegExp) {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an error matching ${message}`).to.be.instanceOf(ProtocolError);
  expect((caught as Error).message).to.match(message);
}

describe("canonical JSON (RFC 8785)", () => {
  it("sorts members by UTF-16 code units and writes no whitespace", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], "\u20ac": 0, "\ud83d\ude00": 1, Z: "é" })).to.equal(
      '{"Z":"é","a":[true,null,"x"],"b":1,"€":0,"😀":1}',
    );
  });
  it("serialises numbers the ECMAScript way and escapes only what JSON requires", () => {
    expect(canonicalJson([1e21, 0.1, -0, 1e-7, '\u0007\n"\\/'])).to.equal(
      '[1e+21,0.1,0,1e-7,"\\u0007\\n\\"\\\\/"]',
    );
  });
  it("refuses values JSON cannot carry", () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, () => 1, 10n, new Date(0)]) {
      expectProtocolError(() => canonicalJson({ bad }), /value\.bad/);
    }
  });
});

describe("entries", () => {
  it("encode to canonical UTF-8 and decode back to the same entry", () => {
    const bytes = encodeEntry(sampleOpinion);
    expect(new TextDecoder().decode(bytes)).to.equal(canonicalJson(sampleOpinion));
    expect(decodeEntry(bytes)).to.deep.equal(sampleOpinion);
    expect(decodeEntry(entryString(sampleOpinion))).to.deep.equal(sampleOpinion);
  });

  it("a worked example keeps its leaf hash (the value docs/PROTOCOL.md shows)", () => {
    const text = entryString(sampleOpinion);
    expect(text.startsWith('{"author":"0xaaaa')).to.equal(true);
    expect(leafHash(utf8Encode(text))).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("moderation entries round-trip", () => {
    const moderation = {
      v: 1 as const,
      type: "moderation" as const,
      consultation: "7",
      target: 0,
      action: "withhold-text" as const,
      reason: "personal-data",
      by: AUTHOR,
      at: "2026-05-07T09:30:00.000Z",
    };
    expect(decodeEntry(encodeEntry(moderation))).to.deep.equal(moderation);
  });

  const mutate = (change: Record<string, unknown>, drop?: string) => {
    const copy: Record<string, unknown> = { ...sampleOpinion, ...change };
    if (drop) delete copy[drop];
    return canonicalJson(copy);
  };

  const rejections: [string, string | Uint8Array, RegExp][] = [
    ["unknown field", mutate({ name: "Nguyễn Văn A" }), /unknown field "name"/],
    ["missing field", mutate({}, "replaces"), /missing the field "replaces"/],
    ["wrong version", mutate({ v: 2 }), /version 2 is not supported/],
    ["unknown type", mutate({ type: "vote" }), /type "vote" is unknown/],
    ["wrong stance", mutate({ stance: "maybe" }), /"stance" must be one of/],
    ["stance of wrong type", mutate({ stance: 1 }), /"stance" must be one of/],
    ["uppercase hash", mutate({ author: `0x${"AA".repeat(32)}` }), /"author" must be a 32-byte/],
    ["short hash", mutate({ contentHash: "0x1234" }), /"contentHash" must be a 32-byte/],
    [
      "time without milliseconds",
      mutate({ submittedAt: "2026-05-06T08:00:00Z" }),
      /"submittedAt" must be RFC 3339/,
    ],
    [
      "impossible date",
      mutate({ submittedAt: "2026-02-30T08:00:00.000Z" }),
      /"submittedAt" must be RFC 3339/,
    ],
    ["time with offset", mutate({ submittedAt: "2026-05-06T08:00:00.000+07:00" }), /"submittedAt"/],
    ["leading-zero id", mutate({ consultation: "07" }), /"consultation" must be a decimal/],
    ["numeric id", mutate({ consultation: 7 }), /"consultation" must be a decimal/],
    ["draft version 0", mutate({ draftVersion: 0 }), /"draftVersion" must be an integer >= 1/],
    ["fractional replaces", mutate({ replaces: 1.5 }), /"replaces" must be null or a leaf index/],
    ["bad section id", mutate({ section: "../etc" }), /"section" must be a section id/],
    ["whitespace", JSON.stringify(sampleOpinion, null, 1), /not in canonical form/],
    ["unsorted keys", JSON.stringify(sampleOpinion), /not in canonical form/],
    [
      "duplicate key",
      canonicalJson(sampleOpinion).replace('{"author"', '{"author":"x","author"'),
      /not in canonical form/,
    ],
    ["not JSON", "{opinion", /not valid JSON/],
    ["an array", "[]", /must be a JSON object/],
    ["invalid UTF-8", Uint8Array.of(0x7b, 0xff, 0x7d), /not valid UTF-8/],
  ];
  for (const [name, input, message] of rejections) {
    it(`decodeEntry refuses ${name} with a message naming the problem`, () =>
      expectProtocolError(() => decodeEntry(input), message));
  }

  it("refuses a field named like an Object.prototype member and accepts such a section id", () => {
    for (const name of INHERITED_SECTION_IDS) {
      expectProtocolError(() => decodeEntry(mutate({ [name]: "x" })), new RegExp(`unknown field "${name}"`));
      expectProtocolError(
        () => entryString({ ...sampleOpinion, [name]: "x" } as OpinionEntry),
        new RegExp(`unknown field "${name}"`),
      );
      const onSection = { ...sampleOpinion, section: name };
      expect(decodeEntry(entryString(onSection))).to.deep.equal(onSection);
    }
  });

  it("the fast entry serialiser writes exactly the general RFC 8785 text, for random entries of both types", () => {
    const rand = seededRandom(TEST_SEED);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    const hex = () => `0x${Array.from({ length: 64 }, () => pick([..."0123456789abcdef"])).join("")}` as Hex;
    const id = () =>
      pick([..."abcXYZ019._-"]).replace(/^[._-]/, "a") +
      Array.from({ length: Math.floor(rand() * 20) }, () => pick([..."abcXYZ019._-"])).join("");
    const time = () => new Date(Math.floor(rand() * 4e12)).toISOString();
    for (let i = 0; i < 300; i++) {
      const entry =
        rand() < 0.7
          ? {
              ...sampleOpinion,
              consultation: String(1 + Math.floor(rand() * 1e9)),
              draftVersion: 1 + Math.floor(rand() * 9),
              section: id(),
              stance: pick(["agree", "disagree", "neutral"] as const),
              contentHash: hex(),
              author: hex(),
              channel: pick(["online", "offline"] as const),
              submittedAt: time(),
              replaces: rand() < 0.5 ? null : Math.floor(rand() * 1e12),
            }
          : {
              v: 1 as const,
              type: "moderation" as const,
              consultation: String(1 + Math.floor(rand() * 1e9)),
              target: Math.floor(rand() * 1e12),
              action: "withhold-text" as const,
              reason: pick(["personal-data", "spam", "x-1"]),
              by: hex(),
              at: time(),
            };
      expect(entryString(entry)).to.equal(canonicalJson(entry));
      expect(decodeEntry(entryString(entry))).to.deep.equal(entry);
    }
  });

  it("encodeEntry validates too", () => {
    expectProtocolError(() => encodeEntry({ ...sampleOpinion, stance: "yes" } as never), /stance/);
  });
});

describe("contentHash", () => {
  it("contentHash = SHA-256(salt || UTF-8 text)", () => {
    // SHA-256 of 32 bytes of 0x11 followed by "abc", computed independently with node:crypto.
    const expected = nodeSha256Hex(Buffer.concat([Buffer.alloc(32, 0x11), Buffer.from("abc")]));
    expect(contentHash(SALT, "abc")).to.equal(expected);
    expect(contentHash(SALT, "abd")).to.not.equal(expected);
  });
  it("refuses a salt that is not 32 bytes and text with lone surrogates", () => {
    expectProtocolError(() => contentHash("0x11" as Hex, "abc"), /salt must be 32 bytes/);
    expectProtocolError(() => contentHash(SALT, "\ud800"), /lone UTF-16 surrogate/);
  });
});
