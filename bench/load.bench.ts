// Load: many distinct citizens (quick: 1,000 tokens for 10 s; --full: 10,000 tokens for 60 s), each with a token the
// demo OpenID Provider signed, against one
// service (`node server/main.ts`, SQLite, a real local Hardhat node): opinions/s, p50/p99 latency of the
// acknowledged ones, anchoring lag, the service's RSS, and gas per opinion. The load generator runs in
// this process, on the same machine.
import { createPublicClient, http } from "viem";
import { RegistryReader } from "../chain/reader.ts";
import { anchoredWithin, call, log, runLoad, startEvidence } from "./evidence/stack.ts";
import { FULL, percentile, report } from "./report.ts";

const CITIZENS = FULL ? 10_000 : 1_000;
const SECONDS = FULL ? 60 : 10;
const CONCURRENCY = FULL ? 128 : 64;

const evidence = await startEvidence({ ANCHOR_INTERVAL: "2s", BATCH_MAX: "50000" });
const { chain, service } = evidence;
try {
  const base = () => service.url;
  const id = await evidence.open(3600);
  const minting = performance.now();
  const tokens = await evidence.citizenTokens(CITIZENS, (c) => ({
    sub: c.sub,
    name: c.name,
    email: c.email,
  }));
  const mintSeconds = (performance.now() - minting) / 1000;
  log(`load: ${CITIZENS} citizens, ${SECONDS} s, ${CONCURRENCY} concurrent clients`);
  let maxBacklog = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, 1000));
      const h = await call(service.url, "GET", `/api/consultations/${id}/log/head`).catch(() => null);
      const b = h?.body as { treeSize: number; anchored: { treeSize: number } | null } | undefined;
      if (b) maxBacklog = Math.max(maxBacklog, b.treeSize - (b.anchored?.treeSize ?? 0));
    }
  })();
  const load = await runLoad({ base, id, tokens, seconds: SECONDS, concurrency: CONCURRENCY });
  sampling = false;
  await sampler;
  const memory = service.memory();
  const lag = await anchoredWithin(base, id, load.accepted, 600_000);

  const pub = createPublicClient({ transport: http(chain.node.url) });
  const anchors = await new RegistryReader({ registry: chain.registry, rpcUrls: [chain.node.url] }).anchors(
    id,
  );
  let gas = 0n;
  for (const a of anchors) gas += (await pub.getTransactionReceipt({ hash: a.txHash })).gasUsed;
  const extra = { citizens: CITIZENS, seconds: SECONDS, concurrency: CONCURRENCY, store: "sqlite" };
  report("load.tokensMintedPerSecond", CITIZENS / mintSeconds, "tokens/s", {
    citizens: CITIZENS,
    what: "distinct citizens' access tokens signed (EdDSA) by the demo OpenID Provider, in this process",
  });
  report("load.opinionsPerSecond", load.accepted / load.seconds, "opinions/s", {
    ...extra,
    accepted: load.accepted,
    statuses: load.statuses,
  });
  report("load.latencyP50", percentile(load.latenciesMs, 50), "ms", extra);
  report("load.latencyP99", percentile(load.latenciesMs, 99), "ms", extra);
  report("load.maxBacklog", maxBacklog, "entries", {
    ...extra,
    what: "largest not-yet-anchored backlog sampled each second",
  });
  report("load.anchoringLag", lag, "s", {
    ...extra,
    what: "from the end of the load until the chain head covers every acknowledged opinion",
  });
  report("load.serviceRss", memory.peakMiB, "MiB", {
    ...extra,
    what: "peak resident memory of the service process (VmHWM)",
  });
  report("load.gasPerOpinion", anchors.length > 0 ? Number(gas) / load.accepted : 0, "gas", {
    ...extra,
    anchorTransactions: anchors.length,
    totalGas: Number(gas),
  });
} finally {
  await evidence.stop();
}
