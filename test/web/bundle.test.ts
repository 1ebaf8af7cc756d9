// Budgets: the JavaScript of the citizen pages <= 250 KB gzipped (every .js of web/dist/** but the staff console's
// own chunks; the worker included); the staff console's own chunks (uPlot, diff, and mammoth loaded on a .docx)
// <= 150 KB gzipped, fetched only when an agency account opens the console. Which chunk is whose comes from Vite's
// manifest (web/dist/.vite/manifest.json).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import { DIST, ensureDist } from "./helpers.ts";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  isDynamicEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

/** The files of the chunks `key` loads (itself, its imports and dynamic imports), the main entry's excepted. */
function reachable(manifest: Record<string, ManifestChunk>, key: string, main: Set<string>): Set<string> {
  const out = new Set<string>();
  const walk = (k: string) => {
    const chunk = manifest[k];
    if (!chunk || main.has(k) || out.has(chunk.file)) return;
    out.add(chunk.file);
    for (const next of [...(chunk.imports ?? []), ...(chunk.dynamicImports ?? [])]) walk(next);
  };
  walk(key);
  return out;
}

describe("web: bundle", () => {
  before(function () {
    this.timeout(120_000);
    ensureDist();
  });

  it("ships <= 250 KB of gzipped JavaScript to citizens and keeps the staff console (<= 150 KB) apart", () => {
    const manifest = JSON.parse(readFileSync(join(DIST, ".vite", "manifest.json"), "utf8")) as Record<
      string,
      ManifestChunk
    >;
    const consoleKey = Object.keys(manifest).find((k) => k.endsWith("src/console/index.ts"));
    expect(consoleKey, "the console is a chunk of its own").to.be.a("string");
    expect(manifest[consoleKey!]!.isDynamicEntry, "the console is loaded on demand").to.equal(true);
    const main = new Set(Object.keys(manifest).filter((k) => manifest[k]!.isEntry));
    const consoleFiles = reachable(manifest, consoleKey!, main);
    const js = files(DIST).filter((f) => f.endsWith(".js"));
    expect(js.length).to.be.greaterThan(0);
    let citizen = 0;
    let staff = 0;
    const parts: Record<string, number> = {};
    for (const f of js) {
      const gz = gzipSync(readFileSync(f), { level: 9 }).length;
      const name = relative(DIST, f);
      parts[name] = gz;
      if (consoleFiles.has(name)) staff += gz;
      else citizen += gz;
    }
    console.log(
      JSON.stringify({
        metric: "web.js_gzip_bytes",
        value: citizen,
        unit: "bytes",
        kb: Number((citizen / 1024).toFixed(1)),
        console_kb: Number((staff / 1024).toFixed(1)),
        files: parts,
      }),
    );
    expect(staff).to.be.greaterThan(0);
    expect(citizen).to.be.at.most(250 * 1024);
    expect(staff).to.be.at.most(150 * 1024);
  });

  it('has <html lang="vi"> and a /verify/ entry that loads the same assets', () => {
    const index = readFileSync(join(DIST, "index.html"), "utf8");
    const verify = readFileSync(join(DIST, "verify", "index.html"), "utf8");
    expect(index).to.match(/<html lang="vi">/);
    const assets = [...index.matchAll(/"\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).to.be.greaterThan(0);
    for (const a of assets) expect(verify).to.contain(`"../${a}"`);
    expect(index, "the console's chunk is not loaded by the citizen pages").to.not.match(/console-[^"]*\.js/);
  });
});
