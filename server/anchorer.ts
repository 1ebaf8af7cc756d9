/**
 * The anchorer: every interval (or once BATCH_MAX entries wait), for each consultation with new entries, sends its
 * log head and the consistency proof from the head anchored on chain. Crash-safe: the signed transaction (size,
 * root, hash, raw bytes) is written as an intent before it is broadcast; after a restart pending intents are
 * reconciled with the chain first (mined: recorded; dropped: the same signed bytes are sent again, after checking
 * they still carry the log's own head). With PostgreSQL, one instance anchors (advisory lock).
 */
import type { FastifyBaseLogger } from "fastify";
import {
  computeTally,
  decodeEntry,
  type Entry,
  type Hex,
  MerkleLog,
  type TallyDocument,
  tallyHash,
  tallyString,
} from "../protocol/index.ts";
import { chainErrorMessage, type RegistryClient } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { chainUnavailable, notFound, ServiceError } from "./errors.ts";
import type { AnchorIntent, ConsultationRecord, Store } from "./store/index.ts";

export interface AnchorerOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  intervalMs: number;
  batchMax: number;
  txTimeoutMs: number;
  publicUrl: string;
  onAnchored?: (consultationId: number, treeSize: number, gasUsed: number) => void;
  /** Runs first in every round, by the instance holding the anchoring lock (draft reconciliation). */
  beforeRound?: () => Promise<void>;
}

export class Anchorer {
  private readonly o: AnchorerOptions;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly lastRound = new Map<number, number>();
  private stopped = true;
  /** Last chain error, for /api/health. */
  chainError: string | null = null;
  lastSuccess: number | null = null;

  constructor(o: AnchorerOptions) {
    this.o = o;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = Math.max(50, Math.min(this.o.intervalMs, 1000));
    const loop = () => {
      if (this.stopped) return;
      void this.exclusive(() => this.round(false)).finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, tick);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running.catch(() => {});
  }

  /** Runs fn after anything already running (one operator nonce sequence at a time). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.running.then(fn, fn);
    this.running = p.then(
      () => {},
      () => {},
    );
    return p;
  }

  /** One round over all consultations; force anchors every consultation with new entries now. */
  async round(force: boolean): Promise<void> {
    try {
      if (!(await this.o.store.tryAnchorLock())) return;
      await this.o.beforeRound?.();
      const list = await this.o.store.listConsultations();
      const pending = await this.o.store.pendingIntents();
      const withIntents = new Set(pending.map((p) => p.consultationId));
      for (const c of list) {
        if (this.stopped && !force) return;
        if (c.tally && !withIntents.has(c.id)) continue;
        if (c.treeSize <= c.anchoredSize && !withIntents.has(c.id)) continue;
        await this.anchorOne(c, force);
      }
      this.chainError = null;
      this.lastSuccess = this.o.clock.now();
    } catch (e) {
      this.chainError = chainErrorMessage(e);
      this.o.log.warn({ err: this.chainError }, "anchoring round failed; will retry");
    }
  }

