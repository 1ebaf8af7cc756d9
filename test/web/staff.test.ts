// The whole staff path in real Chromium, as an agency officer does it: sign in at the provider, open a consultation
// from a .docx the test makes (and see a draft without articles refused, nothing published), revise it and read
// the diff, watch the dashboard while citizens give opinions (a campaign of identical texts among them), read them
// grouped, withhold one, preview and import a CSV, close and see the tally hash on chain, publish the response;
// then, as the citizen, the receipt. Every console page is checked with axe-core (WCAG 2.1 A/AA) and shot at phone
// and desktop size into $GOPY_SCREENSHOTS (default /tmp/gopy-screens), outside the repository.
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { expect } from "chai";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { makeDocx } from "./fixtures/docx.ts";
import { axeViolations, launch, needChromium, PHONE, shoot } from "./helpers.ts";
import { api, type Stack, signInAs, startStack, token } from "./stack.ts";

const SHOTS = process.env.GOPY_SCREENSHOTS || "/tmp/gopy-screens";
const DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const MEMO = Buffer.from("%PDF-1.4\n% Tờ trình dự thảo Luật Đất đai (sửa đổi)\n%%EOF\n");
const CAMPAIGN = "Đề nghị giữ nguyên quy định hiện hành về phạm vi điều chỉnh.";

const DRAFT_PARAGRAPHS = [
  "Dự thảo Luật Đất đai (sửa đổi)",
  "Lấy ý kiến nhân dân về một số điều của dự thảo.",
  "Chương I",
  "NHỮNG QUY ĐỊNH CHUNG",
  "Điều 1. Phạm vi điều chỉnh",
  "Luật này quy định về chế độ sở hữu đất đai.",
  "Điều 2. Đối tượng áp dụng",
  "Cơ quan nhà nước và người sử dụng đất.",
  "Chương II",
  "QUYỀN CỦA NHÀ NƯỚC",
  "Điều 3. Giải thích từ ngữ",
  "Thửa đất là phần diện tích đất được giới hạn bởi ranh giới.",
];

