// Reading a log from a C2SP tiles base URL: the service's /logs/<id>/ or any static mirror of it (`npm run tiles`).
// Isomorphic (fetch only): the web client and the auditor CLI prove from tiles with protocol's MerkleLog, so the
// proof they check against the head read from the chain is computed by the verifier itself, not served.
import {
  type Checkpoint,
  type Hex,
  leafHash,
  type NoteVerifier,
  openCheckpoint,
  openTiledLog,
  parseCheckpoint,
  parseNote,
  parseWitnessVkey,
  readEntries,
  type TileReader,
  tilePath,
  utf8Decode,
} from "../protocol/index.ts";

/** A tiles base URL could not be read, or what it serves does not hold together. */
export class TilesError extends Error {}

/** A TileReader (and the checkpoint) over HTTP(S): `base` is one log's tiles base URL, e.g. …/logs/7/. */
export function httpTileReader(
  base: string,
  fetcher: typeof fetch = fetch,
): TileReader & { checkpoint(fresh?: boolean): Promise<string> } {
  const root = base.endsWith("/") ? base : `${base}/`;
  const get = async (path: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(path, root);
    let res: Response;
    try {
      res = await fetcher(url, init);
    } catch (e) {
      throw new TilesError(`GET ${url} failed: ${(e as Error).message}`);
    }
    if (!res.ok) throw new TilesError(`GET ${url} answered ${res.status}`);
    return res;
  };
  return {
    readTile: async (tile) => new Uint8Array(await (await get(tilePath(tile))).arrayBuffer()),
    // `fresh`: past any HTTP cache (the checkpoint is cached for seconds, a head read from the chain may be newer)
    checkpoint: async (fresh = false) =>
      (await get("checkpoint", fresh ? { cache: "no-cache" } : undefined)).text(),
  };
}

/**
 * The checkpoint a tiles base serves: verified with `verifier` (the log key the trust root names) when given; without
 * one it is only parsed, and every proof computed from it must still lead to a root read from the chain.
 */
export async function tilesCheckpoint(
  reader: Pick<ReturnType<typeof httpTileReader>, "checkpoint">,
  verifier: NoteVerifier | null,
  witnesses: WitnessPolicy | null = null,
  fresh = false,
): Promise<{ checkpoint: Checkpoint; note: string; signed: boolean; cosigned: string[] }> {
  const note = await reader.checkpoint(fresh);
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    if (!verifier)
      return { checkpoint: parseCheckpoint(parseNote(note).text), note, signed: false, cosigned: [] };
    opened = openCheckpoint(note, verifier, { others: witnesses?.verifiers ?? [] });
  } catch (e) {
    throw new TilesError(`the served checkpoint is refused: ${(e as Error).message}`);
  }
  const cosigned = opened.verified.filter((v) => v !== verifier).map((v) => v.name);
  if (witnesses && cosigned.length < witnesses.quorum) {
    throw new TilesError(
      `the served checkpoint has ${cosigned.length} of the ${witnesses.quorum} witness cosignatures the trust root requires` +
        (cosigned.length ? ` (cosigned by ${cosigned.join(", ")})` : ""),
    );
  }
  return { checkpoint: opened.checkpoint, note, signed: true, cosigned };
}

/** The trust root's witnesses and quorum, as verifiers. */
export interface WitnessPolicy {
  readonly verifiers: readonly NoteVerifier[];
  readonly quorum: number;
}

/** The witness policy a trust root names, or null. */
export function witnessPolicy(root: {
  witnesses?: readonly string[];
  quorum?: number;
}): WitnessPolicy | null {
  if (!root.witnesses || !root.quorum) return null;
  return { verifiers: root.witnesses.map((w) => parseWitnessVkey(w)), quorum: root.quorum };
}

type TilesOptions = {
  verifier?: NoteVerifier | null;
  witnesses?: WitnessPolicy | null;
  fetcher?: typeof fetch;
};

/** The served checkpoint (checked as tilesCheckpoint does) and its tiled log, which must cover `treeSize` leaves. */
async function servedLog(base: string, treeSize: number, options: TilesOptions) {
  const reader = httpTileReader(base, options.fetcher);
  const served = (fresh: boolean) =>
    tilesCheckpoint(reader, options.verifier ?? null, options.witnesses ?? null, fresh);
  let { checkpoint, signed, cosigned } = await served(false);
  // a cached checkpoint from before the head was anchored is asked for again past the cache, once
  if (checkpoint.size < treeSize) ({ checkpoint, signed, cosigned } = await served(true));
  if (checkpoint.size < treeSize)
    throw new TilesError(
      `the tiles' checkpoint (${checkpoint.size} leaves) is behind the head (${treeSize})`,
    );
  const { log } = await openTiledLog(reader, checkpoint.size, checkpoint.rootHash);
  return { log, checkpoint, signed, cosigned };
}

/**
 * The inclusion proof of leaf `leafIndex` in the tree of `treeSize` leaves (an anchored head), computed from the tiles
 * of the served checkpoint's tree (which must contain that head). The caller checks it against the head's root.
 */
export async function inclusionFromTiles(
  base: string,
  leafIndex: number,
  treeSize: number,
  options: TilesOptions = {},
): Promise<{
  leafIndex: number;
  treeSize: number;
  proof: Hex[];
  checkpoint: Checkpoint;
  signed: boolean;
  cosigned: string[];
}> {
  const { log, checkpoint, signed, cosigned } = await servedLog(base, treeSize, options);
  return {
    leafIndex,
    treeSize,
    proof: await log.inclusionProof(leafIndex, treeSize),
    checkpoint,
    signed,
    cosigned,
  };
}

/**
 * The consistency proof from the tree of `size1` leaves to that of `size2` (a receipt's checkpoint and an anchored
 * head), computed from the tiles of the served checkpoint's tree. The caller checks it against both roots.
 */
export async function consistencyFromTiles(
  base: string,
  size1: number,
  size2: number,
  options: TilesOptions = {},
): Promise<{
  size1: number;
  size2: number;
  proof: Hex[];
  checkpoint: Checkpoint;
  signed: boolean;
  cosigned: string[];
}> {
  const { log, checkpoint, signed, cosigned } = await servedLog(base, size2, options);
  return { size1, size2, proof: await log.consistencyProof(size1, size2), checkpoint, signed, cosigned };
}

/**
 * The log's entries as export lines ({index, leaf, leafHash}: no text, tiles carry none), from the entry bundles of
 * the served checkpoint's tree, `batch` bundles' worth at a time.
 */
export async function* exportLinesFromTiles(
  base: string,
  options: TilesOptions = {},
): AsyncGenerator<string> {
  const reader = httpTileReader(base, options.fetcher);
  const { checkpoint } = await tilesCheckpoint(reader, options.verifier ?? null, options.witnesses ?? null);
  const step = 256 * 16;
  for (let start = 0; start < checkpoint.size; start += step) {
    const end = Math.min(checkpoint.size, start + step);
    const entries = await readEntries(reader, checkpoint.size, start, end);
    let text = "";
    entries.forEach((bytes, i) => {
      text += `${JSON.stringify({ index: start + i, leaf: utf8Decode(bytes, `entry ${start + i}`), leafHash: leafHash(bytes) })}\n`;
    });
    yield text;
  }
}
