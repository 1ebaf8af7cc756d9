/** Shared test fixtures: one real local Hardhat node per mocha process, a deployed registry, agencies, configs. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import pg from "pg";
import type { Hex } from "viem";
import { parseVerifierKey, type ReceiptLog } from "../../protocol/index.ts";
import { type AppDeps, buildApp } from "../../server/app.ts";
import {
  type DevNode,
  deployRegistry,
  freePort,
  makeAgency,
  startHardhatNode,
} from "../../server/chain/devnet.ts";
import { type Config, loadConfig } from "../../server/config.ts";
import { PostgresStore, SqliteStore, type Store } from "../../server/store/index.ts";
import { type Idp, sharedIdp } from "../support/idp.ts";
import { randomBytesFrom, testRandom } from "../support/random.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";

export interface TestChain {
  node: DevNode;
  registry: Hex;
  agencies: Record<string, { address: Hex; operatorKey: Hex }>;
}

let shared: Promise<TestChain> | null = null;

/**
 * A real `hardhat node` (free port) with the registry deployed and two agencies of its own: for a test that
 * moves the chain's clock (which would upset the others on the shared one). Stop it with `node.stop()`.
 */
export async function startTestChain(): Promise<TestChain> {
  const node = await startHardhatNode({ unref: true });
  process.once("exit", () => node.process.kill("SIGKILL"));
  const registry = await deployRegistry(node.url);
  const agencies = {
    "bo-tu-phap": await makeAgency(node.url, registry, 1, 3),
    "bo-y-te": await makeAgency(node.url, registry, 2, 4),
  };
  return { node, registry, agencies };
}

/** The chain of startTestChain, shared by the test files. */
export function testChain(): Promise<TestChain> {
  shared ??= startTestChain();
  return shared;
}

/** The process's demo OpenID Provider: every test config accepts its tokens, and /api/dev/token forwards to it. */
export const testIdp: Idp = await sharedIdp();

const secrets = testRandom("server secrets");
/** A fresh 32-byte secret in hex (PSEUDONYM_SECRET, RECEIPT_KEY_SEED), from the run's seeded stream. */
const testSecret = (): string => Buffer.from(randomBytesFrom(secrets, 32)).toString("hex");

export function tmpSqlite(): string {
  return join(mkdtempSync(join(tmpdir(), "gopy-test-")), "gopy.sqlite");
}

export function testEnv(chain: TestChain | null, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "silent",
    SQLITE_PATH: tmpSqlite(),
    PSEUDONYM_SECRET: testSecret(),
    RECEIPT_KEY_SEED: testSecret(),
    CHECKPOINT_KEY_SEED: testSecret(),
    ...testIdp.env(),
    ANCHOR_INTERVAL: "200ms",
    RATE_LIMIT_MAX: "1000",
    WEB_DIST: join(tmpdir(), "gopy-no-web"),
    ...(chain
      ? {
          RPC_URL: chain.node.url,
          REGISTRY_ADDRESS: chain.registry,
          AGENCIES: JSON.stringify(chain.agencies),
        }
      : {}),
    ...extra,
  };
}

export function testConfig(chain: TestChain | null, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(chain, extra));
}

export async function testApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = await buildApp(config, { logger: false, ...deps });
  try {
    await app.ready();
  } catch (e) {
    // a refused start still opened its store and threads: release them, as the process's exit would
    await app.close().catch(() => undefined);
    throw e;
  }
  return app;
}

export async function devToken(
  app: FastifyInstance,
  sub: string,
  role: "citizen" | "agency" | "admin" = "citizen",
  agency?: string,
): Promise<string> {
  const r = await app.inject({
    method: "POST",
    url: "/api/dev/token",
    payload: agency ? { sub, role, agency } : { sub, role },
  });
  if (r.statusCode !== 200) throw new Error(`dev token: ${r.statusCode} ${r.body}`);
  return (r.json() as { token: string }).token;
}

const ROOT = join(import.meta.dirname, "..", "..");

/** One JSON-RPC call (Hardhat test methods: evm_mine, evm_setAutomine, hardhat_dropTransaction…). */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const j = (await r.json()) as { result?: unknown; error?: { message: string } };
  if (j.error) throw new Error(`${method}: ${j.error.message}`);
  return j.result;
}

