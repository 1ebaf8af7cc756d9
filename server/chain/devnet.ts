/**
 * Local development chain tooling (used by scripts/start.ts and the tests, never by the running service):
 * start a real `hardhat node` child process, deploy the registry, make agencies and their operators.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  toBytes,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { consultationRegistryAbi } from "./abi.ts";

export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** The well-known private key of Hardhat's default account `i` (local chains only). */
export function devKey(i: number): Hex {
  const a = mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i });
  return `0x${Buffer.from(a.getHdKey().privateKey!).toString("hex")}` as Hex;
}
export function devAddress(i: number): Hex {
  return mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i }).address;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface DevNode {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `hardhat node` on 127.0.0.1:port (free port by default) and waits until it answers. Its output goes to a
 * log file (`logFile`); with `unref` the child does not keep the parent's event loop alive (tests).
 */
export async function startHardhatNode(
  opts: { port?: number; root?: string; unref?: boolean; logFile?: string; quiet?: boolean } = {},
): Promise<DevNode & { logFile: string }> {
  const root = opts.root ?? process.cwd();
  const port = opts.port ?? (await freePort());
  const cli = join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
  const logFile = opts.logFile ?? join(mkdtempSync(join(tmpdir(), "gopy-hardhat-")), "node.log");
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [cli, "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: root,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  if (opts.unref) child.unref();
  const output = () => {
    try {
      return readFileSync(logFile, "utf8").slice(-5000);
    } catch {
      return "";
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited (${child.exitCode}):\n${output()}`);
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hardhat node did not start:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return { url, port, process: child, stop, logFile };
}

function clients(url: string, key: Hex) {
  const chain = defineChain({
    id: 31337,
    name: "hardhat",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [url] } },
  });
  const account = mnemonicToAccountFromKey(key);
  return {
    pub: createPublicClient({ chain, transport: http(url) }),
    wallet: createWalletClient({ chain, account, transport: http(url) }),
  };
}

function mnemonicToAccountFromKey(key: Hex) {
  for (let i = 0; i < 20; i++) {
    if (devKey(i) === key) return mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i });
  }
  throw new Error("not a development key");
}

const ARTIFACT = "artifacts/contracts/ConsultationRegistry.sol/ConsultationRegistry.json";

/** Compiles the contracts (Hardhat, solc from npm) when the registry's artifact is missing, e.g. on a fresh clone. */
export function ensureCompiled(root = process.cwd()): void {
  if (existsSync(join(root, ARTIFACT))) return;
  execFileSync(process.execPath, [join(root, "node_modules/hardhat/dist/src/cli.js"), "compile"], {
    cwd: root,
    stdio: ["ignore", process.stderr, "inherit"],
  });
}

/** Deploys ConsultationRegistry from the compiled artifact (tests; `npm start` uses the Ignition module). */
export async function deployRegistry(url: string, root = process.cwd()): Promise<Hex> {
  ensureCompiled(root);
  const artifact = JSON.parse(readFileSync(join(root, ARTIFACT), "utf8")) as { abi: Abi; bytecode: Hex };
  const { pub, wallet } = clients(url, devKey(0));
  const hash = await wallet.deployContract({
    abi: artifact.abi,
    bytecode: artifact.bytecode,
    args: [0, devAddress(0)],
  });
  const r = await pub.waitForTransactionReceipt({ hash });
  if (!r.contractAddress) throw new Error("deployment failed");
  return r.contractAddress;
}

/**
 * Makes dev account `agencyIndex` an agency (AGENCY_ROLE, granted by the admin, account 0) and dev account
 * `operatorIndex` its operator. Returns the AGENCIES config entry.
 */
export async function makeAgency(
  url: string,
  registry: Hex,
  agencyIndex: number,
  operatorIndex: number,
): Promise<{ address: Hex; operatorKey: Hex }> {
  const admin = clients(url, devKey(0));
  const role = keccak256(toBytes("AGENCY_ROLE"));
  const agency = devAddress(agencyIndex);
  let hash = await admin.wallet.writeContract({
    address: registry,
    abi: consultationRegistryAbi,
    functionName: "grantRole",
    args: [role, agency],
  });
  await admin.pub.waitForTransactionReceipt({ hash });
  const ag = clients(url, devKey(agencyIndex));
  hash = await ag.wallet.writeContract({
    address: registry,
    abi: consultationRegistryAbi,
    functionName: "setOperator",
    args: [devAddress(operatorIndex), true],
  });
  await ag.pub.waitForTransactionReceipt({ hash });
  return { address: agency, operatorKey: devKey(operatorIndex) };
}

/** A minimal EIP-1193 provider over JSON-RPC HTTP (for Ignition). */
function rpcProvider(url: string) {
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
  };
}

/**
 * Deploys the registry with its Ignition module (ignition/modules/ConsultationRegistry.ts), in memory: nothing is
 * written under ignition/deployments, so a fresh chain always gets a fresh deployment.
 */
export async function deployWithIgnition(url: string, root = process.cwd()): Promise<Hex> {
  const { deploy } = await import("@nomicfoundation/ignition-core");
  const registryModule = (await import("../../ignition/modules/ConsultationRegistry.ts")).default;
  ensureCompiled(root);
  const artifact = JSON.parse(readFileSync(join(root, ARTIFACT), "utf8"));
  const provider = rpcProvider(url);
  const accounts = (await provider.request({ method: "eth_accounts" })) as string[];
  const result = await deploy({
    provider: provider as never,
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
    throw new Error(`Ignition deployment failed: ${JSON.stringify(result)}`);
  const registry = Object.values(result.contracts).find((c) => c.contractName === "ConsultationRegistry");
  if (!registry) throw new Error("Ignition: no ConsultationRegistry in the result");
  return registry.address as Hex;
}

/** Moves the local chain's clock forward and mines a block (Hardhat's evm_increaseTime). */
export async function advanceChainTime(url: string, seconds: number): Promise<void> {
  const call = async (method: string, params: unknown[]) => {
    const r = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const j = (await r.json()) as { error?: { message: string } };
    if (j.error) throw new Error(j.error.message);
  };
  await call("evm_increaseTime", [seconds]);
  await call("evm_mine", []);
}
