/**
 * Publishing drafts on chain (openConsultation, reviseDraft) without orphans: the intent (draft, schedule, agency,
 * signed raw transaction and its hash) is written BEFORE the broadcast, the records after the transaction is mined.
 * A crash in between leaves a pending intent, which `reconcile` (at start-up and every anchoring round) settles with
 * the chain (server/intents.ts): mined → the consultation id (ConsultationOpened) or draft version (DraftRevised) is
 * read from the receipt's events and the records are stored; reverted → failed; still in the pool → wait; dropped →
 * the same signed bytes are sent again (the same transaction: it can never open a second consultation), failed once
 * their nonce is used by another transaction. Completion is idempotent, so a request and a reconciler (another
 * instance, say) may race.
 */
import type { FastifyBaseLogger } from "fastify";
import { publishedDraft, type RegistryClient, type SignedTx } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { type IntentKind, IntentPipeline, minedOrThrow, recordingKinds } from "./intents.ts";
import type { DraftIntent, DraftRecord, Hex, NewDraftIntent, Store } from "./store/index.ts";

export interface DraftPublisherOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How long a transaction is waited for before it is left to reconciliation. */
  txTimeoutMs: number;
  /** URI written on chain for a draft hash. */
  draftUri: (hash: Hex) => string;
}

export interface DraftContent {
  hash: Hex;
  title: string;
  summary: string;
  sections: DraftRecord["sections"];
  attachments?: DraftRecord["attachments"];
}

export class DraftPublisher {
  private readonly options: DraftPublisherOptions;
  /** Signs, records, broadcasts and settles this part's transactions (server/intents.ts). */
  private readonly intents: IntentPipeline;
  /** Opening and revision intents: mined → the consultation or the draft version is stored. */
  private readonly kind: IntentKind<DraftIntent>;
  /** The same, found mined by reconciliation: a record a crash had prevented. */
  private readonly recovered: IntentKind<DraftIntent>;

  constructor(options: DraftPublisherOptions) {
    this.options = options;
    this.intents = new IntentPipeline(options);
    const { store, clock, log } = options;
    ({ kind: this.kind, recovered: this.recovered } = recordingKinds<DraftIntent>({
      describe: (intent) => ({ kind: intent.kind, consultation: intent.consultationId, tx: intent.txHash }),
      complete: (intent, outcome) =>
        store.completeDraftIntent(intent.id, { ...publishedDraft(intent.txHash, outcome), at: clock.now() }),
      failed: (intent) => store.failDraftIntent(intent.id),
      log,
      what: "draft",
    }));
  }

  /** Opens a consultation on chain and stores it; returns the id the chain assigned. */
  async open(
    agency: string,
    draft: DraftContent,
    opensAt: number,
    closesAt: number,
    publicCounts = true,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const { chain, draftUri } = this.options;
    const sign = () =>
      chain.signOpenConsultation(agency, draft.hash, draftUri(draft.hash), opensAt, closesAt);
    return this.publish(sign, {
      kind: "open",
      consultationId: null,
      agency,
      ...draft,
      opensAt,
      closesAt,
      publicCounts,
    });
  }

  /** Publishes a new draft version on chain and stores it; returns the version the chain assigned. */
  async revise(
    agency: string,
    id: number,
    draft: DraftContent,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const { chain, draftUri } = this.options;
    const sign = () => chain.signReviseDraft(agency, id, draft.hash, draftUri(draft.hash));
    return this.publish(sign, {
      kind: "revise",
      consultationId: id,
      agency,
      ...draft,
      opensAt: null,
      closesAt: null,
    });
  }

  private async publish(
    sign: () => Promise<SignedTx>,
    what: Omit<NewDraftIntent, "txHash" | "rawTx" | "createdAt">,
  ): Promise<{ id: number; version: number; txHash: Hex }> {
    const { store, clock } = this.options;
    const sent = await this.intents.send(this.kind, what.agency, sign, async (signed) => {
      const intent: NewDraftIntent = { ...what, ...signed, createdAt: clock.now() };
      return { ...intent, id: await store.addDraftIntent(intent), status: "pending" };
    });
    const { outcome } = minedOrThrow(sent);
    const { consultationId, version } = publishedDraft(sent.intent.txHash, outcome);
    return { id: consultationId, version, txHash: sent.intent.txHash };
  }

  /** Settles every pending intent with the chain (see the module comment). */
  async reconcile(): Promise<void> {
    await this.intents.settleAll(this.recovered, await this.options.store.pendingDraftIntents(), "draft");
  }
}
