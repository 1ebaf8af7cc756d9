// Budget: all JavaScript shipped <= 250 KB gzipped (sum over web/dist/**/*.js, the worker included).
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

describe("web: bundle", () => {
  before(function () {
    this.timeout(120_000);
    ensureDist();
  });

  it("ships <= 250 KB of gzipped JavaScript", () => {
    const js = files(DIST).filter((f) => f.endsWith(".js"));
    expect(js.length).to.be.greaterThan(0);
    let total = 0;
    const parts: Record<string, number> = {};
    for (const f of js) {
      const gz = gzipSync(readFileSync(f), { level: 9 }).length;
      parts[relative(DIST, f)] = gz;
      total += gz;
    }
    console.log(
      JSON.stringify({
        metric: "web.js_gzip_bytes",
        value: total,
        unit: "bytes",
        kb: Number((total / 1024).toFixed(1)),
        files: parts,
      }),
    );
    expect(total).to.be.at.most(250 * 1024);
  });

  it('has <html lang="vi"> and a /verify/ entry that loads the same assets', () => {
    const index = readFileSync(join(DIST, "index.html"), "utf8");
    const verify = readFileSync(join(DIST, "verify", "index.html"), "utf8");
    expect(index).to.match(/<html lang="vi">/);
    const assets = [...index.matchAll(/"\.\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).to.be.greaterThan(0);
    for (const a of assets) expect(verify).to.contain(`"../${a}"`);
  });
});
