/**
 * The service's view of the ConsultationRegistry contract: an interface, and its viem implementation over any EVM
 * JSON-RPC URL. Each agency acts through its operator key from the configuration; keys are never logged.
 */
import {
  type Account,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  type PublicClient,
  parseEventLogs,
  type Transport,
  BaseError as ViemError,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ServiceError } from "../errors.ts";
import { consultationRegistryAbi } from "./abi.ts";

export interface TxOutcome {
  status: "success" | "reverted";
  blockNumber: number;
  /** Unix seconds of the block. */
  blockTime: number;
  gasUsed: number;
}

export interface SignedTx {
  txHash: Hex;
  rawTx: Hex;
}

export interface ChainHead {
  treeSize: number;
  rootHash: Hex;
  anchoredAt: number;
}

export interface RegistryClient {
  readonly address: Hex;
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  /** Unix seconds of the latest block. */
  blockTime(): Promise<number>;
  /** True when the agency id has an operator key configured. */
  hasAgency(agencyId: string): boolean;
  /** Signs (does not send) openConsultation; fails when the call would revert. */
  signOpenConsultation(
    agencyId: string,
    draftHash: Hex,
    draftURI: string,
    opensAt: number,
    closesAt: number,
  ): Promise<SignedTx>;
  /** Signs (does not send) reviseDraft; fails when the call would revert. */
  signReviseDraft(agencyId: string, id: number, draftHash: Hex, draftURI: string): Promise<SignedTx>;
  /**
   * What a mined openConsultation or reviseDraft transaction did, from its ConsultationOpened / DraftRevised event
   * (version 1 for an opening); null while it is not mined.
   */
  draftOutcome(
    txHash: Hex,
  ): Promise<{ status: "success"; id: number; version: number } | { status: "reverted" } | null>;
  /** Signs (does not send) anchorLog; fails when the call would revert. */
  signAnchor(
    agencyId: string,
    id: number,
    treeSize: number,
    rootHash: Hex,
    proof: readonly Hex[],
  ): Promise<SignedTx>;
  /** Signs (does not send) publishTally; fails when the call would revert. */
  signPublishTally(agencyId: string, id: number, tallyHash: Hex, tallyURI: string): Promise<SignedTx>;
  broadcast(rawTx: Hex): Promise<void>;
  /**
   * Runs `send` alone among this process's transactions by the agency's operator key. Signing takes the
   * node's pending nonce, so sign, record and broadcast must not interleave with another transaction of the
   * same key (an anchor and an opening at once would otherwise take the same nonce and one would be lost).
   */
  withOperator<T>(agencyId: string, send: () => Promise<T>): Promise<T>;
  /** Outcome of a mined transaction, or null when not mined. */
  outcome(txHash: Hex): Promise<TxOutcome | null>;
  /** True when the node knows the transaction (mined or in its pool). */
  known(txHash: Hex): Promise<boolean>;
  /** Waits up to timeoutMs for the transaction; null on timeout. */
  waitOutcome(txHash: Hex, timeoutMs: number): Promise<TxOutcome | null>;
  logHead(id: number): Promise<ChainHead>;
  tallyHash(id: number): Promise<Hex>;
}

export interface ViemRegistryOptions {
  rpcUrl: string;
  address: Hex;
  agencies: Record<string, { address: Hex; operatorKey: Hex }>;
  /** ms per RPC request */
  timeoutMs?: number;
}

/** Short, key-free description of a viem error. */
export function chainErrorMessage(e: unknown): string {
  if (e && typeof e === "object") {
    const o = e as { shortMessage?: string; message?: string };
    return (o.shortMessage ?? o.message ?? String(e)).split("\n")[0]!;
  }
  return String(e);
}

/**
 * The service error for a failed chain call, by viem's error type: a call the contract refuses (a revert, typically
 * found while estimating a transaction) is 409 chain_refused with the contract's error name; anything else (no
 * answer, a timeout, an RPC error) is 503 chain_unavailable.
 */
export function chainFailure(e: unknown): ServiceError {
  const revert = e instanceof ViemError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
  if (revert instanceof ContractFunctionRevertedError) {
    const name = revert.data?.errorName ?? revert.reason ?? "reverted";
    return new ServiceError(409, "chain_refused", `the registry refused the call: ${name}`, { cause: e });
  }
  return new ServiceError(503, "chain_unavailable", "the chain is unreachable; try again later", {
    cause: e,
  });
}

