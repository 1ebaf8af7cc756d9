// Crash: the service (`node server/main.ts`, SQLite) is SIGKILLed at random moments under load (quick:
// 3 times; --full: 20), restarted on the same database each time. Then: acknowledged opinions lost (must
// be 0), duplicates (0), and the auditor CLI on the log against the chain (exit 0).
import { accountFor, auditViaApi } from "./evidence/check.ts";
import {
  anchoredWithin,
  call,
  citizen,
  log,
  median,
  openConsultation,
  runLoad,
  type Service,
  serviceEnv,
  startChain,
  startIdp,
  startService,
} from "./evidence/stack.ts";
import { FULL, report } from "./report.ts";

const KILLS = FULL ? 20 : 3;
const CITIZENS = 500;

const chain = await startChain();
const idp = await startIdp();
const env = serviceEnv(chain, idp, chain.node.url, { ANCHOR_INTERVAL: "500ms" });
let service: Service = await startService(env);
try {
  const id = await openConsultation(service.url, idp, 3600);
  const tokens = Array.from({ length: CITIZENS }, (_, i) => idp.token({ sub: citizen(i).sub }));
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
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (let k = 0; k < KILLS; k++) {
    await new Promise((r) => setTimeout(r, 300 + rand() * 2500));
    await service.kill("SIGKILL");
    const t0 = performance.now();
    service = await startService(env);
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
  const audit = await auditViaApi(service.url, id, chain.node.url);
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
  await service.kill("SIGTERM");
  await idp.close();
  await chain.node.stop();
}
