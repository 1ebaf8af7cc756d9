/**
 * Chain outage: the network path to a real Hardhat node is cut (a TCP relay is closed); ingest goes on, health
 * reports the outage and the backlog; when the path returns, the backlog anchors.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { createPublicClient, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { freePort } from "../../server/chain/devnet.ts";
import { devToken, openConsultation, testApp, testChain, testConfig } from "./helpers.ts";

class Relay {
  server: Server | null = null;
  sockets = new Set<Socket>();
  readonly port: number;
  readonly target: number;
  constructor(port: number, target: number) {
    this.port = port;
    this.target = target;
  }
  up(): Promise<void> {
    const server = createServer((c) => {
      if (this.server !== server) {
        c.destroy();
        return;
      }
      const u = connect(this.target, "127.0.0.1");
      this.sockets.add(c).add(u);
      c.pipe(u).pipe(c);
      const done = () => {
        c.destroy();
        u.destroy();
        this.sockets.delete(c);
        this.sockets.delete(u);
      };
      c.on("error", done).on("close", done);
      u.on("error", done).on("close", done);
    });
    this.server = server;
    return new Promise((r) => server.listen(this.port, "127.0.0.1", () => r()));
  }
  /** Cuts the path at once: no new connection, every open one destroyed (does not wait for anything). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

describe("chain outage", function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let relay: Relay;

  after(async () => {
    await app?.close();
    await relay?.down();
  });

  it("keeps accepting opinions while the chain is unreachable, then anchors the backlog", async () => {
    const chain = await testChain();
    relay = new Relay(await freePort(), chain.node.port);
    await relay.up();
    const config = testConfig(chain, { RPC_URL: `http://127.0.0.1:${relay.port}`, ANCHOR_INTERVAL: "200ms" });
    app = await testApp(config);
    const agency = await devToken(app, "officer-outage", "agency", "bo-tu-phap");
    const id = await openConsultation(app, agency);
    // warm the chain id cache, then cut the path
    expect((await app.inject({ method: "GET", url: "/api/health" })).json().ok).to.equal(true);
    await relay.down();

    const n = 30;
    const rs = await Promise.all(
      Array.from({ length: n }, async (_, i) =>
        app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions`,
          headers: { authorization: `Bearer ${await devToken(app, `outage-${i}`)}` },
          payload: { section: "dieu-1", stance: "agree", text: `khi mất mạng ${i}` },
        }),
      ),
    );
    for (const r of rs) expect(r.statusCode, r.body).to.equal(201);
    const health = await app.inject({ method: "GET", url: "/api/health" });
    expect(health.statusCode).to.equal(503);
    expect(health.json()).to.include({ ok: false, db: true, backlog: n });
    expect(health.json().chain.block).to.equal(null);
    // opening a consultation needs the chain: a clear 503, not a crash
    const now = Math.floor(Date.now() / 1000);
    const open = await app.inject({
      method: "POST",
      url: "/api/consultations",
      headers: { authorization: `Bearer ${agency}` },
      payload: {
        title: "t",
        summary: "",
        sections: [{ id: "a", title: "A", text: "" }],
        opensAt: now,
        closesAt: now + 999,
      },
    });
    expect(open.statusCode).to.equal(503);
    expect(open.json().error).to.equal("chain_unavailable");

    await new Promise((r) => setTimeout(r, 1000));
    const pub = createPublicClient({ transport: http(chain.node.url) });
    const [sizeDuring] = await pub.readContract({
      address: chain.registry,
      abi: consultationRegistryAbi,
      functionName: "logHead",
      args: [BigInt(id)],
    });
    expect(Number(sizeDuring)).to.equal(0);

    await relay.up();
    const until = Date.now() + 60_000;
    let size = 0;
    while (Date.now() < until) {
      const [s] = await pub.readContract({
        address: chain.registry,
        abi: consultationRegistryAbi,
        functionName: "logHead",
        args: [BigInt(id)],
      });
      size = Number(s);
      if (size === n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(size).to.equal(n);
    const after = await app.inject({ method: "GET", url: "/api/health" });
    expect(after.json()).to.include({ ok: true, backlog: 0 });
  });
});
