/**
 * The one typed reader of the ConsultationRegistry, for the browser, the auditor and the service: viem's
 * readContract / getContractEvents with the generated ABI, over one or several JSON-RPC URLs. No node: imports.
 *
 * With several RPC URLs (run by different parties), every fact is read from each of them at one pinned block and
 * must be the same everywhere; a difference is a ChainReadError of kind "disagreement" naming each RPC's answer.
 * `openRegistry` first checks, on every RPC, the chain id against the trust root and that the registry address
 * holds code, so each of those failures has its own kind and message (chain/errors.ts).
 */
import {
  type AbiEvent,
  type Chain,
  createPublicClient,
  type Hex,
  http,
  type PublicClient,
  parseAbiItem,
  type Transport,
  toEventSelector,
  BaseError as ViemError,
} from "viem";
import { consultationRegistryAbi } from "../contracts/ConsultationRegistry.abi.ts";
import { ChainReadError, classifyViemError, readFailure } from "./errors.ts";
import type { TrustRoot } from "./trust-root.ts";

const ZERO32 = `0x${"0".repeat(64)}` as Hex;

/** A consultation's anchored log head, as the registry holds it. */
export interface LogHead {
  readonly treeSize: number;
  readonly rootHash: Hex;
  /** Block time of the anchor (unix seconds), 0 before the first one. */
  readonly anchoredAt: number;
}

/** The registry's whole record of a consultation (`consultation(id)`). */
export interface ConsultationRecord {
  readonly id: string;
  readonly agency: Hex;
  readonly draftHash: Hex;
  readonly draftURI: string;
  readonly draftVersion: number;
  readonly opensAt: number;
  readonly closesAt: number;
  readonly head: LogHead;
  /** null until the tally is published. */
  readonly tallyHash: Hex | null;
  readonly tallyURI: string;
}

/** Where an event was emitted. */
export interface EventRef {
  readonly blockNumber: number;
  readonly txHash: Hex;
}

/** One LogAnchored event. `countedRoot` is null when the registry's event does not carry one. */
export interface AnchoredHead extends EventRef {
  readonly treeSize: number;
  readonly rootHash: Hex;
  readonly countedRoot: Hex | null;
}

/** One published draft version: 1 from ConsultationOpened, the next ones from DraftRevised. */
export interface DraftVersion extends EventRef {
  readonly version: number;
  readonly draftHash: Hex;
  readonly draftURI: string;
}

/** The TallyPublished event. `countedRoot` is null when the registry's event does not carry one. */
export interface TallyPublication extends EventRef {
  readonly treeSize: number;
  readonly rootHash: Hex;
  readonly countedRoot: Hex | null;
  readonly tallyHash: Hex;
  readonly tallyURI: string;
}

/**
 * The counted map's root anchored with the latest head. A registry deployed before the counted map has no
 * `countedRoot` view: that is "not checkable on this registry", an answer and not a failure.
 */
export type CountedRootReading =
  | { readonly checkable: true; readonly countedRoot: Hex }
  | { readonly checkable: false; readonly reason: string };

export const NOT_CHECKABLE = "not checkable on this registry";

/**
 * A receipt-signing key's record: addedBy (checksummed, as every address the reader returns) is the zero address
 * for a key never added; retiredBlock is 0 while the key is live.
 */
export interface ReceiptKeyRecord {
  readonly addedBy: Hex;
  readonly addedBlock: number;
  readonly retiredBlock: number;
}

/** A receipt-signing key the registry lists (bytes32: the Ed25519 public key), with its record. */
export interface ReceiptKey extends ReceiptKeyRecord {
  readonly publicKey: Hex;
}

/** Every key the registry ever listed, or "not checkable" on a registry deployed before receipt keys. */
export type ReceiptKeysReading =
  | { readonly checkable: true; readonly keys: readonly ReceiptKey[] }
  | { readonly checkable: false; readonly reason: string };

export const NO_RECEIPT_KEYS = "no receipt keys on this registry";

/** A block every RPC has, and its hash (the same on each, or reading stops with a disagreement). */
export interface Pin {
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
}

