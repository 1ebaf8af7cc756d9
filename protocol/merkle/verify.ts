// RFC 9162 section 2.1.3.2 (inclusion) and 2.1.4.2 (consistency) verification, step for step.
// Pure and synchronous: the browser, the auditor and the service run this same code, and
// contracts/lib mirrors it in Solidity.
import { bytesToHex, type Hex, hashToBytes, isHash } from "../encoding.ts";
import { nodeHashBytes } from "../hash.ts";

/** Outcome of a proof check: `reason` says in plain words why a proof was refused. */
export type ProofCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const accepted: ProofCheck = { ok: true };
const refused = (reason: string): ProofCheck => ({ ok: false, reason });

function isSize(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function malformedHashes(proof: unknown): string | undefined {
  if (!Array.isArray(proof)) return "the proof is not an array of hashes";
  const bad = proof.findIndex((h) => !isHash(h));
  return bad < 0 ? undefined : `proof element ${bad} is not a 32-byte 0x-hex hash`;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isOdd = (n: number) => n % 2 === 1;

function isPowerOfTwo(n: number): boolean {
  let m = n;
  while (m > 1 && m % 2 === 0) m /= 2;
  return m === 1;
}
const half = (n: number) => Math.floor(n / 2);

/**
 * The root that an inclusion proof for `leafHash` at `index` in a tree of `treeSize` leaves leads to,
 * or a refusal when the proof has the wrong length for that position (RFC 9162 2.1.3.2, steps 1-5).
 */
export function rootFromInclusionProof(
  leafHash: Hex,
  index: number,
  treeSize: number,
  proof: readonly Hex[],
): { ok: true; root: Hex } | { ok: false; reason: string } {
  if (!isSize(index) || !isSize(treeSize)) {
    return { ok: false, reason: "index and tree size must be non-negative safe integers" };
  }
  if (index >= treeSize)
    return { ok: false, reason: `leaf index ${index} is not below tree size ${treeSize}` };
  if (!isHash(leafHash)) return { ok: false, reason: "the leaf hash is not a 32-byte 0x-hex hash" };
  const malformed = malformedHashes(proof);
  if (malformed) return { ok: false, reason: malformed };

  let fn = index;
  let sn = treeSize - 1;
  let r = hashToBytes(leafHash);
  for (const p of proof) {
    if (sn === 0)
      return { ok: false, reason: "the proof is longer than the path from this leaf to the root" };
    const c = hashToBytes(p);
    if (isOdd(fn) || fn === sn) {
      r = nodeHashBytes(c, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHashBytes(r, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return { ok: false, reason: "the proof is shorter than the path from this leaf to the root" };
  return { ok: true, root: bytesToHex(r) };
}

/** Checks an RFC 9162 inclusion proof; `reason` explains a refusal. */
export function checkInclusion(
  leafHash: Hex,
  index: number,
  treeSize: number,
  proof: readonly Hex[],
  root: Hex,
): ProofCheck {
  if (!isHash(root)) return refused("the root is not a 32-byte 0x-hex hash");
  if (!isSize(index) || !isSize(treeSize))
    return refused("index and tree size must be non-negative safe integers");
  const computed = rootFromInclusionProof(leafHash, index, treeSize, proof);
  if (!computed.ok) return refused(computed.reason);
  return computed.root === root ? accepted : refused("the proof leads to a different root");
}

/** True when `proof` proves `leafHash` is leaf `index` of the tree of `treeSize` leaves with `root`. */
export function verifyInclusion(
  leafHash: Hex,
  index: number,
  treeSize: number,
  proof: readonly Hex[],
  root: Hex,
): boolean {
  return checkInclusion(leafHash, index, treeSize, proof, root).ok;
}

/**
 * Checks an RFC 9162 consistency proof between the tree of `size1` leaves with `root1` and the tree of
 * `size2` leaves with `root2`. Policy beyond the RFC text: a proof from size 0 is refused (it proves
 * nothing; the contract handles the first head on its own), and every hash must be 32 bytes.
 */
export function checkConsistency(
  size1: number,
  size2: number,
  proof: readonly Hex[],
  root1: Hex,
  root2: Hex,
): ProofCheck {
  if (!isSize(size1) || !isSize(size2)) return refused("sizes must be non-negative safe integers");
  if (!isHash(root1) || !isHash(root2)) return refused("roots must be 32-byte 0x-hex hashes");
  const malformed = malformedHashes(proof);
  if (malformed) return refused(malformed);
  if (size1 > size2) return refused(`size1 ${size1} is larger than size2 ${size2}`);
  if (size1 === 0) return refused("a consistency proof from the empty tree proves nothing");
  if (size1 === size2) {
    if (proof.length !== 0) return refused("equal sizes need an empty proof");
    return root1 === root2 ? accepted : refused("equal sizes but different roots");
  }
  if (proof.length === 0) return refused("the proof is empty");

  const first = hashToBytes(root1);
  const path = proof.map((h) => hashToBytes(h));
  // Step 2: when size1 is a power of two, the old root is itself a node of the new tree.
  if (isPowerOfTwo(size1)) path.unshift(first);
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    if (sn === 0) return refused("the proof is longer than it should be");
    const c = path[i]!;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHashBytes(c, fr);
      sr = nodeHashBytes(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHashBytes(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return refused("the proof is shorter than it should be");
  if (!equalBytes(fr, first)) return refused("the proof does not lead to the old root");
  if (!equalBytes(sr, hashToBytes(root2))) return refused("the proof does not lead to the new root");
  return accepted;
}

/** True when `proof` proves the tree (size2, root2) extends the tree (size1, root1), per RFC 9162. */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Hex[],
  root1: Hex,
  root2: Hex,
): boolean {
  return checkConsistency(size1, size2, proof, root1, root2).ok;
}
