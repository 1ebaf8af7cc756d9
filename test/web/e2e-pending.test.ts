// A receipt that is not anchored yet, end to end: the service's anchorer is off, and it promises
// anchoring within 8 s. Verified at once it is `pending` with the promised time; after the deadline (the
// browser's clock moved past it) it is still `pending` but flagged overdue, says so plainly and offers the
// signed receipt as evidence.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { Receipt } from "../../protocol/index.ts";
import { ensureDist, launch, needChromium, PHONE, shoot } from "./helpers.ts";
import { api, DRAFT, type Stack, signInAs, startStack, token } from "./stack.ts";

describe("web: a receipt not yet anchored, end to end", function () {
  this.timeout(300_000);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let receipt: Receipt;
  let id: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(300_000);
    needChromium(this);
    ensureDist();
    stack = await startStack({ anchorEnabled: false, maxAnchorDelay: "8s" });
    const agencyToken = await token(stack.base, "can-bo-2", "agency", stack.agency);
    const now = Math.floor(Date.now() / 1000);
    id = String(
      (
        await api<{ id: number }>(stack.base, "/api/consultations", {
          token: agencyToken,
          body: { ...DRAFT, opensAt: now, closesAt: now + 3600 },
        })
      ).id,
    );
    browser = await launch();
    page = await (await browser.newContext({ viewport: PHONE, acceptDownloads: true })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(`${stack.base}/#/settings`);
    await page.locator("#set-rpcUrl").waitFor();
    await page.fill("#set-rpcUrl", stack.node.url);
    await page.click("#settings-form button[type=submit]");
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("the receipt page says pending, with the promised deadline", async () => {
    await page.goto(`${stack.base}/#/c/${id}`);
    await signInAs(page, "cong-dan-2", "#signin-button");
    const form = page.locator('form.opinion[data-section="dieu-1"]');
    await form.waitFor();
    await form.locator('input[value="neutral"]').check();
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/receipt\//);
    await page.locator("#receipt-status:not([data-status=checking])").waitFor({ timeout: 30_000 });
    const status = page.locator("#receipt-status");
    expect(await status.getAttribute("data-status"), (await status.textContent()) ?? "").to.equal("pending");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-receipt")]);
    const path = join(mkdtempSync(join(tmpdir(), "gopy-web-pending-")), "receipt.json");
    await download.saveAs(path);
    receipt = JSON.parse(readFileSync(path, "utf8")) as Receipt;
    await shoot(page, "receipt-pending");
  });

  it("verified before the deadline: pending, explained with the time it is promised by", async () => {
    const frag = Buffer.from(JSON.stringify(receipt)).toString("base64url");
    await page.goto(`${stack.base}/verify#r=${frag}`);
    const v = page.locator("#verdict[data-verdict=pending]");
    await v.waitFor({ timeout: 30_000 });
    expect(await v.getAttribute("data-overdue")).to.equal(null);
    expect(await v.textContent()).to.contain("ĐANG CHỜ");
    expect(await page.locator('[data-step="head"]').getAttribute("data-ok")).to.equal("none");
    await shoot(page, "verify-pending");
  });

  it("verified after the deadline: overdue, said plainly, with the receipt offered as evidence", async () => {
    // The browser's clock, not the test, goes past the deadline.
    await page.clock.setFixedTime(Date.parse(receipt.anchorDeadline) + 1000);
    const frag = Buffer.from(JSON.stringify(receipt)).toString("base64url");
    await page.goto(`${stack.base}/verify#r=${frag}`);
    const v = page.locator("#verdict[data-verdict=pending][data-overdue=true]");
    await v.waitFor({ timeout: 30_000 });
    expect(await v.textContent()).to.contain("QUÁ HẠN");
    expect(await v.locator("button").count()).to.equal(1);
    await shoot(page, "verify-overdue");
  });

  it("raised no uncaught exception", () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
