// Receipts verified in the browser from a static tiles mirror with the service stopped: two opinions are given (two
// group commits) and anchored, `npm run tiles` (scripts/tiles.ts) copies the log to a folder, the service is closed,
// and one plain static server serves the built client and the mirror. The verify page (tiles mirror set in Settings)
// reads the head from the chain and says VALID for the first opinion's v2 receipt (its checkpoint signed by the
// trust root's log key, its own inclusion proof, then the consistency proof from its checkpoint to the anchored head
// computed from the mirror's tiles) and for a v1 receipt (the inclusion proof computed from the tiles); the counted
// step is left open (its proof needs the service). A tampered mirror fails the proof step of both.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import {
  ed25519NoteKey,
  formatTlogProof,
  parseCheckpoint,
  parseNote,
  parseTlogProof,
  type ReceiptV1,
  type ReceiptV2,
  receiptKeyFromSeed,
  signCheckpoint,
  signReceipt,
  tilePath,
  tileWidthAt,
} from "../../protocol/index.ts";
import { mirror } from "../../scripts/tiles.ts";
import { launch, needChromium, PHONE, shoot } from "./helpers.ts";
import { api, chainTrustRoot, DRAFT, type Stack, startStack, token } from "./stack.ts";

const PREFIX = "localhost/gopy/logs";
const SEED = "7c".repeat(32);
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".webmanifest": "application/manifest+json",
};

/** Any web server: files of `dist` at /, the mirror at /logs/, index.html for the client's other paths. */
function serve(dist: string, logs: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const [root, rest] = path.startsWith("/logs/") ? [logs, path.slice(6)] : [dist, path];
    const file = normalize(join(root, rest));
    if (file.startsWith(root) && existsSync(file) && statSync(file).isFile()) {
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    } else if (root === dist) {
      res.writeHead(200, { "content-type": TYPES[".html"] }).end(readFileSync(join(dist, "index.html")));
    } else res.writeHead(404).end("not found");
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
    }),
  );
}

