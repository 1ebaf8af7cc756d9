// The real stack shared by the web and audit tests and the evidence benches: a `hardhat node` child process
// on a free port with the registry deployed and agency bo-tu-phap (account 1, operator account 3), all through
// the service's own devnet tooling; and, for in-process tests, the service (buildApp) listening on a free port,
// on a clock the tests move together with the chain's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import type { Hex } from "viem";
import { buildApp } from "../../server/app.ts";
import {
  advanceChainTime,
  type DevNode,
  deployRegistry,
  deployWithIgnition,
  makeAgency,
  startHardhatNode,
} from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { loadConfig } from "../../server/config.ts";
import { testEnv } from "../server/helpers.ts";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const AGENCY = "bo-tu-phap";

export interface Chain {
  readonly node: DevNode;
  readonly registry: Hex;
  readonly agencies: Record<string, { address: Hex; operatorKey: Hex }>;
}

/**
 * Starts `hardhat node` (free port unless `port`), deploys the registry from its compiled artifact or, with
 * `deploy: "ignition"`, through its Ignition module (in memory), and makes agency bo-tu-phap with its operator.
 */
export async function startChain(
  opts: { port?: number; deploy?: "artifact" | "ignition" } = {},
): Promise<Chain> {
  const node = await startHardhatNode({ root: ROOT, quiet: true, ...(opts.port ? { port: opts.port } : {}) });
  process.once("exit", () => node.process.kill("SIGKILL"));
  try {
    const registry =
      opts.deploy === "ignition"
        ? await deployWithIgnition(node.url, ROOT)
        : await deployRegistry(node.url, ROOT);
    const agencies = { [AGENCY]: await makeAgency(node.url, registry, 1, 3) };
    return { node, registry, agencies };
  } catch (e) {
    await node.stop();
    throw e;
  }
}

/** The service's environment for `chain` (the service tests' own defaults), its SQLite file under `dataDir`. */
export function stackEnv(
  chain: Chain,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return testEnv(chain, { SQLITE_PATH: join(dataDir, "gopy.sqlite"), ...extra });
}

export interface Stack extends Chain {
  readonly app: FastifyInstance;
  /** The service's URL, e.g. http://127.0.0.1:41234 */
  readonly base: string;
  readonly agency: string;
  /** The service's clock: the system's plus an offset that advance() moves. */
  readonly clock: OffsetClock;
  /** Moves the chain's clock and the service's forward together by `seconds` (closesAt without waiting). */
  advance(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A chain (see startChain) and the service (buildApp) on it, listening on `port` (default: a free one). `env` overrides;
 * `prepare` runs once the chain is up, before the service starts, and adds to the environment (the web
 * tests build the client with this chain's trust root there).
 */
export async function startStack(
  opts: {
    deploy?: "artifact" | "ignition";
    env?: Record<string, string>;
    prepare?: (chain: Chain) => Promise<Record<string, string>>;
    port?: number;
  } = {},
): Promise<Stack> {
  const chain = await startChain(opts.deploy ? { deploy: opts.deploy } : {});
  const dataDir = mkdtempSync(join(tmpdir(), "gopy-stack-"));
  try {
    const clock = new OffsetClock();
    const prepared = opts.prepare ? await opts.prepare(chain) : {};
    const env = stackEnv(chain, dataDir, { ...opts.env, ...prepared });
    const app = await buildApp(loadConfig(env), { logger: false, clock });
    const base = await app.listen({ host: "127.0.0.1", port: opts.port ?? 0 });
    return {
      ...chain,
      app,
      base,
      agency: AGENCY,
      clock,
      async advance(seconds) {
        await advanceChainTime(chain.node.url, seconds);
        clock.offset += seconds * 1000;
      },
      async stop() {
        await app.close();
        await chain.node.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await chain.node.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}