  /** Reconciles pending intents of one consultation. Returns true when none is left pending. */
  private async reconcile(c: ConsultationRecord): Promise<boolean> {
    const { store, chain } = this.o;
    for (const intent of await store.pendingIntents(c.id)) {
      const outcome = await chain.outcome(intent.txHash);
      if (outcome) {
        if (outcome.status === "success") {
          await store.resolveIntent(intent.id, {
            status: "mined",
            blockNumber: outcome.blockNumber,
            anchoredAt: outcome.blockTime,
            gasUsed: outcome.gasUsed,
          });
          if (intent.kind === "anchor") this.o.onAnchored?.(c.id, intent.treeSize, outcome.gasUsed);
          if (intent.kind === "tally") await this.recordTally(c, intent);
        } else {
          this.o.log.warn({ consultation: c.id, tx: intent.txHash }, "anchoring transaction reverted");
          await store.resolveIntent(intent.id, { status: "failed" });
        }
        continue;
      }
      if (await chain.known(intent.txHash)) return false; // still in the pool: wait
      // dropped: send the same bytes again if they still carry our log's head and the chain still needs them
      if (intent.kind === "anchor") {
        const head = await chain.logHead(c.id);
        const log = await MerkleLog.open(store.treeStore(c.id), c.treeSize);
        const ours = intent.treeSize <= c.treeSize && (await log.root(intent.treeSize)) === intent.rootHash;
        if (!ours || head.treeSize >= intent.treeSize) {
          await store.resolveIntent(intent.id, { status: "failed" });
          continue;
        }
      }
      try {
        await chain.broadcast(intent.rawTx);
        this.o.log.info({ consultation: c.id, tx: intent.txHash }, "re-sent dropped transaction");
        const o = await chain.waitOutcome(intent.txHash, this.o.txTimeoutMs);
        if (!o) return false;
        // recorded on the next pass
        return this.reconcile(c);
      } catch (e) {
        // typically "nonce too low": the nonce was used by another transaction; sign afresh
        this.o.log.warn({ consultation: c.id, err: chainErrorMessage(e) }, "dropped transaction not re-sent");
        await store.resolveIntent(intent.id, { status: "failed" });
      }
    }
    return true;
  }

  private async anchorOne(c: ConsultationRecord, force: boolean): Promise<void> {
    const { store, chain, clock } = this.o;
    if (!(await this.reconcile(c))) return;
    const fresh = (await store.getConsultation(c.id)) ?? c;
    if (fresh.tally) return;
    const size = fresh.treeSize; // committed size: never a head the store does not hold
    const now = clock.now();
    const due =
      force ||
      size - fresh.anchoredSize >= this.o.batchMax ||
      now - (this.lastRound.get(c.id) ?? 0) >= this.o.intervalMs;
    if (!due) return;
    const head = await chain.logHead(c.id);
    if (size <= head.treeSize) {
      if (size < head.treeSize) {
        this.o.log.error(
          { consultation: c.id, chain: head.treeSize, log: size },
          "chain head is ahead of the log",
        );
      }
      return;
    }
    const log = await MerkleLog.open(store.treeStore(c.id), size);
    if (head.treeSize > 0 && (await log.root(head.treeSize)) !== head.rootHash) {
      this.o.log.error(
        { consultation: c.id, size: head.treeSize },
        "anchored head is not this log's: not anchoring",
      );
      return;
    }
    this.lastRound.set(c.id, now);
    const root = await log.root(size);
    const proof = await log.consistencyProof(head.treeSize, size);
    // sign, record and broadcast without another transaction of this operator key in between (nonces)
    const { signed, id } = await chain.withOperator(c.agency, async () => {
      const signed = await chain.signAnchor(c.agency, c.id, size, root, proof);
      const id = await store.addIntent({
        consultationId: c.id,
        kind: "anchor",
        treeSize: size,
        rootHash: root,
        txHash: signed.txHash,
        rawTx: signed.rawTx,
        createdAt: now,
      });
      try {
        await chain.broadcast(signed.rawTx);
      } catch (e) {
        this.o.log.warn(
          { consultation: c.id, err: chainErrorMessage(e) },
          "broadcast failed; will reconcile",
        );
        throw e;
      }
      return { signed, id };
    });
    const outcome = await chain.waitOutcome(signed.txHash, this.o.txTimeoutMs);
    if (!outcome) return; // reconciled next round
    if (outcome.status === "success") {
      await store.resolveIntent(id, {
        status: "mined",
        blockNumber: outcome.blockNumber,
        anchoredAt: outcome.blockTime,
        gasUsed: outcome.gasUsed,
      });
      this.o.onAnchored?.(c.id, size, outcome.gasUsed);
      this.o.log.info({ consultation: c.id, treeSize: size, gas: outcome.gasUsed }, "log anchored");
    } else {
      await store.resolveIntent(id, { status: "failed" });
      this.o.log.warn({ consultation: c.id, tx: signed.txHash }, "anchoring transaction reverted");
    }
  }

