// The counted map's worked example in docs/PROTOCOL.md ("Counted map"), computed by protocol/.
// counted-example.test.ts pins every value the document prints. It starts from section 8's opinion
// (authors citizen-42 and citizen-43, written out here so the document can print them).
import {
  COUNTED_ZERO,
  CountedMap,
  countedKey,
  countedLeafNode,
  countedUpdate,
  decodeEntry,
  entryString,
  type Hex,
  leafHash,
  MemoryCountedStore,
  nodeHash,
  type OpinionEntry,
  utf8Encode,
} from "../../protocol/index.ts";
import { WORKED_OPINION } from "./worked-example.ts";

export const AUTHOR_A: Hex = "0xffd602ec1cdb6ae6e3b3fec8e0c189f572a345b91f5fec22fa6ac3ee3a74af65";
export const AUTHOR_B: Hex = "0xee4f45f71621b0485fe85678509605285ac38f16211aab648a8d6489b133715a";

/** The worked example's opinion (citizen-42 agrees with article 1). */
const base: OpinionEntry = { ...WORKED_OPINION, author: AUTHOR_A };

/** The four opinions of the example, in log order. */
export const EXAMPLE_ENTRIES: readonly OpinionEntry[] = [
  base,
  { ...base, author: AUTHOR_B, stance: "disagree" },
  { ...base, section: "dieu-2", stance: "neutral", channel: "offline" },
  { ...base, stance: "disagree", submittedAt: "2026-05-07T09:30:00.000Z", replaces: 0 },
];

export async function countedExample() {
  const leafHashes = EXAMPLE_ENTRIES.map((e) => leafHash(utf8Encode(entryString(e))));
  const updates = EXAMPLE_ENTRIES.map(
    (e, i) => countedUpdate(i, decodeEntry(entryString(e)), leafHashes[i]!)!,
  );
  const map = new CountedMap(new MemoryCountedStore({ history: true }));
  await map.update(updates.slice(0, 3), 3);
  await map.update(updates.slice(3), 4);
  const keyA1 = countedKey(AUTHOR_A, "dieu-1");
  const keyB1 = countedKey(AUTHOR_B, "dieu-1");
  const keyA2 = countedKey(AUTHOR_A, "dieu-2");
  const [leafA1, leafB1, leafA2] = [updates[3]!, updates[1]!, updates[2]!].map(countedLeafNode) as [
    Hex,
    Hex,
    Hex,
  ];
  // By hand from the definition: keyB1 and keyA2 share their first 4 bits (1100) and part at bit 4;
  // keyA1 is alone under bit 0 = 0. So the subtrees 1100, 110, 11 and 1 hold both, the rest is ZERO.
  const node1100 = nodeHash(leafA2, leafB1);
  const node110 = nodeHash(node1100, COUNTED_ZERO);
  const node11 = nodeHash(node110, COUNTED_ZERO);
  const node1 = nodeHash(COUNTED_ZERO, node11);
  return {
    byHand: { node1100, node110, node11, node1, root4: nodeHash(leafA1, node1) },
    entryTexts: EXAMPLE_ENTRIES.map(entryString),
    leafHashes,
    keyA1,
    keyB1,
    keyA2,
    keyB2: countedKey(AUTHOR_B, "dieu-2"),
    /** Leaf nodes of the map at size 4: A's dieu-1 now points to entry 3. */
    leafNodes: [leafA1, leafB1, leafA2],
    leafNodeA1at3: countedLeafNode(updates[0]!),
    root3: await map.root(3),
    root4: await map.root(4),
    proofA1at3: await map.proof(keyA1, 3),
    proofA1at4: await map.proof(keyA1, 4),
    proofB2at4: await map.proof({ author: AUTHOR_B, section: "dieu-2" }, 4),
  };
}

if (import.meta.main) console.log(JSON.stringify(await countedExample(), null, 2));
