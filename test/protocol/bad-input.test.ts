// Every public function of protocol/ either accepts an input or refuses it with a ProtocolError whose
// message says what is wrong; no TypeError or RangeError escapes, whatever a caller passes.
import { expect } from "chai";
import * as protocol from "../../protocol/index.ts";

const junk: unknown[] = [
  undefined,
  null,
  0,
  -1,
  1.5,
  Number.NaN,
  2 ** 53,
  "",
  "0x",
  "0xzz",
  `0x${"A".repeat(64)}`,
  {},
  [],
  [null],
  new Uint8Array(3),
  () => 0,
  Symbol("s"),
  10n,
];

type Call = [name: string, (x: unknown) => unknown];

const log = new protocol.MerkleLog();
const counted = new protocol.CountedMap();
const opinion = protocol.decodeEntry(
  `{"author":"${"0x" + "11".repeat(32)}","channel":"online","consultation":"1","contentHash":"${"0x" + "22".repeat(32)}","draftVersion":1,"replaces":null,"section":"dieu-1","stance":"agree","submittedAt":"2026-05-06T08:00:00.000Z","type":"opinion","v":1}`,
);
const key = protocol.receiptKeyFromSeed(new Uint8Array(32));
const hash = `0x${"00".repeat(32)}` as protocol.Hex;

const calls: Call[] = [
  ["hexToBytes", (x) => protocol.hexToBytes(x)],
  ["leafHash", (x) => protocol.leafHash(x as Uint8Array)],
  ["nodeHash(left)", (x) => protocol.nodeHash(x as protocol.Hex, hash)],
  ["nodeHash(right)", (x) => protocol.nodeHash(hash, x as protocol.Hex)],
  ["MerkleLog.append", (x) => log.append(x as protocol.Hex)],
  ["MerkleLog.appendBatch", (x) => log.appendBatch(x as protocol.Hex[])],
  ["MerkleLog.root", (x) => log.root(x as number)],
  ["MerkleLog.inclusionProof", (x) => log.inclusionProof(x as number)],
  ["MerkleLog.consistencyProof", (x) => log.consistencyProof(x as number)],
  ["MerkleLog.open", (x) => protocol.MerkleLog.open(new protocol.MemoryTreeStore(), x as number)],
  ["canonicalJson", (x) => protocol.canonicalJson(x)],
  ["encodeEntry", (x) => protocol.encodeEntry(x as protocol.Entry)],
  ["decodeEntry", (x) => protocol.decodeEntry(x as string)],
  ["contentHash(salt)", (x) => protocol.contentHash(x as protocol.Hex, "text")],
  ["contentHash(text)", (x) => protocol.contentHash(hash, x as string)],
  ["pseudonym(secret)", (x) => protocol.pseudonym(x as Uint8Array, "citizen", "1", "s")],
  ["pseudonym(kind)", (x) => protocol.pseudonym(new Uint8Array(32), x as protocol.PseudonymKind, "1", "s")],
  ["pseudonym(consultation)", (x) => protocol.pseudonym(new Uint8Array(32), "citizen", x as string, "s")],
  ["pseudonym(subject)", (x) => protocol.pseudonym(new Uint8Array(32), "citizen", "1", x as string)],
  ["keyedHash(secret)", (x) => protocol.keyedHash(x as Uint8Array, "subject", "s")],
  ["keyedHash(part)", (x) => protocol.keyedHash(new Uint8Array(32), "subject", x as string)],
  ["draftHash", (x) => protocol.draftHash(x as protocol.Draft)],
  ["receiptKeyFromSeed", (x) => protocol.receiptKeyFromSeed(x as Uint8Array)],
  ["jwkThumbprint", (x) => protocol.jwkThumbprint(x as protocol.PublicJwk)],
  ["signReceipt(fields)", (x) => protocol.signReceipt(x as protocol.ReceiptFields, key)],
  [
    "signReceipt(key)",
    (x) => protocol.signReceipt({} as protocol.ReceiptFields, x as protocol.ReceiptSigningKey),
  ],
  ["verifyReceipt(keys)", (x) => protocol.verifyReceipt({}, x as protocol.PublicJwk[])],
  ["TallyBuilder.add", (x) => new protocol.TallyBuilder("1", ["a"]).add(0, x as protocol.Entry)],
  ["TallyBuilder(sections)", (x) => new protocol.TallyBuilder("1", x as string[])],
  ["tallyHash", (x) => protocol.tallyHash(x as protocol.TallyDocument)],
  ["formatTime", (x) => protocol.formatTime(x as number)],
  ["parseTime", (x) => protocol.parseTime(x)],
  ["base64UrlDecode", (x) => protocol.base64UrlDecode(x)],
  ["countedKey(author)", (x) => protocol.countedKey(x as protocol.Hex, "dieu-1")],
  ["countedKey(section)", (x) => protocol.countedKey(hash, x as string)],
  ["countedLeafNode", (x) => protocol.countedLeafNode(x as protocol.CountedLeaf)],
  ["countedUpdate(entry)", (x) => protocol.countedUpdate(0, x as protocol.Entry, hash)],
  ["countedUpdate(leafHash)", (x) => protocol.countedUpdate(0, opinion, x as protocol.Hex)],
  ["CountedMap.update(updates)", (x) => new protocol.CountedMap().update(x as protocol.CountedUpdate[], 5)],
  ["CountedMap.update(treeSize)", (x) => new protocol.CountedMap().update([], x as number)],
  ["CountedMap.proof", (x) => counted.proof(x as protocol.Hex)],
  ["CountedMap.root", (x) => counted.root(x as number)],
  ["CountedMap.open", (x) => protocol.CountedMap.open(new protocol.MemoryCountedStore(), x as number)],
];

