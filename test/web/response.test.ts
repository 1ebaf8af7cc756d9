// The agency's response and the draft's attachments, checked in real Chromium on the real stack: the consultation
// page's response badge turns green for the genuine document and red when the service (a proxy in front of it)
// serves an altered one; each article shows its answer; the receipt and verify pages show the answer on the
// opinion's article; an attachment's bytes are hashed in the browser against the anchored draft.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { Receipt } from "../../protocol/index.ts";
import { receiptToFragment } from "../../web/src/verify.ts";
import { waitFor } from "../support/http.ts";
import { freePort, launch, needChromium, PHONE, shoot } from "./helpers.ts";
import { api, DRAFT, type Stack, startStack, token } from "./stack.ts";

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A proxy in front of the service (page, API and all); while `alter`, response and attachment bytes are changed. */
async function tamperingProxy(target: string): Promise<{ url: string; server: Server; alter: boolean }> {
  const proxy = { url: "", server: null as unknown as Server, alter: false };
  proxy.server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", target);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && k !== "host" && k !== "accept-encoding") headers.set(k, v);
    const payload =
      req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await body(req));
    const upstream = await fetch(url, { method: req.method, headers, body: payload });
    let out = Buffer.from(await upstream.arrayBuffer());
    if (proxy.alter && upstream.ok && /\/response$/.test(url.pathname)) {
      // the agency "accepted" becomes "not-accepted": still canonical JSON, another hash
      out = Buffer.from(out.toString("utf8").replace('"status":"accepted"', '"status":"not-accepted"'));
    }
    if (proxy.alter && upstream.ok && /\/attachments\//.test(url.pathname))
      out = Buffer.concat([out, Buffer.from(" ")]);
    const csp = upstream.headers.get("content-security-policy");
    res.writeHead(upstream.status, {
      "content-type": upstream.headers.get("content-type") ?? "application/octet-stream",
      ...(csp ? { "content-security-policy": csp } : {}),
    });
    res.end(out);
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.server.listen(port, "127.0.0.1", r));
  proxy.url = `http://127.0.0.1:${port}`;
  return proxy;
}

