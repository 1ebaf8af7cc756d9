// The real stack for the end-to-end browser test: a `hardhat node` child process on a free port, the
// registry deployed through its Ignition module (in memory: nothing written under ignition/deployments),
// an agency with its operator, and the service (buildApp) listening on a free port and serving web/dist.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploy, type EIP1193Provider } from "@nomicfoundation/ignition-core";
import type { FastifyInstance } from "fastify";
import registryModule from "../../ignition/modules/ConsultationRegistry.ts";
import { buildApp } from "../../server/app.ts";
import { type DevNode, makeAgency, startHardhatNode } from "../../server/chain/devnet.ts";
import { loadConfig } from "../../server/config.ts";
import { DIST, ROOT } from "./helpers.ts";

const ARTIFACT = join(ROOT, "artifacts/contracts/ConsultationRegistry.sol/ConsultationRegistry.json");

export interface Stack {
  node: DevNode;
  registry: `0x${string}`;
  app: FastifyInstance;
  base: string;
  agency: string;
  stop(): Promise<void>;
}

function rpcProvider(url: string): EIP1193Provider {
  let id = 0;
  return {
    async request({ method, params }: { method: string; params?: unknown[] | object }) {
      id += 1;
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params: params ?? [] }),
      });
      const body = (await res.json()) as {
        result?: unknown;
        error?: { code: number; message: string; data?: unknown };
      };
      if (body.error) throw Object.assign(new Error(body.error.message), body.error);
      return body.result;
    },
  } as EIP1193Provider;
}

/** Deploys ConsultationRegistry with ignition/modules/ConsultationRegistry.ts; returns its address. */
export async function deployWithIgnition(url: string): Promise<`0x${string}`> {
  if (!existsSync(ARTIFACT)) {
    execFileSync(
      process.execPath,
      [join(ROOT, "node_modules/hardhat/dist/src/cli.js"), "compile", "--quiet"],
      {
        cwd: ROOT,
        stdio: "inherit",
      },
    );
  }
  const artifact = JSON.parse(readFileSync(ARTIFACT, "utf8"));
  const provider = rpcProvider(url);
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  const result = await deploy({
    provider,
    deploymentDir: undefined,
    artifactResolver: {
      loadArtifact: async (name: string) => {
        if (name !== "ConsultationRegistry") throw new Error(`unexpected artifact ${name}`);
        return artifact;
      },
      getBuildInfo: async () => undefined,
    },
    ignitionModule: registryModule,
    deploymentParameters: { ConsultationRegistry: { adminDelay: 0 } },
    accounts,
  });
  if (result.type !== "SUCCESSFUL_DEPLOYMENT")
    throw new Error(`ignition deployment failed: ${JSON.stringify(result)}`);
  const registry = Object.values(result.contracts).find((c) => c.contractName === "ConsultationRegistry");
  if (!registry) throw new Error("ignition: no registry in the result");
  return registry.address as `0x${string}`;
}

export async function startStack(
  opts: { maxAnchorDelay?: string; anchorEnabled?: boolean } = {},
): Promise<Stack> {
  const node = await startHardhatNode({ quiet: true, root: ROOT });
  try {
    const registry = await deployWithIgnition(node.url);
    const agency = "bo-tu-phap";
    const agencies = { [agency]: await makeAgency(node.url, registry, 1, 3) };
    const dataDir = mkdtempSync(join(tmpdir(), "gopy-web-e2e-"));
    const config = loadConfig({
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      SQLITE_PATH: join(dataDir, "gopy.sqlite"),
      PSEUDONYM_SECRET: randomBytes(32).toString("hex"),
      RECEIPT_KEY_SEED: randomBytes(32).toString("hex"),
      DEV_IDP: "true",
      ANCHOR_INTERVAL: "500ms",
      ANCHOR_ENABLED: opts.anchorEnabled === false ? "false" : "true",
      MAX_ANCHOR_DELAY: opts.maxAnchorDelay ?? "5m",
      RATE_LIMIT_MAX: "1000",
      RPC_URL: node.url,
      REGISTRY_ADDRESS: registry,
      CHAIN_ID: "31337",
      AGENCIES: JSON.stringify(agencies),
      WEB_DIST: DIST,
    });
    const app = await buildApp(config, { logger: false });
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    return {
      node,
      registry,
      app,
      base: address,
      agency,
      async stop() {
        await app.close();
        await node.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await node.stop();
    throw e;
  }
}

/** Small HTTP client of the service for test set-up (what an agency's tools would do). */
export async function api<T>(
  base: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

export async function token(
  base: string,
  sub: string,
  role: "citizen" | "agency",
  agency?: string,
): Promise<string> {
  const r = await api<{ token: string }>(base, "/api/dev/token", {
    body: agency ? { sub, role, agency } : { sub, role },
  });
  return r.token;
}

export const DRAFT = {
  title: "Dự thảo Luật Đất đai (sửa đổi)",
  summary: "Lấy ý kiến nhân dân về một số điều của dự thảo Luật Đất đai (sửa đổi).",
  sections: [
    {
      id: "dieu-1",
      title: "Điều 1. Phạm vi điều chỉnh",
      text: "Luật này quy định về chế độ sở hữu đất đai, quyền hạn và trách nhiệm của Nhà nước đại diện chủ sở hữu toàn dân về đất đai.",
    },
    {
      id: "dieu-2",
      title: "Điều 2. Đối tượng áp dụng",
      text: "1. Cơ quan nhà nước thực hiện quyền hạn và trách nhiệm đại diện chủ sở hữu toàn dân về đất đai.\n2. Người sử dụng đất.",
    },
    {
      id: "dieu-3",
      title: "Điều 3. Giải thích từ ngữ",
      text: "Trong Luật này, các từ ngữ dưới đây được hiểu như sau: Bản đồ địa chính là bản đồ thể hiện các thửa đất.",
    },
  ],
};
