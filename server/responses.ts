/**
 * Publishing the agency's response on chain (publishResponse) without losing it: the intent (the canonical document,
 * its hash, the signed raw transaction) is written BEFORE the broadcast, the response record after the transaction
 * is mined, through the one intent pipeline (server/intents.ts). A crash in between leaves a pending intent, which
 * `reconcile` (at start-up and every anchoring round) settles with the chain: mined → the record is stored under
 * the version of its ResponsePublished event; reverted or its nonce taken → failed.
 *
 * The document carries its own version, so one response of a consultation is in flight at a time: the next version
 * is decided under the operator key's lock, and a request while another intent of the consultation is pending is
 * refused (409) rather than signed with a version that may not be the chain's.
 */
import type { FastifyBaseLogger } from "fastify";
import {
  type ArticleResponse,
  formatTime,
  type ResponseDocument,
  responseHash,
  responseString,
} from "../protocol/index.ts";
import { publishedResponse, type RegistryClient } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { ServiceError } from "./errors.ts";
import { type IntentKind, IntentPipeline, minedOrThrow, recordingKinds } from "./intents.ts";
import type { ConsultationRecord, DraftRecord, Hex, ResponseIntent, Store } from "./store/index.ts";

export interface ResponsePublisherOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How long a transaction is waited for before it is left to reconciliation. */
  txTimeoutMs: number;
  /** URI written on chain for a version of a consultation's response. */
  responseUri: (consultationId: number, version: number) => string;
}

export class ResponsePublisher {
  private readonly options: ResponsePublisherOptions;
  private readonly intents: IntentPipeline;
  private readonly kind: IntentKind<ResponseIntent>;
  private readonly recovered: IntentKind<ResponseIntent>;

  constructor(options: ResponsePublisherOptions) {
    this.options = options;
    this.intents = new IntentPipeline(options);
    const { store, clock, log } = options;
    ({ kind: this.kind, recovered: this.recovered } = recordingKinds<ResponseIntent>({
      describe: (intent) => ({
        kind: "response",
        consultation: intent.consultationId,
        version: intent.version,
        tx: intent.txHash,
      }),
      complete: (intent, outcome) =>
        store.completeResponseIntent(intent.id, {
          version: publishedResponse(intent.txHash, outcome).version,
          at: clock.now(),
        }),
      failed: (intent) => store.failResponseIntent(intent.id),
      log,
      what: "response",
    }));
  }

  /**
   * Builds the next version of the consultation's response (the caller checked the tally and the articles), signs
   * and records its intent, broadcasts it and waits for it.
   */
  async publish(
    consultation: ConsultationRecord,
    draft: DraftRecord,
    articles: Record<string, ArticleResponse>,
  ): Promise<{ version: number; responseHash: Hex; txHash: Hex }> {
    const { store, chain, clock, responseUri } = this.options;
    const tally = consultation.tally;
    if (!tally) throw new ServiceError(409, "no_tally", "the tally is not published yet");
    const chainId = await chain.chainId();
    const id = consultation.id;
    const sent = await this.intents.send(
      this.kind,
      consultation.agency,
      async () => {
        // under the operator lock: no other response of this key is being signed or recorded meanwhile
        if ((await store.pendingResponseIntents(id)).length > 0) {
          throw new ServiceError(
            409,
            "response_pending",
            "an earlier response of this consultation is not mined yet; try again once it is",
          );
        }
        const latest = await store.getResponse(id);
        const doc: ResponseDocument = {
          v: 1,
          consultation: String(id),
          chainId,
          registry: chain.address.toLowerCase(),
          draftHash: draft.hash,
          draftVersion: draft.version,
          tallyHash: tally.hash,
          version: (latest?.version ?? 0) + 1,
          articles,
          publishedAt: formatTime(clock.now()),
        };
        const hash = responseHash(doc);
        const signed = await chain.signPublishResponse(
          consultation.agency,
          id,
          hash,
          responseUri(id, doc.version),
        );
        return { ...signed, doc, hash };
      },
      async (signed) => {
        const intent = {
          consultationId: id,
          agency: consultation.agency,
          version: signed.doc.version,
          hash: signed.hash,
          document: responseString(signed.doc),
          txHash: signed.txHash,
          rawTx: signed.rawTx,
          createdAt: clock.now(),
        };
        return { ...intent, id: await store.addResponseIntent(intent), status: "pending" as const };
      },
    );
    const { intent, outcome } = minedOrThrow(sent);
    const { version } = publishedResponse(intent.txHash, outcome);
    return { version, responseHash: intent.hash, txHash: intent.txHash };
  }

  /** Settles every pending response intent with the chain (see the module comment). */
  async reconcile(): Promise<void> {
    await this.intents.settleAll(
      this.recovered,
      await this.options.store.pendingResponseIntents(),
      "response",
    );
  }
}
