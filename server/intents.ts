/**
 * The one path every transaction of the service takes (anchors and tallies, consultation openings and draft
 * versions; a new kind is an IntentKind: how to record it mined, how to fail it), so each is crash-safe the same way:
 *
 * 1. under its operator key's lock (Store.withOperatorLock: one transaction of a key at a time, across instances,
 *    since signing takes the node's pending nonce) sign, write the intent (the signed bytes and their hash) and
 *    broadcast;
 * 2. wait for it (viem's waitForTransactionReceipt, with a timeout);
 * 3. conclude: mined → the kind records what it did; reverted → failed.
 *
 * A crash or a timeout anywhere leaves a pending intent, which `settle` resolves later with the chain's word: mined →
 * recorded; reverted → failed; in the pool → wait; dropped → the same signed bytes are sent again (the same
 * transaction, so it can never act twice) unless the kind says the chain no longer needs them; refused because
 * their nonce is used by another transaction (viem's NonceTooLowError) → failed, so a fresh one is signed; any
 * other refusal or no answer → still pending, tried again on the next pass.
 */
import type { FastifyBaseLogger } from "fastify";
import {
  chainErrorMessage,
  isNonceUsed,
  type RegistryClient,
  type SignedTx,
  type TxOutcome,
} from "./chain/registry.ts";
import { chainUnavailable, ServiceError } from "./errors.ts";
import type { Store } from "./store/index.ts";

/** What the pipeline needs of a stored intent: the signed transaction. */
export interface SignedIntent {
  readonly txHash: SignedTx["txHash"];
  readonly rawTx: SignedTx["rawTx"];
}

/** One kind of intent: what its records become once the chain has decided. */
export interface IntentKind<I extends SignedIntent> {
  /** Log fields naming the intent (never keys or personal data). */
  describe(intent: I): Record<string, unknown>;
  /** Records what the mined transaction did and marks the intent done. Idempotent: a reconciler may race. */
  mined(intent: I, outcome: TxOutcome): Promise<void>;
  /** Marks the intent failed (reverted, or its nonce taken by another transaction). */
  failed(intent: I): Promise<void>;
  /** For dropped bytes: false when the chain no longer needs them (the intent fails instead). Default: needed. */
  stillNeeded?(intent: I): Promise<boolean>;
}

/** Where an intent stands after a pass: settled (mined, reverted, failed) or still pending. */
export type Settlement = "mined" | "reverted" | "failed" | "pending";

/** A sent transaction: mined or reverted within the wait, or still pending (settled later). */
export type Sent<I> = { intent: I } & (
  | { settlement: "mined" | "reverted"; outcome: TxOutcome }
  | { settlement: "pending"; outcome: null }
);

/**
 * The two kinds of a record-writing part (drafts, responses): `kind` for its own requests, `recovered` for
 * reconciliation, which warns when `complete` (idempotent: true only when it wrote the record) had to store a record
 * a crash had prevented.
 */
export function recordingKinds<I extends SignedIntent>(options: {
  describe: IntentKind<I>["describe"];
  complete: (intent: I, outcome: TxOutcome) => Promise<boolean>;
  failed: IntentKind<I>["failed"];
  log: FastifyBaseLogger;
  /** What was recovered, for the warning: "draft", "response". */
  what: string;
}): { kind: IntentKind<I>; recovered: IntentKind<I> } {
  const { describe, complete, failed, log, what } = options;
  const kind: IntentKind<I> = {
    describe,
    mined: async (intent, outcome) => {
      await complete(intent, outcome);
    },
    failed,
  };
  const recovered: IntentKind<I> = {
    ...kind,
    mined: async (intent, outcome) => {
      if (await complete(intent, outcome))
        log.warn(describe(intent), `recovered a ${what} transaction mined without its record`);
    },
  };
  return { kind, recovered };
}

/**
 * A request's answer once its transaction is sent: the outcome when mined; 503 when it is still pending (the service
 * records it when it is mined, so the client must not send it again); 502 when it reverted.
 */
export function minedOrThrow<I extends SignedIntent>(sent: Sent<I>): { intent: I; outcome: TxOutcome } {
  const { txHash } = sent.intent;
  if (sent.settlement === "mined") return { intent: sent.intent, outcome: sent.outcome };
  if (sent.settlement === "pending") {
    throw chainUnavailable(
      `transaction ${txHash} is not mined yet; the service records it when it is (do not send it again)`,
    );
  }
  throw new ServiceError(502, "chain_reverted", `transaction ${txHash} reverted`);
}

export interface IntentPipelineOptions {
  store: Store;
  chain: RegistryClient;
  log: FastifyBaseLogger;
  /** How long `send` (and a re-send in `settle`) waits for the transaction to be mined. */
  txTimeoutMs: number;
}

