/**
 * An independent implementation checks what the service serves: Go's golang.org/x/mod/sumdb/note and sumdb/tlog
 * (Debian: golang-go, golang-golang-x-mod-dev), in test/c2sp/verify.go, built into a temporary folder here (no
 * binary is committed). Against the running service (real HTTP, real SQLite, a real local chain) it verifies the
 * checkpoint's signed note with the vkey, recomputes the tree from the hash tiles, proves every entry of the entry
 * bundles included (its leaf hash being SHA-256(0x00 || entry bytes)) and the tree consistent with an older
 * checkpoint. Without Go a local run skips visibly; CI (GOPY_CI=1) fails.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { ed25519NoteKey } from "../../protocol/index.ts";
import { devToken, testApp, testChain, testConfig } from "../server/helpers.ts";
import { importCsv, openConsultation } from "../server/requests.ts";
import { skipOrFail } from "../support/requires.ts";

const run = promisify(execFile);
const GOPATH = "/usr/share/gocode";
const GO_HOW = "apt-get install golang-go golang-golang-x-mod-dev";
const SOURCE = join(import.meta.dirname, "verify.go");

async function goAvailable(): Promise<boolean> {
  if (!existsSync(join(GOPATH, "src/golang.org/x/mod/sumdb/tlog/tlog.go"))) return false;
  try {
    await run("go", ["version"]);
    return true;
  } catch {
    return false;
  }
}

describe("an independent C2SP verifier (Go's sumdb/note and sumdb/tlog) checks the served log", function () {
  this.timeout(300_000);
  let dir: string;
  let verifier: string;
  let app: FastifyInstance;
  let base: string;
  let logBase: string;
  let agency: string;
  let id: number;

  before(async function () {
    if (!(await goAvailable())) skipOrFail(this, "Go and golang.org/x/mod (Debian packages)", GO_HOW);
    dir = mkdtempSync(join(tmpdir(), "gopy-c2sp-go-"));
    verifier = join(dir, "verify");
    await run("go", ["build", "-o", verifier, SOURCE], {
      env: { ...process.env, GO111MODULE: "off", GOPATH, GOCACHE: join(dir, "cache"), GOFLAGS: "" },
    });
    const chain = await testChain();
    app = await testApp(
      testConfig(chain, { CHECKPOINT_INTERVAL: "0", LOG_ORIGIN_PREFIX: "gopy.example.vn/logs" }),
      {
        startAnchorer: false,
      },
    );
    base = await app.listen({ host: "127.0.0.1", port: 0 });
    agency = await devToken(app, "officer-go", "agency", "bo-tu-phap");
    id = await openConsultation(app, agency);
    logBase = `${base}/logs/${id}/`;
  });
  after(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function addRows(n: number): Promise<void> {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    // texts in Vietnamese, of varied lengths: entry bytes are UTF-8
    const rows = Array.from(
      { length: n },
      (_, i) => `dieu-1,agree,Ý kiến ${"số ".repeat(i % 7)}${i},${at},Xã A`,
    );
    const r = await importCsv(
      app,
      agency,
      id,
      `section,stance,text,collectedAt,location\r\n${rows.join("\r\n")}\r\n`,
    );
    expect(r.statusCode, r.body).to.equal(201);
  }

  const vkey = async () => (await (await fetch(`${logBase}vkey`)).text()).trim();

  it("verifies the checkpoint and proves every entry and the consistency with an older checkpoint", async () => {
    await addRows(300);
    const old = await (await fetch(`${logBase}checkpoint`)).text();
    const oldFile = join(dir, "old-checkpoint");
    writeFileSync(oldFile, old);
    await addRows(230);
    const { stdout } = await run(verifier, [logBase, await vkey(), oldFile]);
    expect(stdout.trim()).to.match(
      new RegExp(
        `^ok origin=gopy\\.example\\.vn/logs/${id} size=530 root=\\S+ inclusion=530 consistency=300->530$`,
      ),
    );
  });

  it("refuses the checkpoint under another key of the same name (the Go side can fail)", async () => {
    const stranger = ed25519NoteKey(`gopy.example.vn/logs/${id}`, new Uint8Array(32).fill(1));
    try {
      await run(verifier, [logBase, stranger.vkey]);
      expect.fail("the Go verifier accepted a checkpoint signed by another key");
    } catch (e) {
      expect((e as { stderr: string }).stderr).to.match(/FAIL: note\.Open/);
    }
  });
});
