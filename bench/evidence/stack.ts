// The evidence suite's stack: a real `hardhat node` with the registry deployed (test/support/stack.ts, on
// the service's own devnet tooling), an identity provider of our own (RS256 and ES256 keys served as a
// JWKS over HTTP, so tokens carry names and e-mails the service must never record), and the service itself
// as a child process (`node server/main.ts`), which the crash bench SIGKILLs and restarts on the same
// database. startEvidence() brings all three up for a bench and stops them.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MintClaims } from "../../scripts/demo-idp.ts";
import { call, waitFor } from "../../test/support/http.ts";
import { type Idp, startIdp } from "../../test/support/idp.ts";
import { type Chain, ROOT, stackEnv, startChain } from "../../test/support/stack.ts";

export { type Chain, call, type Idp, ROOT, startChain, startIdp, waitFor };
export const log = (m: string) => process.stderr.write(`# ${m}\n`);

export interface Service {
  url: string;
  process: ChildProcess;
  /** Peak and current resident memory of the service process (MiB), from /proc. */
  memory(): { peakMiB: number; rssMiB: number };
  kill(signal: NodeJS.Signals): Promise<number | null>;
  output(): string;
}

export function serviceEnv(chain: Chain, idp: Idp, rpcUrl: string, extra: Record<string, string> = {}) {
  return stackEnv(chain, mkdtempSync(join(tmpdir(), "gopy-evidence-")), {
    LOG_LEVEL: "warn",
    ...idp.env(),
    DEV_IDP_URL: "",
    RPC_URL: rpcUrl,
    ANCHOR_INTERVAL: "1s",
    RATE_LIMIT_MAX: "100000",
    ...extra,
  });
}

/**
 * Starts `node server/main.ts` and waits for its "listening" line. Its environment is `env` alone (and PATH),
 * or this process's environment overlaid with `env` when `inheritEnv`; `execArgv` goes to node (e.g. --cpu-prof).
 */
export async function startService(
  env: Record<string, string>,
  opts: { inheritEnv?: boolean; execArgv?: readonly string[] } = {},
): Promise<Service> {
  const child = spawn(process.execPath, [...(opts.execArgv ?? []), join(ROOT, "server/main.ts")], {
    cwd: ROOT,
    env: opts.inheritEnv ? { ...process.env, ...env } : { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stderr?.on("data", keep);
  const url = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      keep(d);
      buf += d.toString();
      const m = /\{"gopy":"listening","url":"([^"]+)"\}/.exec(buf);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}):\n${out}`));
    });
  });
  return {
    url,
    process: child,
    memory() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
        return { peakMiB: kb("VmHWM") / 1024, rssMiB: kb("VmRSS") / 1024 };
      } catch {
        return { peakMiB: 0, rssMiB: 0 };
      }
    },
    kill(signal) {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      });
    },
    output: () => out,
  };
}

export const DRAFT = {
  title: "Dự thảo Luật sửa đổi, bổ sung một số điều của Hiến pháp",
  summary: "Lấy ý kiến nhân dân về dự thảo.",
  sections: Array.from({ length: 10 }, (_, i) => ({
    id: `dieu-${i + 1}`,
    title: `Điều ${i + 1}`,
    text: `Nội dung điều ${i + 1}.`,
  })),
};

