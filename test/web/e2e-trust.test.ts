// The browser trusts its trust root, not the service, end to end in Chromium on the real stack. The client is
// built with the test chain's trust root listing two RPC URLs (the node, and a JSON-RPC relay that can be made
// to lie); the page is opened through a proxy in front of the service that rewrites what the service says:
// - it advertises a look-alike registry deployed on the same chain holding a fabricated head: the verdict still
//   comes from the pinned registry (data-registry) and every chain page warns that the service points elsewhere;
// - a citizen's second opinion on the same article replaces the first: the first says data-counted="false"
//   and names the later entry, and whether this browser holds its receipt;
// - a receipt signed by a key only the service lists is invalid at the signature step; a genuine one still
//   verifies when the service stops listing its key (keys come from the registry);
// - the two RPC URLs disagreeing on the head is its own failed step.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { createPublicClient, createWalletClient, type Hex, http, toFunctionSelector } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import {
  generateReceiptKey,
  type Receipt,
  type ReceiptV2,
  receiptKeyFromSeed,
  signReceipt,
} from "../../protocol/index.ts";
import { deployRegistry, devKey, makeAgency } from "../../server/chain/devnet.ts";
import { receiptToFragment } from "../../web/src/verify.ts";
import { freePort, launch, needChromium, PHONE, shoot, unlabelled } from "./helpers.ts";
import { api, chainTrustRoot, DRAFT, type Stack, startStack, token } from "./stack.ts";

function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const CORS = { "access-control-allow-origin": "*", "access-control-allow-headers": "*" };

async function listen(server: Server): Promise<string> {
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return `http://127.0.0.1:${port}`;
}

/**
 * A JSON-RPC relay to `target`; while `lying` is "head", every logHead answer carries another root; while "draft",
 * every consultation(id) answer another draft hash.
 */
async function lyingRpc(): Promise<{
  url: string;
  server: Server;
  target: string;
  lying: false | "head" | "draft";
}> {
  // the word flipped: logHead's second (the root); consultation's third (offset, agency, then draftHash)
  const lies = {
    head: { selector: toFunctionSelector("logHead(uint256)"), word: 2 },
    draft: { selector: toFunctionSelector("consultation(uint256)"), word: 3 },
  };
  const state = {
    url: "",
    server: null as unknown as Server,
    target: "",
    lying: false as false | "head" | "draft",
  };
  state.server = createServer(async (req, res) => {
    if (req.method === "OPTIONS") {
      res.writeHead(204, CORS);
      res.end();
      return;
    }
    const raw = (await body(req)).toString("utf8");
    const upstream = await fetch(state.target, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw,
    });
    let text = await upstream.text();
    if (state.lying) {
      const { selector, word } = lies[state.lying];
      const request = JSON.parse(raw);
      const answer = JSON.parse(text);
      const requests = Array.isArray(request) ? request : [request];
      const answers = Array.isArray(answer) ? answer : [answer];
      for (const [i, r] of requests.entries()) {
        const data: string =
          r?.method === "eth_call" ? (r.params?.[0]?.data ?? r.params?.[0]?.input ?? "") : "";
        const a = answers[i];
        if (data.startsWith(selector) && typeof a?.result === "string" && a.result.length >= 2 + 64 * word) {
          // flip the last hex digit of the word
          const at = 2 + 64 * word - 1;
          const flipped = a.result[at] === "0" ? "1" : "0";
          a.result = a.result.slice(0, at) + flipped + a.result.slice(at + 1);
        }
      }
      text = JSON.stringify(Array.isArray(answer) ? answers : answers[0]);
    }
    res.writeHead(upstream.status, { ...CORS, "content-type": "application/json" });
    res.end(text);
  });
  state.url = await listen(state.server);
  return state;
}

interface ServiceProxy {
  url: string;
  server: Server;
  /** the registry the proxy advertises instead of the service's */
  registry: string;
  /** what GET /api/keys answers: the service's keys, none, or the service's plus a key of the proxy's */
  keys: "service" | "none" | { extra: unknown };
}

/** A proxy in front of the service (page, API and all) rewriting what the service says about the chain. */
async function lyingService(target: string, registry: string): Promise<ServiceProxy> {
  const proxy: ServiceProxy = { url: "", server: null as unknown as Server, registry, keys: "service" };
  proxy.server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", target);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && k !== "host" && k !== "accept-encoding") headers.set(k, v);
    const payload =
      req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await body(req));
    const upstream = await fetch(url, { method: req.method, headers, body: payload });
    let out: Buffer | string = Buffer.from(await upstream.arrayBuffer());
    const type = upstream.headers.get("content-type") ?? "application/octet-stream";
    if (upstream.ok && /^\/api\/consultations\/\d+$/.test(url.pathname)) {
      const c = JSON.parse(out.toString("utf8"));
      c.chain = { ...c.chain, contract: proxy.registry };
      out = JSON.stringify(c);
    }
    if (upstream.ok && url.pathname === "/api/keys" && proxy.keys !== "service") {
      const k = JSON.parse(out.toString("utf8"));
      k.keys = proxy.keys === "none" ? [] : [...k.keys, proxy.keys.extra];
      out = JSON.stringify(k);
    }
    const csp = upstream.headers.get("content-security-policy");
    res.writeHead(upstream.status, {
      "content-type": type,
      ...(csp ? { "content-security-policy": csp } : {}),
    });
    res.end(out);
  });
  proxy.url = await listen(proxy.server);
  return proxy;
}