describe("protocol/ on malformed input", () => {
  for (const [name, call] of calls) {
    it(`${name} refuses junk with a ProtocolError, never a generic error`, async () => {
      let refusals = 0;
      for (const value of junk) {
        try {
          await call(value);
        } catch (error) {
          expect(error, `${name}(${String(typeof value === "symbol" ? "symbol" : value)})`).to.be.instanceOf(
            protocol.ProtocolError,
          );
          expect((error as Error).message.length).to.be.greaterThan(10);
          refusals++;
        }
      }
      if (name !== "canonicalJson")
        expect(refusals, `${name} should refuse most junk`).to.be.greaterThan(junk.length / 2);
    });
  }

  it("verification functions return false (with a reason) for every junk argument", () => {
    for (const value of junk) {
      const v = value as never;
      expect(protocol.verifyInclusion(v, 0, 1, [], hash)).to.equal(false);
      // (index 0 of a one-leaf tree whose root is the leaf itself is a valid proof, not junk)
      if (value !== 0) expect(protocol.verifyInclusion(hash, v, 1, [], hash)).to.equal(false);
      expect(protocol.verifyInclusion(hash, 0, v, [], hash)).to.equal(false);
      const emptyProof = Array.isArray(value) && value.length === 0; // likewise valid
      if (!emptyProof) expect(protocol.verifyInclusion(hash, 0, 1, v, hash)).to.equal(false);
      expect(protocol.verifyConsistency(v, 2, [hash], hash, hash)).to.equal(false);
      expect(protocol.verifyConsistency(1, 2, v, hash, hash)).to.equal(false);
      expect(protocol.verifyConsistency(1, 2, [hash], v, hash)).to.equal(false);
      const check = protocol.checkConsistency(1, 2, v, hash, hash);
      expect(check.ok === false && check.reason.length > 5).to.equal(true);
      // The counted map: a junk proof, query, head or entry is a refusal with a reason.
      const head = { treeSize: 0, countedRoot: protocol.COUNTED_ZERO };
      const proof = { treeSize: 0, root: protocol.COUNTED_ZERO, key: hash, siblings: [], leaf: null };
      expect(protocol.verifyCountedProof(proof, hash, head), "the empty map's proof").to.equal(true);
      for (const counted of [
        protocol.checkCountedProof(v, hash, head),
        protocol.checkCountedProof(proof, v, head),
        protocol.checkCountedProof(proof, hash, v),
        protocol.checkCountedProof({ ...proof, siblings: v }, hash, head),
        protocol.checkCountedProof({ ...proof, leaf: v }, hash, head),
        protocol.checkEntryCounted(proof, v, head),
        protocol.checkEntryCounted(
          proof,
          { author: v, section: "dieu-1", leafIndex: 0, leafHash: hash },
          head,
        ),
      ]) {
        // (siblings [] and leaf null are the empty map's valid proof, not junk)
        if ((value === null || (Array.isArray(value) && value.length === 0)) && counted.ok) continue;
        expect(counted.ok === false && counted.reason.length > 5, String(typeof value)).to.equal(true);
      }
    }
  });
});

describe("times", () => {
  it("accepts only real instants written with milliseconds, however recently a valid time was checked", () => {
    const valid = ["2026-05-06T08:00:00.000Z", "2024-02-29T23:59:59.999Z"];
    const invalid = [
      "2026-02-30T08:00:00.000Z", // no such day
      "2025-02-29T08:00:00.000Z", // not a leap year
      "2026-05-06T08:00:00Z", // no milliseconds
      "2026-05-06T08:00:00.000+07:00", // not UTC
      "2026-05-06T24:00:00.000Z",
      "2026-05-06T08:00:00.0000Z",
    ];
    for (let round = 0; round < 3; round++) {
      for (const t of valid) expect(protocol.parseTime(t), t).to.equal(Date.parse(t));
      for (const t of invalid) expect(() => protocol.parseTime(t), t).to.throw(protocol.ProtocolError);
    }
  });
});
