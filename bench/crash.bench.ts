// Crash: the service (`node server/main.ts`, SQLite) is SIGKILLed at random moments under load (quick:
// 3 times; --full: 20), restarted on the same database each time. Then: acknowledged opinions lost (must
// be 0), duplicates (0), and the auditor CLI on the log against the chain (exit 0).
import { accountFor, auditViaApi } from "./evidence/check.ts";
import { anchoredWithin, call, log, runLoad, startEvidence, startService } from "./evidence/stack.ts";
import { FULL, lcg, median, report } from "./report.ts";

const KILLS = FULL ? 20 : 3;
const CITIZENS = 500;

const evidence = await startEvidence({ ANCHOR_INTERVAL: "500ms" });
const { chain, env } = evidence;
try {
  let service = evidence.service;
  const id = await evidence.open(3600);
  const tokens = await evidence.citizenTokens(CITIZENS);
  let stop = false;
  const load = runLoad({
    base: () => service.url,
    id,
    tokens,
    seconds: 3600,
    concurrency: 32,
    stop: () => stop,
  });
  const restarts: number[] = [];
  const rand = lcg(12345);
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 300 + rand() * 2500));
    await service.kill("SIGKILL");
    const t0 = performance.now();
    service = await startService(env);
    evidence.service = service;
    restarts.push((performance.now() - t0) / 1000);
    log(`crash ${k + 1}/${KILLS}: killed and restarted in ${restarts.at(-1)?.toFixed(2)} s`);
  }
  await new Promise((r) => setTimeout(r, 1000));
  stop = true;
  const result = await load;
  const head = (await call(service.url, "GET", `/api/consultations/${id}/log/head`)).body as {
    treeSize: number;
  };
  await anchoredWithin(() => service.url, id, head.treeSize, 300_000);
  const accounting = await accountFor(service.url, id, result.receipts);
  const audit = await auditViaApi(service.url, id, chain.node.url, chain.registry);
  const extra = {
    kills: KILLS,
    acknowledged: result.accepted,
    exported: accounting.exported,
    statuses: result.statuses,
  };
  report("crash.lostAcknowledged", accounting.lost, "opinions", extra);
  report("crash.duplicates", accounting.duplicates, "opinions", extra);
  report("crash.auditExitCode", audit.code ?? -1, "exit code", {
    ...extra,
    failures: audit.failures,
    unanchored: audit.unanchored,
  });
  report("crash.restartSeconds", median(restarts), "s", {
    ...extra,
    what: "median time from SIGKILL to listening again",
  });
} finally {
  await evidence.stop();
}
