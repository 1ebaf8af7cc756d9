/**
 * Ingest benchmark (issue 13 §4): opinions accepted per second (durable, receipt returned) over loopback HTTP from
 * 10,000 distinct citizens on 64 connections (BENCH_CONCURRENCY), their p50/p99 latency, and in the same run, with
 * the same load generator, plain Fastify (bench/plain-fastify.ts, its own process: a route that parses the same JSON
 * body and answers 201), measured before the service's window and again after it: the ratio of the service's rate to
 * the mean of the two is the figure the issue sets. The service is `node server/main.ts`
 * started from its environment (bench/evidence/stack.ts startService): SQLite, or with `--postgres` PostgreSQL
 * (DATABASE_URL or TEST_DATABASE_URL, a fresh schema of its own, dropped at the end). Beside them: the service's CPU
 * per opinion (from /proc) and its database round trips per group commit (from /metrics: gopy_store_round_trips_total
 * over gopy_group_commit_entries' count; null when the service has no such counter).
 * BENCH_CPU_PROF=<dir>: a .cpuprofile of the service over the measured window only (through its inspector: token
 * minting and warm-up excluded), its top entries on stderr.
 * Then (SQLite only), without the service, how long the anchorer's counted map update takes for a head of 50,000.
 * stdout: JSON lines only. Progress: stderr. `--full` runs longer; `--alg` picks the provider's token algorithm.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  bytesToHex,
  contentHash,
  draftHash,
  entryString,
  formatTime,
  leafHash,
  sha256,
  utf8Encode,
} from "../protocol/index.ts";
import { countedRootAt } from "../server/counted.ts";
import { type NewOpinionEntry, PostgresStore, SqliteStore, type Store } from "../server/store/index.ts";
import { startIdp } from "../test/support/idp.ts";
import { type CpuProfile, formatTop, summarize } from "./cpuprofile.ts";
import { ROOT, startService } from "./evidence/stack.ts";

const full = process.argv.includes("--full");
const postgres = process.argv.includes("--postgres");
const DURATION_MS = full ? 20_000 : 6_000;
const WARMUP_MS = full ? 3_000 : 2_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
/**
 * The identity provider's signing algorithm (`--alg EdDSA|ES256|RS256`). RS256 by default: the one every OpenID
 * Provider must implement (OIDC Core §15.1) and the one national and cloud providers sign with. Verifying it costs
 * the service about 19 µs here, EdDSA (the demo provider's own) about 90 µs: the choice is the provider's, not ours,
 * so the figure says which it measured.
 */
const ALGS = ["RS256", "ES256", "EdDSA"] as const;
const ALG = (
  process.argv.includes("--alg") ? process.argv[process.argv.indexOf("--alg") + 1] : "RS256"
) as (typeof ALGS)[number];
if (!ALGS.includes(ALG)) {
  process.stderr.write(`[ingest.bench] --alg must be RS256, ES256 or EdDSA (got ${ALG})\n`);
  process.exit(2);
}
const CITIZENS = 10_000;
/** Citizens of the warm-up only, so the measured window starts on tokens the service has never seen. */
const WARMUP_CITIZENS = 1_000;
const progress = (m: string) => process.stderr.write(`[ingest.bench] ${m}\n`);
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const SECTIONS = ["dieu-1", "dieu-2", "dieu-3", "dieu-4", "dieu-5"];
const STANCES = ["agree", "disagree", "neutral"];
const OPINIONS_PATH = "/api/consultations/1/opinions";

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });

function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/**
 * CPU seconds (user + system) used so far by a process, or by its main thread (the event loop) alone when
 * `mainThread`, from /proc (Linux); null elsewhere.
 */
