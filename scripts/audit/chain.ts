// Reads what the registry contract says about one consultation, through any EVM JSON-RPC URL (viem):
// the record (consultation(id)), the LogAnchored events and the TallyPublished event. No Node module:
// the browser's audit page reads its chain facts with chainFactsFrom too.
import { createPublicClient, type Hex, http, type PublicClient } from "viem";
import type { AnchorEvent, ChainFacts, TallyEvent } from "../../audit/facts.ts";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";

export class SourceError extends Error {}

const ZERO_HASH = `0x${"0".repeat(64)}` as Hex;

export interface ChainQuery {
  readonly rpc: string;
  readonly contract: Hex;
  readonly consultation: string;
  /** First block to search for events (default 0). */
  readonly fromBlock?: bigint;
}

export async function readChainFacts(q: ChainQuery): Promise<ChainFacts> {
  const client = createPublicClient({ transport: http(q.rpc, { timeout: 30_000, retryCount: 2 }) });
  let chainId: number;
  try {
    chainId = await client.getChainId();
  } catch (error) {
    throw new SourceError(`the RPC at ${q.rpc} does not answer: ${short(error)}`);
  }
  return chainFactsFrom(client, chainId, q);
}

/** The chain facts of one consultation, read through `client` (on chain `chainId`). */
export async function chainFactsFrom(
  client: PublicClient,
  chainId: number,
  q: Omit<ChainQuery, "rpc">,
): Promise<ChainFacts> {
  const id = BigInt(q.consultation);
  let record: Awaited<ReturnType<typeof readRecord>>;
  try {
    record = await readRecord(client, q.contract, id);
  } catch (error) {
    throw new SourceError(
      `consultation ${q.consultation} cannot be read from the registry at ${q.contract}: ${short(error)}`,
    );
  }
  const fromBlock = q.fromBlock ?? 0n;
  const [anchoredLogs, tallyLogs] = await Promise.all([
    client.getContractEvents({
      address: q.contract,
      abi: consultationRegistryAbi,
      eventName: "LogAnchored",
      args: { id },
      fromBlock,
      toBlock: "latest",
      strict: true,
    }),
    client.getContractEvents({
      address: q.contract,
      abi: consultationRegistryAbi,
      eventName: "TallyPublished",
      args: { id },
      fromBlock,
      toBlock: "latest",
      strict: true,
    }),
  ]).catch((error: unknown) => {
    throw new SourceError(`the registry's events cannot be read: ${short(error)}`);
  });
  const byOrder = <T extends { blockNumber: bigint | null; logIndex: number | null }>(a: T, b: T) =>
    Number((a.blockNumber ?? 0n) - (b.blockNumber ?? 0n)) || (a.logIndex ?? 0) - (b.logIndex ?? 0);
  const anchors: AnchorEvent[] = [...anchoredLogs].sort(byOrder).map((log) => ({
    treeSize: Number(log.args.treeSize),
    rootHash: log.args.rootHash,
    // A registry from before the counted map emits no countedRoot: the audit says it cannot check it.
    countedRoot: (log.args as { countedRoot?: Hex }).countedRoot ?? null,
    blockNumber: Number(log.blockNumber ?? 0n),
    txHash: log.transactionHash ?? ZERO_HASH,
  }));
  const tallies: TallyEvent[] = [...tallyLogs].sort(byOrder).map((log) => ({
    treeSize: Number(log.args.treeSize),
    rootHash: log.args.rootHash,
    tallyHash: log.args.tallyHash,
    tallyURI: log.args.tallyURI,
    blockNumber: Number(log.blockNumber ?? 0n),
    txHash: log.transactionHash ?? ZERO_HASH,
  }));
  return {
    chainId,
    contract: q.contract,
    consultation: q.consultation,
    agency: record.agency,
    draftHash: record.draftHash,
    draftURI: record.draftURI,
    draftVersion: Number(record.draftVersion),
    opensAt: Number(record.opensAt),
    closesAt: Number(record.closesAt),
    head: {
      treeSize: Number(record.treeSize),
      rootHash: record.rootHash,
      anchoredAt: Number(record.anchoredAt),
    },
    recordTallyHash: record.tallyHash,
    anchors,
    // The registry publishes a tally at most once; a second event would be caught by the record check.
    tally: tallies[0] ?? null,
  };
}

function readRecord(client: PublicClient, address: Hex, id: bigint) {
  return client.readContract({
    address,
    abi: consultationRegistryAbi,
    functionName: "consultation",
    args: [id],
  });
}

function short(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return e.shortMessage ?? e.message ?? String(error);
}
