// Privacy: citizens whose tokens carry a subject, a name and an e-mail give opinions (quick: 200; --full:
// 2,000), one text is withheld, the consultation closes and is tallied. Then every byte of the export,
// of the chain (each transaction's input and each log's data, from block 0) and of the service's logs
// is searched for any citizen's subject, name or e-mail, as text and as hex. All must be 0. The
// database is searched too and reported for information (the service may keep what it needs there).
import { existsSync, readFileSync } from "node:fs";
import { createPublicClient, http } from "viem";
import { anchoredWithin, call, citizen, log, runLoad, startEvidence, waitFor } from "./evidence/stack.ts";
import { FULL, report } from "./report.ts";

const CITIZENS = FULL ? 2000 : 200;

const evidence = await startEvidence({ LOG_LEVEL: "info", ANCHOR_INTERVAL: "500ms" });
const { chain, idp, env, service } = evidence;
try {
  const closesIn = 25;
  const opened = Date.now();
  const id = await evidence.open(closesIn);
  const people = Array.from({ length: CITIZENS }, (_, i) => citizen(i));
  const tokens = await evidence.citizenTokens(CITIZENS, (c) => ({
    sub: c.sub,
    name: c.name,
    email: c.email,
  }));
  const load = await runLoad({ base: () => service.url, id, tokens, seconds: 5, concurrency: 16 });
  const agency = await idp.token({
    sub: "officer-privacy",
    role: "agency",
    agency: "bo-tu-phap",
    email: "officer@gov.example.vn",
  });
  await call(service.url, "POST", `/api/consultations/${id}/entries/0/withhold`, agency, {
    reason: "personal-data",
  });
  const head = (await call(service.url, "GET", `/api/consultations/${id}/log/head`)).body as {
    treeSize: number;
  };
  await anchoredWithin(() => service.url, id, head.treeSize, 120_000);
  await waitFor("closesAt", async () => Date.now() > opened + (closesIn + 2) * 1000, 60_000, 200);
  const closed = await call(service.url, "POST", `/api/consultations/${id}/close`, agency);
  log(`privacy: ${load.accepted} opinions from ${CITIZENS} citizens; close -> ${closed.status}`);

  const needles = people
    .flatMap((c) => [c.sub, c.name, c.email])
    .concat(["officer-privacy", "officer@gov.example.vn"]);
  const hexNeedles = needles.map((n) => Buffer.from(n).toString("hex"));
  const count = (haystack: string, list: readonly string[]) =>
    list.reduce((n, x) => n + (haystack.includes(x) ? 1 : 0), 0);

  const exportText = await (await fetch(`${service.url}/api/consultations/${id}/export`)).text();
  const exportHits = count(exportText, needles);

  const pub = createPublicClient({ transport: http(chain.node.url) });
  const latest = await pub.getBlockNumber();
  let chainBytes = "";
  for (let b = 0n; b <= latest; b++) {
    const block = await pub.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      chainBytes += tx.input;
      const receipt = await pub.getTransactionReceipt({ hash: tx.hash });
      for (const l of receipt.logs) chainBytes += l.data + l.topics.join("");
    }
  }
  chainBytes = chainBytes.toLowerCase();
  const chainHits = count(chainBytes, hexNeedles);
  const logText = service.output();
  const logHits = count(logText, needles);
  let db = "";
  for (const suffix of ["", "-wal"]) {
    const f = env.SQLITE_PATH + suffix;
    if (existsSync(f)) db += readFileSync(f).toString("latin1");
  }
  const dbHits = count(
    db,
    needles.map((n) => Buffer.from(n).toString("latin1")),
  );
  // Controls: the same search does find a citizen's data when it is there (as text and as hex).
  const control =
    count(JSON.stringify(people[7]), needles) +
    count(Buffer.from(`x${people[7]!.email}y`).toString("hex"), hexNeedles);
  if (control !== 4) throw new Error(`the privacy search is broken (control found ${control} of 4)`);
  const extra = { citizens: CITIZENS, opinions: load.accepted, needles: needles.length, control };
  report("privacy.exportHits", exportHits, "matches", { ...extra, exportBytes: exportText.length });
  report("privacy.chainHits", chainHits, "matches", {
    ...extra,
    blocks: Number(latest) + 1,
    what: "tx input and log data, as hex",
  });
  report("privacy.logHits", logHits, "matches", { ...extra, logBytes: logText.length, logLevel: "info" });
  report("privacy.dbHits", dbHits, "matches", { ...extra, what: "SQLite file and WAL, for information" });
} finally {
  await evidence.stop();
}
