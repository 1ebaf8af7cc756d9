// The counted map as its users meet it: the service updating it and serving proofs, a verifier
// saying whether a receipt's opinion is the one counted, and every refusal with its reason.
import { expect } from "chai";
import {
  bytesToHex,
  COUNTED_ZERO,
  type CountedAddress,
  CountedMap,
  type CountedNode,
  type CountedProof,
  type CountedStore,
  checkCountedProof,
  checkEntryCounted,
  countedKey,
  countedLeafNode,
  countedUpdate,
  decodeEntry,
  type Hex,
  LEAF_RECORD_BYTES,
  MemoryCountedStore,
  type OpinionEntry,
  ProtocolError,
  sha256,
  utf8Encode,
  writeLeafRecord,
} from "../../protocol/index.ts";
import { EXAMPLE_ENTRIES } from "./counted-example.ts";

const pseudonym = (n: number) => bytesToHex(sha256(utf8Encode(`author ${n}`)));
const leafHashOf = (n: number) => bytesToHex(sha256(utf8Encode(`entry ${n}`)));
const A = pseudonym(1);
const B = pseudonym(2);

/** Opinions (author, section) at consecutive log indexes from `from`. */
function opinions(from: number, ...pairs: [Hex, string][]) {
  return pairs.map(([author, section], i) => ({
    key: countedKey(author, section),
    leafIndex: from + i,
    leafHash: leafHashOf(from + i),
  }));
}

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<ProtocolError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    expect(error).to.be.instanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error("expected a ProtocolError");
}

describe("counted map: keys and leaf nodes", () => {
  it("keys are SHA-256 of author:section, and refuse what is not a pseudonym or a section id", async () => {
    expect(countedKey(A, "dieu-1")).to.equal(bytesToHex(sha256(utf8Encode(`${A}:dieu-1`))));
    expect(countedKey(A, "dieu-1")).to.not.equal(countedKey(A, "dieu-2"));
    expect((await rejection(() => countedKey("0xABC" as Hex, "dieu-1"))).message).to.match(
      /author must be a pseudonym/,
    );
    expect((await rejection(() => countedKey(A.toUpperCase() as Hex, "dieu-1"))).message).to.match(/author/);
    expect((await rejection(() => countedKey(A, "điều 1"))).message).to.match(/section must be a section id/);
  });

  it("countedUpdate turns an opinion into its key's update and leaves moderation out", () => {
    const opinion: OpinionEntry = { ...EXAMPLE_ENTRIES[0]!, author: A };
    expect(countedUpdate(4, opinion, leafHashOf(4))).to.deep.equal({
      key: countedKey(A, "dieu-1"),
      leafIndex: 4,
      leafHash: leafHashOf(4),
    });
    const moderation = decodeEntry(
      `{"action":"withhold-text","at":"2026-05-06T08:00:00.000Z","by":"${B}","consultation":"1","reason":"personal-data","target":4,"type":"moderation","v":1}`,
    );
    expect(countedUpdate(5, moderation, leafHashOf(5))).to.equal(null);
  });

  it("a map of one leaf has that leaf's node as root, wherever the key points", async () => {
    const map = new CountedMap();
    expect(await map.root()).to.equal(COUNTED_ZERO);
    const [update] = opinions(0, [A, "dieu-1"]);
    expect(await map.update([update!], 1)).to.equal(countedLeafNode(update!));
  });
});

