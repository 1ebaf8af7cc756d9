// The pages' chain reads: the one registry reader (chain/reader.ts) over the RPC URL the user sees in Settings.
// The service is never asked what the chain says.
import { ChainReadError } from "../../chain/errors.ts";
import {
  type AnchoredHead,
  type DraftVersion,
  type LogHead,
  RegistryReader,
  type ResponsePublication,
  type ResponseReading,
  type TallyPublication,
} from "../../chain/reader.ts";
import type { Hex } from "../../protocol/index.ts";
import { loadSettings, rpcUrl } from "./settings.ts";

export { ChainReadError as ChainError };

export interface ChainContext {
  readonly reader: RegistryReader;
  readonly address: Hex;
  readonly rpcUrl: string;
  readonly chainId: number;
}

export type ChainHead = LogHead;

export interface ChainRecord {
  draftHash: Hex;
  draftVersion: number;
  tallyHash: Hex | null;
  closesAt: number;
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
  return connectAll({ ...pinned, rpcUrls: [pinned.rpcUrl ?? ""] });
}

/**
 * One context over every URL of `rpcUrls` (an RPC URL set in Settings replaces them all): each read is asked of
 * every RPC and their answers must agree (the reader's disagreement error otherwise), so one lying RPC cannot
 * pass a fact that the others contradict.
 */
export function connectAll(pinned: {
  chainId?: number;
  contract?: string;
  rpcUrls: readonly string[];
}): Promise<ChainContext> {
  const s = loadSettings();
  const urls = [...new Set(pinned.rpcUrls.map((u) => rpcUrl(u || undefined, s)))];
  const contract = pinned.contract ?? "";
  const key = `${urls.join(" ")}|${contract}|${pinned.chainId ?? ""}`;
  let p = cache.get(key);
  if (!p) {
    p = doConnect(urls, contract, pinned.chainId);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function doConnect(
  urls: string[],
  contract: string,
  expectedChainId: number | undefined,
): Promise<ChainContext> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) {
    throw new ChainReadError("noContract", { rpcUrl: urls.join(", "), registry: contract || "none" });
  }
  const reader = new RegistryReader({ registry: contract as Hex, rpcUrls: urls });
  const chainId = expectedChainId === undefined ? await reader.chainId() : Number(expectedChainId);
  await reader.verify(chainId);
  return { reader, address: reader.registry, rpcUrl: urls.join(", "), chainId };
}

export function readHead(ctx: ChainContext, id: string): Promise<ChainHead> {
  return ctx.reader.logHead(id);
}

export async function readRecord(ctx: ChainContext, id: string): Promise<ChainRecord> {
  const r = await ctx.reader.consultation(id);
  return {
    draftHash: r.draftHash,
    draftVersion: r.draftVersion,
    tallyHash: r.tallyHash,
    closesAt: r.closesAt,
  };
}

/** Every LogAnchored head of consultation `id`, oldest first. */
export function anchors(ctx: ChainContext, id: string): Promise<AnchoredHead[]> {
  return ctx.reader.anchors(id);
}

export async function findAnchor(
  ctx: ChainContext,
  id: string,
  treeSize: number,
): Promise<AnchoredHead | null> {
  return (await ctx.reader.anchors(id)).find((a) => a.treeSize === treeSize) ?? null;
}

/** The transaction that put `draftHash` on chain (opening or a revision). */
export async function findDraftTx(
  ctx: ChainContext,
  id: string,
  draftHash: Hex,
): Promise<DraftVersion | null> {
  const versions = await ctx.reader.draftVersions(id);
  return versions.filter((v) => v.draftHash === draftHash.toLowerCase()).at(-1) ?? null;
}

export function findTallyTx(ctx: ChainContext, id: string): Promise<TallyPublication | null> {
  return ctx.reader.tally(id);
}

/** The registry's latest response of consultation `id` (the `response(id)` view). */
export function readLatestResponse(ctx: ChainContext, id: string): Promise<ResponseReading> {
  return ctx.reader.latestResponse(id);
}

/** The ResponsePublished event of `version`, for its block and transaction. */
export async function findResponseTx(
  ctx: ChainContext,
  id: string,
  version: number,
): Promise<ResponsePublication | null> {
  return (await ctx.reader.responses(id)).find((r) => r.version === version) ?? null;
}