  /** The tally of a log at `size` (counting every entry up to it). */
  async computeTallyDoc(c: ConsultationRecord, size: number): Promise<TallyDocument> {
    const { store } = this.o;
    const draft = await store.getDraft(c.id);
    if (!draft) throw new ServiceError(500, "internal", `the draft of consultation ${c.id} is missing`);
    const log = await MerkleLog.open(store.treeStore(c.id), size);
    const root = await log.root(size);
    const entries: { index: number; entry: Entry }[] = [];
    for (let at = 0; at < size; at += 5000) {
      for (const e of await store.getEntries(c.id, at, Math.min(size, at + 5000))) {
        entries.push({ index: e.index, entry: decodeEntry(e.leaf) });
      }
    }
    return computeTally(
      String(c.id),
      draft.sections.map((s) => s.id),
      entries,
      size,
      root,
    );
  }

  private async recordTally(c: ConsultationRecord, intent: AnchorIntent): Promise<void> {
    const doc = await this.computeTallyDoc(c, intent.treeSize);
    await this.o.store.setTally(c.id, {
      document: tallyString(doc),
      hash: tallyHash(doc),
      txHash: intent.txHash,
    });
  }

  /**
   * Closing: marks the consultation closing (nothing is appended after), anchors the final head (every committed
   * entry), then publishes the tally computed from exactly that head. Idempotent: a published tally is returned as is.
   */
  close(consultationId: number): Promise<{ document: string; tallyHash: Hex; txHash: Hex | null }> {
    return this.exclusive(async () => {
      const { store, chain, clock } = this.o;
      // first: from here on the store refuses every append, so the head anchored below is the final one
      let c = await store.markClosing(consultationId, clock.now());
      if (!c) throw notFound(`consultation ${consultationId} does not exist`);
      if (c.tally) return { document: c.tally.document, tallyHash: c.tally.hash, txHash: c.tally.txHash };
      if (!(await this.reconcile(c)))
        throw chainUnavailable("a transaction is still pending; try again shortly");
      c = (await store.getConsultation(consultationId))!;
      if (c.tally) return { document: c.tally.document, tallyHash: c.tally.hash, txHash: c.tally.txHash };
      // the final head
      await this.anchorOne(c, true);
      c = (await store.getConsultation(consultationId))!;
      const head = await chain.logHead(consultationId);
      if (head.treeSize !== c.treeSize) {
        throw chainUnavailable("the final head is not anchored yet; try again shortly");
      }
      const doc = await this.computeTallyDoc(c, head.treeSize);
      const hash = tallyHash(doc);
      const uri = `${this.o.publicUrl}/api/consultations/${consultationId}/tally`;
      const { signed, intentId } = await chain.withOperator(c.agency, async () => {
        const signed = await chain.signPublishTally(c.agency, consultationId, hash, uri);
        const intentId = await store.addIntent({
          consultationId,
          kind: "tally",
          treeSize: head.treeSize,
          rootHash: head.rootHash,
          txHash: signed.txHash,
          rawTx: signed.rawTx,
          createdAt: clock.now(),
        });
        await chain.broadcast(signed.rawTx);
        return { signed, intentId };
      });
      const o = await chain.waitOutcome(signed.txHash, this.o.txTimeoutMs);
      if (!o) throw chainUnavailable("tally transaction not mined yet; try again shortly");
      if (o.status !== "success") {
        await store.resolveIntent(intentId, { status: "failed" });
        throw new ServiceError(502, "chain_reverted", "tally transaction reverted");
      }
      await store.resolveIntent(intentId, {
        status: "mined",
        blockNumber: o.blockNumber,
        anchoredAt: o.blockTime,
        gasUsed: o.gasUsed,
      });
      const document = tallyString(doc);
      await store.setTally(consultationId, { document, hash, txHash: signed.txHash });
      return { document, tallyHash: hash, txHash: signed.txHash };
    });
  }
}