describe("CountedMap", () => {
  it("an opinion that replaces another updates its key; the map at earlier sizes still says the old one", async () => {
    const map = new CountedMap(new MemoryCountedStore({ history: true }));
    await map.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"], [A, "dieu-2"]), 3);
    const before = await map.root();
    // Entry 3 is a moderation (no update), entry 4 is A's new opinion on dieu-1.
    await map.update(opinions(4, [A, "dieu-1"]), 5);
    expect(await map.root()).to.not.equal(before);
    expect(await map.root(3)).to.equal(before);
    const now = await map.proof({ author: A, section: "dieu-1" });
    const then = await map.proof({ author: A, section: "dieu-1" }, 3);
    expect(now.leaf).to.deep.include({ leafIndex: 4 });
    expect(then.leaf).to.deep.include({ leafIndex: 0 });
    expect(then.treeSize).to.equal(3);
  });

  it("within one update, a key set twice keeps the later opinion", async () => {
    const twice = new CountedMap();
    await twice.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"], [A, "dieu-1"]), 3);
    const once = new CountedMap();
    await once.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"], [A, "dieu-1"]).slice(1), 3);
    expect(await twice.root()).to.equal(await once.root());
    expect((await twice.proof({ author: A, section: "dieu-1" })).leaf?.leafIndex).to.equal(2);
  });

  it("takes updates packed as leaf records, with the same root and the same refusals", async () => {
    const updates = opinions(0, [A, "dieu-1"], [B, "dieu-1"], [A, "dieu-2"], [A, "dieu-1"]);
    const packed = new Uint8Array(updates.length * LEAF_RECORD_BYTES);
    for (const [i, u] of updates.entries()) {
      writeLeafRecord(packed, i * LEAF_RECORD_BYTES, u.key, u.leafIndex, u.leafHash);
    }
    const byObjects = new CountedMap();
    await byObjects.update(updates.slice(0, 2), 2);
    await byObjects.update(updates.slice(2), 5);
    const byRecords = new CountedMap();
    await byRecords.updateRecords(packed.subarray(0, 2 * LEAF_RECORD_BYTES), 2);
    expect(await byRecords.updateRecords(packed.subarray(2 * LEAF_RECORD_BYTES), 5)).to.equal(
      await byObjects.root(),
    );
    expect((await byRecords.proof({ author: A, section: "dieu-1" })).leaf?.leafIndex).to.equal(3);
    const again = new CountedMap();
    expect((await rejection(again.updateRecords(packed.subarray(LEAF_RECORD_BYTES), 3))).message).to.match(
      /update 2: leafIndex 3 must be .* below treeSize 3/,
    );
    const swapped = packed.slice();
    swapped.copyWithin(0, LEAF_RECORD_BYTES, 2 * LEAF_RECORD_BYTES);
    expect((await rejection(again.updateRecords(swapped, 5))).message).to.match(/update 1: .*log order/);
    expect((await rejection(again.updateRecords(packed.subarray(1), 5))).code).to.equal("invalid_argument");
    expect(again.treeSize).to.equal(0);
  });

  it("reopens from its store at a tree size and goes on from there", async () => {
    const store = new MemoryCountedStore({ history: true });
    const map = new CountedMap(store);
    await map.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"]), 2);
    await map.update(opinions(2, [A, "dieu-2"]), 3);
    const reopened = await CountedMap.open(store, 3);
    expect(reopened.treeSize).to.equal(3);
    expect(await reopened.root()).to.equal(await map.root());
    expect(await reopened.proof(countedKey(B, "dieu-1"))).to.deep.equal(
      await map.proof(countedKey(B, "dieu-1")),
    );
    expect(await (await CountedMap.open(store, 2)).root()).to.equal(await map.root(2));
    await reopened.update(opinions(3, [B, "dieu-2"]), 4);
    const direct = new CountedMap();
    await direct.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"], [A, "dieu-2"], [B, "dieu-2"]), 4);
    expect(await reopened.root()).to.equal(await direct.root());
  });

  it("refuses updates out of log order, before its size or past the new one, and sizes beyond the map", async () => {
    const map = new CountedMap();
    await map.update(opinions(0, [A, "dieu-1"]), 2);
    const [next] = opinions(2, [B, "dieu-1"]);
    expect((await rejection(map.update([{ ...next!, leafIndex: 1 }], 3))).code).to.equal("invalid_index");
    expect((await rejection(map.update([next!], 2))).message).to.match(/below treeSize 2/);
    expect((await rejection(map.update([next!, next!], 4))).message).to.match(/log order/);
    expect((await rejection(map.update([], 1))).message).to.match(/below the map's 2/);
    expect((await rejection(map.update([{ ...next!, key: "0x12" as Hex }], 3))).message).to.match(/update 0/);
    expect((await rejection(map.proof(next!.key, 3))).message).to.match(/beyond the map's 2/);
    expect((await rejection(map.root(5))).code).to.equal("invalid_size");
    expect(map.treeSize).to.equal(2);
  });

  it("leaves the map as it was when the store fails, and takes one update at a time", async () => {
    class FailingStore extends MemoryCountedStore {
      fail = false;
      override putNodes(nodes: readonly CountedNode[], treeSize: number): void {
        if (this.fail) throw new Error("disk full");
        super.putNodes(nodes, treeSize);
      }
    }
    const store = new FailingStore({ history: true });
    const map = new CountedMap(store);
    await map.update(opinions(0, [A, "dieu-1"]), 1);
    const root = await map.root();
    store.fail = true;
    let failure: unknown;
    await map.update(opinions(1, [B, "dieu-1"]), 2).catch((e) => {
      failure = e;
    });
    expect((failure as Error).message).to.equal("disk full");
    expect(map.treeSize).to.equal(1);
    expect(await map.root()).to.equal(root);
    store.fail = false;
    const both = [map.update(opinions(1, [B, "dieu-1"]), 2), map.update(opinions(2, [B, "dieu-2"]), 3)];
    const [first, second] = await Promise.allSettled(both);
    expect(first?.status).to.equal("fulfilled");
    expect(second?.status === "rejected" && (second.reason as Error).message).to.match(/has not finished/);
  });

  it("refuses a store that answers with junk or loses a record", async () => {
    const junk: CountedStore = {
      getNodes: (addresses: readonly CountedAddress[]) => addresses.map(() => new Uint8Array(5)),
      putNodes: () => {},
    };
    expect((await rejection(CountedMap.open(junk, 3))).message).to.match(/malformed answer/);
    const store = new MemoryCountedStore();
    const map = new CountedMap(store);
    await map.update(opinions(0, [A, "dieu-1"], [B, "dieu-1"]), 2);
    const forgetful: CountedStore = {
      getNodes: (addresses, size) =>
        store.getNodes(addresses, size).map((r, i) => (addresses[i]!.depth > 0 ? null : r)),
      putNodes: () => {},
    };
    expect(
      (await rejection((await CountedMap.open(forgetful, 2)).proof(countedKey(A, "dieu-1")))).message,
    ).to.match(/no record at depth/);
  });

  it("an in-memory store without history refuses what it cannot answer at an older size", async () => {
    const map = new CountedMap(new MemoryCountedStore());
    await map.update(opinions(0, [A, "dieu-1"]), 1);
    await map.update(opinions(1, [B, "dieu-1"]), 2);
    expect((await rejection(map.root(1))).message).to.match(/keeps only the latest records/);
  });
});

describe("checkCountedProof and checkEntryCounted", () => {
  let map: CountedMap;
  let head: { treeSize: number; countedRoot: Hex };
  let proofA: CountedProof;
  beforeEach(async () => {
    map = new CountedMap(new MemoryCountedStore({ history: true }));
    const authors = Array.from({ length: 40 }, (_, i) => pseudonym(100 + i));
    await map.update(
      opinions(0, [A, "dieu-1"], [B, "dieu-1"], ...authors.map((a) => [a, "dieu-1"] as [Hex, string])),
      42,
    );
    head = { treeSize: 42, countedRoot: await map.root() };
    proofA = await map.proof({ author: A, section: "dieu-1" });
  });

  const reason = (
    proof: unknown,
    query: Parameters<typeof checkCountedProof>[1] = countedKey(A, "dieu-1"),
  ) => {
    const check = checkCountedProof(proof, query, head);
    expect(check.ok, JSON.stringify(proof)).to.equal(false);
    return (check as { reason: string }).reason;
  };

  it("accepts the map's proof by key or by (author, section), and says what the map holds", () => {
    const leaf = { key: countedKey(A, "dieu-1"), leafIndex: 0, leafHash: leafHashOf(0) };
    expect(checkCountedProof(proofA, { author: A, section: "dieu-1" }, head)).to.deep.equal({
      ok: true,
      leaf,
    });
    expect(checkCountedProof(JSON.parse(JSON.stringify(proofA)), leaf.key, head)).to.deep.equal({
      ok: true,
      leaf,
    });
  });

  it("gives a precise reason for each malformed proof", () => {
    const sibling = proofA.siblings[0]!;
    expect(reason(null)).to.equal("the proof is not an object");
    expect(reason({ ...proofA, extra: 1 })).to.equal('the proof has an unknown field "extra"');
    const { leaf: _leaf, ...noLeaf } = proofA;
    expect(reason(noLeaf)).to.equal('the proof has no field "leaf"');
    expect(reason({ ...proofA, treeSize: -1 })).to.match(/treeSize is not a non-negative safe integer/);
    expect(reason({ ...proofA, treeSize: 1.5 })).to.match(/treeSize/);
    expect(reason({ ...proofA, root: proofA.root.slice(0, 64) })).to.match(
      /root is not a 32-byte 0x-hex hash/,
    );
    expect(reason({ ...proofA, siblings: "x" })).to.match(/siblings are not an array/);
    expect(reason({ ...proofA, siblings: [sibling.slice(0, 64)] })).to.equal(
      "sibling 0 (depth 1) is not a 32-byte 0x-hex hash",
    );
    expect(reason({ ...proofA, siblings: [sibling.toUpperCase().replace("0X", "0x")] })).to.match(
      /sibling 0/,
    );
    expect(reason({ ...proofA, siblings: Array(257).fill(sibling) })).to.match(
      /257 siblings; a key has only 256 bits/,
    );
    expect(reason({ ...proofA, leaf: { ...proofA.leaf, leafIndex: 42 } })).to.match(
      /index 42 is not below the proof's tree size 42/,
    );
    expect(reason({ ...proofA, leaf: { ...proofA.leaf, leafHash: "0x" } })).to.match(
      /leafHash is not a 32-byte/,
    );
    expect(reason({ ...proofA, leaf: { key: proofA.key } })).to.match(/leaf has no field "leafIndex"/);
  });

  it("gives a precise reason for each proof that does not prove the claim", () => {
    expect(reason(proofA, countedKey(B, "dieu-1"))).to.match(
      /is for key 0x[0-9a-f]{64}, not the queried key/,
    );
    expect(reason(proofA, { author: "0x1" as Hex, section: "dieu-1" })).to.match(
      /author must be a pseudonym/,
    );
    expect(reason(proofA, 7 as unknown as Hex)).to.match(/neither a key nor \{author, section\}/);
    expect(reason({ ...proofA, treeSize: 41 })).to.equal(
      "the proof is for tree size 41, the anchored head for 42",
    );
    expect(reason({ ...proofA, root: COUNTED_ZERO })).to.equal(
      "the proof's root is not the anchored countedRoot",
    );
    expect(reason({ ...proofA, siblings: [...proofA.siblings, COUNTED_ZERO] })).to.match(
      /ZERO: the proof is not canonical/,
    );
    const other = { ...proofA.leaf!, key: countedKey(B, "dieu-1") };
    expect(reason({ ...proofA, leaf: other })).to.match(/does not share the queried key's first \d+ bits/);
    expect(reason({ ...proofA, leaf: { ...proofA.leaf!, leafIndex: 1 } })).to.equal(
      "the proof leads to a different root",
    );
    expect(
      checkCountedProof(proofA, countedKey(A, "dieu-1"), { treeSize: -1, countedRoot: head.countedRoot }),
    ).to.deep.equal({
      ok: false,
      reason: "the anchored head's treeSize is not a non-negative safe integer",
    });
    expect(
      checkCountedProof(proofA, countedKey(A, "dieu-1"), { treeSize: 42, countedRoot: "0x00" as Hex }),
    ).to.deep.equal({
      ok: false,
      reason: "the anchored countedRoot is not a 32-byte 0x-hex hash",
    });
  });

  it("says counted, replaced (by which entry), pending, absent or mismatch for a receipt's opinion", async () => {
    const mine = { author: A, section: "dieu-1", leafIndex: 0, leafHash: leafHashOf(0) };
    expect(checkEntryCounted(proofA, mine, head)).to.deep.include({ ok: true, status: "counted" });
    // A later opinion under A's pseudonym (index 43) replaces it.
    await map.update(opinions(43, [A, "dieu-1"]), 44);
    const later = { treeSize: 44, countedRoot: await map.root() };
    const replaced = checkEntryCounted(await map.proof(countedKey(A, "dieu-1")), mine, later);
    expect(replaced).to.deep.equal({
      ok: true,
      status: "replaced",
      current: { key: countedKey(A, "dieu-1"), leafIndex: 43, leafHash: leafHashOf(43) },
    });
    // That later entry's own receipt is counted; checked against the older head it is pending.
    const theirs = { ...mine, leafIndex: 43, leafHash: leafHashOf(43) };
    expect(checkEntryCounted(await map.proof(countedKey(A, "dieu-1")), theirs, later)).to.deep.include({
      status: "counted",
    });
    expect(checkEntryCounted(proofA, theirs, head)).to.deep.include({ ok: true, status: "pending" });
    // A map that holds nothing for the key, or an entry that is not this one: the map contradicts the log.
    const absent = await map.proof({ author: A, section: "dieu-9" });
    expect(checkEntryCounted(absent, { ...mine, section: "dieu-9" }, later)).to.deep.equal({
      ok: true,
      status: "absent",
      current: null,
    });
    expect(checkEntryCounted(proofA, { ...mine, leafIndex: 30 }, head)).to.deep.include({
      status: "mismatch",
    });
    expect(checkEntryCounted(proofA, { ...mine, leafHash: leafHashOf(9) }, head)).to.deep.include({
      status: "mismatch",
    });
    // A bad proof is a refusal, never a status.
    expect(checkEntryCounted({ ...proofA, treeSize: 43 }, mine, head)).to.deep.include({ ok: false });
    expect(checkEntryCounted(proofA, { ...mine, leafIndex: -1 }, head)).to.deep.equal({
      ok: false,
      reason: "the entry's leafIndex is not a non-negative safe integer",
    });
  });
});
