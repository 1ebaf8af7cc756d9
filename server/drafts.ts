/**
 * Publishing drafts on chain (openConsultation, reviseDraft) without orphans: the intent (draft, schedule, agency,
 * signed raw transaction and its hash) is written BEFORE the broadcast, the records after the transaction is mined.
 * A crash in between leaves a pending intent, which `reconcile` (at start-up and every anchoring round) settles with
 * the chain: mined → the consultation id (ConsultationOpened) or draft version (DraftRevised) is read from the
 * receipt and the records are stored; reverted → failed; still in the pool → wait; dropped → the same signed bytes
 * are sent again (the same transaction: it can never open a second consultation), or failed when the node refuses
 * them. Completion is idempotent, so a request and a reconciler (another instance, say) may race.
 */
import type { FastifyBaseLogger } from "fastify";
import { chainErrorMessage, type RegistryClient, type SignedTx } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { chainUnavailable, ServiceError } from "./errors.ts";
import type { DraftIntent, DraftRecord, Hex, NewDraftIntent, Store } from "./store/index.ts";

export interface DraftPublisherOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How long a request waits for its transaction to be mined. */
  txTimeoutMs: number;
  /** URI written on chain for a draft hash. */
  draftUri: (hash: Hex) => string;
}

export interface DraftContent {
  hash: Hex;
  title: string;
  summary: string;
  sections: DraftRecord["sections"];
}

export class DraftPublisher {
  private readonly o: DraftPublisherOptions;

  constructor(o: DraftPublisherOptions) {
    this.o = o;
  }

  /** Opens a consultation on chain and stores it; returns the id the chain assigned. */
  async open(
    agency: string,
    d: DraftContent,
    opensAt: number,
    closesAt: number,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const sign = () =>
      this.o.chain.signOpenConsultation(agency, d.hash, this.o.draftUri(d.hash), opensAt, closesAt);
    return this.publish(sign, { kind: "open", consultationId: null, agency, ...d, opensAt, closesAt });
  }

  /** Publishes a new draft version on chain and stores it; returns the version the chain assigned. */
  async revise(
    agency: string,
    id: number,
    d: DraftContent,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const sign = () => this.o.chain.signReviseDraft(agency, id, d.hash, this.o.draftUri(d.hash));
    return this.publish(sign, {
      kind: "revise",
      consultationId: id,
      agency,
      ...d,
      opensAt: null,
      closesAt: null,
    });
  }

  private async publish(
    sign: () => Promise<SignedTx>,
    what: Omit<NewDraftIntent, "txHash" | "rawTx" | "createdAt">,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const { store, chain, clock } = this.o;
    // sign, record and broadcast without another transaction of this operator key in between (nonces)
    const { signed, intentId } = await chain.withOperator(what.agency, async () => {
      const signed = await sign();
      const intentId = await store.addDraftIntent({
        ...what,
        txHash: signed.txHash,
        rawTx: signed.rawTx,
        createdAt: clock.now(),
      });
      try {
        await chain.broadcast(signed.rawTx);
      } catch (e) {
        // a reconciler may have sent these very bytes already. Otherwise the intent stays pending: the bytes may have
        // reached the node after all, and reconciliation (mined: stored; refused: failed) has the chain's word on it
        if (!(await chain.known(signed.txHash).catch(() => false))) throw e;
      }
      return { signed, intentId };
    });
    const until = Date.now() + this.o.txTimeoutMs;
    for (;;) {
      const o = await chain.draftOutcome(signed.txHash);
      if (o?.status === "reverted") {
        await store.failDraftIntent(intentId);
        throw new ServiceError(502, "chain_reverted", `transaction ${signed.txHash} reverted`);
      }
      if (o) {
        await store.completeDraftIntent(intentId, {
          consultationId: o.id,
          version: o.version,
          at: clock.now(),
        });
        return { id: o.id, version: o.version, txHash: signed.txHash };
      }
      if (Date.now() >= until) {
        throw chainUnavailable(
          `transaction ${signed.txHash} is not mined yet; the service records it when it is (do not send it again)`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Settles every pending intent with the chain (see the module comment). */
  async reconcile(): Promise<void> {
    const { store, log } = this.o;
    for (const intent of await store.pendingDraftIntents()) {
      try {
        await this.settle(intent);
      } catch (e) {
        log.warn(
          { kind: intent.kind, tx: intent.txHash, err: chainErrorMessage(e) },
          "draft intent not settled yet",
        );
      }
    }
  }

  private async settle(intent: DraftIntent): Promise<void> {
    const { store, chain, clock, log } = this.o;
    const o = await chain.draftOutcome(intent.txHash);
    if (o?.status === "success") {
      const stored = await store.completeDraftIntent(intent.id, {
        consultationId: o.id,
        version: o.version,
        at: clock.now(),
      });
      if (stored)
        log.warn(describe(intent, o.id, o.version), "recovered a draft transaction mined without its record");
      return;
    }
    if (o?.status === "reverted") {
      await store.failDraftIntent(intent.id);
      return;
    }
    if (await chain.known(intent.txHash)) return; // in the pool: wait
    try {
      await chain.broadcast(intent.rawTx);
      log.warn({ kind: intent.kind, tx: intent.txHash }, "re-sent a dropped draft transaction");
    } catch (e) {
      log.warn(
        { kind: intent.kind, tx: intent.txHash, err: chainErrorMessage(e) },
        "draft transaction refused: failed",
      );
      await store.failDraftIntent(intent.id);
    }
  }
}

function describe(i: DraftIntent, id: number, version: number) {
  return { kind: i.kind, consultation: id, version, tx: i.txHash };
}
