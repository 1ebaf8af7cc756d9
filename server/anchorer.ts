/**
 * The anchorer: every interval (or once BATCH_MAX entries wait), for each consultation with new entries, sends its
 * log head, the counted map's root at that head and the consistency proof from the head anchored on chain, having
 * first brought the consultation's stored counted map to that head (server/counted.ts); closing anchors the final
 * head and publishes
 * the tally. Every transaction takes the intent pipeline (server/intents.ts): written as an intent before it is
 * broadcast, under the operator key's lock; pending intents are settled first in every round (mined: recorded;
 * dropped: the same signed bytes are sent again, after checking they still carry the log's own head). With
 * PostgreSQL, one instance runs the rounds (advisory lock); a close may run on any.
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
import { chainErrorMessage, type RegistryClient, type TxOutcome } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { countedRootAt } from "./counted.ts";
import { chainUnavailable, notFound, ServiceError } from "./errors.ts";
import { type IntentKind, IntentPipeline } from "./intents.ts";
import type { AnchorIntent, ConsultationRecord, NewIntent, Store } from "./store/index.ts";

export interface AnchorerOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How long a transaction is waited for before it is left to reconciliation. */
  txTimeoutMs: number;
  intervalMs: number;
  batchMax: number;
  publicUrl: string;
  onAnchored?: (consultationId: number, treeSize: number, gasUsed: number) => void;
  /** Runs for every head about to be anchored, before it is signed (the head's checkpoint is published). */
  onHead?: (consultationId: number, treeSize: number, rootHash: Hex) => Promise<void>;
  /** Runs first in every round, by the instance holding the anchoring lock (draft reconciliation). */
  beforeRound?: () => Promise<void>;
}

export class Anchorer {
  private readonly options: AnchorerOptions;
  /** Signs, records, broadcasts and settles this part's transactions (server/intents.ts). */
  private readonly intents: IntentPipeline;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private readonly lastRound = new Map<number, number>();
  private stopped = true;
  /** anchorLog intents: mined → the anchored size is recorded. */
  private readonly anchorKind: IntentKind<AnchorIntent>;
  /** publishTally intents: mined → the tally of the intent's head is stored. */
  private readonly tallyKind: IntentKind<AnchorIntent>;
  /** Last chain error, for /api/health. */
  chainError: string | null = null;
  lastSuccess: number | null = null;

