// The built client on a plain static host, with no service and no chain reachable: every page must
// still show a clear message (never a blank screen or an uncaught exception), and the verifier must
// judge a malformed receipt without any network.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { buildClient, DESKTOP, freePort, launch, PHONE, screenshotDir } from "./helpers.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
};

/** A dumb static host: no fallback to index.html, like many free hosts. */
function staticServer(root: string): Server {
  return createServer((req, res) => {
    let path = normalize(decodeURIComponent((req.url ?? "/").split("?")[0]!)).replace(/^(\.\.[/\\])+/, "");
    if (path.endsWith("/")) path += "index.html";
    const file = join(root, path);
    try {
      if (!statSync(file).isFile()) throw new Error("not a file");
      res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
}

describe("web: static hosting, service and chain unreachable", () => {
  let server: Server;
  let base: string;
  let deadPort: number;
  let browser: Browser;
  let page: Page;
  let dist: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    // built as `npm run build` without GOPY_TRUST_ROOT
    dist = buildClient(null);
    const port = await freePort();
    deadPort = await freePort();
    server = staticServer(dist);
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    base = `http://127.0.0.1:${port}`;
    browser = await launch();
    page = await browser.newPage({ viewport: PHONE });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // Point the client at a service and an RPC that are down.
    await page.goto(`${base}/`);
    await page.evaluate((dead) => {
      localStorage.setItem(
        "gopy.settings.v1",
        JSON.stringify({
          apiUrl: `http://127.0.0.1:${dead}`,
          proofUrl: "",
          rpcUrl: `http://127.0.0.1:${dead}`,
          contract: "",
        }),
      );
    }, deadPort);
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
  });

  it("the list says the service is unreachable, in Vietnamese, with a retry", async () => {
    await page.goto(`${base}/#/`);
    const alert = page.locator("[role=alert]");
    await alert.waitFor();
    expect(await page.getAttribute("html", "lang")).to.equal("vi");
    expect(await alert.textContent()).to.contain("Không kết nối được tới dịch vụ");
    expect(await alert.getAttribute("data-error")).to.equal("unreachable");
    expect(await page.locator("[role=alert] button").count()).to.equal(1);
    await page.screenshot({
      path: join(screenshotDir(), "static-list-service-down-phone.png"),
      fullPage: true,
    });
  });

  it("switches to English and back", async () => {
    await page.click("button.lang");
    await page.locator("[role=alert]").waitFor();
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    expect(await page.locator("[role=alert]").textContent()).to.contain("Cannot reach the service");
    await page.click("button.lang");
    expect(await page.getAttribute("html", "lang")).to.equal("vi");
  });

  it("a consultation page explains the failure instead of going blank", async () => {
    await page.goto(`${base}/#/c/1`);
    await page.locator("[role=alert]").waitFor();
    expect(await page.locator("h1").textContent()).to.not.equal("");
  });

  it("settings are visible, validated and kept", async () => {
    await page.goto(`${base}/#/settings`);
    await page.locator("#set-rpcUrl").waitFor();
    expect(await page.inputValue("#set-rpcUrl")).to.equal(`http://127.0.0.1:${deadPort}`);
    await page.fill("#set-rpcUrl", "not a url");
    await page.click("#settings-form button[type=submit]");
    expect(await page.getAttribute("#set-rpcUrl", "aria-invalid")).to.equal("true");
    expect(await page.locator("#settings-status").textContent()).to.contain("http");
    await page.fill("#set-rpcUrl", `http://127.0.0.1:${deadPort}`);
    await page.click("#settings-form button[type=submit]");
    expect(await page.locator("#settings-status").textContent()).to.equal("Đã lưu.");
    for (const [name, vp] of [
      ["phone", PHONE],
      ["desktop", DESKTOP],
    ] as const) {
      await page.setViewportSize(vp);
      await page.screenshot({ path: join(screenshotDir(), `settings-${name}.png`), fullPage: true });
    }
    await page.setViewportSize(PHONE);
  });

  it("/verify/ opens the verifier without a server fallback; a malformed #r= receipt fails at format", async () => {
    const frag = Buffer.from(JSON.stringify({ v: 1, hello: "world" })).toString("base64url");
    await page.goto(`${base}/verify/#r=${frag}`);
    const verdict = page.locator("#verdict[data-verdict=invalid]");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-failed-step")).to.equal("format");
    expect(await page.locator('[data-step="format"]').getAttribute("data-ok")).to.equal("false");
  });

  it("pasted garbage is refused at the format step", async () => {
    await page.goto(`${base}/#/verify`);
    await page.fill("#receipt-paste", "{not json");
    await page.click("#verify-paste");
    const verdict = page.locator("#verdict[data-verdict=invalid]");
    await verdict.waitFor();
    expect(await verdict.getAttribute("data-failed-step")).to.equal("format");
  });

  it("a build without a trust root says so and verifies nothing; no trust-root.json is published", async () => {
    expect(() => statSync(join(dist, "trust-root.json"))).to.throw();
    await page.goto(`${base}/#/verify`);
    await page.locator("#chain-warnings [data-kind=none]").waitFor();
    await page.goto(`${base}/#/settings`);
    expect(await page.getAttribute("#trust-root", "data-source")).to.equal("none");
  });

  it("Settings refuses a malformed trust root file with the reason, and marks an imported one on every page", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "gopy-trust-"));
    const bad = join(tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ v: 1, chainId: 31337, registry: "0x1234", rpcUrls: ["http://x"] }));
    await page.goto(`${base}/#/settings`);
    await page.setInputFiles("#trust-file", bad);
    await page.locator("#trust-status", { hasText: "registry" }).waitFor();
    expect(await page.getAttribute("#trust-file", "aria-invalid")).to.equal("true");
    expect(await page.getAttribute("#trust-root", "data-source")).to.equal("none");
    const junk = join(tmp, "junk.json");
    writeFileSync(junk, "{not json");
    await page.setInputFiles("#trust-file", junk);
    await page.locator("#trust-status", { hasText: "JSON" }).waitFor();

    const good = join(tmp, "good.json");
    const registry = `0x${"ab".repeat(20)}`;
    writeFileSync(
      good,
      JSON.stringify({ v: 1, chainId: 31337, registry, rpcUrls: [`http://127.0.0.1:${deadPort}`] }),
    );
    await page.setInputFiles("#trust-file", good);
    await page.locator("#trust-root[data-source=imported]").waitFor();
    expect(await page.textContent("#trust-registry")).to.equal(registry);
    for (const route of ["#/", "#/verify", "#/c/1"]) {
      await page.goto(`${base}/${route}`);
      const banner = page.locator("#trust-imported");
      await banner.waitFor();
      expect(await banner.getAttribute("data-registry")).to.equal(registry);
    }
    await page.click("#trust-back");
    await page.locator("#trust-banner").waitFor({ state: "hidden" });
    await page.goto(`${base}/#/settings`);
    expect(await page.getAttribute("#trust-root", "data-source")).to.equal("none");
  });

  it("no uncaught exception on any page", () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
