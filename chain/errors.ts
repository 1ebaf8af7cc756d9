/**
 * What went wrong talking to the chain, typed, and the one way to say it. The reader (chain/reader.ts) throws
 * ChainReadError; the service's writes meet viem's own errors, classified by `classifyViemError`. Either way
 * `chainErrorMessage` is the text a person reads: in the browser (through its translated phrases), in the
 * auditor CLI and in the service's logs and replies. Messages never carry keys or signed bytes.
 */
import {
  ContractFunctionRevertedError,
  ContractFunctionZeroDataError,
  decodeErrorResult,
  ExecutionRevertedError,
  HttpRequestError,
  isHex,
  RpcRequestError,
  TimeoutError,
  BaseError as ViemError,
} from "viem";
import { getNodeError } from "viem/utils";
import { consultationRegistryAbi } from "../contracts/ConsultationRegistry.abi.ts";

export type ChainReadErrorKind =
  /** The RPC gives no answer (network, timeout, HTTP error). */
  | "unreachable"
  /** The RPC serves another chain than the trust root's. */
  | "wrongChain"
  /** No contract code at the registry address on that chain. */
  | "noContract"
  /** Several RPCs answer differently about the same fact. */
  | "disagreement"
  /** An answer that is not what the registry's ABI says (not a registry, a broken or hostile RPC). */
  | "malformed"
  /** The registry refused the read (for example UnknownConsultation). */
  | "reverted";

/** One RPC's answer about a fact several RPCs disagree on. */
export interface RpcAnswer {
  readonly rpcUrl: string;
  readonly value: string;
}

export interface ChainReadErrorDetail {
  /** The RPC the error came from (every kind but disagreement). */
  readonly rpcUrl?: string;
  /** wrongChain: the trust root's chain id and the RPC's. */
  readonly expected?: number;
  readonly actual?: number;
  /** noContract, malformed, reverted: the registry address asked. */
  readonly registry?: string;
  /** disagreement: which fact ("log head of consultation 3", "block 120"), and each RPC's answer. */
  readonly fact?: string;
  readonly answers?: readonly RpcAnswer[];
  /** reverted: the registry's error name, when it has one. */
  readonly errorName?: string;
  /** unreachable, malformed: viem's short reason (first line). */
  readonly reason?: string;
}

/** The wording of each kind; the browser passes its translated set to chainErrorMessage. */
export type ChainErrorPhrases = {
  readonly [K in ChainReadErrorKind]: (d: ChainReadErrorDetail) => string;
};

export const englishChainPhrases: ChainErrorPhrases = {
  unreachable: (d) => `the RPC at ${d.rpcUrl ?? "?"} does not answer${d.reason ? ` (${d.reason})` : ""}`,
  wrongChain: (d) =>
    `the RPC at ${d.rpcUrl ?? "?"} serves chain ${d.actual ?? "?"}, but the trust root names chain ${d.expected ?? "?"}`,
  noContract: (d) =>
    `there is no contract at ${d.registry ?? "?"} on the chain of the RPC at ${d.rpcUrl ?? "?"}`,
  disagreement: (d) =>
    `the RPCs disagree on the ${d.fact ?? "chain"}: ${(d.answers ?? []).map((a) => `${a.rpcUrl} says ${a.value}`).join("; ")}`,
  malformed: (d) =>
    `the RPC at ${d.rpcUrl ?? "?"} answered something that is not the registry's answer${d.reason ? ` (${d.reason})` : ""}`,
  reverted: (d) => `the registry at ${d.registry ?? "?"} refused the read: ${d.errorName ?? "reverted"}`,
};

/** A failed chain read: `kind` says what failed, `detail` names the RPC(s), chain ids or registry involved. */
export class ChainReadError extends Error {
  readonly kind: ChainReadErrorKind;
  readonly detail: ChainReadErrorDetail;
  constructor(kind: ChainReadErrorKind, detail: ChainReadErrorDetail, options?: { cause?: unknown }) {
    super(englishChainPhrases[kind](detail), options);
    this.name = "ChainReadError";
    this.kind = kind;
    this.detail = detail;
  }
}