export interface RegistryReaderOptions {
  /** The registry contract (any case). */
  readonly registry: Hex;
  /** One or more JSON-RPC URLs; with several, each fact must be the same on all. */
  readonly rpcUrls: readonly string[];
  /** ms per request (default 10 000). */
  readonly timeoutMs?: number;
  /** Retries per request on a transport failure (default 1). */
  readonly retryCount?: number;
  /** First block searched for events (default 0). */
  readonly fromBlock?: bigint;
  /**
   * How errors name each RPC (default: its URL). The service names its RPC "RPC_URL": a URL that may carry an
   * access token never reaches a reply or a log.
   */
  readonly rpcNames?: readonly string[];
}

/** What may identify a consultation: its registry id as a number, a bigint or decimal text. */
export type ConsultationId = number | bigint | string;

interface Rpc {
  /** The RPC as errors name it. */
  readonly url: string;
  readonly client: PublicClient<Transport, Chain | undefined>;
}

// A registry deployed before the counted map emits these shorter events (and has no countedRoot view): their
// signatures are kept here so its history still reads, with countedRoot null.
const legacyEvents = [
  parseAbiItem("event LogAnchored(uint256 indexed id, uint64 treeSize, bytes32 rootHash)"),
  parseAbiItem(
    "event TallyPublished(uint256 indexed id, uint64 treeSize, bytes32 rootHash, bytes32 tallyHash, string tallyURI)",
  ),
] as const;

/** Every signature of event `name` a registry may emit: the generated ABI's and the earlier one, each once. */
function eventSignatures(name: "LogAnchored" | "TallyPublished"): readonly AbiEvent[] {
  const all = [
    ...(consultationRegistryAbi as readonly { type: string; name?: string }[]),
    ...legacyEvents,
  ].filter((x): x is AbiEvent => x.type === "event" && x.name === name);
  const bySelector = new Map<Hex, AbiEvent>();
  for (const ev of all) if (!bySelector.has(toEventSelector(ev))) bySelector.set(toEventSelector(ev), ev);
  return [...bySelector.values()];
}

const logAnchoredEvents = eventSignatures("LogAnchored");
const tallyPublishedEvents = eventSignatures("TallyPublished");

/** One ResponsePublished event: version `version` of the agency's response (the highest supersedes). */
export interface ResponsePublication extends EventRef {
  readonly version: number;
  readonly responseHash: Hex;
  readonly responseURI: string;
}

/** The registry's latest response (`response(id)`): null before the first; "not checkable" on a registry without. */
export type ResponseReading =
  | {
      readonly checkable: true;
      readonly latest: { readonly responseHash: Hex; readonly version: number } | null;
    }
  | { readonly checkable: false; readonly reason: string };

export const NO_RESPONSES = "no responses on this registry";

/** Keys asked per receiptKeys(offset, limit) call. */
const RECEIPT_KEY_PAGE = 100;

export class RegistryReader {
  readonly registry: Hex;
  readonly rpcUrls: readonly string[];
  readonly #rpcs: readonly Rpc[];
  readonly #fromBlock: bigint;

