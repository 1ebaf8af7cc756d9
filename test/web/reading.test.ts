// Public reading in real headless Chromium on the real stack: an article's opinions 20 at a time with "load more"
// (no infinite scroll), a diacritics-insensitive search and a stance filter, every control labelled; the agency
// shown by its display name. The first page's render time after its data arrived (performance marks) is printed.
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { launch, needChromium, PHONE, shoot, unlabelled } from "./helpers.ts";
import { api, DRAFT, type Stack, startStack, token } from "./stack.ts";

describe("web: public opinions of an article in Chromium", function () {
  this.timeout(600_000);
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let id: string;
  let agencyVi: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(300_000);
    needChromium(this);
    stack = await startStack({ anchorEnabled: false });
    const staff = await token(stack.base, "can-bo-doc", "agency", stack.agency);
    const now = Math.floor(stack.clock.now() / 1000);
    id = String(
      (
        await api<{ id: number }>(stack.base, "/api/consultations", {
          token: staff,
          body: { ...DRAFT, opensAt: now, closesAt: now + 86_400 },
        })
      ).id,
    );
    agencyVi = (await api<{ agencyName: { vi: string } }>(stack.base, `/api/consultations/${id}`)).agencyName
      .vi;
    for (let i = 0; i < 45; i++) {
      const t = await token(stack.base, `cong-dan-doc-${i}`, "citizen");
      await api(stack.base, `/api/consultations/${id}/opinions`, {
        token: t,
        body: {
          section: "dieu-1",
          stance: i % 3 === 0 ? "disagree" : "agree",
          text: i === 7 ? "Đề nghị điều chỉnh phạm vi cho rõ." : `Ý kiến số ${i} của người dân.`,
        },
      });
    }
    browser = await launch();
    page = await (await browser.newContext({ viewport: PHONE, locale: "vi-VN" })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("shows 20 at a time with load more, searches without diacritics, filters by stance", async () => {
    await page.goto(`${stack.base}/#/c/${id}`);
    const reading = page.locator('details.public-reading[data-section="dieu-1"]');
    await reading.waitFor();
    expect(await page.locator("dd.agency").first().textContent()).to.equal(agencyVi);
    expect(agencyVi).to.not.equal(stack.agency);
    await reading.locator("summary").click();
    const items = reading.locator("li.public-opinion");
    await page.waitForFunction(
      () => document.querySelectorAll('details[data-section="dieu-1"] li.public-opinion').length === 20,
    );
    const renderMs = await page.evaluate(
      () => performance.getEntriesByName("opinions-render:dieu-1", "measure")[0]?.duration ?? -1,
    );
    process.stderr.write(
      `[reading web] first page rendered ${renderMs.toFixed(2)} ms after its data arrived\n`,
    );
    expect(renderMs).to.be.at.least(0);
    // newest first
    const leaves = await items.evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-leaf"))));
    expect(leaves).to.deep.equal([...leaves].sort((a, b) => b - a));
    expect(await unlabelled(page)).to.deep.equal([]);
    await shoot(page, "reading-article");
    const more = reading.locator("button.more");
    await more.click();
    await page.waitForFunction(
      () => document.querySelectorAll('details[data-section="dieu-1"] li.public-opinion').length === 40,
    );
    // the first new opinion has the focus: the reader continues where the new ones start
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-leaf"))).to.equal(
      String(leaves.at(-1)! - 1),
    );
    await more.click();
    await page.waitForFunction(
      () => document.querySelectorAll('details[data-section="dieu-1"] li.public-opinion').length === 45,
    );
    expect(await more.isHidden()).to.equal(true);
    await reading.locator("input[type=search]").fill("dieu chinh");
    await reading.locator("form button[type=submit]").click();
    await page.waitForFunction(
      () => document.querySelectorAll('details[data-section="dieu-1"] li.public-opinion').length === 1,
    );
    expect(await items.first().textContent()).to.contain("điều chỉnh");
    await reading.locator("input[type=search]").fill("");
    await reading.locator("select").selectOption("disagree");
    await reading.locator("form button[type=submit]").click();
    await page.waitForFunction(
      () => document.querySelectorAll('details[data-section="dieu-1"] li.public-opinion').length === 15,
    );
    expect(await reading.locator("button.more").isHidden()).to.equal(true);
    expect(pageErrors).to.deep.equal([]);
  });
});
