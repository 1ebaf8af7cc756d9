// End to end in real headless Chromium against the real stack: a Hardhat node (free port) with the
// registry deployed by its Ignition module, the service (buildApp) serving web/dist on a free port.
// A citizen signs in, gives an opinion, downloads the receipt and, once anchored, verifies it; tampered
// receipts, a lying mirror and an altered draft are caught at the right step; a closed consultation's
// tally and audit match the chain. Screenshots of every page at phone and desktop sizes go to screenshots/.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { Receipt } from "../../protocol/index.ts";
import { waitFor } from "../support/http.ts";
import { ensureDist, freePort, launch, needChromium, PHONE, shoot, unlabelled } from "./helpers.ts";
import { api, DRAFT, type Stack, signInAs, startStack, token } from "./stack.ts";

/**
 * A mirror that lies: it forwards to the real service but serves the draft with one article altered and
 * answers proof requests with a genuine proof for an older (smaller) tree, i.e. against a different root; and serves
 * the log's hash tiles with their first hash altered (what v2 receipts' consistency proofs are computed from).
 */
async function lyingMirror(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer(async (req, res) => {
    const cors = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const url = new URL(req.url ?? "/", target);
    if (url.pathname.endsWith("/log/proof")) {
      const n = Number(url.searchParams.get("treeSize"));
      if (n > 1) url.searchParams.set("treeSize", String(n - 1));
    }
    const upstream = await fetch(url, { method: req.method });
    if (/^\/logs\/\d+\/tile\/\d+\//.test(url.pathname) && upstream.ok) {
      const tile = new Uint8Array(await upstream.arrayBuffer());
      tile[0] = (tile[0] ?? 0) ^ 0xff;
      res.writeHead(200, { ...cors, "content-type": "application/octet-stream" });
      res.end(tile);
      return;
    }
    let body = await upstream.text();
    if (/^\/api\/consultations\/\d+$/.test(url.pathname) && upstream.ok) {
      const c = JSON.parse(body);
      c.draft.sections[0].text += " Trừ trường hợp cơ quan có thẩm quyền quyết định khác.";
      body = JSON.stringify(c);
    }
    res.writeHead(upstream.status, {
      ...cors,
      "content-type": upstream.headers.get("content-type") ?? "application/json",
    });
    res.end(body);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${port}`, server };
}

describe("web: end to end in Chromium on the real stack", function () {
  this.timeout(600_000);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let mirror: { url: string; server: Server };
  let openId: string;
  let closingId: string;
  let agencyToken: string;
  let receiptPath: string;
  let receipt: Receipt;
  const tmp = mkdtempSync(join(tmpdir(), "gopy-web-receipts-"));
  const pageErrors: string[] = [];
  const policyViolations: string[] = [];

  async function setSettings(s: { apiUrl?: string; proofUrl?: string; rpcUrl?: string }): Promise<void> {
    await page.goto(`${stack.base}/#/settings`);
    await page.locator("#set-apiUrl").waitFor();
    await page.fill("#set-apiUrl", s.apiUrl ?? "");
    await page.fill("#set-proofUrl", s.proofUrl ?? "");
    await page.fill("#set-rpcUrl", s.rpcUrl ?? stack.node.url);
    await page.click("#settings-form button[type=submit]");
    await page.locator("#settings-status", { hasText: "Đã lưu." }).waitFor();
  }

  async function verifyFile(
    path: string,
  ): Promise<{ verdict: string; failed: string | null; ms: number | null }> {
    await page.goto(`${stack.base}/verify`);
    await page.locator("#receipt-file").waitFor();
    expect(await unlabelled(page)).to.deep.equal([]);
    await page.setInputFiles("#receipt-file", path);
    const v = page.locator(
      "#verdict[data-verdict=valid], #verdict[data-verdict=invalid], #verdict[data-verdict=pending], #verdict[data-verdict=incomplete]",
    );
    await v.waitFor({ timeout: 30_000 });
    const ms = await v.getAttribute("data-verify-ms");
    return {
      verdict: (await v.getAttribute("data-verdict"))!,
      failed: await v.getAttribute("data-failed-step"),
      ms: ms === null ? null : Number(ms),
    };
  }

  before(async function () {
    this.timeout(300_000);
    needChromium(this);
    ensureDist();
    stack = await startStack();
    agencyToken = await token(stack.base, "can-bo-1", "agency", stack.agency);
    const now = Math.floor(stack.clock.now() / 1000);
    const closesAt = now + 3600;
    closingId = String(
      (
        await api<{ id: number }>(stack.base, "/api/consultations", {
          token: agencyToken,
          body: { ...DRAFT, title: "Dự thảo Nghị định về tiếp công dân", opensAt: now, closesAt },
        })
      ).id,
    );
    openId = String(
      (
        await api<{ id: number }>(stack.base, "/api/consultations", {
          token: agencyToken,
          body: { ...DRAFT, opensAt: now, closesAt: now + 86_400 },
        })
      ).id,
    );
    // Some opinions on the consultation that will close, from citizens using the API directly.
    for (const [i, stance] of (["agree", "disagree", "agree", "neutral"] as const).entries()) {
      const t = await token(stack.base, `cong-dan-dong-${i}`, "citizen");
      await api(stack.base, `/api/consultations/${closingId}/opinions`, {
        token: t,
        body: { section: `dieu-${(i % 3) + 1}`, stance, text: `Ý kiến ${i} về dự thảo.` },
      });
    }
    mirror = await lyingMirror(stack.base);
    browser = await launch();
    page = await (
      await browser.newContext({ viewport: PHONE, acceptDownloads: true, locale: "vi-VN" })
    ).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) policyViolations.push(message.text());
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (mirror ? mirror.server.close(r) : r(null)));
    await stack?.stop();
  });

  it("settings: the citizen points the client at the chain's RPC", async () => {
    await setSettings({});
    await shoot(page, "settings");
  });

  it("lists the consultations", async () => {
    await page.goto(`${stack.base}/`);
    await page.locator(".card").first().waitFor();
    expect(await page.locator(".card").count()).to.equal(2);
    expect(await page.getAttribute("html", "lang")).to.equal("vi");
    await shoot(page, "list");
  });

  it("shows the draft by article with a green badge computed in the browser, with block and transaction", async () => {
    await page.click(`a[href="#/c/${openId}"]`);
    const badge = page.locator("#draft-badge[data-badge=match]");
    await badge.waitFor({ timeout: 30_000 });
    const text = (await badge.textContent()) ?? "";
    expect(text).to.contain("khớp");
    expect(text).to.match(/Khối\s*\d+/);
    expect(await page.locator("article.section").count()).to.equal(3);
    await shoot(page, "consultation");
  });

  it("a citizen signs in, gives an opinion, gets a receipt with a QR code and downloads it", async () => {
    await signInAs(page, "cong-dan-1", "#signin-button");
    const form = page.locator('form.opinion[data-section="dieu-2"]');
    await form.waitFor();
    expect(await unlabelled(page)).to.deep.equal([]);
    await form.locator('input[value="disagree"]').check();
    await form.locator("textarea").fill("Đề nghị bổ sung quy định về người sử dụng đất là hộ gia đình.");
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/receipt\/\d+\/\d+$/);
    await page.locator("#receipt-status[data-status]").waitFor();
    await page.locator("#receipt-status:not([data-status=checking])").waitFor({ timeout: 30_000 });
    await page.locator(".qr canvas").waitFor();
    await shoot(page, "receipt");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-receipt")]);
    receiptPath = join(tmp, "receipt.json");
    await download.saveAs(receiptPath);
    receipt = JSON.parse(readFileSync(receiptPath, "utf8")) as Receipt;
    expect(receipt.consultation).to.equal(openId);
    expect(receipt.text).to.contain("hộ gia đình");
    // Two more citizens, so the receipt's leaf is not the last one and its proof is not trivial.
    for (const sub of ["cong-dan-2", "cong-dan-3"]) {
      const t = await token(stack.base, sub, "citizen");
      await api(stack.base, `/api/consultations/${openId}/opinions`, {
        token: t,
        body: { section: "dieu-1", stance: "agree", text: "Đồng ý." },
      });
    }
  });

  it("the receipt page turns to anchored once the anchorer has anchored the head", async () => {
    await waitFor(
      "anchoring of 3 entries",
      async () => {
        const h = await api<{ anchored: { treeSize: number } | null }>(
          stack.base,
          `/api/consultations/${openId}/log/head`,
        );
        return (h.anchored?.treeSize ?? 0) >= 3;
      },
      60_000,
      250,
    );
    await page.goto(`${stack.base}/#/receipt/${receipt.consultation}/${receipt.leafIndex}`);
    await page
      .locator("#receipt-status[data-status=anchored]")
      .waitFor({ timeout: 30_000 })
      .catch(async (e: Error) => {
        // what the citizen saw instead says why
        throw new Error(
          `${e.message}\nthe page says: ${await page.locator("#receipt-status").textContent()}`,
        );
      });
    await shoot(page, "receipt-anchored");
  });

  it("verifies the downloaded receipt at /verify: valid, every step green", async () => {
    const r = await verifyFile(receiptPath);
    expect(r.verdict).to.equal("valid");
    expect(r.ms).to.be.a("number"); // the page says how long the check took (its budget: npm run bench)
    const steps = await page
      .locator("#steps li")
      .evaluateAll((els) => els.map((e) => [e.getAttribute("data-step"), e.getAttribute("data-ok")]));
    expect(steps).to.deep.equal([
      ["format", "true"],
      ["checkpoint", "true"],
      ["contentHash", "true"],
      ["leafHash", "true"],
      ["inclusion", "true"],
      ["agreement", "true"],
      ["head", "true"],
      ["proof", "true"],
      ["counted", "true"],
    ]);
    await page.locator("#steps", { hasText: "giao dịch" }).waitFor({ timeout: 15_000 });
    await shoot(page, "verify-valid");
  });

  it("the same receipt from a #r= link and from 'my opinions' is valid too", async () => {
    const frag = Buffer.from(JSON.stringify(receipt)).toString("base64url");
    await page.goto(`${stack.base}/verify#r=${frag}`);
    await page.locator("#verdict[data-verdict=valid]").waitFor({ timeout: 30_000 });
    // The English switch re-runs the check and explains it in English.
    await page.click("button.lang");
    await page.locator("#verdict[data-verdict=valid]", { hasText: "VALID" }).waitFor({ timeout: 30_000 });
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    await shoot(page, "verify-valid-en");
    await page.click("button.lang");
    await page.locator("#verdict[data-verdict=valid]", { hasText: "HỢP LỆ" }).waitFor({ timeout: 30_000 });
    await page.goto(`${stack.base}/#/verify`);
    await page.locator("#my-receipts button").first().click();
    await page.locator("#verdict[data-verdict=valid]").waitFor({ timeout: 30_000 });
    // The signed-in citizen's receipts, as the service keeps them (GET /api/me/opinions).
    await page.goto(`${stack.base}/#/verify`);
    await page.locator("#load-my-receipts").click();
    await page.locator("#service-receipts button").first().click();
    await page.locator("#verdict[data-verdict=valid]").waitFor({ timeout: 30_000 });
  });

  it("the receipt with one character of its text changed fails at the contentHash step", async () => {
    const tampered = { ...receipt, text: receipt.text.replace("hộ", "họ") };
    expect(tampered.text).to.not.equal(receipt.text);
    const path = join(tmp, "tampered.json");
    writeFileSync(path, JSON.stringify(tampered));
    const r = await verifyFile(path);
    expect(r).to.include({ verdict: "invalid", failed: "contentHash" });
    expect(await page.locator('[data-step="contentHash"]').getAttribute("data-ok")).to.equal("false");
    await shoot(page, "verify-invalid-content");
  });

  it("a proof against a different root (from a lying mirror) fails at the proof step", async () => {
    await setSettings({ proofUrl: mirror.url });
    const r = await verifyFile(receiptPath);
    expect(r).to.include({ verdict: "invalid", failed: "proof" });
    expect(await page.locator('[data-step="head"]').getAttribute("data-ok")).to.equal("true");
    await shoot(page, "verify-invalid-proof");
    await setSettings({});
  });

  it("the draft badge turns red when the served draft is altered", async () => {
    await setSettings({ apiUrl: mirror.url });
    await page.goto(`${stack.base}/#/c/${openId}`);
    await page.locator("#draft-badge[data-badge=mismatch]").waitFor({ timeout: 30_000 });
    expect(await page.locator("#draft-badge").textContent()).to.contain("KHÔNG khớp");
    await shoot(page, "consultation-draft-altered");
    await setSettings({});
  });

  it("a wrong RPC gets a clear message, not a blank page", async () => {
    const dead = await freePort();
    await setSettings({ rpcUrl: `http://127.0.0.1:${dead}` });
    await page.goto(`${stack.base}/#/c/${openId}`);
    await page.locator("#draft-badge[data-badge=error]").waitFor({ timeout: 30_000 });
    expect(await page.locator("#draft-badge").textContent()).to.contain("RPC");
    await page.goto(`${stack.base}/verify`);
    await page.setInputFiles("#receipt-file", receiptPath);
    await page.locator("#verdict[data-verdict=incomplete]").waitFor({ timeout: 30_000 });
    expect(await page.locator("#verdict").textContent()).to.contain("RPC");
    await shoot(page, "verify-rpc-down");
    await setSettings({});
  });

  it("after closing: the tally matches the chain, and the audit recomputes everything in a worker", async () => {
    await stack.advance(3610); // past closesAt, on the service's clock and the chain's (with room: a block at exactly closesAt is not after it)
    const closed = await fetch(`${stack.base}/api/consultations/${closingId}/close`, {
      method: "POST",
      headers: { authorization: `Bearer ${agencyToken}` },
    });
    expect(closed.status, await closed.text()).to.equal(200);
    expect((await fetch(`${stack.base}/api/consultations/${closingId}/tally`)).status).to.equal(200);
    await page.goto(`${stack.base}/#/c/${closingId}`);
    await page.locator("#tally-check[data-tally=match]").waitFor({ timeout: 30_000 });
    await page.locator("#draft-badge[data-badge=match]").waitFor({ timeout: 30_000 });
    await shoot(page, "consultation-tally");
    await page.click(`a[href="#/c/${closingId}/audit"]`);
    await page.locator("#audit-start").click();
    const result = page.locator("#audit-result[data-audit]");
    await result.waitFor({ timeout: 60_000 });
    expect(await result.getAttribute("data-audit"), (await result.textContent()) ?? "").to.equal("pass");
    expect(await page.locator("#audit-progress").evaluate((p) => (p as HTMLProgressElement).value)).to.equal(
      4,
    );
    await shoot(page, "audit");
  });

  it("raised no uncaught exception in any page", () => {
    expect(pageErrors).to.deep.equal([]);
  });

  it("ran every page under the service's Content-Security-Policy without a violation", async () => {
    const served = await fetch(`${stack.base}/`);
    await served.text();
    expect(served.headers.get("content-security-policy")).to.contain("script-src 'self'");
    expect(policyViolations).to.deep.equal([]);
  });
});