function cpuSeconds(pid: number | undefined, mainThread = false): number | null {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Load {
  rate: number;
  lat: number[];
  errors: number;
  done: number;
  /** CPU (µs) the target process spent per completed request; null without /proc. */
  cpuUsPerRequest: number | null;
  /** The same, of its main thread alone: what one request costs the event loop. */
  loopCpuUsPerRequest: number | null;
}

const perRequest = (from: number | null, to: number | null, done: number) =>
  from === null || to === null || done === 0 ? null : ((to - from) / done) * 1e6;

/**
 * Runs `make(i)` with CONCURRENCY in flight for `ms` against the process `pid` listens for on `port`; returns
 * completions/s, latencies (ms, sorted) and the target's CPU per completion.
 */
async function load(
  port: number,
  pid: number | undefined,
  make: (i: number) => { headers: Record<string, string>; body: string },
  expectStatus: number,
  ms: number,
): Promise<Load> {
  let i = 0;
  let done = 0;
  let errors = 0;
  const lat: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const loop0 = cpuSeconds(pid, true);
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const r = make(i++);
        const t0 = performance.now();
        try {
          const res = await send(port, "POST", OPINIONS_PATH, r.headers, r.body);
          if (res.status !== expectStatus) {
            errors++;
            if (errors <= 3) progress(`unexpected ${res.status}: ${res.body.slice(0, 200)}`);
          } else {
            done++;
            lat.push(performance.now() - t0);
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = cpuSeconds(pid);
  const loop1 = cpuSeconds(pid, true);
  lat.sort((a, b) => a - b);
  return {
    rate: done / elapsed,
    lat,
    errors,
    done,
    cpuUsPerRequest: perRequest(cpu0, cpu1, done),
    loopCpuUsPerRequest: perRequest(loop0, loop1, done),
  };
}

/** Consultation 1, open for a day, with `draft` as its first draft: stored directly, the chain is not involved. */
async function seedConsultation(
  store: Store,
  draft: { title: string; summary: string; sections: { id: string; title: string; text: string }[] },
): Promise<void> {
  const nowS = Math.floor(Date.now() / 1000);
  await store.createConsultation(
    {
      id: 1,
      agency: "bo-tu-phap",
      title: draft.title,
      summary: draft.summary,
      opensAt: nowS - 10,
      closesAt: nowS + 86_400,
      createdAt: Date.now(),
      draftVersion: 1,
    },
    {
      consultationId: 1,
      version: 1,
      hash: draftHash(draft),
      title: draft.title,
      summary: draft.summary,
      sections: draft.sections,
      txHash: null,
      createdAt: Date.now(),
    },
  );
}

/** Starts bench/plain-fastify.ts and waits for its "listening" line. */
async function startPlainFastify(): Promise<{ process: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(ROOT, "bench/plain-fastify.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.once("exit", () => child.kill("SIGKILL"));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdout?.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /\{"plain":"listening","url":"([^"]+)"\}/.exec(buf);
      if (m?.[1]) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`plain Fastify exited (${code})`)));
  });
  return { process: child, port: Number(new URL(url).port) };
}

