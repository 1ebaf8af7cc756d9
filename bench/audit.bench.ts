// Auditor figures: an export of N entries (quick: 100,000; --full or --entries 1000000: 1,000,000) is
// generated with protocol/, its heads anchored with consistency proofs on a real local Hardhat node
// and its tally published; then the auditor CLI (a child process, as an auditor runs it) audits the
// file, the counted map included. Required on 2 cores: 1,000,000 entries in <= 10 s, peak memory under
// 512 MiB at any size (--memory-keys <n> passes the CLI's limit on, to measure it spilling to disk).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLocalChain } from "../test/audit/fixtures/chain.ts";
import { buildScenario } from "../test/audit/fixtures/generate.ts";
import { run as runCommand } from "../test/support/process.ts";
import { FULL, median, report } from "./report.ts";

const arg = process.argv.indexOf("--entries");
const ENTRIES = arg > 0 ? Number(process.argv[arg + 1]) : FULL ? 1_000_000 : 100_000;
const RUNS = 3;
const keysArg = process.argv.indexOf("--memory-keys");
const memoryKeys = keysArg > 0 ? ["--memory-keys", process.argv[keysArg + 1]!] : [];
const root = new URL("../", import.meta.url).pathname;
const log = (m: string) => process.stderr.write(`# audit.bench: ${m}\n`);

const dir = mkdtempSync(join(tmpdir(), "gopy-audit-bench-"));
const chain = await startLocalChain();
try {
  const started = performance.now();
  // Anchored as a service would: several heads, the last one the whole log, then the tally.
  const anchorAt = [
    Math.floor(ENTRIES * 0.25) + 3,
    Math.floor(ENTRIES * 0.5) - 7,
    ENTRIES - 12_345,
    ENTRIES,
  ].filter((n, i, all) => n > 0 && (i === 0 || n > all[i - 1]!));
  const scenario = await buildScenario(chain, {
    dir,
    entries: ENTRIES,
    anchorAt,
    publishTally: true,
    withholdEvery: 10_000,
    onProgress: log,
  });
  log(`fixture ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const bytes = statSync(scenario.exportPath).size;

  const walls: number[] = [];
  const audits: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const run = await runCommand("/usr/bin/time", [
      "-f",
      "MAXRSS_KB=%M CPU_S=%U+%S",
      process.execPath,
      join(root, "scripts/audit.ts"),
      "--export",
      scenario.exportPath,
      "--consultation",
      scenario.id,
      "--rpc",
      chain.url,
      "--contract",
      chain.registry,
      "--json",
      "--no-progress",
      ...memoryKeys,
    ]);
    const wall = (performance.now() - t0) / 1000;
    const result = JSON.parse(run.stdout) as { ok: boolean; seconds: number; entries: number };
    if (run.code !== 0 || !result.ok)
      throw new Error(`the audit failed (exit ${run.code}):\n${run.stdout.slice(0, 2000)}`);
    walls.push(wall);
    audits.push(result.seconds);
    const kb = /MAXRSS_KB=(\d+)/.exec(run.stderr)?.[1];
    if (kb) rss.push(Number(kb) / 1024);
    const cpuTimes = /CPU_S=([\d.]+)\+([\d.]+)/.exec(run.stderr);
    if (cpuTimes) cpu.push(Number(cpuTimes[1]) + Number(cpuTimes[2]));
    log(`run ${r + 1}: ${wall.toFixed(2)} s wall, ${result.seconds.toFixed(2)} s auditing`);
  }
  const extra = {
    entries: ENTRIES,
    anchoredHeads: anchorAt.length,
    exportMiB: Number((bytes / 2 ** 20).toFixed(1)),
    runs: RUNS,
    ...(memoryKeys.length > 0 ? { memoryKeys: Number(memoryKeys[1]) } : {}),
  };
  report("audit.entriesPerSecond", ENTRIES / median(audits), "entries/s", extra);
  report("audit.seconds", median(walls), "s", {
    ...extra,
    what: "whole CLI run: start-up, chain reads, audit",
  });
  report("audit.auditSeconds", median(audits), "s", {
    ...extra,
    what: "streaming the export through every check",
  });
  if (rss.length > 0) report("audit.maxRss", median(rss), "MiB", extra);
  // Wall time on a machine shared with other work varies twofold; the process's CPU time much less.
  if (cpu.length > 0)
    report("audit.cpuSeconds", median(cpu), "s", { ...extra, what: "user + system, all threads" });
} finally {
  await chain.stop();
  rmSync(dir, { recursive: true, force: true });
}
