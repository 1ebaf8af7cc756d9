/**
 * The service's view of the ConsultationRegistry contract: an interface, and its viem implementation over any EVM
 * JSON-RPC URL. Each agency acts through its operator key from the configuration; keys are never logged.
 */
import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type EncodeFunctionDataParameters,
  encodeFunctionData,
  type Hex,
  http,
  keccak256,
  NonceTooLowError,
  type ParseEventLogsReturnType,
  type PublicClient,
  parseEventLogs,
  RpcRequestError,
  TransactionNotFoundError,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  type Transport,
  UnknownNodeError,
  BaseError as ViemError,
  WaitForTransactionReceiptTimeoutError,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getNodeError } from "viem/utils";
import { ChainReadError, chainErrorMessage, classifyViemError } from "../../chain/errors.ts";
import { RegistryReader } from "../../chain/reader.ts";
import { ServiceError } from "../errors.ts";
import { consultationRegistryAbi } from "./abi.ts";

/** An event of the registry contract, decoded. */
/** A registry function and its arguments. */
type RegistryCall<P = EncodeFunctionDataParameters<typeof consultationRegistryAbi>> = P extends unknown
  ? Omit<P, "abi">
  : never;

export type RegistryEvent = ParseEventLogsReturnType<typeof consultationRegistryAbi>[number];

/** What a mined transaction did. */
export interface TxOutcome {
  status: "success" | "reverted";
  blockNumber: number;
  /** Unix seconds of the block. */
  blockTime: number;
  gasUsed: number;
  /** The registry's events it emitted, in log order (none when it reverted). */
  events: RegistryEvent[];
}

export interface SignedTx {
  txHash: Hex;
  rawTx: Hex;
}

export interface RegistryClient {
  readonly address: Hex;
  /** The registry's reads (log heads, records, events) through the one chain reader, on RPC_URL. */
  readonly reader: RegistryReader;
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  /** Unix seconds of the latest block. */
  blockTime(): Promise<number>;
  /** True when the agency id has an operator key configured. */
  hasAgency(agencyId: string): boolean;
  /**
   * Address of the agency's operator key. Signing takes the node's pending nonce, so each key's transactions are
   * signed, recorded and broadcast one at a time under this address (Store.withOperatorLock).
   */
  operatorAddress(agencyId: string): Hex;
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
  /** Signs (does not send) anchorLog: the log head, its counted map's root and the proof; fails when it would revert. */
  signAnchor(
    agencyId: string,
    id: number,
    treeSize: number,
    rootHash: Hex,
    countedRoot: Hex,
    proof: readonly Hex[],
  ): Promise<SignedTx>;
  /** Signs (does not send) publishTally; fails when the call would revert. */
  signPublishTally(agencyId: string, id: number, tallyHash: Hex, tallyURI: string): Promise<SignedTx>;
  /** Signs (does not send) publishResponse; fails when the call would revert (before the tally, say). */
  signPublishResponse(
    agencyId: string,
    id: number,
    responseHash: Hex,
    responseURI: string,
  ): Promise<SignedTx>;
  /** Signs (does not send) addReceiptKey of an Ed25519 public key (bytes32); fails when the call would revert. */
  signAddReceiptKey(agencyId: string, publicKey: Hex): Promise<SignedTx>;
  /** Signs (does not send) retireReceiptKey; fails when the call would revert. */
  signRetireReceiptKey(agencyId: string, publicKey: Hex): Promise<SignedTx>;
  /** Sends signed bytes. A node's refusal is thrown as viem's typed node error (NonceTooLowError, ...). */
  broadcast(rawTx: Hex): Promise<void>;
  /** Outcome of a mined transaction, or null when not mined. */
  outcome(txHash: Hex): Promise<TxOutcome | null>;
  /** True when the node knows the transaction (mined or in its pool). */
  known(txHash: Hex): Promise<boolean>;
  /** Waits up to timeoutMs for the transaction to be mined (viem's waitForTransactionReceipt); null on timeout. */
  waitOutcome(txHash: Hex, timeoutMs: number): Promise<TxOutcome | null>;
}

export interface ViemRegistryOptions {
  rpcUrl: string;
  address: Hex;
  agencies: Record<string, { address: Hex; operatorKey: Hex }>;
  /** ms per RPC request */
  timeoutMs?: number;
  /** ms between polls for new blocks while waiting for a transaction */
  pollingIntervalMs?: number;
}

