// Chain reads with viem, straight from the RPC URL the user sees in Settings: the service is never
// asked what the chain says.
import {
  type Abi,
  type AbiEvent,
  type Address,
  createPublicClient,
  http,
  isAddress,
  type PublicClient,
} from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import type { Hex } from "../../protocol/index.ts";
import { loadSettings, rpcUrl } from "./settings.ts";

const abi = consultationRegistryAbi as unknown as Abi;
const ZERO32 = `0x${"0".repeat(64)}`;

export type ChainErrorKind = "unreachable" | "wrongChain" | "noContract" | "format";

export class ChainError extends Error {
  readonly kind: ChainErrorKind;
  readonly rpcUrl: string;
  readonly detail: { expected?: number; actual?: number; contract?: string };
  constructor(
    kind: ChainErrorKind,
    rpc: string,
    message: string,
    detail: { expected?: number; actual?: number; contract?: string } = {},
  ) {
    super(message);
    this.name = "ChainError";
    this.kind = kind;
    this.rpcUrl = rpc;
    this.detail = detail;
  }
}

export interface ChainContext {
  client: PublicClient;
  address: Address;
  rpcUrl: string;
  chainId: number;
}

export interface ChainHead {
  treeSize: number;
  rootHash: Hex;
  anchoredAt: number;
}

export interface ChainRecord {
  draftHash: Hex;
  draftVersion: number | null;
  tallyHash: Hex | null;
  closesAt: number | null;
  raw: unknown;
}

export interface TxRef {
  blockNumber: number;
  txHash: Hex;
  args: Record<string, unknown>;
}

const cache = new Map<string, Promise<ChainContext>>();

/**
 * Connects to the RPC and checks that it is the chain the service says it anchors on and that the
 * registry contract exists there. `pinned` comes from the trust root (web/src/trust.ts); an RPC URL set in
 * Settings replaces its URL.
 */
