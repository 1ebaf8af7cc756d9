/**
 * What the route plugins share, as Fastify decorators: `app.gopy` (the service's parts) and `app.consultations`
 * (lookups that 404, a short cache of the current draft, the owning-agency check); and small helpers over them
 * (the checked chain, the chain reference served in documents).
 */
import type { FastifyRequest } from "fastify";
import type client from "prom-client";
import { keyedHash, MerkleLog, type ReceiptSigningKey } from "../../protocol/index.ts";
import type { Anchorer } from "../anchorer.ts";
import { type Authenticator, type Identity, requireRole } from "../auth.ts";
import type { RegistryClient } from "../chain/registry.ts";
import type { ChainIdCheck } from "../chain-id.ts";
import type { Checkpoints } from "../checkpoints.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { DraftPublisher } from "../drafts.ts";
import { chainUnavailable, notFound, ServiceError } from "../errors.ts";
import type { Ingest } from "../ingest.ts";
import type { ReadingIndex } from "../reading-thread.ts";
import type { ReceiptKeyRegistrar } from "../receipt-keys.ts";
import type { ResponsePublisher } from "../responses.ts";
import type { ConsultationRecord, DraftRecord, Hex, Store } from "../store/index.ts";

export interface Gopy {
  config: Config;
  store: Store;
  chain: RegistryClient | null;
  /** RPC_URL's chain id against CHAIN_ID (null without a chain). */
  chainId: ChainIdCheck | null;
  clock: Clock;
  ingest: Ingest;
  anchorer: Anchorer | null;
  /** Opens consultations and publishes drafts on chain, crash-safe (null without a chain). */
  drafts: DraftPublisher | null;
  /** Publishes the agency's responses on chain, crash-safe (null without a chain). */
  responses: ResponsePublisher | null;
  receiptKey: ReceiptSigningKey;
  /** Signs and records the logs' C2SP checkpoints. */
  checkpoints: Checkpoints;
  /** Verifies bearer tokens against the configured identity providers. */
  auth: Authenticator;
  /** Puts the receipt key on chain and retires keys there (null without a chain). */
  receiptKeys: ReceiptKeyRegistrar | null;
  metrics: client.Registry;
  /** Keeps the reading index (public listing, campaigns, stats) up to each log, in the background. */
  reading: ReadingIndex;
}

declare module "fastify" {
  interface FastifyInstance {
    gopy: Gopy;
    consultations: Consultations;
  }
}

export type Status = "scheduled" | "open" | "closed" | "tallied";

export function statusOf(consultation: ConsultationRecord, nowMs: number): Status {
  if (consultation.tally) return "tallied";
  const now = nowMs / 1000;
  if (now < consultation.opensAt) return "scheduled";
  if (now >= consultation.closesAt) return "closed";
  return "open";
}

export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface WithDraft {
  consultation: ConsultationRecord;
  draft: DraftRecord;
}

/** How long a consultation and its current draft are reused by the opinion path. */
const CACHE_MS = 1000;

/** Consultations as the routes need them. */
export class Consultations {
  readonly #store: Store;
  readonly #clock: Clock;
  /** The read of each consultation, shared by the requests of its second (one read, not one per request). */
  readonly #cache = new Map<number, { at: number; read: Promise<WithDraft> }>();