/** A minimal Chrome DevTools Protocol client on a process's inspector WebSocket (for its Profiler). */
async function inspector(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`inspector ${wsUrl} did not answer`));
  });
  let nextId = 0;
  const pending = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.onmessage = (ev) => {
    const m = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
    if (m.id !== undefined) pending.get(m.id)?.(m);
  };
  const call = <T>(method: string, params: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (m) => {
        pending.delete(id);
        if (m.error) reject(new Error(`${method}: ${m.error.message}`));
        else resolve(m.result as T);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

/** Waits until consultation 1's reading index covers its whole log (GET /api/consultations/1/stats). */
async function readingIndexCaughtUp(port: number): Promise<{ entries: number; ms: number }> {
  const started = performance.now();
  for (;;) {
    const r = await send(port, "GET", "/api/consultations/1/stats", {});
    if (r.status !== 200) throw new Error(`stats answered ${r.status}: ${r.body.slice(0, 200)}`);
    const { indexedSize, treeSize } = JSON.parse(r.body) as { indexedSize: number; treeSize: number };
    if (indexedSize === treeSize) {
      progress(
        `reading index caught up on ${treeSize} entries in ${Math.round(performance.now() - started)} ms`,
      );
      return { entries: treeSize, ms: performance.now() - started };
    }
    if (performance.now() - started > 120_000)
      throw new Error(`reading index stuck at ${indexedSize}/${treeSize}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The sum of a Prometheus metric's samples (all label sets) in an exposition text; null when absent. */
function metricSum(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

interface StoreCounters {
  roundTrips: number | null;
  commits: number;
  entries: number;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram at each), seconds. */
  loopDelayP99: number | null;
  loopDelayMax: number | null;
}

async function storeCounters(port: number, token: string): Promise<StoreCounters> {
  const r = await send(port, "GET", "/metrics", { authorization: `Bearer ${token}` });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body.slice(0, 200)}`);
  return {
    roundTrips: metricSum(r.body, "gopy_store_round_trips_total"),
    commits: metricSum(r.body, "gopy_group_commit_entries_count") ?? 0,
    entries: metricSum(r.body, "gopy_group_commit_entries_sum") ?? 0,
    loopDelayP99: metricSum(r.body, "gopy_nodejs_eventloop_lag_p99_seconds"),
    loopDelayMax: metricSum(r.body, "gopy_nodejs_eventloop_lag_max_seconds"),
  };
}

/** Where the service keeps its data for this run, its environment for it, and how to clean up after. */
async function prepareDatabase(): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  const sections = SECTIONS.map((id, k) => ({ id, title: `Điều ${k + 1}`, text: "Nội dung điều khoản." }));
  const draft = { title: "Dự thảo đo hiệu năng", summary: "Bench", sections };
  const dir = mkdtempSync(join(tmpdir(), "gopy-bench-"));
  const sqlite = join(dir, "bench.sqlite");
  if (!postgres) {
    // the consultation record is seeded through the store: the ingest path never touches the chain
    const store = new SqliteStore(sqlite);
    await store.migrate();
    await seedConsultation(store, draft);
    await store.close();
    return {
      env: { SQLITE_PATH: sqlite },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const url = process.env.DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!url) throw new Error("--postgres needs DATABASE_URL or TEST_DATABASE_URL (postgres://…)");
  const schema = `gopy_bench_ingest_${process.pid}_${Date.now() % 1_000_000}`;
  const store = new PostgresStore(url, schema);
  await store.migrate();
  await seedConsultation(store, draft);
  await store.close();
  return {
    env: { DATABASE_URL: url, DATABASE_SCHEMA: schema, SQLITE_PATH: sqlite },
    async cleanup() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const backend = postgres ? "postgres" : "sqlite";
  const database = await prepareDatabase();
  const idp = await startIdp({ algorithm: ALG });
  const metricsToken = randomBytes(24).toString("hex");
  const profileDir = process.env.BENCH_CPU_PROF;
  const plain = await startPlainFastify();
  const service = await startService(
    {
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      PSEUDONYM_SECRET: randomBytes(32).toString("hex"),
      RECEIPT_KEY_SEED: randomBytes(32).toString("hex"),
      CHECKPOINT_KEY_SEED: randomBytes(32).toString("hex"),
      METRICS_TOKEN: metricsToken,
      ...idp.env(),
      ANCHOR_ENABLED: "false",
      ...database.env,
    },
    { inheritEnv: true, execArgv: profileDir ? ["--inspect=127.0.0.1:0"] : [] },
  );
  const child = service.process;
  const port = Number(new URL(service.url).port);
  try {
    // minted by the identity provider in this process: the service spends nothing on them
    progress(`minting ${CITIZENS} + ${WARMUP_CITIZENS} (warm-up) citizen tokens…`);
    const mint = async (prefix: string, n: number) => {
      const tokens: string[] = [];
      for (let k = 0; k < n; k += 250) {
        const slice = Array.from({ length: Math.min(250, n - k) }, (_, j) =>
          idp.token({ sub: `${prefix}-${k + j}`, role: "citizen" }),
        );
        tokens.push(...(await Promise.all(slice)));
      }
      return tokens;
    };
    const tokens = await mint("citizen", CITIZENS);
    const warmupTokens = await mint("warmup-citizen", WARMUP_CITIZENS);
    const body = (i: number) =>
      JSON.stringify({
        section: SECTIONS[i % SECTIONS.length],
        stance: STANCES[i % 3],
        text: `Ý kiến số ${i}: tôi đề nghị làm rõ điều khoản này để người dân dễ thực hiện.`,
      });
    const opinionFrom = (list: string[]) => (i: number) => ({
      headers: { authorization: `Bearer ${list[i % list.length]}`, "content-type": "application/json" },
      body: body(i),
    });
    const plainOpinion = (i: number) => ({ headers: { "content-type": "application/json" }, body: body(i) });

    progress("warming up…");
    await load(plain.port, plain.process.pid, plainOpinion, 201, WARMUP_MS);
    await load(port, child.pid, opinionFrom(warmupTokens), 201, WARMUP_MS);
    // the measured window starts with the reading index caught up on the warm-up's opinions: otherwise it catches
    // up inside the window on some runs and not others (PostgreSQL: 1,000 or 3,000 opinions/s from one run to the next)
    const catchUp = await readingIndexCaughtUp(port);

    progress(`plain Fastify, ${DURATION_MS / 1000}s, concurrency ${CONCURRENCY}…`);
    const baseline = await load(plain.port, plain.process.pid, plainOpinion, 201, DURATION_MS);

    const wsUrl = profileDir ? /Debugger listening on (ws:\/\/\S+)/.exec(service.output())?.[1] : undefined;
    if (profileDir && !wsUrl)
      throw new Error("BENCH_CPU_PROF: the service's inspector did not say where it listens");
    const session = wsUrl ? await inspector(wsUrl) : null;
    if (session) {
      await session.call("Profiler.enable");
      await session.call("Profiler.start");
    }
    const before = await storeCounters(port, metricsToken);
    progress(
      `opinions (${backend}), ${DURATION_MS / 1000}s, concurrency ${CONCURRENCY}, ${CITIZENS} citizens…`,
    );
    const ingest = await load(port, child.pid, opinionFrom(tokens), 201, DURATION_MS);
    const after = await storeCounters(port, metricsToken);
    if (session && profileDir) {
      const { profile } = await session.call<{ profile: CpuProfile }>("Profiler.stop");
      session.close();
      mkdirSync(profileDir, { recursive: true });
      const file = join(
        profileDir,
        `ingest-${backend}-${new Date().toISOString().replace(/[:.]/g, "-")}.cpuprofile`,
      );
      writeFileSync(file, JSON.stringify(profile));
      progress(`service CPU profile of the measured window: ${file}\n${formatTop(summarize(profile))}`);
    }

    // plain Fastify again, once the service is idle (its reading index caught up): this machine's speed drifts
    // within a run, so the ratio is taken against the mean of a window before and one after
    await readingIndexCaughtUp(port);
    progress(`plain Fastify again, ${DURATION_MS / 1000}s…`);
    const serviceCpuBefore = cpuSeconds(child.pid);
    const baselineAfter = await load(plain.port, plain.process.pid, plainOpinion, 201, DURATION_MS);
    const serviceCpuAfter = cpuSeconds(child.pid);
    const plainRate = (baseline.rate + baselineAfter.rate) / 2;
    const plainCpu =
      baseline.cpuUsPerRequest === null || baselineAfter.cpuUsPerRequest === null
        ? null
        : (baseline.cpuUsPerRequest + baselineAfter.cpuUsPerRequest) / 2;
    const plainLat = [...baseline.lat, ...baselineAfter.lat].sort((a, b) => a - b);
    const commits = after.commits - before.commits;
    const roundTrips =
      after.roundTrips === null || before.roundTrips === null ? null : after.roundTrips - before.roundTrips;
    const common = {
      backend,
      concurrency: CONCURRENCY,
      citizens: CITIZENS,
      tokenAlg: ALG,
      durationS: DURATION_MS / 1000,
      loadavg1: Number(loadavg()[0]!.toFixed(2)),
    };
    const ms = (v: number) => Number(v.toFixed(2));
    emit({
      metric: "ingest_opinions_per_second",
      value: Math.round(ingest.rate),
      unit: "opinions/s",
      errors: ingest.errors,
      ...common,
    });
    emit({ metric: "ingest_latency_p50", value: ms(pct(ingest.lat, 50)), unit: "ms", ...common });
    emit({ metric: "ingest_latency_p99", value: ms(pct(ingest.lat, 99)), unit: "ms", ...common });
    emit({
      metric: "plain_fastify_requests_per_second",
      value: Math.round(plainRate),
      unit: "requests/s",
      route: `POST ${OPINIONS_PATH} (bench/plain-fastify.ts)`,
      before: Math.round(baseline.rate),
      after: Math.round(baselineAfter.rate),
      what: "the mean of a window before the service's and one after it",
      // what the service itself used meanwhile (idle: no anchoring in this bench, its reading index caught up)
      serviceCpuMsDuringAfter:
        serviceCpuBefore === null || serviceCpuAfter === null
          ? null
          : Math.round((serviceCpuAfter - serviceCpuBefore) * 1000),
      errors: baseline.errors + baselineAfter.errors,
      ...common,
    });
    emit({ metric: "plain_fastify_latency_p99", value: ms(pct(plainLat, 99)), unit: "ms", ...common });
    emit({
      metric: "ingest_ratio_to_plain_fastify",
      value: Number((ingest.rate / plainRate).toFixed(3)),
      unit: "ratio",
      target: { atLeast: postgres ? 0.25 : 1 / 3, aim: 0.5, p99AtMostMs: 50 },
      ...common,
    });
    emit({
      metric: "reading_index_catch_up",
      value: Math.round(catchUp.entries / (catchUp.ms / 1000)),
      unit: "entries/s",
      entries: catchUp.entries,
      ms: Math.round(catchUp.ms),
      what: "the reading index bringing itself up to the warm-up's log once its commits stopped (200 ms of quiet included)",
      ...common,
    });
    emit({
      metric: "ingest_service_cpu_per_opinion",
      value: ingest.cpuUsPerRequest === null ? null : Math.round(ingest.cpuUsPerRequest),
      unit: "us",
      ...common,
    });
    emit({
      metric: "ingest_service_event_loop_cpu_per_opinion",
      value: ingest.loopCpuUsPerRequest === null ? null : Math.round(ingest.loopCpuUsPerRequest),
      unit: "us",
      what: "CPU of the service's main thread alone (worker threads excluded)",
      ...common,
    });
    emit({
      metric: "plain_fastify_cpu_per_request",
      value: plainCpu === null ? null : Math.round(plainCpu),
      unit: "us",
      ...common,
    });
    emit({
      metric: "ingest_entries_per_group_commit",
      value: commits > 0 ? Number(((after.entries - before.entries) / commits).toFixed(1)) : null,
      unit: "entries",
      commits,
      ...common,
    });
    const delayMs = (v: number | null) => (v === null ? null : Number((v * 1000).toFixed(1)));
    emit({
      metric: "ingest_service_event_loop_delay_p99",
      value: delayMs(after.loopDelayP99),
      unit: "ms",
      max: delayMs(after.loopDelayMax),
      what: "the service's event-loop delay over the measured window (prom-client, /metrics)",
      ...common,
    });
    emit({
      metric: "ingest_db_round_trips_per_group_commit",
      value: roundTrips === null || commits === 0 ? null : Number((roundTrips / commits).toFixed(2)),
      unit: "round trips",
      roundTrips,
      commits,
      source:
        "gopy_store_round_trips_total / gopy_group_commit_entries_count (/metrics, over the measured window)",
      ...common,
    });
  } finally {
    await service.kill("SIGTERM");
    plain.process.kill("SIGTERM");
    await idp.close();
    agent.destroy();
    await database.cleanup();
  }
}

/** Opinions of the counted-map bench: one head of this many, then a second as large on top of it. */
const HEAD_OPINIONS = 50_000;

/**
 * How long the anchorer's counted map update takes for a head of HEAD_OPINIONS opinions, on a SQLite file
 * (synchronous=FULL, as the service runs it): into an empty map, then the next head of as many into that map
 * (a fifth of them replacing an earlier opinion of the same author and section).
 */
async function countedHeads(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "gopy-bench-counted-"));
  const store = new SqliteStore(join(dir, "counted.sqlite"));
  try {
    await store.migrate();
    const sections = SECTIONS.map((id) => ({ id, title: id, text: "Nội dung." }));
    await seedConsultation(store, { title: "Bench", summary: "Bench", sections });
    const append = async (from: number, count: number, authorOf: (i: number) => number) => {
      for (let at = from; at < from + count; at += 5_000) {
        const batch: NewOpinionEntry[] = [];
        for (let i = at; i < Math.min(from + count, at + 5_000); i++) {
          const author = bytesToHex(sha256(utf8Encode(`bench author ${authorOf(i)}`)));
          const section = SECTIONS[i % SECTIONS.length]!;
          const salt = bytesToHex(sha256(utf8Encode(`salt ${i}`)));
          const leaf = entryString({
            v: 1,
            type: "opinion",
            consultation: "1",
            draftVersion: 1,
            section,
            stance: "agree",
            contentHash: contentHash(salt, ""),
            author,
            channel: "online",
            submittedAt: formatTime(Date.now()),
            replaces: null,
          });
          batch.push({
            kind: "opinion",
            channel: "online",
            leaf,
            leafHash: leafHash(utf8Encode(leaf)),
            author,
            section,
            text: "",
            salt,
            subjectKey: `subject ${i}`,
            idempotencyKey: null,
            receipt: "{}",
            withholdTarget: null,
            createdAt: Date.now(),
          });
        }
        await store.appendEntries(1, at, batch, []);
      }
    };
    const timed = async (treeSize: number) => {
      const t0 = performance.now();
      await countedRootAt(store, 1, treeSize);
      return Math.round(performance.now() - t0);
    };
    progress(`counted map: a head of ${HEAD_OPINIONS} opinions…`);
    await append(0, HEAD_OPINIONS, (i) => i);
    const first = await timed(HEAD_OPINIONS);
    // the next head: 20% of its opinions replace one of the first head's (same author, same section)
    await append(HEAD_OPINIONS, HEAD_OPINIONS, (i) => (i % 5 === 0 ? i - HEAD_OPINIONS : i));
    const next = await timed(2 * HEAD_OPINIONS);
    const common = { backend: "sqlite", opinions: HEAD_OPINIONS };
    emit({ metric: "counted_map_update_first_head", value: first, unit: "ms", ...common, mapKeysBefore: 0 });
    emit({
      metric: "counted_map_update_next_head",
      value: next,
      unit: "ms",
      ...common,
      mapKeysBefore: HEAD_OPINIONS,
    });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .then(() => (postgres ? undefined : countedHeads()))
  .catch((e) => {
    process.stderr.write(`[ingest.bench] failed: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
