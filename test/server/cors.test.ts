/**
 * A web client hosted on another origin: CORS on /api/*, and the public RPC URL it reads the chain from.
 * Real HTTP against a real local Hardhat node and SQLite.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { devToken, testApp, testChain, testConfig } from "./helpers.ts";
import { openConsultation } from "./requests.ts";

const ORIGIN = "https://journalists.example.org";
const PUBLIC_RPC = "https://rpc.public.example.org/";
const METRICS_TOKEN = "operator-scrape-token-0123456789abcdef";

describe("cross-origin web client (CORS, PUBLIC_RPC_URL)", function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let base: string;
  let id: number;

  before(async () => {
    const chain = await testChain();
    app = await testApp(testConfig(chain, { PUBLIC_RPC_URL: PUBLIC_RPC, METRICS_TOKEN }));
    base = await app.listen({ host: "127.0.0.1", port: 0 });
    id = await openConsultation(app, await devToken(app, "can-bo-cors", "agency", "bo-tu-phap"));
  });
  after(async () => {
    await app?.close();
  });

  it("lets any origin read the public routes, without credentials", async () => {
    for (const path of [
      "/api/consultations",
      `/api/consultations/${id}`,
      `/api/consultations/${id}/log/head`,
      `/api/consultations/${id}/export`,
      "/api/keys",
      "/api/health",
    ]) {
      const r = await fetch(`${base}${path}`, { headers: { origin: ORIGIN } });
      expect(r.status, path).to.equal(200);
      expect(r.headers.get("access-control-allow-origin"), path).to.equal("*");
      expect(r.headers.get("access-control-allow-credentials"), path).to.equal(null);
      await r.arrayBuffer();
    }
    const tally = await fetch(`${base}/api/consultations/${id}/tally`, { headers: { origin: ORIGIN } });
    expect(tally.status).to.equal(409); // not closed yet; the error is readable cross-origin too
    expect(tally.headers.get("access-control-allow-origin")).to.equal("*");
    const exp = await fetch(`${base}/api/consultations/${id}/export`, { headers: { origin: ORIGIN } });
    expect(exp.headers.get("access-control-expose-headers")).to.include("content-disposition");
  });

  it("answers preflights for token-carrying calls, and those calls still need the token", async () => {
    const pre = await fetch(`${base}/api/consultations/${id}/opinions`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    });
    expect(pre.status).to.equal(204);
    expect(pre.headers.get("access-control-allow-origin")).to.equal("*");
    expect(pre.headers.get("access-control-allow-methods")).to.include("POST");
    expect(pre.headers.get("access-control-allow-headers")).to.include("authorization");
    expect(pre.headers.get("access-control-allow-credentials")).to.equal(null);

    const anonymous = await fetch(`${base}/api/consultations/${id}/opinions`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json" },
      body: JSON.stringify({ section: "dieu-1", stance: "agree" }),
    });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get("access-control-allow-origin")).to.equal("*");

    const token = await devToken(app, "cong-dan-cors");
    const ok = await fetch(`${base}/api/consultations/${id}/opinions`, {
      method: "POST",
      headers: { origin: ORIGIN, "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ section: "dieu-1", stance: "agree" }),
    });
    expect(ok.status).to.equal(201);
    expect(ok.headers.get("access-control-allow-origin")).to.equal("*");
  });

  it("keeps /metrics same-origin, for operators only", async () => {
    const anonymous = await fetch(`${base}/metrics`, { headers: { origin: ORIGIN } });
    expect(anonymous.status).to.equal(401);
    expect(anonymous.headers.get("access-control-allow-origin")).to.equal(null);
    await anonymous.text();
    const r = await fetch(`${base}/metrics`, {
      headers: { origin: ORIGIN, authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(r.status).to.equal(200);
    expect(r.headers.get("access-control-allow-origin")).to.equal(null);
    await r.text();
  });

  it("serves PUBLIC_RPC_URL as chain.rpcUrl in the consultation and in /api/health", async () => {
    const c = (await (await fetch(`${base}/api/consultations/${id}`)).json()) as {
      chain: { chainId: number; contract: string; rpcUrl?: string };
    };
    expect(c.chain.rpcUrl).to.equal(PUBLIC_RPC);
    expect(c.chain.chainId).to.equal(31337);
    expect(c.chain.contract).to.match(/^0x[0-9a-fA-F]{40}$/);
    const h = (await (await fetch(`${base}/api/health`)).json()) as { chain: { rpcUrl?: string } };
    expect(h.chain.rpcUrl).to.equal(PUBLIC_RPC);
  });

  it("advertises no RPC URL when PUBLIC_RPC_URL is unset (RPC_URL may be private)", async () => {
    const chain = await testChain();
    const other = await testApp(testConfig(chain));
    const h = (await other.inject({ method: "GET", url: "/api/health" })).json() as {
      chain: { contract: string; rpcUrl?: string };
    };
    expect(h.chain.contract).to.match(/^0x/);
    expect(h.chain).to.not.have.property("rpcUrl");
    await other.close();
    expect(() => testConfig(chain, { PUBLIC_RPC_URL: "not a url" })).to.throw(/PUBLIC_RPC_URL/);
  });
});