describe("web: a receipt verified from a static tiles mirror, the service stopped", function () {
  this.timeout(300_000);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  /** The first opinion's receipt (v2): its checkpoint (size 1) is older than the anchored head. */
  let receipt: ReceiptV2;
  /** The second opinion's receipt as v1, signed by the service's registered receipt key. */
  let v1: ReceiptV1;
  let dir: string;
  let site: { server: Server; base: string };
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(300_000);
    needChromium(this);
    const publicKey = Buffer.from(ed25519NoteKey("k", Buffer.from(SEED, "hex")).publicKey).toString("base64");
    stack = await startStack({
      env: { CHECKPOINT_KEY_SEED: SEED, LOG_ORIGIN_PREFIX: PREFIX },
      trustRoot: (chain) => ({ ...chainTrustRoot(chain), log: { originPrefix: PREFIX, publicKey } }),
    });
    const agencyToken = await token(stack.base, "can-bo-tiles", "agency", stack.agency);
    const now = Math.floor(Date.now() / 1000);
    const { id } = await api<{ id: number }>(stack.base, "/api/consultations", {
      token: agencyToken,
      body: { ...DRAFT, opensAt: now, closesAt: now + 3600 },
    });
    const citizen = await token(stack.base, "cong-dan-tiles", "citizen");
    receipt = await api<ReceiptV2>(stack.base, `/api/consultations/${id}/opinions`, {
      token: citizen,
      body: { section: "dieu-1", stance: "agree", text: "Tôi đồng ý, kiểm chứng từ bản sao." },
    });
    const second = await api<ReceiptV2>(stack.base, `/api/consultations/${id}/opinions`, {
      token: await token(stack.base, "cong-dan-tiles-2", "citizen"),
      body: { section: "dieu-2", stance: "neutral", text: "Ý kiến thứ hai." },
    });
    const { v: _v, proof: _p, ...fields } = second;
    v1 = signReceipt(fields, receiptKeyFromSeed(stack.app.gopy.config.receiptKeySeed));
    // anchored by the running anchorer (500 ms rounds)
    for (let i = 0; (await stack.app.gopy.chain!.reader.logHead(id)).treeSize <= second.leafIndex; i++) {
      if (i > 120) throw new Error("the receipt's entry was not anchored");
      await new Promise((r) => setTimeout(r, 250));
    }
    dir = mkdtempSync(join(tmpdir(), "gopy-web-tiles-"));
    await mirror({ consultation: String(id), out: join(dir, "logs"), service: stack.base });
    const dist = stack.app.gopy.config.webDist;
    await stack.app.close(); // the service is gone; the chain and the static site remain
    site = await serve(dist, join(dir, "logs"));
    browser = await launch();
    page = await (await browser.newContext({ viewport: PHONE })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${site.base}/#/settings`);
    await page.locator("#set-rpcUrl").waitFor();
    await page.fill("#set-rpcUrl", stack.node.url);
    await page.fill("#set-apiUrl", site.base);
    await page.fill("#set-tilesUrl", `${site.base}/logs`);
    await page.click("#settings-form button[type=submit]");
  });

  after(async () => {
    await browser?.close();
    site?.server.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const steps = () =>
    page
      .locator("[data-step]")
      .evaluateAll((els) =>
        Object.fromEntries(els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-ok")])),
      );

  const verdictOf = async (r: unknown): Promise<string | null> => {
    const frag = Buffer.from(JSON.stringify(r)).toString("base64url");
    await page.goto(`${site.base}/#/settings`);
    await page.goto(`${site.base}/verify#r=${frag}`);
    await page
      .locator(
        "#verdict[data-verdict=valid], #verdict[data-verdict=invalid], #verdict[data-verdict=incomplete]",
      )
      .waitFor({ timeout: 60_000 });
    return page.locator("#verdict").getAttribute("data-verdict");
  };

  it("says VALID for a v2 receipt: its checkpoint and proof, then consistency with the head on chain from the tiles", async () => {
    expect(receipt.v).to.equal(2);
    expect(await verdictOf(receipt), (await page.locator("main").textContent()) ?? "").to.equal("valid");
    expect(await steps()).to.deep.equal({
      format: "true",
      checkpoint: "true",
      contentHash: "true",
      leafHash: "true",
      inclusion: "true",
      agreement: "true",
      head: "true",
      proof: "true",
      counted: "none",
    });
    expect(await page.locator('[data-step="proof"]').textContent()).to.match(/cùng một lịch sử/);
    // which witnesses cosigned the mirror's checkpoint the page relied on, beside the trust root's quorum (none here)
    const witnesses = page.locator("#witnesses");
    expect(await witnesses.getAttribute("data-cosigned")).to.equal("");
    expect(await witnesses.getAttribute("data-quorum")).to.equal("0");
    expect(await witnesses.textContent()).to.contain("bản sao");
    await shoot(page, "verify-v2-from-tiles");
    expect(pageErrors).to.deep.equal([]);
  });

  it("says VALID for a v1 receipt: the proof computed from the mirror's tiles leads to the root anchored on chain", async () => {
    expect(await verdictOf(v1), (await page.locator("main").textContent()) ?? "").to.equal("valid");
    const ok = await steps();
    expect(ok.signature).to.equal("true");
    expect(ok.proof).to.equal("true");
    expect(ok.head).to.equal("true");
    expect(ok.counted).to.equal("none");
    await shoot(page, "verify-from-tiles");
    expect(pageErrors).to.deep.equal([]);
  });

  it("a v2 receipt whose checkpoint was re-signed by another key fails at the checkpoint step", async () => {
    const parsed = parseTlogProof(receipt.proof);
    const forger = ed25519NoteKey(parsed.parsedCheckpoint.origin, new Uint8Array(32).fill(1));
    const checkpoint = signCheckpoint(parsed.parsedCheckpoint, [forger]);
    const forged = { ...receipt, proof: formatTlogProof({ ...parsed, checkpoint }) };
    expect(await verdictOf(forged)).to.equal("invalid");
    expect((await steps()).checkpoint).to.equal("false");
  });

  it("fails the proof step of both versions when the mirror's tiles were tampered with", async () => {
    const note = readFileSync(join(dir, "logs", receipt.consultation, "checkpoint"), "utf8");
    const size = parseCheckpoint(parseNote(note).text).size;
    const tile = join(
      dir,
      "logs",
      receipt.consultation,
      tilePath({ level: 0, index: 0, width: tileWidthAt(0, 0, size) }),
    );
    const bytes = readFileSync(tile);
    bytes[0] = (bytes[0] ?? 0) ^ 0xff;
    writeFileSync(tile, bytes);
    for (const r of [receipt, v1]) {
      expect(await verdictOf(r)).to.equal("invalid");
      expect((await steps()).proof).to.equal("false");
    }
  });
});