/** How viem says a chain call failed: the contract refused it, the node refused it, or no answer came. */
export interface ViemFailure {
  readonly kind: "reverted" | "refused" | "unreachable";
  /** Short and key-free: the registry's error name, the node's reason, or viem's first line. */
  readonly reason: string;
  /** reverted: false when the revert carried no data (a function the contract does not have). */
  readonly withData?: boolean;
}

/**
 * Classifies a viem error by type: `reverted` (found while estimating, calling or reading), `refused` (the node
 * answered with an error: a nonce, a fee, funds), otherwise `unreachable` (no answer, a timeout).
 */
export function classifyViemError(e: ViemError): ViemFailure {
  const revert = e.walk(
    (x) => x instanceof ContractFunctionRevertedError || x instanceof ExecutionRevertedError,
  );
  if (revert instanceof ContractFunctionRevertedError) {
    const withData = revert.raw !== undefined && revert.raw !== "0x";
    return { kind: "reverted", reason: revert.data?.errorName ?? revert.reason ?? "reverted", withData };
  }
  if (revert instanceof ExecutionRevertedError) {
    const data = revertData(e);
    return { kind: "reverted", reason: revertName(data), withData: data !== null && data !== "0x" };
  }
  const answered = e.walk((x) => x instanceof RpcRequestError);
  if (answered) return { kind: "refused", reason: firstLine(getNodeError(e, {}).shortMessage) };
  return { kind: "unreachable", reason: firstLine(e.shortMessage) };
}

/** The revert bytes a node put in its error answer, when it did. */
function revertData(e: ViemError): `0x${string}` | null {
  const answered = e.walk((x) => x instanceof RpcRequestError);
  const data = answered instanceof RpcRequestError ? answered.data : undefined;
  if (isHex(data)) return data;
  const inner = (data as { data?: unknown } | undefined)?.data;
  return isHex(inner) ? inner : null;
}

/** The registry's custom error name in revert data, when it has one. */
function revertName(data: `0x${string}` | null): string {
  if (data && data !== "0x") {
    try {
      return decodeErrorResult({ abi: consultationRegistryAbi, data }).errorName;
    } catch {
      // not one of the registry's errors
    }
  }
  return "reverted";
}

/** The ChainReadError for an error met reading `registry` through `rpcUrl`. */
export function readFailure(e: unknown, rpcUrl: string, registry: string): ChainReadError {
  if (e instanceof ChainReadError) return e;
  const cause = { cause: e };
  if (!(e instanceof ViemError)) {
    const reason = firstLine(e instanceof Error ? e.message : String(e));
    return new ChainReadError("malformed", { rpcUrl, registry, reason }, cause);
  }
  if (e.walk((x) => x instanceof HttpRequestError || x instanceof TimeoutError)) {
    return new ChainReadError("unreachable", { rpcUrl, reason: firstLine(e.shortMessage) }, cause);
  }
  if (e.walk((x) => x instanceof ContractFunctionZeroDataError)) {
    // an empty answer to a registry view: whatever is at that address is not the registry
    return new ChainReadError(
      "malformed",
      { rpcUrl, registry, reason: "empty answer to a registry view" },
      cause,
    );
  }
  const failure = classifyViemError(e);
  if (failure.kind === "reverted") {
    return new ChainReadError("reverted", { rpcUrl, registry, errorName: failure.reason }, cause);
  }
  // the node answered, but with an error or with bytes that do not decode as the ABI says
  return new ChainReadError("malformed", { rpcUrl, registry, reason: failure.reason }, cause);
}

/**
 * The one text for an error met using the chain: a ChainReadError's in `phrases` (English unless the browser
 * passes its own), a viem error's by its class (the registry refused the call, the node refused it, no answer),
 * anything else its own first line.
 */
export function chainErrorMessage(e: unknown, phrases: ChainErrorPhrases = englishChainPhrases): string {
  if (e instanceof ChainReadError) return phrases[e.kind](e.detail);
  if (e instanceof ViemError) {
    const { kind, reason } = classifyViemError(e);
    if (kind === "reverted") return `the registry refused the call: ${reason}`;
    if (kind === "refused") return `the chain node refused the transaction (${reason})`;
    return `the chain is unreachable (${reason})`;
  }
  return e instanceof Error ? firstLine(e.message) : String(e);
}

const firstLine = (text: string): string => text.split("\n")[0] ?? "";