  constructor(opts: RegistryReaderOptions) {
    if (opts.rpcUrls.length === 0) throw new Error("RegistryReader needs at least one RPC URL");
    this.registry = opts.registry.toLowerCase() as Hex;
    this.rpcUrls = [...opts.rpcUrls];
    this.#fromBlock = opts.fromBlock ?? 0n;
    this.#rpcs = opts.rpcUrls.map((url, i) => ({
      url: opts.rpcNames?.[i] ?? url,
      client: createPublicClient({
        transport: http(url, { timeout: opts.timeoutMs ?? 10_000, retryCount: opts.retryCount ?? 1 }),
      }),
    }));
  }

  /** The chain id every RPC serves (they must agree). */
  chainId(): Promise<number> {
    return this.#agree(
      "chain id",
      (rpc) => rpc.client.getChainId(),
      (id) => String(id),
    );
  }

  /**
   * Checks every RPC: it answers, it serves `expectedChainId`, the registry address holds code there. Throws
   * the ChainReadError of the first RPC (in trust-root order) that fails.
   */
  async verify(expectedChainId: number): Promise<void> {
    const outcomes = await Promise.allSettled(
      this.#rpcs.map(async (rpc) => {
        const actual = await this.#on(rpc, () => rpc.client.getChainId());
        if (actual !== expectedChainId) {
          throw new ChainReadError("wrongChain", { rpcUrl: rpc.url, expected: expectedChainId, actual });
        }
        const code = await this.#on(rpc, () => rpc.client.getCode({ address: this.registry }));
        if (!code || code === "0x") {
          throw new ChainReadError("noContract", { rpcUrl: rpc.url, registry: this.registry });
        }
      }),
    );
    for (const o of outcomes) if (o.status === "rejected") throw o.reason;
  }

  /**
   * The block facts are read at: the lowest latest block among the RPCs (each has it), whose hash must be the
   * same on all of them (else they follow different chains).
   */
  async pin(): Promise<Pin> {
    const latest = await Promise.all(
      this.#rpcs.map((rpc) => this.#on(rpc, () => rpc.client.getBlockNumber({ cacheTime: 0 }))),
    );
    let blockNumber = latest[0]!;
    for (const n of latest) if (n < blockNumber) blockNumber = n;
    const blockHash = await this.#agree(
      `block ${blockNumber}`,
      async (rpc) => (await rpc.client.getBlock({ blockNumber })).hash,
      (h) => h,
    );
    return { blockNumber, blockHash };
  }

  /** The registry's record of consultation `id` at `at` (default: the latest block every RPC has). */
  async consultation(id: ConsultationId, at?: Pin): Promise<ConsultationRecord> {
    const key = BigInt(id);
    const blockNumber = await this.#block(at);
    return this.#agree(
      `record of consultation ${key}`,
      async (rpc) => {
        const r = await rpc.client.readContract({
          address: this.registry,
          abi: consultationRegistryAbi,
          functionName: "consultation",
          args: [key],
          blockNumber,
        });
        return {
          id: key.toString(),
          agency: r.agency,
          draftHash: r.draftHash.toLowerCase() as Hex,
          draftURI: r.draftURI,
          draftVersion: Number(r.draftVersion),
          opensAt: Number(r.opensAt),
          closesAt: Number(r.closesAt),
          head: {
            treeSize: Number(r.treeSize),
            rootHash: r.rootHash.toLowerCase() as Hex,
            anchoredAt: Number(r.anchoredAt),
          },
          tallyHash: r.tallyHash === ZERO32 ? null : (r.tallyHash.toLowerCase() as Hex),
          tallyURI: r.tallyURI,
        } satisfies ConsultationRecord;
      },
      (r) => JSON.stringify(r),
    );
  }

  /** The latest anchored head of consultation `id` at `at` (default: the latest block every RPC has). */
  async logHead(id: ConsultationId, at?: Pin): Promise<LogHead> {
    const key = BigInt(id);
    const blockNumber = await this.#block(at);
    return this.#agree(
      `log head of consultation ${key}`,
      async (rpc) => {
        const [treeSize, rootHash, anchoredAt] = await rpc.client.readContract({
          address: this.registry,
          abi: consultationRegistryAbi,
          functionName: "logHead",
          args: [key],
          blockNumber,
        });
        return {
          treeSize: Number(treeSize),
          rootHash: rootHash.toLowerCase() as Hex,
          anchoredAt: Number(anchoredAt),
        };
      },
      (h) => `size ${h.treeSize} root ${h.rootHash}`,
    );
  }

  /** The counted map's root anchored with the latest head, or "not checkable" on a registry without one. */
  async countedRoot(id: ConsultationId, at?: Pin): Promise<CountedRootReading> {
    const key = BigInt(id);
    const blockNumber = await this.#block(at);
    return this.#agree(
      `counted root of consultation ${key}`,
      async (rpc): Promise<CountedRootReading> => {
        try {
          const root = await rpc.client.readContract({
            address: this.registry,
            abi: consultationRegistryAbi,
            functionName: "countedRoot",
            args: [key],
            blockNumber,
          });
          return { checkable: true, countedRoot: root.toLowerCase() as Hex };
        } catch (e) {
          if (lacksFunction(e)) return { checkable: false, reason: NOT_CHECKABLE };
          throw e;
        }
      },
      (r) => (r.checkable ? r.countedRoot : r.reason),
    );
  }

  /** Every LogAnchored event of consultation `id` up to `at`, oldest first. */
  async anchors(id: ConsultationId, at?: Pin): Promise<AnchoredHead[]> {
    const key = BigInt(id);
    const toBlock = (await this.#block(at)) ?? "latest";
    return this.#agree(
      `anchored heads of consultation ${key}`,
      async (rpc) => {
        return (await this.#events(rpc, logAnchoredEvents, key, toBlock))
          .sort(byChainOrder)
          .map((log): AnchoredHead => {
            const args = log.args as { treeSize: bigint; rootHash: Hex; countedRoot?: Hex };
            return {
              treeSize: Number(args.treeSize),
              rootHash: args.rootHash.toLowerCase() as Hex,
              countedRoot: args.countedRoot === undefined ? null : (args.countedRoot.toLowerCase() as Hex),
              ...ref(log),
            };
          });
      },
      (list) => summarize(list.map((a) => `${a.treeSize}:${a.rootHash}:${a.countedRoot ?? "-"}@${a.txHash}`)),
    );
  }

  /** Every published draft version of consultation `id` up to `at`, in order (version 1 first). */
  async draftVersions(id: ConsultationId, at?: Pin): Promise<DraftVersion[]> {
    const key = BigInt(id);
    const toBlock = (await this.#block(at)) ?? "latest";
    return this.#agree(
      `draft versions of consultation ${key}`,
      async (rpc) => {
        const query = {
          address: this.registry,
          abi: consultationRegistryAbi,
          args: { id: key },
          fromBlock: this.#fromBlock,
          toBlock,
          strict: true,
        } as const;
        const [opened, revised] = await Promise.all([
          rpc.client.getContractEvents({ ...query, eventName: "ConsultationOpened" }),
          rpc.client.getContractEvents({ ...query, eventName: "DraftRevised" }),
        ]);
        const versions: DraftVersion[] = [
          ...opened.map((l) => ({
            version: 1,
            draftHash: l.args.draftHash,
            draftURI: l.args.draftURI,
            ...ref(l),
          })),
          ...revised.map((l) => ({
            version: Number(l.args.version),
            draftHash: l.args.draftHash,
            draftURI: l.args.draftURI,
            ...ref(l),
          })),
        ];
        return versions
          .map((v) => ({ ...v, draftHash: v.draftHash.toLowerCase() as Hex }))
          .sort((a, b) => a.version - b.version);
      },
      (list) => summarize(list.map((v) => `v${v.version}:${v.draftHash}@${v.txHash}`)),
    );
  }

  /** The tally publication of consultation `id` up to `at`, or null before it. */
  async tally(id: ConsultationId, at?: Pin): Promise<TallyPublication | null> {
    const key = BigInt(id);
    const toBlock = (await this.#block(at)) ?? "latest";
    return this.#agree(
      `tally of consultation ${key}`,
      async (rpc) => {
        const logs = (await this.#events(rpc, tallyPublishedEvents, key, toBlock)).sort(byChainOrder);
        // the registry publishes a tally at most once: the first event is the publication
        const first = logs[0];
        if (!first) return null;
        const args = first.args as {
          treeSize: bigint;
          rootHash: Hex;
          countedRoot?: Hex;
          tallyHash: Hex;
          tallyURI: string;
        };
        return {
          treeSize: Number(args.treeSize),
          rootHash: args.rootHash.toLowerCase() as Hex,
          countedRoot: args.countedRoot === undefined ? null : (args.countedRoot.toLowerCase() as Hex),
          tallyHash: args.tallyHash.toLowerCase() as Hex,
          tallyURI: args.tallyURI,
          ...ref(first),
        } satisfies TallyPublication;
      },
      (t) => (t ? `${t.tallyHash}@${t.txHash}` : "no tally"),
    );
  }

  /** The latest response of consultation `id` at `at` (the `response(id)` view). */
  async latestResponse(id: ConsultationId, at?: Pin): Promise<ResponseReading> {
    const key = BigInt(id);
    const blockNumber = await this.#block(at);
    return this.#agree(
      `response of consultation ${key}`,
      async (rpc): Promise<ResponseReading> => {
        try {
          const [responseHash, version] = await rpc.client.readContract({
            address: this.registry,
            abi: consultationRegistryAbi,
            functionName: "response",
            args: [key],
            blockNumber,
          });
          return {
            checkable: true,
            latest:
              version === 0
                ? null
                : { responseHash: responseHash.toLowerCase() as Hex, version: Number(version) },
          };
        } catch (e) {
          if (lacksFunction(e)) return { checkable: false, reason: NO_RESPONSES };
          throw e;
        }
      },
      (r) => (r.checkable ? (r.latest ? `v${r.latest.version}:${r.latest.responseHash}` : "none") : r.reason),
    );
  }

  /** Every ResponsePublished event of consultation `id` up to `at`, in version order (the last is the latest). */
  async responses(id: ConsultationId, at?: Pin): Promise<ResponsePublication[]> {
    const key = BigInt(id);
    const toBlock = (await this.#block(at)) ?? "latest";
    return this.#agree(
      `responses of consultation ${key}`,
      async (rpc) => {
        const logs = await rpc.client.getContractEvents({
          address: this.registry,
          abi: consultationRegistryAbi,
          eventName: "ResponsePublished",
          args: { id: key },
          fromBlock: this.#fromBlock,
          toBlock,
          strict: true,
        });
        return logs.sort(byChainOrder).map(
          (l): ResponsePublication => ({
            version: Number(l.args.version),
            responseHash: l.args.responseHash.toLowerCase() as Hex,
            responseURI: l.args.responseURI,
            ...ref(l),
          }),
        );
      },
      (list) => summarize(list.map((r) => `v${r.version}:${r.responseHash}@${r.txHash}`)),
    );
  }

  /** The registry's record of receipt-signing key `publicKey` (bytes32: the Ed25519 public key) at `at`. */
  async receiptKey(publicKey: Hex, at?: Pin): Promise<ReceiptKeyRecord> {
    const blockNumber = await this.#block(at);
    return this.#agree(
      `receipt key ${publicKey.toLowerCase()}`,
      async (rpc) => {
        const [addedBy, addedBlock, retiredBlock] = await rpc.client.readContract({
          address: this.registry,
          abi: consultationRegistryAbi,
          functionName: "receiptKey",
          args: [publicKey],
          blockNumber,
        });
        return {
          addedBy,
          addedBlock: Number(addedBlock),
          retiredBlock: Number(retiredBlock),
        } satisfies ReceiptKeyRecord;
      },
      (k) => `added by ${k.addedBy} in block ${k.addedBlock}, retired in block ${k.retiredBlock}`,
    );
  }

  /**
   * Every receipt-signing key ever added, retired ones included, in the order they were added; "not checkable"
   * on a registry that records none (deployed before receipt keys).
   */
  async receiptKeys(at?: Pin): Promise<ReceiptKeysReading> {
    // one block for every page, even with one RPC: a key added between two pages must not shift the list
    const blockNumber = (at ?? (await this.pin())).blockNumber;
    return this.#agree(
      "receipt keys",
      async (rpc): Promise<ReceiptKeysReading> => {
        let count: bigint;
        try {
          count = await rpc.client.readContract({
            address: this.registry,
            abi: consultationRegistryAbi,
            functionName: "receiptKeyCount",
            blockNumber,
          });
        } catch (e) {
          if (lacksFunction(e)) return { checkable: false, reason: NO_RECEIPT_KEYS };
          throw e;
        }
        const keys: ReceiptKey[] = [];
        for (let offset = 0n; offset < count; offset += BigInt(RECEIPT_KEY_PAGE)) {
          const page = await rpc.client.readContract({
            address: this.registry,
            abi: consultationRegistryAbi,
            functionName: "receiptKeys",
            args: [offset, BigInt(RECEIPT_KEY_PAGE)],
            blockNumber,
          });
          for (const k of page) {
            keys.push({
              publicKey: k.publicKey.toLowerCase() as Hex,
              addedBy: k.addedBy,
              addedBlock: Number(k.addedBlock),
              retiredBlock: Number(k.retiredBlock),
            });
          }
        }
        return { checkable: true, keys };
      },
      (r) =>
        r.checkable
          ? summarize(r.keys.map((k) => `${k.publicKey}:${k.addedBlock}-${k.retiredBlock || "live"}`))
          : r.reason,
    );
  }

  /** The logs of every signature in `events` for consultation `id` up to `toBlock`. */
  async #events(rpc: Rpc, events: readonly AbiEvent[], id: bigint, toBlock: bigint | "latest") {
    const batches = await Promise.all(
      events.map((event) =>
        rpc.client.getLogs({
          address: this.registry,
          event,
          args: { id },
          fromBlock: this.#fromBlock,
          toBlock,
          strict: true,
        }),
      ),
    );
    return batches.flat();
  }

  /**
   * The block to read at: the pin given, else with one RPC its latest block (one request per fact), else a
   * fresh pin (every RPC has it and agrees on its hash).
   */
  async #block(at: Pin | undefined): Promise<bigint | undefined> {
    if (at) return at.blockNumber;
    if (this.#rpcs.length === 1) return undefined;
    return (await this.pin()).blockNumber;
  }

  /** Runs `read` against one RPC, turning whatever it throws into a ChainReadError naming that RPC. */
  async #on<T>(rpc: Rpc, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (e) {
      throw readFailure(e, rpc.url, this.registry);
    }
  }

  /**
   * Reads one fact from every RPC; all answers must be equal (compared whole), else a disagreement naming each
   * RPC with its answer as `show` puts it.
   */
  async #agree<T>(fact: string, read: (rpc: Rpc) => Promise<T>, show: (value: T) => string): Promise<T> {
    const values = await Promise.all(this.#rpcs.map((rpc) => this.#on(rpc, () => read(rpc))));
    const whole = values.map((v) => JSON.stringify(v));
    if (whole.some((s) => s !== whole[0])) {
      throw new ChainReadError("disagreement", {
        fact,
        answers: this.#rpcs.map((rpc, i) => ({ rpcUrl: rpc.url, value: show(values[i] as T) })),
      });
    }
    return values[0]!;
  }
}