  constructor(options: AnchorerOptions) {
    this.options = options;
    this.intents = new IntentPipeline(options);
    const { store, chain, log } = options;
    const describe = (intent: AnchorIntent) => ({
      consultation: intent.consultationId,
      kind: intent.kind,
      treeSize: intent.treeSize,
      tx: intent.txHash,
    });
    this.anchorKind = {
      describe,
      mined: async (intent, outcome) => {
        await store.resolveIntent(intent.id, minedIntent(outcome));
        this.options.onAnchored?.(intent.consultationId, intent.treeSize, outcome.gasUsed);
        log.info({ ...describe(intent), gas: outcome.gasUsed }, "log anchored");
      },
      failed: (intent) => store.resolveIntent(intent.id, { status: "failed" }),
      // dropped bytes are sent again only while they carry this log's own head and the chain still needs it
      stillNeeded: async (intent) => {
        const c = await store.getConsultation(intent.consultationId);
        if (!c || intent.treeSize > c.treeSize) return false;
        const logAt = await MerkleLog.open(store.treeStore(c.id), c.treeSize);
        if ((await logAt.root(intent.treeSize)) !== intent.rootHash) return false;
        return (await chain.reader.logHead(c.id)).treeSize < intent.treeSize;
      },
    };
    this.tallyKind = {
      describe,
      mined: async (intent, outcome) => {
        await store.resolveIntent(intent.id, minedIntent(outcome));
        const c = await store.getConsultation(intent.consultationId);
        if (c) await this.recordTally(c, intent, await this.computeTallyDoc(c, intent.treeSize));
      },
      failed: (intent) => store.resolveIntent(intent.id, { status: "failed" }),
    };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = Math.max(50, Math.min(this.options.intervalMs, 1000));
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

  /** Runs fn after anything already running here (a round or a close: one consultation is anchored once at a time). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.running.then(fn, fn);
    this.running = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /** One round over all consultations; force anchors every consultation with new entries now. */
  async round(force: boolean): Promise<void> {
    const { store, clock, log } = this.options;
    try {
      if (!(await store.tryAnchorLock())) return;
      await this.options.beforeRound?.();
      const list = await store.listConsultations();
      const pending = await store.pendingIntents();
      const withIntents = new Set(pending.map((intent) => intent.consultationId));
      for (const c of list) {
        if (this.stopped && !force) return;
        if (c.tally && !withIntents.has(c.id)) continue;
        if (c.treeSize <= c.anchoredSize && !withIntents.has(c.id)) continue;
        await this.anchorOne(c, force);
      }
      this.chainError = null;
      this.lastSuccess = clock.now();
    } catch (e) {
      this.chainError = chainErrorMessage(e);
      log.warn({ err: this.chainError }, "anchoring round failed; will retry");
    }
  }

  private kindOf(intent: AnchorIntent): IntentKind<AnchorIntent> {
    return intent.kind === "tally" ? this.tallyKind : this.anchorKind;
  }

  /** Settles pending intents of one consultation. Returns true when none is left pending. */
  private async reconcile(c: ConsultationRecord): Promise<boolean> {
    const { store } = this.options;
    for (const intent of await store.pendingIntents(c.id)) {
      if ((await this.intents.settle(this.kindOf(intent), intent)) === "pending") return false;
    }
    return true;
  }

  private async anchorOne(c: ConsultationRecord, force: boolean): Promise<void> {
    const { store, chain, clock, log } = this.options;
    if (!(await this.reconcile(c))) return;
    const fresh = (await store.getConsultation(c.id)) ?? c;
    if (fresh.tally) return;
    const size = fresh.treeSize; // committed size: never a head the store does not hold
    const now = clock.now();
    const due =
      force ||
      size - fresh.anchoredSize >= this.options.batchMax ||
      now - (this.lastRound.get(c.id) ?? 0) >= this.options.intervalMs;
    if (!due) return;
    this.lastRound.set(c.id, now);
    // decided under the operator lock: another instance closing this consultation may be anchoring it right now
    const sign = async () => {
      if ((await store.pendingIntents(c.id)).length > 0) return null;
      const head = await chain.reader.logHead(c.id);
      if (size <= head.treeSize) {
        if (size < head.treeSize) {
          log.error(
            { consultation: c.id, chain: head.treeSize, log: size },
            "chain head is ahead of the log",
          );
        }
        return null;
      }
      const logAt = await MerkleLog.open(store.treeStore(c.id), size);
      if (head.treeSize > 0 && (await logAt.root(head.treeSize)) !== head.rootHash) {
        log.error(
          { consultation: c.id, size: head.treeSize },
          "anchored head is not this log's: not anchoring",
        );
        return null;
      }
      const root = await logAt.root(size);
      await this.options.onHead?.(c.id, size, root);
      const proof = await logAt.consistencyProof(head.treeSize, size);
      // the counted map goes with every head: its version of this size is recorded before the head is signed
      const counted = await countedRootAt(store, c.id, size);
      const signed = await chain.signAnchor(c.agency, c.id, size, root, counted, proof);
      return { ...signed, rootHash: root };
    };
    await this.intents.send(this.anchorKind, c.agency, sign, (signed) =>
      this.recordIntent({
        consultationId: c.id,
        kind: "anchor",
        treeSize: size,
        rootHash: signed.rootHash,
        txHash: signed.txHash,
        rawTx: signed.rawTx,
        createdAt: clock.now(),
      }),
    );
  }

  private async recordIntent(intent: NewIntent): Promise<AnchorIntent> {
    const id = await this.options.store.addIntent(intent);
    return { ...intent, id, status: "pending", blockNumber: null, anchoredAt: null, gasUsed: null };
  }

  /** The tally of a log at `size` (counting every entry up to it). */
  async computeTallyDoc(c: ConsultationRecord, size: number): Promise<TallyDocument> {
    const { store } = this.options;
    const draft = await store.getDraft(c.id);
    if (!draft) throw new ServiceError(500, "internal", `the draft of consultation ${c.id} is missing`);
    const logAt = await MerkleLog.open(store.treeStore(c.id), size);
    const root = await logAt.root(size);
    const entries: { index: number; entry: Entry }[] = [];
    for (let at = 0; at < size; at += 5000) {
      for (const e of await store.getEntries(c.id, at, Math.min(size, at + 5000))) {
        entries.push({ index: e.index, entry: decodeEntry(e.leaf) });
      }
    }
    return computeTally(
      String(c.id),
      draft.sections.map((section) => section.id),
      entries,
      size,
      root,
    );
  }

  private async recordTally(c: ConsultationRecord, intent: AnchorIntent, doc: TallyDocument): Promise<void> {
    await this.options.store.setTally(c.id, {
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
      const { store, chain, clock } = this.options;
      const published = (c: ConsultationRecord | null) =>
        c?.tally ? { document: c.tally.document, tallyHash: c.tally.hash, txHash: c.tally.txHash } : null;
      // first: from here on the store refuses every append, so the head anchored below is the final one
      let c = await store.markClosing(consultationId, clock.now());
      if (!c) throw notFound(`consultation ${consultationId} does not exist`);
      if (c.tally) return published(c)!;
      if (!(await this.reconcile(c)))
        throw chainUnavailable("a transaction is still pending; try again shortly");
      c = (await store.getConsultation(consultationId))!;
      if (c.tally) return published(c)!;
      // the final head
      await this.anchorOne(c, true);
      c = (await store.getConsultation(consultationId))!;
      const head = await chain.reader.logHead(consultationId);
      if (head.treeSize !== c.treeSize) {
        throw chainUnavailable("the final head is not anchored yet; try again shortly");
      }
      const doc = await this.computeTallyDoc(c, head.treeSize);
      const hash = tallyHash(doc);
      const uri = `${this.options.publicUrl}/api/consultations/${consultationId}/tally`;
      const closing = c;
      // the tally just computed is the one recorded (no second count of the log)
      const kind: IntentKind<AnchorIntent> = {
        ...this.tallyKind,
        mined: async (intent, outcome) => {
          await store.resolveIntent(intent.id, minedIntent(outcome));
          await this.recordTally(closing, intent, doc);
        },
      };
      const sent = await this.intents.send(
        kind,
        c.agency,
        () => chain.signPublishTally(closing.agency, consultationId, hash, uri),
        (signed) =>
          this.recordIntent({
            consultationId,
            kind: "tally",
            treeSize: head.treeSize,
            rootHash: head.rootHash,
            txHash: signed.txHash,
            rawTx: signed.rawTx,
            createdAt: clock.now(),
          }),
      );
      if (sent.settlement === "pending")
        throw chainUnavailable("tally transaction not mined yet; try again shortly");
      if (sent.settlement !== "mined")
        throw new ServiceError(502, "chain_reverted", "tally transaction reverted");
      return { document: tallyString(doc), tallyHash: hash, txHash: sent.intent.txHash };
    });
  }
}

/** The store's record of a mined intent. */
function minedIntent(outcome: TxOutcome) {
  return {
    status: "mined" as const,
    blockNumber: outcome.blockNumber,
    anchoredAt: outcome.blockTime,
    gasUsed: outcome.gasUsed,
  };
}