  constructor(store: Store, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** A consultation record; 404 when unknown. */
  async get(id: number): Promise<ConsultationRecord> {
    const consultation = await this.#store.getConsultation(id);
    if (!consultation) throw notFound(`consultation ${id} does not exist`);
    return consultation;
  }

  /** A consultation and its current draft (reused for a second unless `fresh`); 404 when unknown. */
  withDraft(id: number, fresh = false): Promise<WithDraft> {
    const now = this.#clock.now();
    const hit = this.#cache.get(id);
    if (hit && !fresh && now - hit.at < CACHE_MS) return hit.read;
    const read = this.#read(id);
    this.#cache.set(id, { at: now, read });
    // a failed read (unknown consultation, database down) is not kept
    read.catch(() => {
      if (this.#cache.get(id)?.read === read) this.#cache.delete(id);
    });
    return read;
  }

  async #read(id: number): Promise<WithDraft> {
    const consultation = await this.get(id);
    const draft = await this.#store.getDraft(id);
    if (!draft) throw new ServiceError(500, "internal", "draft missing");
    return { consultation, draft };
  }

  /** Drop a consultation from the cache after a change. */
  forget(id: number): void {
    this.#cache.delete(id);
  }

  /**
   * The staff member and the consultation `id`, which must belong to their agency: no other role acts on a
   * consultation (an admin neither; on chain, too, only the agency and its operators act on it).
   */
  async owned(request: FastifyRequest, id: number): Promise<WithDraft & { staff: Identity }> {
    const staff = requireRole(request, "agency");
    const found = await this.withDraft(id, true);
    if (staff.agency !== found.consultation.agency) {
      throw new ServiceError(403, "forbidden", "this consultation belongs to another agency");
    }
    return { ...found, staff };
  }

  /** The log of a consultation at its committed size. */
  async committedLog(
    id: number,
  ): Promise<{ log: MerkleLog; size: number; consultation: ConsultationRecord }> {
    const consultation = await this.get(id);
    const log = await MerkleLog.open(this.#store.treeStore(id), consultation.treeSize);
    return { log, size: consultation.treeSize, consultation };
  }
}

/** The chain, once its id is checked against CHAIN_ID; 503 without a chain, while unchecked, or on a mismatch. */
export async function checkedChain(gopy: Gopy): Promise<RegistryClient> {
  if (!gopy.chain || !gopy.chainId) throw chainUnavailable("no chain is configured");
  await gopy.chainId.verify();
  return gopy.chain;
}

/** The draft publisher on the checked chain (see checkedChain). */
export async function checkedPublisher(gopy: Gopy): Promise<DraftPublisher> {
  await checkedChain(gopy);
  if (!gopy.drafts) throw chainUnavailable("no chain is configured");
  return gopy.drafts;
}

/** The response publisher on the checked chain (see checkedChain). */
export async function checkedResponses(gopy: Gopy): Promise<ResponsePublisher> {
  await checkedChain(gopy);
  if (!gopy.responses) throw chainUnavailable("no chain is configured");
  return gopy.responses;
}

/** The anchorer on the checked chain (see checkedChain). */
export async function checkedAnchorer(gopy: Gopy): Promise<Anchorer> {
  await checkedChain(gopy);
  if (!gopy.anchorer) throw chainUnavailable("no chain is configured");
  return gopy.anchorer;
}

export interface ChainRef {
  chainId: number;
  contract: string;
  /** Public JSON-RPC URL for clients reading the chain themselves (PUBLIC_RPC_URL); absent when not configured. */
  rpcUrl?: string;
}

/** Where a consultation is anchored, for documents; null without a chain or before its id is checked. */
export async function chainRef(gopy: Gopy): Promise<ChainRef | null> {
  if (!gopy.chain || !gopy.chainId) return null;
  const chainId = await gopy.chainId.verify().catch(() => null);
  if (chainId === null) return null;
  const ref: ChainRef = { chainId, contract: gopy.chain.address };
  if (gopy.config.chain.publicRpcUrl) ref.rpcUrl = gopy.config.chain.publicRpcUrl;
  return ref;
}

/** The keyed hash a subject's receipts are stored under (never the subject itself). */
export const subjectKey = (config: Config, sub: string): string =>
  keyedHash(config.pseudonymSecret, "subject", sub);

const identityKeys = new WeakMap<Identity, string>();

/** subjectKey of a request's identity, computed once per request (the rate limit keys on it too). */
export function identityKey(config: Config, identity: Identity): string {
  let key = identityKeys.get(identity);
  if (key === undefined) {
    key = subjectKey(config, identity.sub);
    identityKeys.set(identity, key);
  }
  return key;
}

/** The URI of a version of a consultation's response, as written on chain. */
export const responseUri = (config: Config, id: number, version: number): string =>
  `${config.publicUrl}/api/consultations/${id}/response?version=${version}`;

/** The URI of a draft document, as written on chain. */
export const draftUri = (config: Config, hash: Hex): string => `${config.publicUrl}/api/drafts/${hash}`;
