// C2SP tlog-tiles (c2sp.org/tlog-tiles): the log's hashes as static files. A tile at level L holds up to 256
// consecutive hashes of tree level 8L (tile height 8); tile N of level L covers those nodes [256N, 256N + W). A full
// tile (W = 256) never changes; a partial one (".p/W") exists for the sizes a checkpoint was published at. Entry
// bundles hold the entries of level-0 tile N, each as a big-endian uint16 length then its bytes. A TreeStore over
// tiles lets MerkleLog compute roots and proofs from a mirror: the same code the service proves with.
import { ProtocolError } from "./errors.ts";
import { nodeHashBytes } from "./hash.ts";
import { MerkleLog, type NodeId, type StoredNode, type TreeStore } from "./merkle/log.ts";

/** Levels of the tree per tile. */
export const TILE_HEIGHT = 8;
/** Hashes in a full tile (2^TILE_HEIGHT). */
export const TILE_WIDTH = 256;
/** The largest entry an entry bundle can hold (its length is a uint16). */
export const MAX_BUNDLED_ENTRY = 0xffff;

/** A hash tile, or (level "entries") an entry bundle: `width` is 1..256, 256 for a full one. */
export interface TileId {
  readonly level: number | "entries";
  readonly index: number;
  readonly width: number;
}

const fail = (message: string): never => {
  throw new ProtocolError("invalid_tile", message);
};

/** N in 3-digit groups, every group but the last prefixed with "x": 1234067 → x001/x234/067. */
export function tileIndexPath(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) fail("a tile index must be a non-negative safe integer");
  let digits = String(index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
  const groups: string[] = [];
  for (let at = 0; at < digits.length; at += 3) groups.push(digits.slice(at, at + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

/** The path of a tile under a log's prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(tile: TileId): string {
  const { level, index, width } = tile;
  if (level !== "entries" && (!Number.isInteger(level) || level < 0 || level > 63))
    fail("a tile level is 0..63 or entries");
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) fail("a tile width is 1..256");
  return `tile/${level}/${tileIndexPath(index)}${width < TILE_WIDTH ? `.p/${width}` : ""}`;
}

/**
 * Parses the part of a tile URL after `tile/`, e.g. `0/x001/234`, `entries/005.p/17`. Throws (invalid_tile) on
 * anything but the one canonical spelling: servers answer that with 400.
 */
export function parseTilePath(path: string): TileId {
  const m = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (m === null)
    return fail(`"${path}" is not a tile path (<L or entries>/<N in x-prefixed groups>[.p/<W>])`);
  const level = m[1] === "entries" ? "entries" : Number(m[1]);
  if (level !== "entries" && level > 63) fail("a tile level is 0..63");
  const groups = `${m[2]!.replaceAll("x", "").replaceAll("/", "")}${m[3]}`;
  // canonical: no leading all-zero group (000/... would be a second spelling of the same index)
  if (m[2]!.length > 0 && m[2]!.startsWith("x000")) fail("a tile index has no leading zero groups");
  const index = Number(groups);
  if (!Number.isSafeInteger(index)) fail("the tile index is too large");
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (m[4] !== undefined && width >= TILE_WIDTH) fail("a partial tile's width is 1..255");
  return { level, index, width };
}

/** 256^level as a number (exact below 2^53, which is all a safe tree size needs). */
const levelSpan = (level: number) => TILE_WIDTH ** level;

/**
 * The width of tile (level, index) in the tree of `treeSize` leaves: 256 when full, 1..255 when partial, 0 when the
 * tree has no node of that tile yet. Entry bundles have the width of the level-0 tile.
 */
export function tileWidthAt(level: number | "entries", index: number, treeSize: number): number {
  const l = level === "entries" ? 0 : level;
  const nodes = Math.floor(treeSize / levelSpan(l));
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH));
}

/** Every tile (hash tiles and entry bundles) of the tree of `treeSize` leaves, full ones and the right edge. */
export function tilesOfTree(treeSize: number): TileId[] {
  const out: TileId[] = [];
  for (let level = 0; Math.floor(treeSize / levelSpan(level)) > 0; level++) {
    const nodes = Math.floor(treeSize / levelSpan(level));
    for (let index = 0; index * TILE_WIDTH < nodes; index++) {
      const width = tileWidthAt(level, index, treeSize);
      out.push({ level, index, width });
      if (level === 0) out.push({ level: "entries", index, width });
    }
  }
  return out;
}

/** An entry bundle: each entry as a big-endian uint16 length followed by its bytes. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const e of entries) {
    if (e.length > MAX_BUNDLED_ENTRY) fail(`an entry of ${e.length} bytes does not fit an entry bundle`);
    length += 2 + e.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const e of entries) {
    out[at] = e.length >> 8;
    out[at + 1] = e.length & 0xff;
    out.set(e, at + 2);
    at += 2 + e.length;
  }
  return out;
}

/** The entries of a bundle; with `count`, exactly that many must be there. */
export function decodeEntryBundle(bundle: Uint8Array, count?: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length) fail("the entry bundle ends inside a length");
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) fail("the entry bundle ends inside an entry");
    out.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (count !== undefined && out.length !== count)
    fail(`the entry bundle holds ${out.length} entries, not ${count}`);
  return out;
}

