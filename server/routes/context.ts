/**
 * What the route plugins share: the service's parts (`app.gopy`), the consultation cache, and small helpers
 * (lookups that 404, the owning-agency check, the chain reference served in documents).
 */
import type { FastifyRequest } from "fastify";
import type client from "prom-client";
import { MerkleLog, type ReceiptSigningKey } from "../../protocol/index.ts";
import type { Anchorer } from "../anchorer.ts";
import { authenticate, type DevIdp, type Identity, type Role, requireRole } from "../auth.ts";
import type { RegistryClient } from "../chain/registry.ts";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { DraftPublisher } from "../drafts.ts";
import { ServiceError } from "../errors.ts";
import { type Ingest, keyedHash } from "../ingest.ts";
import type { ConsultationRecord, DraftRecord, Hex, Store } from "../store/index.ts";

export interface Gopy {
  config: Config;
  store: Store;
  chain: RegistryClient | null;
  clock: Clock;
  ingest: Ingest;
  anchorer: Anchorer | null;
  /** Opens consultations and publishes drafts on chain, crash-safe (null without a chain). */
  drafts: DraftPublisher | null;
  receiptKey: ReceiptSigningKey;
  devIdp: DevIdp | null;
  metrics: client.Registry;
}

declare module "fastify" {
  interface FastifyInstance {
    gopy: Gopy;
  }
}

export type Status = "scheduled" | "open" | "closed" | "tallied";

export function statusOf(c: ConsultationRecord, nowMs: number): Status {
  if (c.tally) return "tallied";
  const now = nowMs / 1000;
  if (now < c.opensAt) return "scheduled";
  if (now >= c.closesAt) return "closed";
  return "open";
}

export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface ChainRef {
  chainId: number;
  contract: string;
  /** Public JSON-RPC URL for clients reading the chain themselves (PUBLIC_RPC_URL); absent when not configured. */
  rpcUrl?: string;
}

/**
 * Route options of an authenticated route (bearer token, documented in OpenAPI). A fresh object per route: plugins
 * such as @fastify/rate-limit push their hooks onto the route's preHandler array, so sharing one array would hand a
 * route (or another app in the same process) the hooks of others.
 */
export function authRoute() {
  return { preHandler: [authenticate], schema: { security: [{ bearer: [] as string[] }] } };
}

export interface RouteContext {
  gopy: Gopy;
  /** `config` of mutating routes: the per-identity rate limit. */
  rl: { rateLimit: { max: number; timeWindow: number } };
  /** A consultation and its current draft (cached for a second unless `fresh`); 404 when unknown. */
  load(id: number, fresh?: boolean): Promise<{ c: ConsultationRecord; d: DraftRecord }>;
  /** Drop a consultation from the cache after a change. */
  forget(id: number): void;
  /** A consultation record; 404 when unknown. */
  consultation(id: number): Promise<ConsultationRecord>;
  /** The staff member and the consultation of `:id`, which must belong to their agency (admins: any). */
  owned(
    req: FastifyRequest & { params: { id: string } },
  ): Promise<{ who: Identity; id: number; c: ConsultationRecord; d: DraftRecord }>;
  requireRole(req: FastifyRequest, ...roles: Role[]): Identity;
  needChain(): RegistryClient;
  needPublisher(): DraftPublisher;
  chainRef(): Promise<ChainRef | null>;
  /** chain id once known (null before the first successful read). */
  cachedChainId(): number | null;
  committedLog(id: number): Promise<{ log: MerkleLog; size: number; c: ConsultationRecord }>;
  subjectKey(sub: string): string;
  draftUri(hash: Hex): string;
}

export function createRouteContext(gopy: Gopy): RouteContext {
  const { store, chain, config } = gopy;
  const cache = new Map<number, { at: number; c: ConsultationRecord; d: DraftRecord }>();
  let chainIdCache: number | null = null;

  async function consultation(id: number): Promise<ConsultationRecord> {
    const c = await store.getConsultation(id);
    if (!c) throw new ServiceError(404, "not_found", `consultation ${id} does not exist`);
    return c;
  }
  async function load(id: number, fresh = false): Promise<{ c: ConsultationRecord; d: DraftRecord }> {
    const hit = cache.get(id);
    if (hit && !fresh && Date.now() - hit.at < 1000) return hit;
    const c = await consultation(id);
    const d = await store.getDraft(id);
    if (!d) throw new ServiceError(500, "internal", "draft missing");
    const v = { at: Date.now(), c, d };
    cache.set(id, v);
    return v;
  }
  function ownAgency(identity: Identity, c: ConsultationRecord): void {
    if (identity.role === "admin") return;
    if (identity.agency !== c.agency) {
      throw new ServiceError(403, "forbidden", "this consultation belongs to another agency");
    }
  }
  return {
    gopy,
    rl: { rateLimit: { max: config.rateLimit.max, timeWindow: config.rateLimit.windowMs } },
    load,
    forget: (id) => cache.delete(id),
    consultation,
    async owned(req) {
      const who = requireRole(req, "agency");
      const id = Number(req.params.id);
      const { c, d } = await load(id, true);
      ownAgency(who, c);
      return { who, id, c, d };
    },
    requireRole,
    needChain() {
      if (!chain) throw new ServiceError(503, "chain_unavailable", "no chain is configured");
      return chain;
    },
    needPublisher() {
      if (!gopy.drafts) throw new ServiceError(503, "chain_unavailable", "no chain is configured");
      return gopy.drafts;
    },
    async chainRef() {
      if (!chain) return null;
      if (chainIdCache === null) {
        try {
          chainIdCache = await chain.chainId();
        } catch {
          return null;
        }
      }
      const ref: ChainRef = { chainId: chainIdCache, contract: chain.address };
      if (config.chain.publicRpcUrl) ref.rpcUrl = config.chain.publicRpcUrl;
      return ref;
    },
    cachedChainId: () => chainIdCache,
    async committedLog(id) {
      const c = await consultation(id);
      return { log: await MerkleLog.open(store.treeStore(id), c.treeSize), size: c.treeSize, c };
    },
    subjectKey: (sub) => keyedHash(config.pseudonymSecret, "subject", sub),
    draftUri: (hash) => `${config.publicUrl}/api/drafts/${hash}`,
  };
}

/** A route plugin: encapsulated, given the shared context. */
export interface RouteOptions {
  ctx: RouteContext;
}