/** The consultation a mined openConsultation or reviseDraft made, from its ConsultationOpened / DraftRevised event. */
export function publishedDraft(txHash: Hex, outcome: TxOutcome): { consultationId: number; version: number } {
  for (const event of outcome.events) {
    if (event.eventName === "ConsultationOpened")
      return { consultationId: Number(event.args.id), version: 1 };
    if (event.eventName === "DraftRevised") {
      return { consultationId: Number(event.args.id), version: Number(event.args.version) };
    }
  }
  throw new ServiceError(
    502,
    "chain_unexpected",
    `transaction ${txHash} opened no consultation and revised no draft`,
  );
}

/** The version a mined publishResponse published, from its ResponsePublished event. */
export function publishedResponse(
  txHash: Hex,
  outcome: TxOutcome,
): { consultationId: number; version: number } {
  for (const event of outcome.events) {
    if (event.eventName === "ResponsePublished") {
      return { consultationId: Number(event.args.id), version: Number(event.args.version) };
    }
  }
  throw new ServiceError(502, "chain_unexpected", `transaction ${txHash} published no response`);
}

/** True when the node refused a transaction because its nonce is used: by another transaction, or by this one. */
export function isNonceUsed(e: unknown): boolean {
  return e instanceof ViemError && e.walk((x) => x instanceof NonceTooLowError) instanceof NonceTooLowError;
}

/**
 * The service error for a failed chain call, classified once (chain/errors.ts): a revert is 409 chain_refused with
 * the contract's error name; anything else (the node refused it, no answer, RPCs that disagree) is 503
 * chain_unavailable (try again later).
 */
export function chainFailure(e: unknown): ServiceError {
  if (e instanceof ServiceError) return e;
  const reverted =
    e instanceof ChainReadError
      ? e.kind === "reverted"
      : e instanceof ViemError && classifyViemError(e).kind === "reverted";
  if (reverted) return new ServiceError(409, "chain_refused", chainErrorMessage(e), { cause: e });
  const what =
    e instanceof ChainReadError || e instanceof ViemError ? chainErrorMessage(e) : "the chain is unreachable";
  return new ServiceError(503, "chain_unavailable", `${what}; try again later`, { cause: e });
}

export { chainErrorMessage };

export class ViemRegistry implements RegistryClient {
  readonly address: Hex;
  readonly reader: RegistryReader;
  private readonly rpcUrl: string;
  private readonly pub: PublicClient<Transport, Chain | undefined>;
  private readonly agencies = new Map<string, { agency: Hex; account: Account }>();
  private readonly timeoutMs: number;
  private chain: Chain | null = null;
  private wallets = new Map<string, WalletClient<Transport, Chain, Account>>();

