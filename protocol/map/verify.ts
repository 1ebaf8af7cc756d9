// The counted map's keys, leaf nodes and proof verification (docs/PROTOCOL.md, "Counted map"). The map
// is a sparse Merkle tree over 256-bit keys SHA-256(author ":" section); a subtree holding one leaf
// hashes to that leaf's node, whatever its depth, so a proof is only as deep as the leaf's shortest
// unique prefix (about log2 of the number of keys). Pure and synchronous: the browser, the auditor
// and the service run this same code.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, hashToBytes, isHash, utf8Encode, writeHashBytes } from "../encoding.ts";
import { SECTION_ID_PATTERN } from "../entry.ts";
import { ProtocolError } from "../errors.ts";
import { nodeHashBytes } from "../hash.ts";

/** The hash of an empty subtree: 32 zero bytes. */
export const COUNTED_ZERO: Hex = `0x${"00".repeat(32)}`;
/** Bits in a key, so the most siblings a proof can have. */
export const COUNTED_KEY_BITS = 256;

/** What the map holds for one key: the author's latest opinion on the section, as a log position. */
export interface CountedLeaf {
  readonly key: Hex;
  readonly leafIndex: number;
  /** The log's leaf hash of that opinion entry. */
  readonly leafHash: Hex;
}

/** A proof that the map of the first `treeSize` log entries holds `leaf` for `key`, or nothing. */
export interface CountedProof {
  readonly treeSize: number;
  readonly root: Hex;
  readonly key: Hex;
  /** siblings[d - 1] is the sibling at depth d; their number is the depth of the terminal. */
  readonly siblings: readonly Hex[];
  /** The leaf the terminal subtree holds (for `key`, or for another key sharing its first bits), or null. */
  readonly leaf: CountedLeaf | null;
}

/** A key, or the (author, section) pair it is the hash of. */
export type CountedQuery = Hex | { readonly author: Hex; readonly section: string };

/** What a verifier reads from the registry: a head's tree size and the map root anchored with it. */
export interface CountedHead {
  readonly treeSize: number;
  readonly countedRoot: Hex;
}

/** The outcome of a proof check: the leaf the map holds for the queried key (null: absent), or why not. */
export type CountedProofCheck =
  | { readonly ok: true; readonly leaf: CountedLeaf | null }
  | { readonly ok: false; readonly reason: string };

const refused = (reason: string) => ({ ok: false, reason }) as const;

