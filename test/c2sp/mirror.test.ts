/**
 * A static mirror made by `npm run tiles` proves a receipt's inclusion under the head anchored on chain with the
 * service stopped: the proof is computed from the mirror's tiles (audit/tiles.ts, protocol's MerkleLog) and checked
 * against the root read from the registry; Go's sumdb verifier accepts the mirror as it accepts the service; the
 * auditor CLI audits the log from the mirror's entry bundles; a tampered mirror is caught. Real HTTP, SQLite, chain.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { inclusionFromTiles, TilesError } from "../../audit/tiles.ts";
import { type LogHead, RegistryReader } from "../../chain/reader.ts";
import { trustedLog } from "../../chain/trust-root.ts";
import {
  ed25519NoteVerifier,
  leafHash,
  type Receipt,
  tilePath,
  tileWidthAt,
  utf8Encode,
  verifyInclusion,
} from "../../protocol/index.ts";
import { mirror } from "../../scripts/tiles.ts";
import { runAudit } from "../audit/helpers.ts";
import { devToken, testApp, testChain, testConfig } from "../server/helpers.ts";
import { DRAFT, giveOpinion, importCsv, openConsultation } from "../server/requests.ts";
import { IN_CI } from "../support/requires.ts";

const run = promisify(execFile);
const PREFIX = "mirror.example.vn/logs";

/** Serves `dir` as static files: what any web server or CDN does with a mirror. */
function serveDir(dir: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = normalize(join(dir, decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)));
    if (!path.startsWith(dir) || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(path));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as { port: number };
      resolve({ server, base: `http://127.0.0.1:${address.port}` });
    }),
  );
}

