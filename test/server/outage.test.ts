/**
 * Chain outage: the network path to a real Hardhat node is cut (a TCP relay is closed); ingest goes on, health
 * reports the outage and the backlog; when the path returns, the backlog anchors.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { createPublicClient, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { freePort } from "../../server/chain/devnet.ts";
import { waitFor } from "../support/http.ts";
import { Relay } from "../support/relay.ts";
import { devToken, testApp, testChain, testConfig } from "./helpers.ts";
import { ONE_ARTICLE, openConsultation, openFor, postConsultation } from "./requests.ts";

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
    const open = await postConsultation(app, agency, { ...ONE_ARTICLE, ...openFor(999) });
    expect(open.statusCode).to.equal(503);
    expect(open.json().error).to.equal("chain_unavailable");

    // One anchoring round of its own while the path is cut (after any the timer started), forced: a timer round
    // that ran less than ANCHOR_INTERVAL ago would leave this one nothing due. It fails, and nothing reached the chain.
    const anchorer = app.gopy.anchorer!;
    await anchorer.exclusive(() => anchorer.round(true));
    expect(anchorer.chainError).to.be.a("string");
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
    // the head is on chain a moment before the service has recorded the mined transaction
    const after = await waitFor("the anchor recorded", async () => {
      const health = (await app.inject({ method: "GET", url: "/api/health" })).json();
      return health.backlog === 0 && health;
    });
    expect(after).to.include({ ok: true, backlog: 0 });
  });
});
