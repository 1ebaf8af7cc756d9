// Sign-in as people do it, in real headless Chromium: the client's sign-in button leads to the demo OpenID
// Provider's login page (node-oidc-provider, username and password), back to the client signed in (authorization
// code with PKCE); the citizen gives an opinion and gets the receipt, then signs out at the provider. A staff
// account reaches the staff page, a citizen does not. An expired session leads back to sign-in and the opinion
// being typed is still there afterwards.
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { DEMO_PASSWORD } from "../../scripts/demo-idp.ts";
import { launch, needChromium, PHONE, shoot } from "./helpers.ts";
import { api, DRAFT, type Stack, signInAs, startStack, token } from "./stack.ts";

describe("web client: sign-in with the OpenID Provider (Chromium)", function () {
  this.timeout(180_000);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let id: number;

  before(async function () {
    needChromium(this);
    stack = await startStack();
    const officer = await token(stack.base, "can-bo-seed", "agency", stack.agency);
    const now = Math.floor(Date.now() / 1000);
    id = (
      await api<{ id: number }>(stack.base, "/api/consultations", {
        token: officer,
        body: { ...DRAFT, opensAt: now - 60, closesAt: now + 24 * 3600 },
      })
    ).id;
    browser = await launch();
    page = await browser.newPage({ viewport: PHONE });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  const storage = () =>
    page.evaluate(() => ({
      session: JSON.stringify(Object.fromEntries(Object.entries(sessionStorage))),
      local: JSON.stringify(Object.fromEntries(Object.entries(localStorage))),
    }));

  it("a citizen signs in at the provider's login page, gives an opinion and gets the receipt", async () => {
    await page.goto(`${stack.base}/#/c/${id}`);
    await page.click("#signin-button");
    // the provider's own page, on the provider's origin: the client never sees the password
    await page.waitForURL(/\/interaction\//);
    expect(new URL(page.url()).origin).to.equal(stack.idp.issuer);
    expect(await page.textContent("body"))
      .to.contain("cong-dan-1")
      .and.to.contain("can-bo-btp");
    await page.fill("#username", "cong-dan-1");
    await page.fill("#password", "wrong");
    await page.click("#login-submit");
    await page.locator("#login-error").waitFor();
    await shoot(page, "provider-login");
    await page.fill("#password", DEMO_PASSWORD);
    await page.click("#login-submit");
    await page.locator("#signed-in-name").waitFor({ timeout: 30_000 });
    expect(await page.textContent("#signed-in-name")).to.contain("Nguyễn Văn An");
    // back where the sign-in started, the code gone from the address bar
    expect(new URL(page.url()).search).to.equal("");
    expect(new URL(page.url()).hash).to.equal(`#/c/${id}`);
    const { session, local } = await storage();
    expect(session).to.contain("accessToken");
    expect(local).to.not.contain("accessToken").and.not.contain("eyJ");
    expect(await page.locator("#nav-staff").count()).to.equal(0);

    const form = page.locator('form.opinion[data-section="dieu-1"]');
    await form.locator('input[value="agree"]').check();
    await form.locator("textarea").fill("Tôi đồng ý với phạm vi điều chỉnh.");
    await form.locator("button[type=submit]").click();
    await page.waitForURL(/#\/receipt\/\d+\/\d+$/);
    await page.locator("#receipt-status[data-status]").waitFor();
    await shoot(page, "signed-in-receipt");
  });

  it("a citizen does not reach the staff page", async () => {
    await page.goto(`${stack.base}/#/staff`);
    await page.locator("#staff-refused").waitFor();
    expect(await page.locator("#nav-staff").count()).to.equal(0);
  });

  it("signs out at the provider: the next sign-in asks for the password again", async () => {
    await page.click("#nav-sign-out");
    await page.waitForURL((url) => url.origin === stack.idp.issuer);
    await page.click("#logout-confirm");
    await page.locator("#nav-sign-in").waitFor({ timeout: 30_000 });
    expect(new URL(page.url()).origin).to.equal(stack.base);
    expect((await storage()).session).to.not.contain("accessToken");
    await page.click("#nav-sign-in");
    await page.waitForURL(/\/interaction\//);
    await page.locator("#username").waitFor();
  });

  it("a staff account reaches the staff page from the navigation", async () => {
    await page.goto(`${stack.base}/#/`);
    await signInAs(page, "can-bo-btp");
    await page.click("#nav-staff");
    await page.locator("#staff-agency").waitFor();
    expect(await page.textContent("#staff-agency")).to.contain("bo-tu-phap");
    await shoot(page, "staff");
    await page.click("#nav-sign-out");
    await page.click("#logout-confirm");
    await page.locator("#nav-sign-in").waitFor({ timeout: 30_000 });
  });

  it("an expired session leads back to sign-in, and what was typed is still there", async () => {
    await page.goto(`${stack.base}/#/c/${id}`);
    await signInAs(page, "cong-dan-3", "#signin-button");
    const typed = "Đề nghị làm rõ khái niệm người sử dụng đất.";
    const form = page.locator('form.opinion[data-section="dieu-2"]');
    await form.locator('input[value="disagree"]').check();
    await form.locator("textarea").fill(typed);
    // the service's clock runs past the token's expiry: the opinion is refused with 401
    stack.clock.offset = 13 * 3600_000;
    const refused = page.waitForResponse((r) => r.url().endsWith("/opinions") && r.status() === 401);
    await form.locator("button[type=submit]").click();
    await refused;
    stack.clock.offset = 0;
    // the provider still knows the person: straight back, signed in again, the opinion as it was
    await page.locator("#signed-in-name").waitFor({ timeout: 30_000 });
    const again = page.locator('form.opinion[data-section="dieu-2"]');
    expect(await again.locator("textarea").inputValue()).to.equal(typed);
    expect(await again.locator('input[value="disagree"]').isChecked()).to.equal(true);
    await again.locator("button[type=submit]").click();
    await page.waitForURL(/#\/receipt\/\d+\/\d+$/);
  });
});