/** Opens a consultation through the API as agency bo-tu-phap; returns its id. */
export async function openConsultation(base: string, idp: Idp, closesInSeconds: number): Promise<number> {
  const agency = await idp.token({ sub: "officer-evidence", role: "agency", agency: "bo-tu-phap" });
  const now = Math.floor(Date.now() / 1000);
  const r = await call(base, "POST", "/api/consultations", agency, {
    ...DRAFT,
    opensAt: now - 60,
    closesAt: now + closesInSeconds,
  });
  if (r.status !== 201) throw new Error(`open: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { id: number }).id;
}

export interface Citizen {
  readonly sub: string;
  readonly name: string;
  readonly email: string;
}

/** The subject, name and e-mail of test citizen i (the privacy bench looks for them everywhere). */
export function citizen(i: number): Citizen {
  return {
    sub: `vneid-0${String(100_000_000 + i)}`,
    name: `Nguyễn Văn Thử ${i}`,
    email: `citizen.${i}@mail.example.vn`,
  };
}

export interface LoadResult {
  readonly sent: number;
  readonly accepted: number;
  readonly statuses: Record<string, number>;
  readonly latenciesMs: number[];
  /** Receipts of every acknowledged (201) opinion. */
  readonly receipts: { leafIndex: number; leafHash: string; text: string; entry: string }[];
  readonly seconds: number;
}

/**
 * Closed-loop load: `concurrency` clients, each posting opinions as a different citizen in turn (every
 * request a distinct token among `tokens`) until `seconds` pass or `stop()` says so. Network errors
 * (a killed service) count under status "error" and are retried against `base()`.
 */
export async function runLoad(o: {
  base: () => string;
  id: number;
  tokens: readonly string[];
  seconds: number;
  concurrency: number;
  stop?: () => boolean;
  sections?: number;
}): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const latenciesMs: number[] = [];
  const receipts: LoadResult["receipts"] = [];
  const stances = ["agree", "disagree", "neutral"];
  const sections = o.sections ?? 10;
  let next = 0;
  let sent = 0;
  const start = performance.now();
  const end = start + o.seconds * 1000;
  const client = async () => {
    while (performance.now() < end && !o.stop?.()) {
      const n = next++;
      const token = o.tokens[n % o.tokens.length]!;
      const text = `Ý kiến #${n}: tôi đề nghị bổ sung quy định này.`;
      const t0 = performance.now();
      sent++;
      try {
        const r = await fetch(`${o.base()}/api/consultations/${o.id}/opinions`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ section: `dieu-${(n % sections) + 1}`, stance: stances[n % 3], text }),
        });
        const body = (await r.json()) as { leafIndex: number; leafHash: string; text: string; entry: string };
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (r.status === 201) {
          latenciesMs.push(performance.now() - t0);
          receipts.push({
            leafIndex: body.leafIndex,
            leafHash: body.leafHash,
            text: body.text,
            entry: body.entry,
          });
        }
      } catch {
        statuses.error = (statuses.error ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  return {
    sent,
    accepted: receipts.length,
    statuses,
    latenciesMs,
    receipts,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Polls the service's head until the anchored size reaches `size`; resolves to the seconds it took. */
export async function anchoredWithin(
  base: () => string,
  id: number,
  size: number,
  ms: number,
): Promise<number> {
  const t0 = performance.now();
  await waitFor(
    `${size} entries anchored`,
    async () => {
      const h = await call(base(), "GET", `/api/consultations/${id}/log/head`);
      const b = h.body as { anchored: { treeSize: number } | null };
      return (b.anchored?.treeSize ?? 0) >= size;
    },
    ms,
    200,
  );
  return (performance.now() - t0) / 1000;
}

export interface Evidence {
  readonly chain: Chain;
  readonly idp: Idp;
  /** The service's environment (restart it with startService(env)). */
  readonly env: Record<string, string>;
  /** The running service; a bench that restarts it puts the new one here, for stop(). */
  service: Service;
  /** Opens a consultation on the service as agency bo-tu-phap (openConsultation); resolves to its id. */
  open(closesInSeconds: number): Promise<number>;
  /**
   * Tokens of citizens 0..n-1 (citizen(i)), minted by the identity provider; `claims` says what each carries
   * (default: the subject alone).
   */
  citizenTokens(n: number, claims?: (c: Citizen) => MintClaims): Promise<string[]>;
  /** Stops the service, the identity provider and the chain. */
  stop(): Promise<void>;
}

/**
 * What every evidence bench runs on: a chain (`chain`, or a fresh one), the identity provider, and the service
 * on them, reaching the chain at `rpcUrl` (default: the node itself), `extra` over serviceEnv's defaults.
 */
export async function startEvidence(
  extra: Record<string, string> = {},
  opts: { chain?: Chain; rpcUrl?: string } = {},
): Promise<Evidence> {
  const chain = opts.chain ?? (await startChain());
  const idp = await startIdp();
  const env = serviceEnv(chain, idp, opts.rpcUrl ?? chain.node.url, extra);
  let service: Service;
  try {
    service = await startService(env);
  } catch (e) {
    await idp.close();
    await chain.node.stop();
    throw e;
  }
  const evidence: Evidence = {
    chain,
    idp,
    env,
    service,
    open: (closesInSeconds) => openConsultation(evidence.service.url, idp, closesInSeconds),
    async citizenTokens(n, claims = (c) => ({ sub: c.sub })) {
      const tokens: string[] = [];
      // in slices: the provider signs each one, and thousands of open requests at once help nobody
      for (let from = 0; from < n; from += 256) {
        const slice = Array.from({ length: Math.min(256, n - from) }, (_, i) =>
          idp.token(claims(citizen(from + i))),
        );
        tokens.push(...(await Promise.all(slice)));
      }
      return tokens;
    },
    async stop() {
      await evidence.service.kill("SIGTERM");
      await idp.close();
      await chain.node.stop();
    },
  };
  return evidence;
}