/** The service as a child process (`node server/main.ts`), for crash tests. */
export interface Service {
  child: ChildProcess;
  base: string;
  /** Everything the process has written so far (stdout and stderr: its logs). */
  output(): string;
}

export async function startService(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, "server/main.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"gopy":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited ${code}: ${out}`));
    });
  });
  child.removeAllListeners("exit");
  return { child, base: `http://127.0.0.1:${port}`, output: () => out };
}

/** SIGKILL, and wait for the exit. */
export function kill(s: Service): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.once("exit", () => resolve());
    s.child.kill("SIGKILL");
  });
}

/** Environment of a service child process (crash tests) on its own chain, with SQLite or a PostgreSQL schema. */
export function childEnv(o: {
  chain: { url: string; registry: Hex; agencies: Record<string, { address: Hex; operatorKey: Hex }> };
  sqlite: string;
  postgres?: { url: string; schema: string } | null;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: "development",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    SQLITE_PATH: o.sqlite,
    ...(o.postgres ? { DATABASE_URL: o.postgres.url, DATABASE_SCHEMA: o.postgres.schema } : {}),
    PSEUDONYM_SECRET: testSecret(),
    RECEIPT_KEY_SEED: testSecret(),
    CHECKPOINT_KEY_SEED: testSecret(),
    ...testIdp.env(),
    ANCHOR_INTERVAL: "150ms",
    TX_TIMEOUT: "120",
    RPC_URL: o.chain.url,
    REGISTRY_ADDRESS: o.chain.registry,
    AGENCIES: JSON.stringify(o.chain.agencies),
    ...o.extra,
  };
}

/** Drops a test's PostgreSQL schema (each PostgreSQL test works in a fresh one). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await c.end();
  }
}

/** A fresh PostgreSQL schema name for one suite. */
export const tempSchema = (label: string) => `gopy_${label}_${process.pid}_${Date.now() % 1_000_000}`;

/** The PostgreSQL URL the tests use, if any. */
export const PG_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

/** The store backends a suite runs on: SQLite always, PostgreSQL when PG_URL is set (else a visible skip). */
export function storeBackends(title: (backend: string) => string): ("sqlite" | "postgres")[] {
  if (PG_URL) return ["sqlite", "postgres"];
  describe(title("postgres"), () => missing("PostgreSQL", POSTGRES_HOW));
  return ["sqlite"];
}

/** A service's surroundings for tests that run it as a child process: its own chain, registry, agency and store. */
export interface ChildRig {
  node: DevNode;
  registry: Hex;
  operatorKey: Hex;
  env: Record<string, string>;
  /** A store on the same database as the child's (migrate it before use). */
  openStore(): Store;
  close(): Promise<void>;
}

export async function startChildRig(
  backend: "sqlite" | "postgres",
  label: string,
  extra: Record<string, string> = {},
): Promise<ChildRig> {
  const node = await startHardhatNode({ unref: true });
  process.once("exit", () => node.process.kill("SIGKILL"));
  const registry = await deployRegistry(node.url);
  const agencies = { "bo-tu-phap": await makeAgency(node.url, registry, 1, 3) };
  const sqlite = tmpSqlite();
  const postgres = backend === "postgres" ? { url: PG_URL!, schema: tempSchema(label) } : null;
  return {
    node,
    registry,
    operatorKey: agencies["bo-tu-phap"].operatorKey,
    env: childEnv({ chain: { url: node.url, registry, agencies }, sqlite, postgres, extra }),
    openStore: () => (postgres ? new PostgresStore(postgres.url, postgres.schema) : new SqliteStore(sqlite)),
    async close() {
      await node.stop();
      if (postgres) await dropSchema(postgres.url, postgres.schema);
    },
  };
}

/**
 * The log a v2 receipt of consultation `id` is checked against (a trust root's `log`), derived from the vkey the
 * service serves, as a verifier without the trust root at hand would.
 */
export async function receiptLog(app: FastifyInstance, id: number | string): Promise<ReceiptLog> {
  const res = await app.inject({ method: "GET", url: `/logs/${id}/vkey` });
  const verifier = parseVerifierKey(res.body.trim());
  return { originPrefix: verifier.name.slice(0, -`/${id}`.length), publicKey: verifier.publicKey };
}
