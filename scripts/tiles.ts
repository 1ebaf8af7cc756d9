// `npm run tiles -- --consultation <id> --out <dir> [--service <url>] [--trust-root <file>]`: a static mirror of one
// consultation's C2SP log. It reads the service's checkpoint (verified with the trust root's log key when given, else
// with the served vkey), copies the entry bundles, recomputes the whole tree from them and refuses to write anything
// unless it hashes to the checkpoint's root; then writes <dir>/<id>/{checkpoint,vkey,tile/...}, the same paths as the
// service's /logs/<id>/, so any web server serving <dir> is a tiles base (<url>/<id>/) for the web client and the
// auditor. Full bundles already in <dir> are read from there (they never change): a re-run copies only what is new.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { httpTileReader, TilesError, tilesCheckpoint } from "../audit/tiles.ts";
import { parseTrustRoot, trustedLog } from "../chain/trust-root.ts";
import {
  decodeEntryBundle,
  ed25519NoteVerifier,
  leafHash,
  MemoryTreeStore,
  MerkleLog,
  parseVerifierKey,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileId,
  tilePath,
  tilesOfTree,
  tileWidthAt,
} from "../protocol/index.ts";

const USAGE = `npm run tiles -- --consultation <id> --out <dir> [--service <url>] [--trust-root <file>]

  --consultation <id>  the consultation whose log is mirrored
  --out <dir>          the mirror's folder: the log goes to <dir>/<id>/ (checkpoint, vkey, tile/...)
  --service <url>      the Gopy service to copy from (default http://127.0.0.1:3000)
  --trust-root <file>  verify the checkpoint with the trust root's log key (else: with the served vkey)
`;

class UsageError extends Error {}

/** Writes `bytes` at `path` atomically (a reader of the mirror never sees half a file). */
function put(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

export async function mirror(options: {
  consultation: string;
  out: string;
  service: string;
  trustRoot?: string;
  log?: (line: string) => void;
}): Promise<{ size: number; written: number; reused: number }> {
  const say = options.log ?? (() => {});
  const base = `${options.service.replace(/\/+$/, "")}/logs/${options.consultation}/`;
  const reader = httpTileReader(base);
  const servedVkey = (await (await fetch(new URL("vkey", base))).text()).trim();
  let verifier = parseVerifierKey(servedVkey);
  if (options.trustRoot !== undefined) {
    const trusted = trustedLog(parseTrustRoot(readFileSync(options.trustRoot, "utf8")), options.consultation);
    if (!trusted) throw new UsageError('the trust root names no log key (its optional "log" field)');
    verifier = ed25519NoteVerifier(trusted.origin, trusted.publicKey);
  }
  const { checkpoint, note } = await tilesCheckpoint(reader, verifier);
  const size = checkpoint.size;
  say(`checkpoint of ${checkpoint.origin}: ${size} entries, root ${checkpoint.rootHash}`);
  const dir = join(options.out, options.consultation);

  // the entries, from bundles already mirrored (full ones never change) or from the service
  const bundles = new Map<number, Uint8Array>();
  let reused = 0;
  for (let index = 0; index * TILE_WIDTH < size; index++) {
    const width = tileWidthAt("entries", index, size);
    const tile: TileId = { level: "entries", index, width };
    const local = join(dir, tilePath(tile));
    let bytes: Uint8Array;
    if (width === TILE_WIDTH && existsSync(local)) {
      bytes = new Uint8Array(readFileSync(local));
      reused++;
    } else bytes = await reader.readTile(tile);
    decodeEntryBundle(bytes, width);
    bundles.set(index, bytes);
  }
  const store = new MemoryTreeStore();
  const log = new MerkleLog(store);
  for (let index = 0; index * TILE_WIDTH < size; index++) {
    const entries = decodeEntryBundle(bundles.get(index)!, tileWidthAt("entries", index, size));
    await log.appendBatch(entries.map((e) => leafHash(e)));
  }
  if ((await log.root()) !== checkpoint.rootHash)
    throw new TilesError(
      `the entries do not hash to the checkpoint's root ${checkpoint.rootHash}: nothing written`,
    );

  let written = 0;
  for (const tile of tilesOfTree(size)) {
    let bytes: Uint8Array;
    if (tile.level === "entries") bytes = bundles.get(tile.index)!;
    else {
      const ids = Array.from({ length: tile.width }, (_, i) => ({
        level: (tile.level as number) * TILE_HEIGHT,
        index: tile.index * TILE_WIDTH + i,
      }));
      bytes = Buffer.concat(store.getNodes(ids));
    }
    const path = join(dir, tilePath(tile));
    if (tile.width === TILE_WIDTH && existsSync(path)) continue;
    put(path, bytes);
    written++;
  }
  put(join(dir, "vkey"), `${servedVkey}\n`);
  // the checkpoint last: a reader that sees it finds every tile of its tree already there
  put(join(dir, "checkpoint"), note);
  written += 2;
  say(`wrote ${written} files to ${dir} (${reused} full bundles were already there)`);
  return { size, written, reused };
}

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        consultation: { type: "string" },
        out: { type: "string" },
        service: { type: "string" },
        "trust-root": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const consultation = values.consultation as string | undefined;
    if (!consultation || !/^[1-9][0-9]{0,14}$/.test(consultation))
      throw new UsageError("--consultation <id> is required: a decimal id from 1");
    if (typeof values.out !== "string" || values.out === "") throw new UsageError("--out <dir> is required");
    const service = (values.service as string | undefined) ?? "http://127.0.0.1:3000";
    if (!/^https?:\/\//.test(service)) throw new UsageError("--service must be an http(s) URL");
    await mirror({
      consultation,
      out: values.out,
      service,
      ...(typeof values["trust-root"] === "string" ? { trustRoot: values["trust-root"] } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${e instanceof UsageError ? `\n${USAGE}` : ""}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