export function connect(pinned: {
  chainId?: number;
  contract?: string;
  rpcUrl?: string;
}): Promise<ChainContext> {
  const s = loadSettings();
  const url = rpcUrl(pinned.rpcUrl, s);
  const contract = pinned.contract ?? "";
  const key = `${url}|${contract}|${pinned.chainId ?? ""}`;
  let p = cache.get(key);
  if (!p) {
    p = doConnect(url, contract, pinned.chainId);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function doConnect(
  url: string,
  contract: string,
  expectedChainId: number | undefined,
): Promise<ChainContext> {
  if (!isAddress(contract)) {
    throw new ChainError("noContract", url, `no valid registry address (${contract || "none"})`, {
      contract,
    });
  }
  const client = createPublicClient({ transport: http(url, { timeout: 10_000, retryCount: 1 }) });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (e) {
    throw new ChainError("unreachable", url, e instanceof Error ? e.message : String(e));
  }
  if (expectedChainId !== undefined && Number(expectedChainId) !== chainId) {
    throw new ChainError("wrongChain", url, `chain ${chainId}, expected ${expectedChainId}`, {
      expected: Number(expectedChainId),
      actual: chainId,
    });
  }
  let code: string | undefined;
  try {
    code = await client.getCode({ address: contract });
  } catch (e) {
    throw new ChainError("unreachable", url, e instanceof Error ? e.message : String(e));
  }
  if (!code || code === "0x") {
    throw new ChainError("noContract", url, `no contract at ${contract} on chain ${chainId}`, { contract });
  }
  return { client: client as PublicClient, address: contract, rpcUrl: url, chainId };
}

async function read(ctx: ChainContext, functionName: string, args: unknown[]): Promise<unknown> {
  try {
    return await ctx.client.readContract({ address: ctx.address, abi, functionName, args });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/fetch|network|timed? ?out|HTTP request failed/i.test(msg))
      throw new ChainError("unreachable", ctx.rpcUrl, msg);
    throw new ChainError("format", ctx.rpcUrl, msg);
  }
}

function pick(value: unknown, name: string, index: number): unknown {
  if (Array.isArray(value)) {
    // viem returns a plain array for multiple outputs; a single struct output is an object.
    return value[index];
  }
  if (value && typeof value === "object") return (value as Record<string, unknown>)[name];
  return undefined;
}

function pickAny(value: unknown, names: string[]): unknown {
  let v: unknown = value;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (v && typeof v === "object") {
    const rec = v as Record<string, unknown>;
    for (const n of names) {
      if (n in rec) return rec[n];
      // one level of nesting (e.g. record.head.treeSize, record.draft.hash)
      for (const inner of Object.values(rec)) {
        if (inner && typeof inner === "object" && !Array.isArray(inner) && n in (inner as object)) {
          return (inner as Record<string, unknown>)[n];
        }
      }
    }
  }
  return undefined;
}

function asHex32(v: unknown): Hex | null {
  return typeof v === "string" && /^0x[0-9a-fA-F]{64}$/.test(v) ? (v.toLowerCase() as Hex) : null;
}

function asNum(v: unknown): number | null {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return v;
  return null;
}

export async function readHead(ctx: ChainContext, id: string): Promise<ChainHead> {
  const r = await read(ctx, "logHead", [BigInt(id)]);
  const treeSize = asNum(pick(r, "treeSize", 0));
  const rootHash = asHex32(pick(r, "rootHash", 1));
  const anchoredAt = asNum(pick(r, "anchoredAt", 2));
  if (treeSize === null || rootHash === null)
    throw new ChainError("format", ctx.rpcUrl, "unexpected logHead result");
  return { treeSize, rootHash, anchoredAt: anchoredAt ?? 0 };
}

export async function readRecord(ctx: ChainContext, id: string): Promise<ChainRecord> {
  const r = await read(ctx, "consultation", [BigInt(id)]);
  const draftHash = asHex32(pickAny(r, ["draftHash"]));
  if (!draftHash) throw new ChainError("format", ctx.rpcUrl, "unexpected consultation() result");
  const tally = asHex32(pickAny(r, ["tallyHash"]));
  return {
    draftHash,
    draftVersion: asNum(pickAny(r, ["draftVersion", "version"])),
    tallyHash: tally && tally !== ZERO32 ? tally : null,
    closesAt: asNum(pickAny(r, ["closesAt"])),
    raw: r,
  };
}

/** All events `eventName` of consultation `id`, oldest first. */
export async function events(ctx: ChainContext, eventName: string, id: string): Promise<TxRef[]> {
  const ev = abi.find((x): x is AbiEvent => x.type === "event" && x.name === eventName);
  if (!ev) throw new ChainError("format", ctx.rpcUrl, `ABI has no event ${eventName}`);
  const idInput = ev.inputs.find((i) => i.indexed && i.type === "uint256");
  let logs: unknown[];
  try {
    logs = await ctx.client.getLogs({
      address: ctx.address,
      event: ev,
      args: idInput?.name ? { [idInput.name]: BigInt(id) } : undefined,
      fromBlock: 0n,
      toBlock: "latest",
    } as Parameters<PublicClient["getLogs"]>[0]);
  } catch (e) {
    throw new ChainError("unreachable", ctx.rpcUrl, e instanceof Error ? e.message : String(e));
  }
  const out: TxRef[] = [];
  for (const l of logs as {
    blockNumber: bigint | null;
    transactionHash: Hex | null;
    args: Record<string, unknown>;
  }[]) {
    if (l.blockNumber === null || l.transactionHash === null) continue;
    if (idInput?.name === undefined && String(pick(l.args, "id", 0)) !== id) continue;
    out.push({ blockNumber: Number(l.blockNumber), txHash: l.transactionHash, args: l.args ?? {} });
  }
  return out;
}

export async function findAnchor(ctx: ChainContext, id: string, treeSize: number): Promise<TxRef | null> {
  const all = await events(ctx, "LogAnchored", id);
  return all.find((e) => asNum(e.args.treeSize) === treeSize) ?? null;
}

/** The transaction that put `draftHash` on chain (opening or a revision). */
export async function findDraftTx(ctx: ChainContext, id: string, draftHash: Hex): Promise<TxRef | null> {
  const [opened, revised] = await Promise.all([
    events(ctx, "ConsultationOpened", id),
    events(ctx, "DraftRevised", id),
  ]);
  const all = [...opened, ...revised].sort((a, b) => a.blockNumber - b.blockNumber);
  const match = all.filter((e) => asHex32(e.args.draftHash) === draftHash.toLowerCase());
  return match.at(-1) ?? null;
}

export async function findTallyTx(ctx: ChainContext, id: string): Promise<TxRef | null> {
  const all = await events(ctx, "TallyPublished", id);
  return all.at(-1) ?? null;
}

export function argHex(ref: TxRef, name: string): Hex | null {
  return asHex32(ref.args[name]);
}
export function argNum(ref: TxRef, name: string): number | null {
  return asNum(ref.args[name]);
}