export class IntentPipeline {
  private readonly options: IntentPipelineOptions;

  constructor(options: IntentPipelineOptions) {
    this.options = options;
  }

  /**
   * Signs, records and broadcasts one transaction of the agency's operator key, then waits for it. `sign` runs under
   * the key's lock and may return null to send nothing (what it decides there no other transaction of the key can
   * change); what it returns besides the signed transaction reaches `record`, which writes the intent. A broadcast
   * failure is thrown and leaves the intent pending, for `settle`.
   */
  send<I extends SignedIntent, S extends SignedTx>(
    kind: IntentKind<I>,
    agencyId: string,
    sign: () => Promise<S>,
    record: (signed: S) => Promise<I>,
  ): Promise<Sent<I>>;
  send<I extends SignedIntent, S extends SignedTx>(
    kind: IntentKind<I>,
    agencyId: string,
    sign: () => Promise<S | null>,
    record: (signed: S) => Promise<I>,
  ): Promise<Sent<I> | null>;
  async send<I extends SignedIntent, S extends SignedTx>(
    kind: IntentKind<I>,
    agencyId: string,
    sign: () => Promise<S | null>,
    record: (signed: S) => Promise<I>,
  ): Promise<Sent<I> | null> {
    const { store, chain, log } = this.options;
    const intent = await store.withOperatorLock(chain.operatorAddress(agencyId), async () => {
      const signed = await sign();
      if (!signed) return null;
      const recorded = await record(signed);
      try {
        await chain.broadcast(signed.rawTx);
      } catch (e) {
        // another instance may have sent these very bytes already; otherwise they may still reach the node: the
        // intent stays pending either way, and settle has the chain's word on it
        if (!(await chain.known(signed.txHash).catch(() => false))) {
          log.warn(
            { ...kind.describe(recorded), err: chainErrorMessage(e) },
            "broadcast failed; reconciled later",
          );
          throw e;
        }
      }
      return recorded;
    });
    if (!intent) return null;
    const outcome = await chain.waitOutcome(intent.txHash, this.options.txTimeoutMs);
    if (!outcome) return { intent, settlement: "pending", outcome: null };
    return { intent, settlement: await this.conclude(kind, intent, outcome), outcome };
  }

  /** One reconciliation pass over a pending intent (see the module comment). Throws when the chain cannot answer. */
  async settle<I extends SignedIntent>(kind: IntentKind<I>, intent: I): Promise<Settlement> {
    const { chain, log } = this.options;
    const outcome = await chain.outcome(intent.txHash);
    if (outcome) return this.conclude(kind, intent, outcome);
    if (await chain.known(intent.txHash)) return "pending"; // in the pool: wait
    if (kind.stillNeeded && !(await kind.stillNeeded(intent))) {
      log.warn(kind.describe(intent), "dropped transaction no longer needed: failed");
      await kind.failed(intent);
      return "failed";
    }
    try {
      await chain.broadcast(intent.rawTx);
    } catch (e) {
      // the node may hold or have mined these very bytes by now (another instance re-sent them)
      const meanwhile = await chain.outcome(intent.txHash);
      if (meanwhile) return this.conclude(kind, intent, meanwhile);
      if (await chain.known(intent.txHash)) return "pending";
      if (isNonceUsed(e)) {
        log.warn(kind.describe(intent), "dropped transaction's nonce is used by another: failed");
        await kind.failed(intent);
        return "failed";
      }
      throw e;
    }
    log.warn(kind.describe(intent), "re-sent a dropped transaction");
    const resent = await chain.waitOutcome(intent.txHash, this.options.txTimeoutMs);
    return resent ? this.conclude(kind, intent, resent) : "pending";
  }

  /**
   * One reconciliation pass over `pending` (at start-up and every anchoring round): each is settled, and one the
   * chain cannot answer for yet is logged and left for the next pass.
   */
  async settleAll<I extends SignedIntent>(
    kind: IntentKind<I>,
    pending: readonly I[],
    what: string,
  ): Promise<void> {
    for (const intent of pending) {
      try {
        await this.settle(kind, intent);
      } catch (e) {
        this.options.log.warn(
          { ...kind.describe(intent), err: chainErrorMessage(e) },
          `${what} intent not settled yet`,
        );
      }
    }
  }

  private async conclude<I extends SignedIntent>(
    kind: IntentKind<I>,
    intent: I,
    outcome: TxOutcome,
  ): Promise<"mined" | "reverted"> {
    if (outcome.status === "success") {
      await kind.mined(intent, outcome);
      return "mined";
    }
    this.options.log.warn(kind.describe(intent), "transaction reverted: failed");
    await kind.failed(intent);
    return "reverted";
  }
}