/**
 * A look-alike registry on the same chain: agency and operator as on the real one, and consultation `id`
 * opened there with a head of `treeSize` entries and a made-up root, so a client that believed the service
 * would see a head that no genuine proof leads to.
 */
async function lookAlikeRegistry(rpc: string, id: number, treeSize: number): Promise<Hex> {
  const registry = await deployRegistry(rpc);
  await makeAgency(rpc, registry, 1, 3);
  const pub = createPublicClient({ transport: http(rpc) });
  const operator = createWalletClient({ account: privateKeyToAccount(devKey(3)), transport: http(rpc) });
  const agency = privateKeyToAccount(devKey(1)).address;
  const now = BigInt(Math.floor(Date.now() / 1000));
  const write = async (functionName: string, args: unknown[]) => {
    const hash = await operator.writeContract({
      address: registry,
      abi: consultationRegistryAbi,
      functionName,
      args,
      chain: null,
    } as never);
    await pub.waitForTransactionReceipt({ hash });
  };
  for (let i = 1; i <= id; i++)
    await write("openConsultation", [agency, `0x${"11".repeat(32)}`, "", now - 60n, now + 86_400n]);
  await write("anchorLog", [
    BigInt(id),
    BigInt(treeSize),
    `0x${"66".repeat(32)}`,
    `0x${"77".repeat(32)}`,
    [],
  ]);
  return registry;
}