describe("a static tiles mirror (npm run tiles) proves receipts with the service stopped", function () {
  this.timeout(300_000);
  let dir: string;
  let app: FastifyInstance | null = null;
  let static_: { server: Server; base: string };
  let id: number;
  let receipt: Receipt;
  let head: LogHead;
  let trustRootFile: string;
  let draftFile: string;
  let logBase: string;
  let vkey: string;
  let publicKey: Uint8Array;
  let checkpointAt300: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gopy-mirror-"));
    const chain = await testChain();
    app = await testApp(testConfig(chain, { LOG_ORIGIN_PREFIX: PREFIX, CHECKPOINT_INTERVAL: "0" }), {
      startAnchorer: false,
    });
    const service = await app.listen({ host: "127.0.0.1", port: 0 });
    const agency = await devToken(app, "officer-mirror", "agency", "bo-tu-phap");
    id = await openConsultation(app, agency);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const rows = Array.from({ length: 299 }, (_, i) => `dieu-1,agree,row ${i},${at},Xã A`).join("\r\n");
    const imported = await importCsv(
      app,
      agency,
      id,
      `section,stance,text,collectedAt,location\r\n${rows}\r\n`,
    );
    expect(imported.statusCode, imported.body).to.equal(201);
    const given = await giveOpinion(app, await devToken(app, "citizen-mirror"), id, {
      section: "dieu-1",
      stance: "agree",
      text: "Ý kiến của tôi",
    });
    expect(given.statusCode, given.body).to.equal(201);
    receipt = given.json() as Receipt;
    await app.gopy.anchorer!.round(true);
    head = await app.gopy.chain!.reader.logHead(id);
    expect(head.treeSize).to.equal(300);
    checkpointAt300 = await (await fetch(`${service}/logs/${id}/checkpoint`)).text();
    // more entries after the anchored head: the mirror's checkpoint is ahead of the chain
    const more = Array.from({ length: 40 }, (_, i) => `dieu-2,disagree,later ${i},${at},Xã B`).join("\r\n");
    expect(
      (await importCsv(app, agency, id, `section,stance,text,collectedAt,location\r\n${more}\r\n`))
        .statusCode,
    ).to.equal(201);
    publicKey = app.gopy.checkpoints.publicKey;
    trustRootFile = join(dir, "trust-root.json");
    writeFileSync(
      trustRootFile,
      JSON.stringify({
        v: 1,
        chainId: 31337,
        registry: chain.registry,
        rpcUrls: [chain.node.url],
        log: { originPrefix: PREFIX, publicKey: Buffer.from(publicKey).toString("base64") },
      }),
    );
    draftFile = join(dir, "draft.json");
    writeFileSync(draftFile, JSON.stringify(DRAFT));

    const first = await mirror({
      consultation: String(id),
      out: join(dir, "www"),
      service,
      trustRoot: trustRootFile,
    });
    expect(first.size).to.equal(340);
    const again = await mirror({
      consultation: String(id),
      out: join(dir, "www"),
      service,
      trustRoot: trustRootFile,
    });
    expect(again.reused).to.equal(1); // the full bundle is read from the mirror, not copied again

    vkey = (await (await fetch(`${service}/logs/${id}/vkey`)).text()).trim();
    await app.close(); // the service is stopped: from here on, only the mirror and the chain answer
    app = null;
    static_ = await serveDir(join(dir, "www"));
    logBase = `${static_.base}/${id}/`;
  });
  after(async () => {
    await app?.close();
    static_?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("proves the receipt's entry under the anchored head, from the mirror's tiles alone", async () => {
    const chain = await testChain();
    const reader = new RegistryReader({ registry: chain.registry, rpcUrls: [chain.node.url] });
    const onChain = await reader.logHead(id);
    const trusted = trustedLog(
      {
        v: 1,
        chainId: 31337,
        registry: chain.registry,
        rpcUrls: [],
        log: { originPrefix: PREFIX, publicKey: Buffer.from(publicKey).toString("base64") },
      },
      id,
    )!;
    const verifier = ed25519NoteVerifier(trusted.origin, trusted.publicKey);
    const proof = await inclusionFromTiles(logBase, receipt.leafIndex, onChain.treeSize, { verifier });
    expect(proof.signed).to.equal(true);
    expect(proof.checkpoint.size).to.equal(340);
    expect(leafHash(utf8Encode(receipt.entry))).to.equal(receipt.leafHash);
    expect(
      verifyInclusion(receipt.leafHash, receipt.leafIndex, onChain.treeSize, proof.proof, onChain.rootHash),
    ).to.equal(true);
  });

  it("is accepted by Go's sumdb verifier like the service itself", async function () {
    const verifier = join(dir, "verify");
    try {
      await run("go", ["build", "-o", verifier, join(import.meta.dirname, "verify.go")], {
        env: {
          ...process.env,
          GO111MODULE: "off",
          GOPATH: "/usr/share/gocode",
          GOCACHE: join(dir, "gocache"),
        },
      });
    } catch (e) {
      if (IN_CI) throw e;
      console.warn(
        `  !! SKIPPED: Go build failed (apt-get install golang-go golang-golang-x-mod-dev): ${(e as Error).message}`,
      );
      this.skip();
    }
    const { stdout } = await run(verifier, [logBase, vkey]);
    expect(stdout).to.match(/^ok origin=mirror\.example\.vn\/logs\/\d+ size=340 .* inclusion=340 /);
  });

  it("is audited by the auditor CLI from its entry bundles", async () => {
    const audit = await runAudit([
      "--tiles",
      logBase,
      "--trust-root",
      trustRootFile,
      "--draft",
      draftFile,
      "--consultation",
      String(id),
    ]);
    expect(audit.code, `${audit.stdout}\n${audit.stderr}`).to.equal(0);
  });

  it("asks for a cached checkpoint that is behind the head again, past the HTTP cache", async () => {
    // a browser's cache (the checkpoint is served with max-age) still holds the one from before the head grew
    const asked: (string | undefined)[] = [];
    const cached: typeof fetch = async (input, init) => {
      const url = String(input);
      if (!url.endsWith("/checkpoint")) return fetch(input, init);
      asked.push(init?.cache);
      return init?.cache === "no-cache" ? fetch(input, init) : new Response(checkpointAt300);
    };
    const proof = await inclusionFromTiles(logBase, receipt.leafIndex, 340, { fetcher: cached });
    expect(asked).to.deep.equal([undefined, "no-cache"]);
    expect(proof.checkpoint.size).to.equal(340);
    expect(
      verifyInclusion(receipt.leafHash, receipt.leafIndex, 340, proof.proof, proof.checkpoint.rootHash),
    ).to.equal(true);
  });

  it("catches a tampered mirror: the proof no longer leads to the anchored root, the auditor disagrees", async () => {
    // the receipt's sibling, in the level-0 tile that holds its leaf (at its width in the mirror's tree)
    const tileIndex = Math.floor(receipt.leafIndex / 256);
    const tile = join(
      dir,
      "www",
      String(id),
      tilePath({ level: 0, index: tileIndex, width: tileWidthAt(0, tileIndex, 340) }),
    );
    const bytes = readFileSync(tile);
    const sibling = (receipt.leafIndex % 256) ^ 1;
    bytes[sibling * 32] = (bytes[sibling * 32] ?? 0) ^ 0xff;
    writeFileSync(tile, bytes);
    // either the tiles no longer hash to the checkpoint's root, or the proof from them misses the anchored root
    const refused = await inclusionFromTiles(logBase, receipt.leafIndex, head.treeSize).then(
      (p) => !verifyInclusion(receipt.leafHash, receipt.leafIndex, head.treeSize, p.proof, head.rootHash),
      (e: Error) => /do not hash to its root/.test(e.message),
    );
    expect(refused).to.equal(true);
    // a checkpoint signed by another key is refused when the trust root's key is asked for
    const stranger = ed25519NoteVerifier(`${PREFIX}/${id}`, new Uint8Array(32).fill(9));
    try {
      await inclusionFromTiles(logBase, receipt.leafIndex, head.treeSize, { verifier: stranger });
      expect.fail("a checkpoint was accepted under another key");
    } catch (e) {
      expect(e).to.be.instanceOf(TilesError);
    }
    const bundle = join(dir, "www", String(id), "tile/entries/000");
    const entries = readFileSync(bundle);
    entries[10] = (entries[10] ?? 0) ^ 0x01;
    writeFileSync(bundle, entries);
    const audit = await runAudit([
      "--tiles",
      logBase,
      "--trust-root",
      trustRootFile,
      "--draft",
      draftFile,
      "--consultation",
      String(id),
    ]);
    expect(audit.code).to.not.equal(0);
  });
});
