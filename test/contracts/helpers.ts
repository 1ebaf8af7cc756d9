// Shared by the contract tests: random hashes, RFC 6962 vector loading, and the bit/shape mutations
// every proof must be refused under.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bytesToHex, type Hex } from "../../protocol/index.ts";
import { randomBytesFrom, testRandom } from "../support/random.ts";

/** The contract tests' random stream (seeded: GOPY_TEST_SEED replays it). */
export const random = testRandom("contracts");
export const randomHash = (): Hex => bytesToHex(randomBytesFrom(random, 32));

/** The hash with bit `bit` (0 = most significant bit of byte 0) flipped. */
export function flipBit(hash: Hex, bit: number): Hex {
  const bytes = Buffer.from(hash.slice(2), "hex");
  const byte = bit >> 3;
  bytes[byte] = bytes[byte]! ^ (0x80 >> (bit & 7));
  return `0x${bytes.toString("hex")}`;
}

/** Every way to damage a proof short of a bit flip: truncations, extensions, reorders. */
export function shapeMutations(proof: readonly Hex[]): { what: string; proof: Hex[] }[] {
  const out: { what: string; proof: Hex[] }[] = [];
  for (let k = 0; k < proof.length; k++) out.push({ what: `truncated to ${k}`, proof: proof.slice(0, k) });
  for (let k = 1; k < proof.length; k++) out.push({ what: `first ${k} dropped`, proof: proof.slice(k) });
  out.push({ what: "extended with a random hash", proof: [...proof, randomHash()] });
  out.push({ what: "prefixed with a random hash", proof: [randomHash(), ...proof] });
  if (proof.length > 0) {
    out.push({ what: "last repeated", proof: [...proof, proof[proof.length - 1]!] });
    out.push({ what: "first repeated", proof: [proof[0]!, ...proof] });
  }
  if (proof.length > 1) out.push({ what: "reversed", proof: [...proof].reverse() });
  return out;
}

/** Location of the published RFC 6962 vectors (outside the repo, never copied into it). */
export const VECTORS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../shared/vectors/rfc6962",
);

export interface InclusionVector {
  file: string;
  leafIdx: number | bigint;
  treeSize: number | bigint;
  root: Buffer;
  leafHash: Buffer;
  proof: Buffer[];
  wantErr: boolean;
}
export interface ConsistencyVector {
  file: string;
  size1: number | bigint;
  size2: number | bigint;
  root1: Buffer;
  root2: Buffer;
  proof: Buffer[];
  wantErr: boolean;
}

function jsonFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? jsonFiles(full) : name.endsWith(".json") ? [full] : [];
    })
    .sort();
}

const b64 = (s: unknown): Buffer => Buffer.from(typeof s === "string" ? s : "", "base64");
const b64List = (list: unknown): Buffer[] => (Array.isArray(list) ? list.map(b64) : []);

/** JSON.parse keeping integers beyond 2^53 exact (vectors use sizes up to 2^64 - 1). */
function parseExact(text: string): Record<string, unknown> {
  const reviver = (_key: string, value: unknown, context?: { source?: string }) =>
    typeof value === "number" && !Number.isSafeInteger(value) && context?.source !== undefined
      ? BigInt(context.source)
      : value;
  return JSON.parse(text, reviver as (key: string, value: unknown) => unknown);
}

/** Every vector of one kind (a folder of VECTORS_DIR), parsed exactly, named by its path relative to VECTORS_DIR. */
function vectorFiles(kind: string): { file: string; v: Record<string, unknown> }[] {
  return jsonFiles(path.join(VECTORS_DIR, kind)).map((file) => ({
    file: path.relative(VECTORS_DIR, file),
    v: parseExact(readFileSync(file, "utf8")),
  }));
}

export function loadVectors():
  | { inclusion: InclusionVector[]; consistency: ConsistencyVector[] }
  | undefined {
  if (!existsSync(VECTORS_DIR)) return undefined;
  const inclusion = vectorFiles("inclusion").map(({ file, v }) => ({
    file,
    leafIdx: v.leafIdx as number | bigint,
    treeSize: v.treeSize as number | bigint,
    root: b64(v.root),
    leafHash: b64(v.leafHash),
    proof: b64List(v.proof),
    wantErr: v.wantErr === true,
  }));
  const consistency = vectorFiles("consistency").map(({ file, v }) => ({
    file,
    size1: v.size1 as number | bigint,
    size2: v.size2 as number | bigint,
    root1: b64(v.root1),
    root2: b64(v.root2),
    proof: b64List(v.proof),
    wantErr: v.wantErr === true,
  }));
  return { inclusion, consistency };
}

export const toHex = (b: Buffer): Hex => `0x${b.toString("hex")}`;
export const all32 = (...hashes: Buffer[]): boolean => hashes.every((h) => h.length === 32);