export class ViemRegistry implements RegistryClient {
  readonly address: Hex;
  private readonly rpcUrl: string;
  private readonly pub: PublicClient<Transport, Chain | undefined>;
  private readonly agencies = new Map<string, { agency: Hex; account: Account }>();
  private readonly timeoutMs: number;
  private chain: Chain | null = null;
  private wallets = new Map<string, WalletClient<Transport, Chain, Account>>();
  /** Per agency: the tail of the queue of transactions its operator key is signing and sending. */
  private readonly operatorQueues = new Map<string, Promise<unknown>>();

  constructor(opts: ViemRegistryOptions) {
    this.address = opts.address;
    this.rpcUrl = opts.rpcUrl;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.pub = createPublicClient({
      transport: http(opts.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }),
    });
    for (const [id, a] of Object.entries(opts.agencies)) {
      this.agencies.set(id, { agency: a.address, account: privateKeyToAccount(a.operatorKey) });
    }
  }

  hasAgency(agencyId: string): boolean {
    return this.agencies.has(agencyId);
  }

  private async getChain(): Promise<Chain> {
    if (!this.chain) {
      const id = await this.pub.getChainId();
      this.chain = defineChain({
        id,
        name: `chain-${id}`,
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
        rpcUrls: { default: { http: [this.rpcUrl] } },
      });
    }
    return this.chain;
  }

  private async wallet(
    agencyId: string,
  ): Promise<{ wallet: WalletClient<Transport, Chain, Account>; agency: Hex }> {
    const a = this.agencies.get(agencyId);
    if (!a)
      throw new ServiceError(
        403,
        "forbidden",
        `no operator key configured for agency ${JSON.stringify(agencyId)}`,
      );
    let w = this.wallets.get(agencyId);
    if (!w) {
      w = createWalletClient({
        account: a.account,
        chain: await this.getChain(),
        transport: http(this.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }),
      });
      this.wallets.set(agencyId, w);
    }
    return { wallet: w, agency: a.agency };
  }

  async chainId(): Promise<number> {
    return (await this.getChain()).id;
  }

  async blockNumber(): Promise<number> {
    return Number(await this.pub.getBlockNumber({ cacheTime: 0 }));
  }

  async blockTime(): Promise<number> {
    const b = await this.pub.getBlock({ blockTag: "latest" });
    return Number(b.timestamp);
  }

  withOperator<T>(agencyId: string, send: () => Promise<T>): Promise<T> {
    const previous = this.operatorQueues.get(agencyId) ?? Promise.resolve();
    const run = previous.then(send, send);
    const tail = run.catch(() => undefined);
    this.operatorQueues.set(agencyId, tail);
    // forget an idle queue so the map does not keep settled promises
    void tail.then(() => {
      if (this.operatorQueues.get(agencyId) === tail) this.operatorQueues.delete(agencyId);
    });
    return run;
  }

  private async sign(agencyId: string, data: Hex): Promise<SignedTx> {
    const { wallet } = await this.wallet(agencyId);
    const request = await wallet.prepareTransactionRequest({ to: this.address, data, chain: wallet.chain });
    // keep a margin: the consistency proof check costs a little more than the estimate in a changing state
    const gas = request.gas ? (request.gas * 12n) / 10n : undefined;
    const rawTx = await wallet.signTransaction({ ...request, gas } as Parameters<
      typeof wallet.signTransaction
    >[0]);
    return { rawTx, txHash: keccak256(rawTx) };
  }

  signOpenConsultation(
    agencyId: string,
    draftHash: Hex,
    draftURI: string,
    opensAt: number,
    closesAt: number,
  ): Promise<SignedTx> {
    const a = this.agencies.get(agencyId);
    if (!a)
      throw new ServiceError(
        403,
        "forbidden",
        `no operator key configured for agency ${JSON.stringify(agencyId)}`,
      );
    const data = encodeFunctionData({
      abi: consultationRegistryAbi,
      functionName: "openConsultation",
      args: [a.agency, draftHash, draftURI, BigInt(opensAt), BigInt(closesAt)],
    });
    return this.sign(agencyId, data);
  }

  signReviseDraft(agencyId: string, id: number, draftHash: Hex, draftURI: string): Promise<SignedTx> {
    const data = encodeFunctionData({
      abi: consultationRegistryAbi,
      functionName: "reviseDraft",
      args: [BigInt(id), draftHash, draftURI],
    });
    return this.sign(agencyId, data);
  }

  async draftOutcome(
    txHash: Hex,
  ): Promise<{ status: "success"; id: number; version: number } | { status: "reverted" } | null> {
    const receipt = await this.receipt(txHash);
    if (!receipt) return null;
    if (receipt.status !== "success") return { status: "reverted" };
    const [opened] = parseEventLogs({
      abi: consultationRegistryAbi,
      eventName: "ConsultationOpened",
      logs: receipt.logs,
    });
    if (opened) return { status: "success", id: Number(opened.args.id), version: 1 };
    const [revised] = parseEventLogs({
      abi: consultationRegistryAbi,
      eventName: "DraftRevised",
      logs: receipt.logs,
    });
    if (revised)
      return { status: "success", id: Number(revised.args.id), version: Number(revised.args.version) };
    throw new ServiceError(
      502,
      "chain_unexpected",
      `transaction ${txHash} opened no consultation and revised no draft`,
    );
  }

  signAnchor(
    agencyId: string,
    id: number,
    treeSize: number,
    rootHash: Hex,
    proof: readonly Hex[],
  ): Promise<SignedTx> {
    const data = encodeFunctionData({
      abi: consultationRegistryAbi,
      functionName: "anchorLog",
      args: [BigInt(id), BigInt(treeSize), rootHash, [...proof]],
    });
    return this.sign(agencyId, data);
  }

  signPublishTally(agencyId: string, id: number, tallyHash: Hex, tallyURI: string): Promise<SignedTx> {
    const data = encodeFunctionData({
      abi: consultationRegistryAbi,
      functionName: "publishTally",
      args: [BigInt(id), tallyHash, tallyURI],
    });
    return this.sign(agencyId, data);
  }

  async broadcast(rawTx: Hex): Promise<void> {
    await this.pub.sendRawTransaction({ serializedTransaction: rawTx });
  }

  /** The receipt of a mined transaction; null when not mined. */
  private async receipt(
    txHash: Hex,
  ): Promise<Awaited<ReturnType<PublicClient["getTransactionReceipt"]>> | null> {
    try {
      return await this.pub.getTransactionReceipt({ hash: txHash });
    } catch (e) {
      if ((e as { name?: string }).name === "TransactionReceiptNotFoundError") return null;
      throw e;
    }
  }

  async outcome(txHash: Hex): Promise<TxOutcome | null> {
    const receipt = await this.receipt(txHash);
    if (!receipt) return null;
    const block = await this.pub.getBlock({ blockNumber: receipt.blockNumber });
    return {
      status: receipt.status,
      blockNumber: Number(receipt.blockNumber),
      blockTime: Number(block.timestamp),
      gasUsed: Number(receipt.gasUsed),
    };
  }

  async known(txHash: Hex): Promise<boolean> {
    try {
      await this.pub.getTransaction({ hash: txHash });
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === "TransactionNotFoundError") return false;
      throw e;
    }
  }

  async waitOutcome(txHash: Hex, timeoutMs: number): Promise<TxOutcome | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const o = await this.outcome(txHash);
      if (o) return o;
      if (Date.now() >= until) return null;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async logHead(id: number): Promise<ChainHead> {
    const [treeSize, rootHash, anchoredAt] = await this.pub.readContract({
      address: this.address,
      abi: consultationRegistryAbi,
      functionName: "logHead",
      args: [BigInt(id)],
    });
    return { treeSize: Number(treeSize), rootHash, anchoredAt: Number(anchoredAt) };
  }

  async tallyHash(id: number): Promise<Hex> {
    const c = await this.pub.readContract({
      address: this.address,
      abi: consultationRegistryAbi,
      functionName: "consultation",
      args: [BigInt(id)],
    });
    return c.tallyHash;
  }
}
