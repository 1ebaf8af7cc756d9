// Chain outage: the service reaches its RPC through a TCP relay that this bench cuts (listener closed,
// every connection destroyed) for OUTAGE seconds under load (quick: 10 s; --full: 60 s), then restores.
// Figures: opinions accepted during the outage, acknowledged opinions lost (must be 0), and the time
// for the backlog to anchor once the RPC is back.
import { connect, createServer, type Server, type Socket } from "node:net";
import { accountFor, auditViaApi } from "./evidence/check.ts";
import { anchoredWithin, call, log, runLoad, startChain, startEvidence } from "./evidence/stack.ts";
import { FULL, report } from "./report.ts";

const OUTAGE = FULL ? 60 : 10;

class Relay {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;
  readonly #target: number;
  constructor(target: number) {
    this.#target = target;
  }
  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.#target, "127.0.0.1");
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on("close", () => this.#sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => server.listen(this.port, "127.0.0.1", r));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

const chain = await startChain();
const relay = new Relay(chain.node.port);
await relay.up();
const evidence = await startEvidence(
  { ANCHOR_INTERVAL: "1s" },
  { chain, rpcUrl: `http://127.0.0.1:${relay.port}` },
);
const { service } = evidence;
try {
  const base = () => service.url;
  const id = await evidence.open(3600);
  const tokens = await evidence.citizenTokens(1000);
  let stop = false;
  const load = runLoad({ base, id, tokens, seconds: 3600, concurrency: 32, stop: () => stop });
  await new Promise((r) => setTimeout(r, 3000));
  const sizeAt = async () =>
    ((await call(service.url, "GET", `/api/consultations/${id}/log/head`)).body as { treeSize: number })
      .treeSize;
  const before = await sizeAt();
  await relay.down();
  log(`RPC cut for ${OUTAGE} s`);
  await new Promise((r) => setTimeout(r, OUTAGE * 1000));
  const health = await call(service.url, "GET", "/api/health");
  const atReturn = await sizeAt();
  await relay.up();
  log("RPC back");
  const backlogSeconds = await anchoredWithin(base, id, atReturn, 600_000);
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  const result = await load;
  const final = await sizeAt();
  await anchoredWithin(base, id, final, 300_000);
  const accounting = await accountFor(service.url, id, result.receipts);
  const audit = await auditViaApi(service.url, id, chain.node.url, chain.registry);
  const extra = { outageSeconds: OUTAGE, acknowledged: result.accepted, statuses: result.statuses };
  report("outage.acceptedDuringOutage", atReturn - before, "opinions", {
    ...extra,
    healthDuringOutage: health.status,
  });
  report("outage.lostAcknowledged", accounting.lost, "opinions", {
    ...extra,
    duplicates: accounting.duplicates,
  });
  report("outage.backlogAnchorSeconds", backlogSeconds, "s", {
    ...extra,
    backlog: atReturn,
    what: "from the RPC's return until the chain head covers every entry accepted before it",
  });
  report("outage.auditExitCode", audit.code ?? -1, "exit code", { ...extra, failures: audit.failures });
} finally {
  await evidence.stop();
  await relay.down();
}
