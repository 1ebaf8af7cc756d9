/**
 * Ingest benchmark: opinions accepted per second (durable, signed receipt) over loopback HTTP from many distinct
 * citizens, p50/p99 latency, and the plain-JSON ceiling of the same Fastify setup (GET /api/keys), in the same run.
 * The service runs as a child process (SQLite, group commit); this process is the load generator.
 * Then, without the service, how long the anchorer's counted map update takes for a head of 50,000 opinions.
 * stdout: JSON lines only. Progress: stderr. `--full` runs longer.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
import { type NewOpinionEntry, SqliteStore } from "../server/store/index.ts";
import { sharedIdp } from "../test/support/idp.ts";
import { startService } from "./evidence/stack.ts";

const full = process.argv.includes("--full");
const DURATION_MS = full ? 20_000 : 6_000;
const WARMUP_MS = full ? 3_000 : 1_500;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const CITIZENS = full ? 20_000 : 5_000;
const progress = (m: string) => process.stderr.write(`[ingest.bench] ${m}\n`);
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

const SECTIONS = ["dieu-1", "dieu-2", "dieu-3", "dieu-4", "dieu-5"];
const STANCES = ["agree", "disagree", "neutral"];

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

/** CPU seconds (user + system) used so far by a process, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
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

/** Runs `make(i)` with CONCURRENCY in flight for the duration; returns completions/s and latencies (ms). */
async function load(
  port: number,
  make: (i: number) => { method: string; path: string; headers: Record<string, string>; body?: string },
  expectStatus: number,
  ms: number,
): Promise<{ rate: number; lat: number[]; errors: number }> {
  let i = 0;
  let done = 0;
  let errors = 0;
  const lat: number[] = [];
  const start = performance.now();
  const until = start + ms;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const r = make(i++);
        const t0 = performance.now();
        try {
          const res = await send(port, r.method, r.path, r.headers, r.body);
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
  lat.sort((a, b) => a - b);
  return { rate: done / elapsed, lat, errors };
}

/** Consultation 1, open for a day, with `draft` as its first draft: stored directly, the chain is not involved. */
async function seedConsultation(
  store: SqliteStore,
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

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "gopy-bench-"));
  const sqlite = join(dir, "bench.sqlite");
  // the consultation record is seeded through the store: the ingest path never touches the chain
  const store = new SqliteStore(sqlite);
  await store.migrate();
  const sections = SECTIONS.map((id, k) => ({ id, title: `Điều ${k + 1}`, text: "Nội dung điều khoản." }));
  await seedConsultation(store, { title: "Dự thảo đo hiệu năng", summary: "Bench", sections });
  await store.close();
  // tokens from the demo identity provider, through the service's POST /api/dev/token as a script would get them
  const idp = await sharedIdp();

  const service = await startService(
    {
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      SQLITE_PATH: sqlite,
      PSEUDONYM_SECRET: randomBytes(32).toString("hex"),
      RECEIPT_KEY_SEED: randomBytes(32).toString("hex"),
      CHECKPOINT_KEY_SEED: randomBytes(32).toString("hex"),
      ...idp.env(),
      ANCHOR_ENABLED: "false",
      RATE_LIMIT_MAX: "1000",
    },
    {
      inheritEnv: true,
      execArgv: process.env.BENCH_CPU_PROF
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
        : [],
    },
  );
  const child = service.process;
  const port = Number(new URL(service.url).port);
  try {
    progress(`minting ${CITIZENS} citizen tokens…`);
    const tokens: string[] = [];
    for (let k = 0; k < CITIZENS; k += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, CITIZENS - k) }, async (_, j) => {
          const r = await send(
            port,
            "POST",
            "/api/dev/token",
            { "content-type": "application/json" },
            JSON.stringify({ sub: `citizen-${k + j}`, role: "citizen" }),
          );
          return (JSON.parse(r.body) as { token: string }).token;
        }),
      );
      tokens.push(...batch);
    }
    const opinion = (i: number) => ({
      method: "POST",
      path: "/api/consultations/1/opinions",
      headers: {
        authorization: `Bearer ${tokens[i % tokens.length]}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({
        section: SECTIONS[i % SECTIONS.length],
        stance: STANCES[i % 3],
        text: `Ý kiến số ${i}: tôi đề nghị làm rõ điều khoản này để người dân dễ thực hiện.`,
      }),
    });
    const plain = () => ({ method: "GET", path: "/api/keys", headers: {} });

    progress("warming up…");
    await load(port, plain, 200, WARMUP_MS / 2);
    await load(port, opinion, 201, WARMUP_MS / 2);

    progress(`plain-JSON ceiling (GET /api/keys), ${DURATION_MS / 1000}s, concurrency ${CONCURRENCY}…`);
    const cpu0 = cpuSeconds(child.pid);
    const ceiling = await load(port, plain, 200, DURATION_MS);
    const cpu1 = cpuSeconds(child.pid);
    progress(`opinions, ${DURATION_MS / 1000}s, concurrency ${CONCURRENCY}, ${CITIZENS} citizens…`);
    const ingest = await load(port, opinion, 201, DURATION_MS);
    const cpu2 = cpuSeconds(child.pid);

    const common = {
      backend: "sqlite",
      concurrency: CONCURRENCY,
      citizens: CITIZENS,
      durationS: DURATION_MS / 1000,
    };
    emit({
      metric: "ingest_opinions_per_second",
      value: Math.round(ingest.rate),
      unit: "opinions/s",
      errors: ingest.errors,
      ...common,
    });
    emit({
      metric: "ingest_latency_p50",
      value: Number(pct(ingest.lat, 50).toFixed(2)),
      unit: "ms",
      ...common,
    });
    emit({
      metric: "ingest_latency_p99",
      value: Number(pct(ingest.lat, 99).toFixed(2)),
      unit: "ms",
      ...common,
    });
    emit({
      metric: "http_plain_json_ceiling",
      value: Math.round(ceiling.rate),
      unit: "requests/s",
      route: "GET /api/keys",
      ...common,
    });
    if (cpu0 !== null && cpu1 !== null && cpu2 !== null) {
      // service CPU per request: what the service costs, whatever else competes for the machine's cores
      const perOpinion = ((cpu2 - cpu1) / (ingest.rate * (DURATION_MS / 1000))) * 1e6;
      const perPlain = ((cpu1 - cpu0) / (ceiling.rate * (DURATION_MS / 1000))) * 1e6;
      emit({
        metric: "ingest_service_cpu_per_opinion",
        value: Math.round(perOpinion),
        unit: "us",
        ...common,
      });
      emit({
        metric: "http_plain_json_service_cpu_per_request",
        value: Math.round(perPlain),
        unit: "us",
        ...common,
      });
    }
    emit({
      metric: "http_plain_json_latency_p99",
      value: Number(pct(ceiling.lat, 99).toFixed(2)),
      unit: "ms",
      ...common,
    });
  } finally {
    await service.kill("SIGTERM");
    await idp.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
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
  .then(countedHeads)
  .catch((e) => {
    process.stderr.write(`[ingest.bench] failed: ${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  });