describe("web: the agency's response and the draft's attachments, checked against the chain", function () {
  this.timeout(600_000);
  let stack: Stack;
  let proxy: Awaited<ReturnType<typeof tamperingProxy>>;
  let browser: Browser;
  let page: Page;
  let id: string;
  let receipt: Receipt;
  const answers = {
    "dieu-1": { status: "accepted", text: "Tiếp thu: bổ sung quy định về quyền của người sử dụng đất." },
    "dieu-2": { status: "explained", text: "Giải trình: đối tượng áp dụng giữ như dự thảo." },
    "dieu-3": { status: "partly-accepted", text: "Tiếp thu một phần: làm rõ khái niệm bản đồ địa chính." },
  };

  before(async function () {
    needChromium(this);
    stack = await startStack();
    proxy = await tamperingProxy(stack.base);
    browser = await launch();
    page = await browser.newPage();
    const agency = await token(stack.base, "officer-response", "agency", "bo-tu-phap");
    // an attachment, uploaded as raw bytes, then named in the draft
    const pdf = Buffer.from("%PDF-1.4\n% Tờ trình dự thảo Luật Đất đai (sửa đổi)\n%%EOF\n");
    const up = await fetch(`${stack.base}/api/attachments`, {
      method: "POST",
      headers: { authorization: `Bearer ${agency}`, "content-type": "application/pdf" },
      body: pdf,
    });
    expect(up.status).to.equal(201);
    const { sha256 } = (await up.json()) as { sha256: string };
    const now = Math.floor(Date.now() / 1000);
    const opened = await api<{ id: number }>(stack.base, "/api/consultations", {
      token: agency,
      body: {
        ...DRAFT,
        attachments: [{ title: "Tờ trình", mediaType: "application/pdf", sha256 }],
        opensAt: now - 60,
        closesAt: now + 3600,
      },
    });
    id = String(opened.id);
    const citizen = await token(stack.base, "citizen-response", "citizen");
    receipt = await api<Receipt>(stack.base, `/api/consultations/${id}/opinions`, {
      token: citizen,
      body: { section: "dieu-1", stance: "agree", text: "Cần làm rõ quyền của người sử dụng đất." },
    });
    await waitFor(
      "the opinion anchored",
      async () =>
        ((
          await api<{ anchored: { treeSize: number } | null }>(
            stack.base,
            `/api/consultations/${id}/log/head`,
          )
        ).anchored?.treeSize ?? 0) >= 1,
      60_000,
      250,
    );
    // a margin past closesAt: the chain's clock may run a second behind the service's
    await stack.advance(3610);
    await api(stack.base, `/api/consultations/${id}/close`, { token: agency, body: {} });
    await api(stack.base, `/api/consultations/${id}/response`, {
      token: agency,
      body: { articles: answers },
    });
  });

  after(async () => {
    await browser?.close();
    proxy?.server.close();
    await stack?.stop();
  });

  it("the consultation page: green response badge, each article's answer, the attachment's hash checked", async () => {
    await page.goto(`${stack.base}/#/c/${id}`);
    await page.locator("#response-check[data-response=match]").waitFor({ timeout: 30_000 });
    for (const [section, answer] of Object.entries(answers)) {
      const aside = page.locator(`[data-response-section="${section}"]`);
      expect(await aside.getAttribute("data-response-badge")).to.equal("match");
      expect(await aside.getAttribute("data-status")).to.equal(answer.status);
      expect(await aside.textContent()).to.include(answer.text);
    }
    await page.locator("[data-attachment=match]").waitFor({ timeout: 30_000 });
    await page.locator("#draft-badge[data-badge=match]").waitFor({ timeout: 30_000 });
    await shoot(page, "response-consultation");
  });

  it("the receipt page and the verify page show the answer on the opinion's article", async () => {
    await page.goto(`${stack.base}/verify#r=${receiptToFragment(receipt)}`);
    await page.locator("#verify-response[data-response=match]").waitFor({ timeout: 30_000 });
    const onVerify = page.locator('#verify-response [data-response-section="dieu-1"]');
    expect(await onVerify.getAttribute("data-status")).to.equal("accepted");
    expect(await onVerify.textContent()).to.include(answers["dieu-1"].text);
    await page.evaluate(
      (r) => localStorage.setItem("gopy.receipts.v1", JSON.stringify([{ receipt: r, savedAt: Date.now() }])),
      receipt as unknown as Record<string, unknown>,
    );
    await page.goto(`${stack.base}/#/receipt/${receipt.consultation}/${receipt.leafIndex}`);
    await page.locator("#receipt-response[data-response=match]").waitFor({ timeout: 30_000 });
    expect(await page.locator('#receipt-response [data-response-section="dieu-1"]').textContent()).to.include(
      answers["dieu-1"].text,
    );
    await page.setViewportSize(PHONE);
    await shoot(page, "response-receipt-phone");
  });

  it("an altered response served by the service turns the badge red and hides the answers; an altered attachment too", async () => {
    proxy.alter = true;
    await page.goto(`${proxy.url}/#/c/${id}`);
    await page.locator("#response-check[data-response=mismatch]").waitFor({ timeout: 30_000 });
    const aside = page.locator('[data-response-section="dieu-1"]');
    expect(await aside.getAttribute("data-response-badge")).to.equal("mismatch");
    expect(await aside.getAttribute("data-status")).to.equal(null);
    expect(await aside.textContent()).to.not.include(answers["dieu-1"].text);
    await page.locator("[data-attachment=mismatch]").waitFor({ timeout: 30_000 });
    await page.goto(`${proxy.url}/verify#r=${receiptToFragment(receipt)}`);
    await page.locator("#verify-response[data-response=mismatch]").waitFor({ timeout: 30_000 });
    await shoot(page, "response-altered-phone");
    proxy.alter = false;
  });
});