  constructor(opts: ViemRegistryOptions) {
    this.address = opts.address;
    this.rpcUrl = opts.rpcUrl;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.pub = createPublicClient({
      transport: http(opts.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }),
      pollingInterval: opts.pollingIntervalMs ?? 250,
    });
    this.reader = new RegistryReader({
      registry: opts.address,
      rpcUrls: [opts.rpcUrl],
      rpcNames: ["RPC_URL"],
      timeoutMs: this.timeoutMs,
      retryCount: 0,
    });
    for (const [id, a] of Object.entries(opts.agencies)) {
      this.agencies.set(id, { agency: a.address, account: privateKeyToAccount(a.operatorKey) });
    }
  }

  hasAgency(agencyId: string): boolean {
    return this.agencies.has(agencyId);
  }

  private agency(agencyId: string): { agency: Hex; account: Account } {
    const configured = this.agencies.get(agencyId);
    if (!configured) {
      throw new ServiceError(
        403,
        "forbidden",
        `no operator key configured for agency ${JSON.stringify(agencyId)}`,
      );
    }
    return configured;
  }

  operatorAddress(agencyId: string): Hex {
    return this.agency(agencyId).account.address;
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

  private async wallet(agencyId: string): Promise<WalletClient<Transport, Chain, Account>> {
    const { account } = this.agency(agencyId);
    let wallet = this.wallets.get(agencyId);
    if (!wallet) {
      wallet = createWalletClient({
        account,
        chain: await this.getChain(),
        transport: http(this.rpcUrl, { timeout: this.timeoutMs, retryCount: 0 }),
      });
      this.wallets.set(agencyId, wallet);
    }
    return wallet;
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

  private async sign(agencyId: string, data: Hex): Promise<SignedTx> {
    const wallet = await this.wallet(agencyId);
    const request = await wallet.prepareTransactionRequest({ to: this.address, data, chain: wallet.chain });
    // keep a margin: the consistency proof check costs a little more than the estimate in a changing state
    const gas = request.gas ? (request.gas * 12n) / 10n : undefined;
    const rawTx = await wallet.signTransaction({ ...request, gas } as Parameters<
      typeof wallet.signTransaction
    >[0]);
    return { rawTx, txHash: keccak256(rawTx) };
  }

  /** Signs a call of the registry by the agency's operator. */
  private signCall(agencyId: string, call: RegistryCall): Promise<SignedTx> {
    return this.sign(
      agencyId,
      encodeFunctionData({ abi: consultationRegistryAbi, ...call } as EncodeFunctionDataParameters<
        typeof consultationRegistryAbi
      >),
    );
  }

  signOpenConsultation: RegistryClient["signOpenConsultation"] = (
    agencyId,
    draftHash,
    draftURI,
    opensAt,
    closesAt,
  ) =>
    this.signCall(agencyId, {
      functionName: "openConsultation",
      args: [this.agency(agencyId).agency, draftHash, draftURI, BigInt(opensAt), BigInt(closesAt)],
    });

  signReviseDraft: RegistryClient["signReviseDraft"] = (agencyId, id, draftHash, draftURI) =>
    this.signCall(agencyId, { functionName: "reviseDraft", args: [BigInt(id), draftHash, draftURI] });

  signAnchor: RegistryClient["signAnchor"] = (agencyId, id, treeSize, rootHash, countedRoot, proof) =>
    this.signCall(agencyId, {
      functionName: "anchorLog",
      args: [BigInt(id), BigInt(treeSize), rootHash, countedRoot, [...proof]],
    });

  signPublishTally(agencyId: string, id: number, tallyHash: Hex, tallyURI: string): Promise<SignedTx> {
    return this.signCall(agencyId, { functionName: "publishTally", args: [BigInt(id), tallyHash, tallyURI] });
  }

  signPublishResponse(
    agencyId: string,
    id: number,
    responseHash: Hex,
    responseURI: string,
  ): Promise<SignedTx> {
    return this.signCall(agencyId, {
      functionName: "publishResponse",
      args: [BigInt(id), responseHash, responseURI],
    });
  }

  signAddReceiptKey(agencyId: string, publicKey: Hex): Promise<SignedTx> {
    return this.signCall(agencyId, { functionName: "addReceiptKey", args: [publicKey] });
  }

  signRetireReceiptKey(agencyId: string, publicKey: Hex): Promise<SignedTx> {
    return this.signCall(agencyId, { functionName: "retireReceiptKey", args: [publicKey] });
  }

  async broadcast(rawTx: Hex): Promise<void> {
    try {
      await this.pub.sendRawTransaction({ serializedTransaction: rawTx });
    } catch (e) {
      // viem types a node's answer only for the transactions it sends itself: type this one the same way
      if (e instanceof ViemError && e.walk((x) => x instanceof RpcRequestError)) {
        const typed = getNodeError(e, {});
        if (!(typed instanceof UnknownNodeError)) throw typed;
      }
      throw e;
    }
  }

  async outcome(txHash: Hex): Promise<TxOutcome | null> {
    try {
      return await this.describe(await this.pub.getTransactionReceipt({ hash: txHash }));
    } catch (e) {
      if (e instanceof TransactionReceiptNotFoundError) return null;
      throw e;
    }
  }

  async known(txHash: Hex): Promise<boolean> {
    try {
      await this.pub.getTransaction({ hash: txHash });
      return true;
    } catch (e) {
      if (e instanceof TransactionNotFoundError) return false;
      throw e;
    }
  }

  async waitOutcome(txHash: Hex, timeoutMs: number): Promise<TxOutcome | null> {
    try {
      // exactly this transaction: another one taking its nonce is not its outcome (the caller reconciles that)
      const receipt = await this.pub.waitForTransactionReceipt({
        hash: txHash,
        timeout: timeoutMs,
        checkReplacement: false,
      });
      return await this.describe(receipt);
    } catch (e) {
      if (e instanceof WaitForTransactionReceiptTimeoutError) return null;
      throw e;
    }
  }

  private async describe(receipt: TransactionReceipt): Promise<TxOutcome> {
    const block = await this.pub.getBlock({ blockNumber: receipt.blockNumber });
    const ours = receipt.logs.filter((l) => l.address.toLowerCase() === this.address.toLowerCase());
    return {
      status: receipt.status,
      blockNumber: Number(receipt.blockNumber),
      blockTime: Number(block.timestamp),
      gasUsed: Number(receipt.gasUsed),
      events: parseEventLogs({ abi: consultationRegistryAbi, logs: ours }),
    };
  }
}