describe("web client: the staff console, whole path (Chromium)", function () {
  this.timeout(300_000);
  let stack: Stack;
  let browser: Browser;
  let staffCtx: BrowserContext;
  let citizenCtx: BrowserContext;
  let page: Page;
  let id = 0;
  let receiptUrl = "";
  const shots: string[] = [];

  /** axe-core finds nothing on the page, and it is shot at both sizes as `name`. */
  async function check(name: string): Promise<void> {
    expect(await axeViolations(page), `${name}: axe`).to.deep.equal([]);
    shots.push(...(await shoot(page, name, SHOTS)));
  }

  before(async function () {
    needChromium(this);
    mkdirSync(SHOTS, { recursive: true });
    stack = await startStack();
    browser = await launch();
    staffCtx = await browser.newContext({ viewport: PHONE });
    page = await staffCtx.newPage();
  });
  after(async () => {
    if (shots.length) console.log(`screenshots:\n${shots.join("\n")}`);
    await browser?.close();
    await stack?.stop();
  });

  it("signs in as staff and reaches the console", async () => {
    await page.goto(`${stack.base}/#/staff`);
    await signInAs(page, "can-bo-btp", "#staff-sign-in");
    await page.locator("#staff-agency").waitFor();
    expect(await page.textContent("#staff-agency")).to.contain("bo-tu-phap");
    await check("console-home");
  });

  it("refuses a .docx without article headings, publishing nothing", async () => {
    const before = (await api<{ consultations: unknown[] }>(stack.base, "/api/consultations")).consultations
      .length;
    await page.click("#staff-new");
    await page.locator("#draft-file").waitFor();
    await page.setInputFiles("#draft-file", {
      name: "khong-co-dieu.docx",
      mimeType: DOCX_MIME,
      buffer: makeDocx(["Dự thảo", "Chương I", "Chỉ có lời văn, không có điều nào."]),
    });
    await page.locator("#split-error").waitFor();
    expect(await page.textContent("#split-error")).to.contain("Không tìm thấy điều nào");
    expect(await page.locator("#publish").count()).to.equal(0);
    await page.setInputFiles("#draft-file", {
      name: "hong.docx",
      mimeType: DOCX_MIME,
      buffer: Buffer.from("not a zip"),
    });
    await page.waitForFunction(() => document.querySelector("#split-error")?.textContent?.includes(".docx"));
    const after = (await api<{ consultations: unknown[] }>(stack.base, "/api/consultations")).consultations
      .length;
    expect(after).to.equal(before);
  });

  it("opens a consultation from a .docx: split, previewed, edited, published with its transaction and block", async () => {
    await page.setInputFiles("#draft-file", {
      name: "du-thao.docx",
      mimeType: DOCX_MIME,
      buffer: makeDocx(DRAFT_PARAGRAPHS),
    });
    await page.locator("#publish").waitFor();
    const ids = await page.$$eval("#ed-articles li", (els) => els.map((e) => e.getAttribute("data-section")));
    expect(ids).to.deep.equal(["dieu-1", "dieu-2", "dieu-3"]);
    expect(await page.inputValue("#ed-title")).to.equal("Dự thảo Luật Đất đai (sửa đổi)");
    expect(await page.textContent("#ed-articles")).to.contain("Chương II. QUYỀN CỦA NHÀ NƯỚC");
    await page.fill("#ed-t-dieu-3", "Điều 3. Giải thích từ ngữ (sửa)");
    // closes in 6 hours: the test moves the clocks past it while the officer's 12-hour token still holds
    await page.$eval("#ed-closes", (el) => {
      const d = new Date(Date.now() + 6 * 3600_000);
      const p = (n: number) => String(n).padStart(2, "0");
      (el as HTMLInputElement).value =
        `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await page.setInputFiles("#ed-attach", {
      name: "to-trinh.pdf",
      mimeType: "application/pdf",
      buffer: MEMO,
    });
    await page.locator("#ed-attachments li").waitFor();
    await check("console-open-preview");
    await page.click("#publish");
    await page.locator("#published").waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector("#pub-block")?.textContent ?? ""));
    const href = await page.getAttribute("#go-console", "href");
    id = Number(/#\/staff\/c\/(\d+)/.exec(href ?? "")?.[1]);
    expect(id).to.be.greaterThan(0);
    const c = await api<{
      draft: { sections: { id: string; title: string }[]; attachments?: { title: string; sha256: string }[] };
    }>(stack.base, `/api/consultations/${id}`);
    expect(c.draft.sections.map((s) => s.title)).to.deep.equal([
      "Điều 1. Phạm vi điều chỉnh",
      "Điều 2. Đối tượng áp dụng",
      "Điều 3. Giải thích từ ngữ (sửa)",
    ]);
    // the attachment's hash is in the anchored draft
    expect(c.draft.attachments).to.deep.equal([
      {
        title: "to-trinh",
        mediaType: "application/pdf",
        sha256: `0x${createHash("sha256").update(MEMO).digest("hex")}`,
        bytes: MEMO.length,
      },
    ]);
    await check("console-open-published");
  });

  it("revises the draft: a new version on chain and a side-by-side diff by article", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/draft`);
    await page.locator("#revise-publish").waitFor();
    await page.fill("#ed-x-dieu-2", "Cơ quan nhà nước, tổ chức và người sử dụng đất.");
    await page.click("#revise-publish");
    await page.locator("#published").waitFor({ timeout: 60_000 });
    await page.locator('#versions li[data-version="2"][data-onchain="yes"]').waitFor();
    const v2 = await api<{ draft: { attachments?: unknown[] } }>(stack.base, `/api/consultations/${id}`);
    expect(v2.draft.attachments, "the revision keeps the attachment").to.have.length(1);
    await page.locator('#diff tr[data-section="dieu-2"][data-diff="changed"]').waitFor();
    expect(await page.textContent('#diff tr[data-section="dieu-2"] ins')).to.contain("tổ chức");
    expect(await page.getAttribute('#diff tr[data-section="dieu-1"]', "data-diff")).to.equal("same");
    // the title and summary, and the attachment (matched by its hash), are rows of the diff too
    expect(await page.getAttribute('#diff tr[data-section="document"]', "data-diff")).to.equal("same");
    const memo = `0x${createHash("sha256").update(MEMO).digest("hex")}`;
    expect(await page.getAttribute(`#diff tr[data-section="attachment:${memo}"]`, "data-diff")).to.equal(
      "same",
    );
    await check("console-draft");
  });

  it("a citizen gives an opinion in the browser; others (a campaign among them) through the API", async () => {
    // the citizen's browser keeps their receipt (local storage): the same one comes back at the end
    citizenCtx = await browser.newContext({ viewport: PHONE });
    const citizen = await citizenCtx.newPage();
    await citizen.goto(`${stack.base}/#/c/${id}`);
    await signInAs(citizen, "cong-dan-1", "#signin-button");
    const form = citizen.locator('form.opinion[data-section="dieu-1"]');
    await form.locator('input[value="disagree"]').check();
    await form.locator("textarea").fill("Cần làm rõ phạm vi điều chỉnh đối với đất nông nghiệp.");
    await form.locator("button[type=submit]").click();
    await citizen.waitForURL(/#\/receipt\/\d+\/\d+$/);
    receiptUrl = citizen.url();
    await citizen.close();
    const give = async (sub: string, section: string, stance: string, text: string) =>
      api(stack.base, `/api/consultations/${id}/opinions`, {
        token: await token(stack.base, sub, "citizen"),
        body: { section, stance, text },
      });
    for (let i = 0; i < 6; i++) await give(`chien-dich-${i}`, "dieu-1", "agree", CAMPAIGN);
    await give("cong-dan-7", "dieu-1", "neutral", "Số điện thoại của tôi là 0912 345 678, xin liên hệ.");
    await give("cong-dan-8", "dieu-2", "agree", "Đồng ý với việc bổ sung tổ chức.");
    await give("cong-dan-9", "dieu-3", "disagree", "Khái niệm thửa đất chưa rõ ràng.");
  });

  it("shows the live dashboard: charts with a table behind each", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}`);
    await page.locator("#charts[data-loaded]").waitFor({ timeout: 20_000 });
    expect(await page.locator("#charts canvas").count()).to.be.greaterThan(2);
    const row = await page.textContent("#chart-sections table tbody tr:first-child");
    // articles are named by their titles, not their ids: the whole title in the table and the chart's description
    expect(row).to.contain("Điều 1. Phạm vi điều chỉnh");
    expect(await page.getAttribute("#chart-sections-chart", "aria-label")).to.contain(
      "Điều 3. Giải thích từ ngữ (sửa):",
    );
    await check("console-dashboard");
  });

  it("reads the opinions of an article with the campaign shown once, with its count, and expands it", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/opinions`);
    await page.locator("#op-list .opinion-item").first().waitFor({ timeout: 20_000 });
    const campaign = page.locator("#op-list > .opinion-item.campaign");
    expect(await campaign.count()).to.equal(1);
    expect(await campaign.locator(".campaign-label").textContent()).to.contain("6");
    await campaign.locator(".campaign-expand").click();
    await page.waitForFunction(
      () => document.querySelectorAll(".campaign-members .opinion-item").length === 6,
    );
    await check("console-opinions");
  });

  it("withholds a text with a reason code from the moderation queue", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/moderation`);
    const found = page.locator("#op-list .opinion-item", { hasText: "0912 345 678" });
    await found.waitFor({ timeout: 20_000 });
    // by its index from here on: once withheld, the text is no longer there to find it by
    const index = await found.getAttribute("data-index");
    const item = page.locator(`#op-list .opinion-item[data-index="${index}"]`);
    await item.locator("select").selectOption("personal-data");
    await item.locator("button.withhold").click();
    await page.waitForFunction(() => document.querySelector(".withhold-row .form-status")?.textContent);
    expect(
      await item.locator(".withheld").count(),
      (await item.locator(".form-status").textContent()) ?? "",
    ).to.equal(1);
    // the public listing shows the reason in place of the text
    await page.waitForFunction(
      async ([base, id, leaf]) => {
        const r = await fetch(`${base}/api/consultations/${id}/sections/dieu-1/opinions?limit=100`);
        const { opinions } = (await r.json()) as {
          opinions: { leafIndex: number; text: string | null; withheldReason: string | null }[];
        };
        const o = opinions.find((x) => x.leafIndex === Number(leaf));
        return o?.text === null && o.withheldReason === "personal-data";
      },
      [stack.base, String(id), index ?? ""] as const,
      { timeout: 20_000, polling: 500 },
    );
    await check("console-moderation");
    // and the public moderation log lists it, with its reason and the officer's pseudonym
    await page.goto(`${stack.base}/#/c/${id}/moderation`);
    const row = page.locator(`#moderation-log tr[data-moderation-index]`, { hasText: "personal-data" });
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator("td").nth(1).textContent()).to.equal(index);
    await check("public-moderation-log");
  });

  it("previews a CSV import with per-row errors before anything is written, then imports", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/import`);
    await page.locator("#import-file").waitFor();
    const head = async () =>
      (await api<{ treeSize: number }>(stack.base, `/api/consultations/${id}/log/head`)).treeSize;
    const before = await head();
    const now = Math.floor(Date.now() / 1000);
    const csv = (rows: string[]) =>
      Buffer.from(["section,stance,text,collectedAt,location", ...rows].join("\n"));
    await page.setInputFiles("#import-file", {
      name: "hoi-nghi.csv",
      mimeType: "text/csv",
      buffer: csv([`dieu-1,agree,Ý kiến hội nghị,${now},Hà Nội`, `dieu-9,agree,x,${now},`]),
    });
    await page.locator("#import-fix").waitFor();
    expect(await page.textContent('#import-preview tr[data-line="3"]')).to.contain("dieu-9");
    expect(await head()).to.equal(before);
    await check("console-import");
    await page.setInputFiles("#import-file", {
      name: "hoi-nghi-2.csv",
      mimeType: "text/csv",
      buffer: csv([`dieu-1,agree,Ý kiến hội nghị,${now},Hà Nội`, `dieu-2,disagree,Phiếu giấy,${now},Huế`]),
    });
    await page.locator("#import-go").click();
    await page.waitForFunction(() => document.querySelector("#import-status")?.textContent?.includes("2"));
    expect(await head()).to.be.greaterThan(before + 1);
  });

  it("closes after the deadline and shows the tally hash as the chain holds it", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/close`);
    await page.locator("#close-not-yet").waitFor();
    await stack.advance(6 * 3600 + 120);
    await page.reload();
    await page.locator("#close-go").click();
    await page
      .locator('#tally-box[data-badge], #close-status [role="alert"]')
      .first()
      .waitFor({ timeout: 90_000 });
    const said = await page.textContent("#close-status");
    expect(await page.locator("#tally-box").count(), said ?? "").to.equal(1);
    await page.locator('#tally-box[data-badge="match"]').waitFor();
    await check("console-close");
  });

  it("publishes the response per article", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/response`);
    await page.locator("#response-publish").waitFor();
    await page.selectOption("#resp-status-dieu-1", "partly-accepted");
    await page.fill("#resp-text-dieu-1", "Tiếp thu một phần: phạm vi được làm rõ đối với đất nông nghiệp.");
    await page.selectOption("#resp-status-dieu-2", "accepted");
    await page.fill("#resp-text-dieu-2", "Tiếp thu.");
    await page.selectOption("#resp-status-dieu-3", "explained");
    await page.fill("#resp-text-dieu-3", "Khái niệm đã được giải thích tại Điều 3.");
    // the answer on Điều 1 names the campaign (offered with its size) and one opinion by its log index
    const campaignBox = page.locator("#resp-campaigns-dieu-1 input[type=checkbox]");
    await campaignBox.first().waitFor({ timeout: 20_000 });
    expect(await campaignBox.count()).to.equal(1);
    expect(await page.textContent("#resp-campaigns-dieu-1")).to.contain("6");
    await campaignBox.first().check();
    const campaignId = await campaignBox.first().getAttribute("value");
    // a list that is not of log indices is refused in the form: nothing is sent
    await page.fill("#resp-entries-dieu-1", "0, hai");
    await page.click("#response-publish");
    await page.locator('#response-status [role="alert"]').waitFor();
    expect(await page.textContent("#response-status")).to.contain("hai");
    await page.fill("#resp-entries-dieu-1", "0 0,");
    await page.click("#response-publish");
    await page
      .locator('#response-published, #response-status [role="alert"]')
      .first()
      .waitFor({ timeout: 60_000 });
    expect(
      await page.locator("#response-published").count(),
      (await page.textContent("#response-status")) ?? "",
    ).to.equal(1);
    await page.locator('#response-published[data-badge="match"]').waitFor({ timeout: 30_000 });
    const published = await api<{ articles: Record<string, { campaigns?: string[]; entries?: number[] }> }>(
      stack.base,
      `/api/consultations/${id}/response`,
    );
    expect(published.articles["dieu-1"]?.campaigns).to.deep.equal([campaignId]);
    expect(published.articles["dieu-1"]?.entries).to.deep.equal([0]);
    expect(published.articles["dieu-2"]).to.not.have.property("campaigns");
    await check("console-response");
  });

  it("speaks English too", async () => {
    await page.goto(`${stack.base}/#/staff/c/${id}/response`);
    await page.locator("#response-publish").waitFor();
    await page.click("button.lang");
    await page.waitForFunction(() =>
      document.querySelector("#page-title")?.textContent?.startsWith("Response"),
    );
    expect(await page.textContent("#tab-dashboard")).to.equal("Dashboard");
    expect(await page.getAttribute("html", "lang")).to.equal("en");
    await check("console-response-en");
    await page.click("button.lang");
  });

  it("the citizen sees the agency's response on their receipt, with its on-chain badge", async () => {
    const citizen = await citizenCtx.newPage();
    await citizen.goto(receiptUrl);
    await citizen.locator("#receipt-status[data-status]").waitFor({ timeout: 30_000 });
    // the answer to the article of this opinion (dieu-1), its hash checked in the browser against the registry
    const answer = citizen.locator('#receipt-response [data-response-section="dieu-1"]');
    await answer.waitFor({ timeout: 30_000 });
    await citizen.locator('#receipt-response [data-response-badge="match"]').waitFor({ timeout: 30_000 });
    expect(await answer.getAttribute("data-status")).to.equal("partly-accepted");
    expect(await answer.textContent()).to.contain("phạm vi được làm rõ");
    shots.push(...(await shoot(citizen, "citizen-receipt-response", SHOTS)));
  });
});
