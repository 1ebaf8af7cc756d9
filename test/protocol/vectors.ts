// Reads the published RFC 6962 proof vectors from ../shared/vectors/rfc6962 (beside the project root).
// They are data from transparency-dev/merkle and are deliberately not copied into this repository.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const VECTORS_DIR = resolve(fileURLToPath(import.meta.url), "../../../../shared/vectors/rfc6962");

export interface InclusionVector {
  name: string;
  leafIdx: number;
  treeSize: number;
  root: Uint8Array | null;
  leafHash: Uint8Array | null;
  proof: Uint8Array[];
  wantErr: boolean;
}

export interface ConsistencyVector {
  name: string;
  size1: number;
  size2: number;
  root1: Uint8Array | null;
  root2: Uint8Array | null;
  proof: Uint8Array[];
  wantErr: boolean;
}

const b64 = (value: string | null | undefined): Uint8Array | null =>
  value == null ? null : new Uint8Array(Buffer.from(value, "base64"));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? jsonFiles(join(dir, e.name)) : e.name.endsWith(".json") ? [join(dir, e.name)] : [],
    )
    .sort();
}

/** True when the shared vectors folder is present; tests print a visible note and skip otherwise. */
export const vectorsAvailable = existsSync(VECTORS_DIR);

export function inclusionVectors(): InclusionVector[] {
  return jsonFiles(join(VECTORS_DIR, "inclusion")).map((file) => {
    const raw = JSON.parse(readFileSync(file, "utf8"));
    return {
      name: relative(VECTORS_DIR, file),
      leafIdx: raw.leafIdx,
      treeSize: raw.treeSize,
      root: b64(raw.root),
      leafHash: b64(raw.leafHash),
      proof: (raw.proof ?? []).map((p: string) => b64(p)!),
      wantErr: raw.wantErr,
    };
  });
}

export function consistencyVectors(): ConsistencyVector[] {
  return jsonFiles(join(VECTORS_DIR, "consistency")).map((file) => {
    const raw = JSON.parse(readFileSync(file, "utf8"));
    return {
      name: relative(VECTORS_DIR, file),
      size1: raw.size1,
      size2: raw.size2,
      root1: b64(raw.root1),
      root2: b64(raw.root2),
      proof: (raw.proof ?? []).map((p: string) => b64(p)!),
      wantErr: raw.wantErr,
    };
  });
}

/** Hex spelling of vector bytes; hashes of the wrong length stay wrong-length so verifiers refuse them. */
export const toHex = (bytes: Uint8Array | null): `0x${string}` =>
  `0x${bytes === null ? "" : Buffer.from(bytes).toString("hex")}`;

/** The RFC 6962 test tree: its eight leaves (hex of the entry bytes) and the root at every size. */
export const RFC6962_LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
export const RFC6962_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
