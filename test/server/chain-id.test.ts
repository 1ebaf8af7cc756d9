/**
 * CHAIN_ID against the chain id of a real Hardhat node (31337): a different one stops the start with a message naming
 * CHAIN_ID, the expected and the RPC's id. An RPC unreachable at start is said in the log and retried; until the id
 * is checked no transaction is signed (opening a consultation is a clear 503), and an RPC that comes back as another
 * chain is refused for good.
 */
import { Writable } from "node:stream";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { freePort } from "../../server/chain/devnet.ts";
import { waitFor } from "../support/http.ts";
import { Relay } from "../support/relay.ts";
import { devToken, testApp, testChain, testConfig } from "./helpers.ts";
import { DRAFT, openConsultation, postConsultation } from "./requests.ts";

/** A pino destination keeping every line the service logs. */
function logSink(): { lines: string[]; logger: { level: string; stream: Writable } } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: { level: "info", stream } };
}

describe("CHAIN_ID, checked against the RPC", function () {
  this.timeout(120_000);
  let app: FastifyInstance | null = null;
  let relay: Relay | null = null;
  /** The service on the shared chain through a relay that is down: the RPC unreachable at start. */
  async function startBehindCutRelay(chainId: string) {
    const chain = await testChain();
    const path = new Relay(await freePort(), chain.node.port);
    relay = path;
    const sink = logSink();
    const service = await testApp(
      testConfig(chain, {
        RPC_URL: `http://127.0.0.1:${path.port}`,
        CHAIN_ID: chainId,
        ANCHOR_INTERVAL: "200ms",
      }),
      { logger: sink.logger },
    );
    app = service;
    return { sink, service, path };
  }
  const tryOpening = (service: FastifyInstance, agency: string) => {
    const now = Math.floor(Date.now() / 1000);
    return postConsultation(service, agency, { ...DRAFT, opensAt: now, closesAt: now + 3600 });
  };
  afterEach(async () => {
    await app?.close();
    await relay?.down();
    app = null;
    relay = null;
  });

  it("refuses to start when the RPC serves another chain, naming CHAIN_ID, the expected and the RPC's id", async () => {
    const chain = await testChain();
    let failure: unknown = null;
    try {
      app = await testApp(testConfig(chain, { CHAIN_ID: "1" }));
    } catch (e) {
      failure = e;
    }
    expect(failure, "the service started on the wrong chain").to.be.instanceOf(Error);
    expect((failure as Error).message).to.match(/CHAIN_ID/);
    expect((failure as Error).message).to.match(/\b1\b.*\b31337\b/);
  });

  it("starts with the RPC unreachable, says so, and signs nothing until the chain id is checked", async () => {
    const { sink, service, path } = await startBehindCutRelay("31337");
    expect(sink.lines.join("\n"))
      .to.match(/unreachable/)
      .and.match(/CHAIN_ID/);
    const agency = await devToken(service, "officer-chain-id", "agency", "bo-tu-phap");
    const refused = await tryOpening(service, agency);
    expect(refused.statusCode, refused.body).to.equal(503);
    expect((await service.inject({ method: "GET", url: "/api/health" })).statusCode).to.equal(503);

    await path.up();
    const opened = await openConsultation(service, agency);
    expect(opened).to.be.a("number");
    const health = await service.inject({ method: "GET", url: "/api/health" });
    expect(health.statusCode, health.body).to.equal(200);
    expect(health.json().chain.chainId).to.equal(31337);
  });

  it("refuses every chain write for good when the RPC, unreachable at start, comes back as another chain", async () => {
    const { sink, service, path } = await startBehindCutRelay("1");
    await path.up();
    await waitFor("the mismatch logged", async () => sink.lines.some((line) => /CHAIN_ID.*31337/.test(line)));
    const agency = await devToken(service, "officer-chain-id-2", "agency", "bo-tu-phap");
    const refused = await tryOpening(service, agency);
    expect(refused.statusCode, refused.body).to.equal(503);
    expect(refused.json().message).to.match(/CHAIN_ID.*\b1\b.*\b31337\b/);
    const health = await service.inject({ method: "GET", url: "/api/health" });
    expect(health.statusCode).to.equal(503);
  });
});