function isSize(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Bit `i` of a key, counted from the most significant bit of byte 0. */
export function keyBit(key: Uint8Array, i: number): number {
  return (key[i >> 3]! >> (7 - (i & 7))) & 1;
}

/** The number of leading bits `a` and `b` share (256 when equal). */
export function sharedPrefixBits(a: Uint8Array, b: Uint8Array): number {
  for (let byte = 0; byte < 32; byte++) {
    const diff = a[byte]! ^ b[byte]!;
    if (diff !== 0) return byte * 8 + Math.clz32(diff) - 24;
  }
  return 256;
}

/** The key of (author, section) as bytes; throws a ProtocolError naming the malformed argument. */
export function countedKeyBytes(author: Hex, section: string): Uint8Array {
  if (!isHash(author)) {
    throw new ProtocolError(
      "invalid_argument",
      "author must be a pseudonym: 32 bytes as 0x followed by 64 lowercase hex digits",
    );
  }
  if (typeof section !== "string" || !SECTION_ID_PATTERN.test(section)) {
    throw new ProtocolError(
      "invalid_argument",
      "section must be a section id (letters, digits, '.', '_', '-')",
    );
  }
  return sha256(utf8Encode(`${author}:${section}`));
}

/** key = SHA-256(UTF-8(author ":" section)), author the entry's 0x-hex pseudonym. */
export function countedKey(author: Hex, section: string): Hex {
  return bytesToHex(countedKeyBytes(author, section));
}

/** Length of a stored leaf: key || uint64 big-endian leafIndex || leafHash. */
export const LEAF_RECORD_BYTES = 72;

/**
 * Writes the leaf record key || uint64 big-endian leafIndex || leafHash (the leaf node's preimage after
 * its 0x02 byte) at out[offset, offset + 72).
 */
export function writeLeafRecord(
  out: Uint8Array,
  offset: number,
  key: Hex,
  leafIndex: number,
  leafHash: Hex,
): void {
  writeHashBytes(key, out, offset, "leaf key");
  writeHashBytes(leafHash, out, offset + 40, "leaf hash");
  writeLeafIndex(out, offset + 32, leafIndex);
}

/** writeLeafRecord for a key and leaf hash already in bytes (32 each): an auditor's hot loop. */
export function writeLeafRecordBytes(
  out: Uint8Array,
  offset: number,
  key: Uint8Array,
  leafIndex: number,
  leafHash: Uint8Array,
): void {
  for (let i = 0; i < 32; i++) {
    out[offset + i] = key[i]!;
    out[offset + 40 + i] = leafHash[i]!;
  }
  writeLeafIndex(out, offset + 32, leafIndex);
}

function writeLeafIndex(out: Uint8Array, offset: number, leafIndex: number): void {
  // Big-endian, a byte at a time: a safe integer has 53 bits, more than the bitwise operators take.
  let rest = leafIndex;
  for (let i = 7; i >= 0; i--) {
    out[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

function leafRecord(key: Hex, leafIndex: number, leafHash: Hex): Uint8Array {
  const record = new Uint8Array(LEAF_RECORD_BYTES);
  writeLeafRecord(record, 0, key, leafIndex, leafHash);
  return record;
}

/** The leafIndex written in a leaf record. */
export function recordLeafIndex(record: Uint8Array): number {
  let index = 0;
  for (let i = 32; i < 40; i++) index = index * 256 + record[i]!;
  return index;
}

// Scratch for 0x02 || record (hashing is synchronous, so one buffer is enough; see hash.ts).
const leafInput = new Uint8Array(1 + LEAF_RECORD_BYTES);
leafInput[0] = 0x02;

/** SHA-256(0x02 || leaf record). */
export function leafNodeBytes(record: Uint8Array): Uint8Array {
  leafInput.set(record, 1);
  return sha256(leafInput);
}

/** The leaf node: SHA-256(0x02 || key || uint64 big-endian leafIndex || leafHash). */
export function countedLeafNode(leaf: CountedLeaf): Hex {
  if (typeof leaf !== "object" || leaf === null) {
    throw new ProtocolError("invalid_argument", "a counted leaf is an object {key, leafIndex, leafHash}");
  }
  if (!isSize(leaf.leafIndex)) {
    throw new ProtocolError("invalid_index", "leafIndex must be a non-negative safe integer");
  }
  return bytesToHex(leafNodeBytes(leafRecord(leaf.key, leaf.leafIndex, leaf.leafHash)));
}

const PROOF_FIELDS = ["treeSize", "root", "key", "siblings", "leaf"];
const LEAF_FIELDS = ["key", "leafIndex", "leafHash"];

/** Why `value` is not an object with exactly `fields`, or undefined. */
function wrongFields(value: unknown, fields: readonly string[], what: string): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return `${what} is not an object`;
  const extra = Object.keys(value).find((k) => !fields.includes(k));
  if (extra !== undefined) return `${what} has an unknown field "${extra}"`;
  const missing = fields.find((k) => !(k in value));
  return missing === undefined ? undefined : `${what} has no field "${missing}"`;
}

/** Why `value` is not a well-formed proof, or undefined. */
function malformedProof(value: unknown): string | undefined {
  const fields = wrongFields(value, PROOF_FIELDS, "the proof");
  if (fields) return fields;
  const p = value as Record<string, unknown>;
  if (!isSize(p.treeSize)) return "the proof's treeSize is not a non-negative safe integer";
  if (!isHash(p.root)) return "the proof's root is not a 32-byte 0x-hex hash";
  if (!isHash(p.key)) return "the proof's key is not a 32-byte 0x-hex hash";
  if (!Array.isArray(p.siblings)) return "the proof's siblings are not an array";
  if (p.siblings.length > COUNTED_KEY_BITS)
    return `the proof has ${p.siblings.length} siblings; a key has only ${COUNTED_KEY_BITS} bits`;
  const bad = p.siblings.findIndex((h) => !isHash(h));
  if (bad >= 0) return `sibling ${bad} (depth ${bad + 1}) is not a 32-byte 0x-hex hash`;
  if (p.leaf === null) return undefined;
  const leafFields = wrongFields(p.leaf, LEAF_FIELDS, "the proof's leaf");
  if (leafFields) return leafFields;
  const leaf = p.leaf as Record<string, unknown>;
  if (!isHash(leaf.key)) return "the leaf's key is not a 32-byte 0x-hex hash";
  if (!isSize(leaf.leafIndex)) return "the leaf's leafIndex is not a non-negative safe integer";
  if (!isHash(leaf.leafHash)) return "the leaf's leafHash is not a 32-byte 0x-hex hash";
  if (leaf.leafIndex >= p.treeSize)
    return `the leaf's index ${leaf.leafIndex} is not below the proof's tree size ${p.treeSize}`;
  return undefined;
}

/** The queried key as bytes, or why the query is malformed. */
function queriedKey(query: CountedQuery): Uint8Array | string {
  if (typeof query === "string")
    return isHash(query) ? hashToBytes(query) : "the queried key is not a 32-byte 0x-hex hash";
  if (typeof query !== "object" || query === null) return "the query is neither a key nor {author, section}";
  try {
    return countedKeyBytes(query.author, query.section);
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Checks a counted-map proof for `query` against an anchored head (both fields read from the registry):
 * the proof must be for that key and that tree size, and its siblings, folded from the terminal up, must
 * lead to the head's countedRoot. Resolves to the leaf the map holds for the key, or null when the proof
 * shows the key absent. Never throws: malformed input is a refusal with a reason.
 */
export function checkCountedProof(proof: unknown, query: CountedQuery, head: CountedHead): CountedProofCheck {
  const key = queriedKey(query);
  if (typeof key === "string") return refused(key);
  if (!isSize(head?.treeSize))
    return refused("the anchored head's treeSize is not a non-negative safe integer");
  if (!isHash(head.countedRoot)) return refused("the anchored countedRoot is not a 32-byte 0x-hex hash");
  const malformed = malformedProof(proof);
  if (malformed) return refused(malformed);
  const p = proof as CountedProof;
  if (p.key !== bytesToHex(key)) return refused(`the proof is for key ${p.key}, not the queried key`);
  if (p.treeSize !== head.treeSize)
    return refused(`the proof is for tree size ${p.treeSize}, the anchored head for ${head.treeSize}`);
  if (p.root !== head.countedRoot) return refused("the proof's root is not the anchored countedRoot");

  const depth = p.siblings.length;
  let node: Uint8Array;
  let present = false;
  if (p.leaf === null) {
    node = hashToBytes(COUNTED_ZERO);
  } else {
    const leafKey = hashToBytes(p.leaf.key);
    present = p.leaf.key === p.key;
    // Another key proves absence only if it sits where the queried key's path ends.
    if (!present && sharedPrefixBits(leafKey, key) < depth) {
      return refused(
        `the proof's leaf has another key, which does not share the queried key's first ${depth} bits`,
      );
    }
    node = leafNodeBytes(leafRecord(p.leaf.key, p.leaf.leafIndex, p.leaf.leafHash));
  }
  // A terminal whose sibling is empty is not where the canonical path ends: its parent holds at most
  // one leaf, so the parent is the terminal. (Such a proof can never match the root either.)
  if (depth > 0 && p.siblings[depth - 1] === COUNTED_ZERO) {
    return refused(`the sibling at the terminal's depth ${depth} is ZERO: the proof is not canonical`);
  }
  for (let d = depth; d >= 1; d--) {
    const sibling = hashToBytes(p.siblings[d - 1]);
    // The node at depth d on the key's path is its parent's left child when bit d - 1 of the key is 0.
    node = keyBit(key, d - 1) === 0 ? nodeHashBytes(node, sibling) : nodeHashBytes(sibling, node);
  }
  if (bytesToHex(node) !== head.countedRoot) return refused("the proof leads to a different root");
  if (!present || p.leaf === null) return { ok: true, leaf: null };
  // A copy of the three fields: the caller's proof object stays the caller's.
  return { ok: true, leaf: { key: p.leaf.key, leafIndex: p.leaf.leafIndex, leafHash: p.leaf.leafHash } };
}

/** True when `proof` proves, against the anchored head, what the map holds for `query`. */
export function verifyCountedProof(proof: unknown, query: CountedQuery, head: CountedHead): boolean {
  return checkCountedProof(proof, query, head).ok;
}

/** An opinion as its receipt describes it: whose, on which section, and where in the log. */
export interface CountedEntry {
  readonly author: Hex;
  readonly section: string;
  readonly leafIndex: number;
  readonly leafHash: Hex;
}

/**
 * What an accepted proof says about one opinion:
 * - `counted`: the map points to this very entry, so the tally counts it;
 * - `replaced`: it points to a later entry of the same author on the same section (`current`);
 * - `pending`: the head is older than the entry, so it cannot count it yet;
 * - `absent`: the map holds nothing for the key although the head covers the entry;
 * - `mismatch`: it points to an entry at or before this one that is not this one.
 * `absent` and `mismatch` contradict the log (given the entry's inclusion proof): the anchored map is wrong.
 */
export type CountedStatus = "counted" | "replaced" | "pending" | "absent" | "mismatch";

export type CountedEntryCheck =
  | { readonly ok: true; readonly status: CountedStatus; readonly current: CountedLeaf | null }
  | { readonly ok: false; readonly reason: string };

/** Checks `proof` for the entry's (author, section) and says whether the map counts that entry. */
export function checkEntryCounted(proof: unknown, entry: CountedEntry, head: CountedHead): CountedEntryCheck {
  if (typeof entry !== "object" || entry === null)
    return refused("the entry is not an object {author, section, leafIndex, leafHash}");
  if (!isSize(entry.leafIndex)) return refused("the entry's leafIndex is not a non-negative safe integer");
  if (!isHash(entry.leafHash)) return refused("the entry's leafHash is not a 32-byte 0x-hex hash");
  const check = checkCountedProof(proof, { author: entry.author, section: entry.section }, head);
  if (!check.ok) return check;
  const current = check.leaf;
  let status: CountedStatus;
  if (entry.leafIndex >= head.treeSize) status = "pending";
  else if (current === null) status = "absent";
  else if (current.leafIndex > entry.leafIndex) status = "replaced";
  else if (current.leafIndex === entry.leafIndex && current.leafHash === entry.leafHash) status = "counted";
  else status = "mismatch";
  return { ok: true, status, current };
}