/**
 * A reader for the trust root's registry, checked: every RPC answers, serves the trust root's chain and holds
 * code at the registry address (else the ChainReadError of the first RPC that fails).
 */
export async function openRegistry(
  root: TrustRoot,
  opts: Omit<RegistryReaderOptions, "registry" | "rpcUrls"> = {},
): Promise<RegistryReader> {
  const reader = new RegistryReader({ ...opts, registry: root.registry, rpcUrls: root.rpcUrls });
  await reader.verify(root.chainId);
  return reader;
}

/** True when a call failed because the contract has no such function: it reverted without any data. */
function lacksFunction(e: unknown): boolean {
  if (!(e instanceof ViemError)) return false;
  const failure = classifyViemError(e);
  return failure.kind === "reverted" && failure.withData === false;
}

type AnyLog = { blockNumber: bigint | null; logIndex: number | null; transactionHash: Hex | null };

function byChainOrder(a: AnyLog, b: AnyLog): number {
  return Number((a.blockNumber ?? 0n) - (b.blockNumber ?? 0n)) || (a.logIndex ?? 0) - (b.logIndex ?? 0);
}

function ref(log: AnyLog): EventRef {
  return { blockNumber: Number(log.blockNumber ?? 0n), txHash: log.transactionHash ?? ZERO32 };
}

/** A list in a disagreement message: its length and its last items, so the message stays short. */
function summarize(items: readonly string[]): string {
  if (items.length <= 3) return `${items.length} [${items.join(", ")}]`;
  return `${items.length} [… ${items.slice(-2).join(", ")}]`;
}