describe("web: the browser verifies against its trust root, never the service's word", function () {
  this.timeout(600_000);
  let stack: Stack;
  let rpc: Awaited<ReturnType<typeof lyingRpc>>;
  let proxy: ServiceProxy;
  let browser: Browser;
  let page: Page;
  let id: string;
  let first: Receipt;
  let second: Receipt;
  let other: Receipt;
  const pageErrors: string[] = [];

  async function anchored(index: number): Promise<void> {
    for (;;) {
      const head = await api<{ anchored: { treeSize: number } | null }>(
        stack.base,
        `/api/consultations/${id}/log/head`,
      );
      if ((head.anchored?.treeSize ?? 0) > index) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function opinion(sub: string, section: string, stance: string, text: string): Promise<Receipt> {
    const t = await token(stack.base, sub, "citizen");
    return api<Receipt>(stack.base, `/api/consultations/${id}/opinions`, {
      token: t,
      body: { section, stance, text },
    });
  }

  async function verify(receipt: unknown): Promise<Record<string, string | null>> {
    await page.goto(`${proxy.url}/verify#r=${receiptToFragment(receipt)}`);
    const v = page.locator("#verdict:not([data-verdict=running])");
    await v.waitFor({ timeout: 30_000 });
    const out: Record<string, string | null> = {};
    for (const a of ["verdict", "failed-step", "registry", "chain-id", "counted", "replaced-by"])
      out[a] = await v.getAttribute(`data-${a}`);
    return out;
  }

  before(async function () {
    this.timeout(300_000);
    needChromium(this);
    rpc = await lyingRpc();
    stack = await startStack({
      trustRoot: (chain) => {
        rpc.target = chain.node.url;
        return chainTrustRoot(chain, [chain.node.url, rpc.url]);
      },
    });
    const agencyToken = await token(stack.base, "can-bo-3", "agency", stack.agency);
    const now = Math.floor(stack.clock.now() / 1000);
    id = String(
      (
        await api<{ id: number }>(stack.base, "/api/consultations", {
          token: agencyToken,
          body: { ...DRAFT, opensAt: now, closesAt: now + 86_400 },
        })
      ).id,
    );
    first = await opinion("cong-dan-doi-y", "dieu-1", "agree", "Tôi đồng ý với phạm vi điều chỉnh.");
    other = await opinion("cong-dan-khac", "dieu-2", "neutral", "Cần làm rõ thêm.");
    second = await opinion("cong-dan-doi-y", "dieu-1", "disagree", "Tôi đổi ý: phạm vi còn quá hẹp.");
    await anchored(second.leafIndex);
    const lookAlike = await lookAlikeRegistry(stack.node.url, Number(id), 1_000);
    proxy = await lyingService(stack.base, lookAlike.toLowerCase());
    browser = await launch();
    page = await (await browser.newContext({ viewport: PHONE, locale: "vi-VN" })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    for (const s of [proxy?.server, rpc?.server]) await new Promise((r) => (s ? s.close(r) : r(null)));
    await stack?.stop();
  });

  it("publishes the trust root it was built with beside index.html", async () => {
    const published = await api<{ registry: string; rpcUrls: string[]; chainId: number }>(
      stack.base,
      "/trust-root.json",
    );
    expect(published).to.deep.equal(chainTrustRoot(stack, [stack.node.url, rpc.url]));
  });

  it("a service advertising a look-alike registry cannot make the browser verify against it", async () => {
    const v = await verify(other);
    expect(v.registry).to.equal(stack.registry.toLowerCase());
    expect(v["chain-id"]).to.equal("31337");
    expect(v.verdict).to.equal("valid");
    const warning = page.locator("#trust-warning[data-kind=mismatch]");
    await warning.waitFor();
    expect(await warning.textContent()).to.contain(proxy.registry);
    expect(await page.textContent("#verified-against")).to.contain(stack.registry.toLowerCase());
    expect(await unlabelled(page)).to.deep.equal([]);
    await shoot(page, "verify-service-elsewhere");
    // the draft page and the receipt page warn too
    await page.goto(`${proxy.url}/#/c/${id}`);
    await page.locator("#trust-warning[data-kind=mismatch]").waitFor();
    await page.locator("#draft-badge[data-badge=match]").waitFor({ timeout: 30_000 });
  });

  it("a replaced opinion says counted=false with the later entry, and whether this browser holds its receipt", async () => {
    let v = await verify(first);
    expect(v.counted).to.equal("false");
    expect(v["failed-step"]).to.equal("counted");
    expect(v["replaced-by"]).to.equal(String(second.leafIndex));
    const step = page.locator('[data-step="counted"]');
    expect(await step.textContent()).to.contain(`vị trí ${second.leafIndex}`);
    expect(await step.textContent()).to.contain("không có biên nhận");
    // once the browser holds the later receipt, it says so
    await page.evaluate((r) => {
      localStorage.setItem("gopy.receipts.v1", JSON.stringify([{ receipt: r, savedAt: Date.now() }]));
    }, second as unknown);
    v = await verify(first);
    expect(v["replaced-by"]).to.equal(String(second.leafIndex));
    expect(await page.locator('[data-step="counted"]').textContent()).to.contain("có biên nhận của bạn");
    await shoot(page, "verify-replaced");
    v = await verify(second);
    expect(v.verdict).to.equal("valid");
    expect(v.counted).to.equal("true");
    // the receipt page says "anchored, includes yours" only on real proofs: the later one is, the first is not
    await page.goto(`${proxy.url}/#/receipt/${id}/${second.leafIndex}`);
    await page.locator("#receipt-status[data-status=anchored]").waitFor({ timeout: 30_000 });
  });

  it("a v1 receipt: a key only the service lists is refused at the signature step; one the service stopped listing still verifies", async () => {
    const forger = generateReceiptKey();
    // the service issues v2; v1 receipts of the same fields, by a forger and by the key the service registered on chain
    const { v: _v, proof: _p, ...fields } = other as ReceiptV2;
    const forged = signReceipt(fields, forger);
    const genuine = signReceipt(fields, receiptKeyFromSeed(stack.app.gopy.config.receiptKeySeed));
    proxy.keys = { extra: forger.publicJwk };
    let v = await verify(forged);
    expect(v.verdict).to.equal("invalid");
    expect(v["failed-step"]).to.equal("signature");
    expect(await page.locator('[data-step="signature"]').textContent()).to.contain(forger.keyId);
    proxy.keys = "none";
    v = await verify(genuine);
    expect(v.verdict).to.equal("valid");
    expect(await page.locator('[data-step="signature"]').getAttribute("data-ok")).to.equal("true");
    proxy.keys = "service";
  });

  it("two RPC URLs of the trust root disagreeing on the head is its own failed step", async () => {
    rpc.lying = "head";
    try {
      const v = await verify(other);
      expect(v.verdict).to.equal("invalid");
      expect(v["failed-step"]).to.equal("agreement");
      expect(await page.locator('[data-step="agreement"]').getAttribute("data-ok")).to.equal("false");
      await shoot(page, "verify-rpc-disagree");
    } finally {
      rpc.lying = false;
    }
    const v = await verify(other);
    expect(v.verdict).to.equal("valid");
  });

  it("the draft badge reads the draft hash through every RPC URL: one lying is a disagreement, never a match", async () => {
    rpc.lying = "draft";
    try {
      await page.goto(`${proxy.url}/#/c/${id}`);
      const badge = page.locator("#draft-badge:not([data-badge=checking])");
      await badge.waitFor({ timeout: 30_000 });
      expect(await badge.getAttribute("data-badge")).to.equal("error");
      expect(await badge.textContent()).to.contain(rpc.url);
    } finally {
      rpc.lying = false;
    }
    await page.goto(`${proxy.url}/#/c/${id}`);
    await page.locator("#draft-badge[data-badge=match]").waitFor({ timeout: 30_000 });
  });

  it("no uncaught exception on any page", () => {
    expect(pageErrors).to.deep.equal([]);
  });
});