/** Where tiles come from: the service, a mirror over HTTP, a directory. Resolves to the tile's bytes. */
export interface TileReader {
  readTile(tile: TileId): Promise<Uint8Array>;
}

/**
 * A read-only TreeStore for the tree of `treeSize` leaves, backed by its tiles. A node of level 8L + k is hashed
 * from 2^k hashes of tile level L; tiles are read once (at their width in this tree) and kept.
 */
export class TileTreeStore implements TreeStore {
  readonly #reader: TileReader;
  readonly #treeSize: number;
  readonly #tiles = new Map<string, Promise<Uint8Array>>();

  constructor(reader: TileReader, treeSize: number) {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0) fail("treeSize must be a non-negative safe integer");
    this.#reader = reader;
    this.#treeSize = treeSize;
  }

  /** The hash tile (level, index) at its width in this tree, checked to be 32 bytes per hash. */
  tile(level: number, index: number): Promise<Uint8Array> {
    const width = tileWidthAt(level, index, this.#treeSize);
    if (width === 0)
      return Promise.reject(new ProtocolError("invalid_tile", `tile ${level}/${index} is beyond the tree`));
    const key = `${level}/${index}`;
    let tile = this.#tiles.get(key);
    if (tile === undefined) {
      const id: TileId = { level, index, width };
      tile = this.#reader.readTile(id).then((bytes) => {
        if (!(bytes instanceof Uint8Array) || bytes.length !== width * 32)
          fail(`tile ${tilePath(id)} is not ${width} hashes of 32 bytes`);
        return bytes;
      });
      this.#tiles.set(key, tile);
      tile.catch(() => this.#tiles.delete(key));
    }
    return tile;
  }

  async getNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    return Promise.all(ids.map((id) => this.#node(id)));
  }

  putNodes(_nodes: readonly StoredNode[]): never {
    return fail("a tree read from tiles is read-only");
  }

  async #node({ level, index }: NodeId): Promise<Uint8Array> {
    const tileLevel = Math.floor(level / TILE_HEIGHT);
    const k = level % TILE_HEIGHT;
    const span = 2 ** k;
    const first = index * span; // first node of level 8L under this one
    const tileIndex = Math.floor(first / TILE_WIDTH);
    const tile = await this.#tile(tileLevel, tileIndex, first + span - tileIndex * TILE_WIDTH);
    const offset = first - tileIndex * TILE_WIDTH;
    let row: Uint8Array[] = [];
    for (let i = 0; i < span; i++) row.push(tile.subarray((offset + i) * 32, (offset + i + 1) * 32));
    while (row.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i < row.length; i += 2) next.push(nodeHashBytes(row[i]!, row[i + 1]!));
      row = next;
    }
    return row[0]!;
  }

  async #tile(level: number, index: number, needed: number): Promise<Uint8Array> {
    if (tileWidthAt(level, index, this.#treeSize) < needed)
      fail(`node of tile ${level}/${index} is beyond the tree of size ${this.#treeSize}`);
    return this.tile(level, index);
  }
}

/**
 * The log of `treeSize` leaves read from tiles, checked against `rootHash` (from a verified checkpoint or an anchored
 * head): roots and proofs then come from MerkleLog, and a tile that lies makes this throw, never a wrong proof.
 */
export async function openTiledLog(
  reader: TileReader,
  treeSize: number,
  rootHash: string,
): Promise<{ log: MerkleLog; store: TileTreeStore }> {
  const store = new TileTreeStore(reader, treeSize);
  const log = await MerkleLog.open(store, treeSize);
  if ((await log.root()) !== rootHash)
    fail(`the tiles of the tree of size ${treeSize} do not hash to its root`);
  return { log, store };
}

/** The canonical entry bytes of leaves [start, end) read from entry bundles of the tree of `treeSize` leaves. */
export async function readEntries(
  reader: TileReader,
  treeSize: number,
  start: number,
  end: number,
): Promise<Uint8Array[]> {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(end) ||
    start < 0 ||
    end > treeSize ||
    start > end
  )
    fail(`entries [${start}, ${end}) are not within the tree of size ${treeSize}`);
  const out: Uint8Array[] = [];
  for (let index = Math.floor(start / TILE_WIDTH); index * TILE_WIDTH < end; index++) {
    const width = tileWidthAt("entries", index, treeSize);
    const bundle = decodeEntryBundle(await reader.readTile({ level: "entries", index, width }), width);
    for (let i = 0; i < width; i++) {
      const at = index * TILE_WIDTH + i;
      if (at >= start && at < end) out.push(bundle[i]!);
    }
  }
  return out;
}
