/**
 * buildApp(config, deps?): the whole service as a Fastify instance (routes, auth, store, ingest, anchorer, metrics).
 * Nothing here reads process.env; nothing here speaks SQL.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import client from "prom-client";
import {
  authorPseudonym,
  draftHash,
  jwkThumbprint,
  MerkleLog,
  ProtocolError,
  type ReceiptSigningKey,
  receiptKeyFromSeed,
  type Stance,
} from "../protocol/index.ts";
import { AnchorError, Anchorer } from "./anchorer.ts";
import {
  authenticate,
  createDevIdp,
  type DevIdp,
  HttpError,
  type Identity,
  registerAuth,
  requireRole,
} from "./auth.ts";
import { ChainError, chainErrorMessage, type RegistryClient, ViemRegistry } from "./chain/registry.ts";
import { type Clock, systemClock, toSeconds } from "./clock.ts";
import type { Config } from "./config.ts";
import { parseCsv } from "./csv.ts";
import { Ingest, IngestError, keyedHash } from "./ingest.ts";
import * as S from "./schemas.ts";
import { type ConsultationRecord, type DraftRecord, type Hex, openStore, type Store } from "./store/index.ts";

export interface AppDeps {
  store?: Store;
  chain?: RegistryClient | null;
  clock?: Clock;
  /** Start the anchoring loop when the app is ready (default: config.anchor.enabled). */
  startAnchorer?: boolean;
  /** pino logger options or false (default: level from config). */
  logger?: boolean | object;
}

export interface Gopy {
  config: Config;
  store: Store;
  chain: RegistryClient | null;
  clock: Clock;
  ingest: Ingest;
  anchorer: Anchorer | null;
  receiptKey: ReceiptSigningKey;
  devIdp: DevIdp | null;
  metrics: client.Registry;
}

declare module "fastify" {
  interface FastifyInstance {
    gopy: Gopy;
  }
}

type Status = "scheduled" | "open" | "closed" | "tallied";

function statusOf(c: ConsultationRecord, nowMs: number): Status {
  if (c.tally) return "tallied";
  const now = nowMs / 1000;
  if (now < c.opensAt) return "scheduled";
  if (now >= c.closesAt) return "closed";
  return "open";
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function rejectProto(key: string, value: unknown): unknown {
  if (key === "__proto__" || key === "constructor")
    throw new HttpError(400, "bad_request", `forbidden key "${key}"`);
  return value;
}

export async function buildApp(config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const clock = deps.clock ?? systemClock;
  const store = deps.store ?? (await openStore(config));
  let chain: RegistryClient | null;
  if (deps.chain !== undefined) chain = deps.chain;
  else if (config.chain.rpcUrl && config.chain.registryAddress) {
    chain = new ViemRegistry({
      rpcUrl: config.chain.rpcUrl,
      address: config.chain.registryAddress,
      agencies: config.chain.agencies,
    });
  } else chain = null;

  const app = Fastify({
    logger:
      deps.logger === undefined
        ? {
            level: config.logLevel,
            redact: ["req.headers.authorization", "req.headers.cookie"],
          }
        : deps.logger,
    bodyLimit: config.bodyLimit,
    logController: new LogController({
      disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace",
    }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  // ---------- metrics ----------
  const metrics = new client.Registry();
  client.collectDefaultMetrics({ register: metrics, prefix: "gopy_" });
  const accepted = new client.Counter({
    name: "gopy_opinions_accepted_total",
    help: "Opinions accepted (durable, receipt signed)",
    labelNames: ["channel"],
    registers: [metrics],
  });
  const batchSize = new client.Histogram({
    name: "gopy_group_commit_entries",
    help: "Entries per group commit",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000],
    registers: [metrics],
  });
  const gasSpent = new client.Counter({
    name: "gopy_anchor_gas_spent_total",
    help: "Gas used by mined anchoring and tally transactions",
    registers: [metrics],
  });
  const anchoredSize = new client.Gauge({
    name: "gopy_anchored_tree_size",
    help: "Last anchored tree size per consultation",
    labelNames: ["consultation"],
    registers: [metrics],
  });
  new client.Gauge({
    name: "gopy_backlog_entries",
    help: "Entries not yet covered by a head mined on chain",
    registers: [metrics],
    async collect() {
      const b = await store.backlog(clock.now() - config.anchor.maxDelayMs);
      this.set(b.backlog);
    },
  });
  new client.Gauge({
    name: "gopy_anchoring_lag_seconds",
    help: "Age of the oldest entry not yet anchored",
    registers: [metrics],
    async collect() {
      const b = await store.backlog(clock.now() - config.anchor.maxDelayMs);
      this.set(b.oldestPending === null ? 0 : Math.max(0, (clock.now() - b.oldestPending) / 1000));
    },
  });
  new client.Gauge({
    name: "gopy_overdue_entries",
    help: "Entries past their promised anchoring deadline",
    registers: [metrics],
    async collect() {
      this.set((await store.backlog(clock.now() - config.anchor.maxDelayMs)).overdue);
    },
  });

  const receiptKey = receiptKeyFromSeed(config.receiptKeySeed);
  // receipts signed by a retired key keep verifying: its public key stays listed
  const receiptJwks = [
    receiptKey.publicJwk.x,
    ...config.retiredReceiptKeys.filter((x) => x !== receiptKey.publicJwk.x),
  ].map((x) => {
    const jwk = { kty: "OKP" as const, crv: "Ed25519" as const, x };
    return { ...jwk, kid: jwkThumbprint(jwk), alg: "EdDSA" as const, use: "sig" as const };
  });
  const ingest = new Ingest({
    store,
    clock,
    receiptKey,
    maxAnchorDelayMs: config.anchor.maxDelayMs,
    groupCommitMax: config.ingest.groupCommitMax,
    onCommit: (_c, n, online, offline) => {
      batchSize.observe(n);
      if (online > 0) accepted.inc({ channel: "online" }, online);
      if (offline > 0) accepted.inc({ channel: "offline" }, offline);
    },
  });
  const anchorer = chain
    ? new Anchorer({
        store,
        chain,
        clock,
        log: app.log,
        intervalMs: config.anchor.intervalMs,
        batchMax: config.anchor.batchMax,
        txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
        publicUrl: config.publicUrl,
        onAnchored: (c, size, gas) => {
          gasSpent.inc(gas);
          anchoredSize.set({ consultation: String(c) }, size);
        },
      })
    : null;
  if (config.devIdp && config.nodeEnv === "production") {
    throw new Error("DEV_IDP: the development identity provider cannot run with NODE_ENV=production");
  }
  const devIdp = config.devIdp ? createDevIdp(config) : null;

  app.decorate("gopy", { config, store, chain, clock, ingest, anchorer, receiptKey, devIdp, metrics });

  // ---------- parsing and errors ----------
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, null);
    let text: string;
    try {
      text = strictUtf8.decode(buf);
    } catch {
      return done(new HttpError(400, "bad_request", "body is not valid UTF-8"), undefined);
    }
    try {
      done(null, JSON.parse(text, rejectProto));
    } catch (e) {
      if (e instanceof HttpError) return done(e, undefined);
      done(new HttpError(400, "bad_request", `malformed JSON: ${(e as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(
    "text/csv",
    { parseAs: "buffer", bodyLimit: config.importBodyLimit },
    (_req, body, done) => {
      try {
        done(null, strictUtf8.decode(body as Buffer));
      } catch {
        done(new HttpError(400, "bad_request", "body is not valid UTF-8"), undefined);
      }
    },
  );

  app.setErrorHandler((err, request, reply) => {
    const e = err as Error & {
      statusCode?: number;
      code?: string;
      validation?: unknown;
      validationContext?: string;
    };
    if (e instanceof HttpError || e instanceof IngestError || e instanceof AnchorError) {
      const status = e instanceof HttpError ? e.statusCode : e.status;
      const code = e instanceof AnchorError ? (status === 404 ? "not_found" : "unavailable") : e.code;
      return reply.status(status).send({ error: code, message: e.message });
    }
    if (e instanceof ProtocolError)
      return reply.status(400).send({ error: "bad_request", message: e.message });
    if (e.validation) {
      return reply
        .status(400)
        .send({ error: "bad_request", message: `${e.validationContext ?? "request"}: ${e.message}` });
    }
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.status(413).send({ error: "payload_too_large", message: "request body is too large" });
    }
    if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.status(415).send({ error: "unsupported_media_type", message: e.message });
    }
    if (e instanceof ChainError) {
      request.log.warn({ err: chainErrorMessage(e) }, "chain error");
      return reply.status(503).send({ error: "chain_unavailable", message: e.message });
    }
    if (e.statusCode === 429) {
      return reply.status(429).send({ error: "rate_limited", message: "too many requests; slow down" });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: "bad_request", message: e.message });
    }
    const viemish =
      (e as { shortMessage?: string }).shortMessage !== undefined || e.name?.endsWith("RpcError");
    if (viemish || /fetch failed|ECONNREFUSED|HTTP request failed/i.test(e.message)) {
      request.log.warn({ err: chainErrorMessage(e) }, "chain unreachable");
      return reply
        .status(503)
        .send({ error: "chain_unavailable", message: "the chain is unreachable; try again later" });
    }
    request.log.error({ err: e }, "internal error");
    return reply.status(500).send({ error: "internal", message: "internal error" });
  });

  // ---------- plugins ----------
  await app.register(swagger, {
    openapi: {
      info: {
        title: "Gopy consultation service",
        version: "1.0.0",
        description: "Authenticated opinions, signed receipts, batched on-chain anchoring.",
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  await registerAuth(app, config, devIdp);
  await app.register(rateLimit, {
    global: false,
    hook: "preHandler",
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    // per identity, never per IP address: whole towns share carrier-NAT addresses
    keyGenerator: (req: FastifyRequest) =>
      req.identity ? keyedHash(config.pseudonymSecret, "ratelimit", req.identity.sub) : "anonymous",
    errorResponseBuilder: (_req, ctx) => ({
      statusCode: 429,
      error: "rate_limited",
      message: `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`,
    }),
  });

  // ---------- helpers ----------
  const subjectKey = (sub: string) => keyedHash(config.pseudonymSecret, "subject", sub);
  const cache = new Map<number, { at: number; c: ConsultationRecord; d: DraftRecord }>();
  async function load(id: number, fresh = false): Promise<{ c: ConsultationRecord; d: DraftRecord }> {
    const hit = cache.get(id);
    if (hit && !fresh && Date.now() - hit.at < 1000) return hit;
    const c = await store.getConsultation(id);
    if (!c) throw new HttpError(404, "not_found", `consultation ${id} does not exist`);
    const d = await store.getDraft(id);
    if (!d) throw new HttpError(500, "internal", "draft missing");
    const v = { at: Date.now(), c, d };
    cache.set(id, v);
    return v;
  }
  function ownAgency(identity: Identity, c: ConsultationRecord): void {
    if (identity.role === "admin") return;
    if (identity.agency !== c.agency) {
      throw new HttpError(403, "forbidden", "this consultation belongs to another agency");
    }
  }
  function needChain(): RegistryClient {
    if (!chain) throw new HttpError(503, "chain_unavailable", "no chain is configured");
    return chain;
  }
  let chainIdCache: number | null = null;
  async function chainRef(): Promise<{ chainId: number; contract: string } | null> {
    if (!chain) return null;
    if (chainIdCache === null) {
      try {
        chainIdCache = await chain.chainId();
      } catch {
        return null;
      }
    }
    return { chainId: chainIdCache, contract: chain.address };
  }
  async function committedLog(id: number): Promise<{ log: MerkleLog; size: number; c: ConsultationRecord }> {
    const c = await store.getConsultation(id);
    if (!c) throw new HttpError(404, "not_found", `consultation ${id} does not exist`);
    return { log: await MerkleLog.open(store.treeStore(id), c.treeSize), size: c.treeSize, c };
  }
  const draftUri = (hash: Hex) => `${config.publicUrl}/api/drafts/${hash}`;
  const auth = { preHandler: [authenticate], schema: { security: [{ bearer: [] }] } };
  const rl = { rateLimit: { max: config.rateLimit.max, timeWindow: config.rateLimit.windowMs } };

  // ---------- routes ----------
  app.get(
    "/api/health",
    { schema: { summary: "Health", response: { 200: S.Health, 503: S.Health } } },
    async (_req, reply) => {
      const db = await store.ping();
      let b = { backlog: 0, overdue: 0 };
      if (db) b = await store.backlog(clock.now() - config.anchor.maxDelayMs);
      let chainInfo: { chainId: number | null; contract: string; block: number | null } | null = null;
      let chainOk = true;
      if (chain) {
        chainInfo = { chainId: chainIdCache, contract: chain.address, block: null };
        try {
          chainInfo.block = await chain.blockNumber();
          chainInfo.chainId = (await chainRef())?.chainId ?? null;
        } catch {
          chainOk = false;
        }
      }
      const ok = db && chainOk;
      return reply
        .status(ok ? 200 : 503)
        .send({ ok, chain: chainInfo, db, backlog: b.backlog, overdue: b.overdue });
    },
  );

  app.get("/metrics", { schema: { summary: "Prometheus metrics", hide: true } }, async (_req, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });

  app.get(
    "/api/keys",
    {
      schema: {
        summary: "Receipt-signing keys (JWKS): the current key, then retired ones",
        response: { 200: S.Jwks },
      },
    },
    async () => ({ keys: receiptJwks }),
  );

  if (devIdp) {
    app.post(
      "/api/dev/token",
      {
        schema: {
          summary: "Development identity provider (demo only)",
          body: S.DevTokenBody,
          response: { 200: S.DevToken, ...S.errors },
        },
      },
      async (req) => {
        const { sub, role, agency } = req.body;
        if (role === "agency" && !agency)
          throw new HttpError(400, "bad_request", "an agency token needs `agency`");
        return { token: devIdp.issue(sub, role, role === "citizen" ? null : (agency ?? null), clock.now()) };
      },
    );
  }

  app.get(
    "/api/consultations",
    {
      schema: { summary: "Consultations, newest first", response: { 200: S.ConsultationList, ...S.errors } },
    },
    async () => {
      const now = clock.now();
      const list = await store.listConsultations();
      return {
        consultations: list.map((c) => ({
          id: c.id,
          agency: c.agency,
          title: c.title,
          status: statusOf(c, now),
          opensAt: c.opensAt,
          closesAt: c.closesAt,
        })),
      };
    },
  );

  app.post(
    "/api/consultations",
    {
      ...auth,
      config: rl,
      schema: {
        ...auth.schema,
        summary: "Open a consultation (agency)",
        body: S.CreateConsultationBody,
        response: { 201: S.DraftCreated, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = requireRole(req, "agency");
      const ch = needChain();
      const agency = who.agency!;
      if (!ch.hasAgency(agency)) {
        throw new HttpError(
          403,
          "forbidden",
          `agency ${agency} has no operator key configured in this service`,
        );
      }
      const { title, summary, sections } = req.body;
      const nowS = toSeconds(clock.now());
      const opensAt = Math.max(req.body.opensAt, nowS);
      const closesAt = req.body.closesAt;
      if (closesAt <= nowS) throw new HttpError(400, "bad_request", "closesAt must be in the future");
      if (closesAt <= opensAt) throw new HttpError(400, "bad_request", "closesAt must be after opensAt");
      const hash = draftHash({ title, summary, sections });
      const { id, txHash } = await ch.openConsultation(agency, hash, draftUri(hash), opensAt, closesAt);
      const now = clock.now();
      await store.createConsultation(
        { id, agency, title, summary, opensAt, closesAt, createdAt: now, draftVersion: 1 },
        { consultationId: id, version: 1, hash, title, summary, sections, txHash, createdAt: now },
      );
      req.log.info({ consultation: id, agency }, "consultation opened");
      return reply.status(201).send({ id, draftHash: hash, draftVersion: 1, txHash });
    },
  );

  app.get(
    "/api/consultations/:id",
    {
      schema: {
        summary: "A consultation",
        params: S.IdParams,
        response: { 200: S.ConsultationDetail, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { c, d } = await load(id, true);
      return {
        id: c.id,
        agency: c.agency,
        title: c.title,
        summary: c.summary,
        status: statusOf(c, clock.now()),
        opensAt: c.opensAt,
        closesAt: c.closesAt,
        draft: { version: d.version, hash: d.hash, sections: d.sections },
        chain: await chainRef(),
      };
    },
  );

  app.get(
    "/api/drafts/:hash",
    {
      schema: {
        summary: "A draft by its hash (the draftURI stored on chain)",
        params: S.HashParams,
        response: { 200: S.DraftDocument, ...S.errors },
      },
    },
    async (req) => {
      const d = await store.findDraftByHash(req.params.hash as Hex);
      if (!d) throw new HttpError(404, "not_found", "no draft with that hash");
      return {
        consultation: d.consultationId,
        version: d.version,
        hash: d.hash,
        title: d.title,
        summary: d.summary,
        sections: d.sections,
      };
    },
  );

  app.put(
    "/api/consultations/:id/draft",
    {
      ...auth,
      config: rl,
      schema: {
        ...auth.schema,
        summary: "Publish a new draft version (agency)",
        params: S.IdParams,
        body: S.DraftBody,
        response: { 200: S.DraftCreated, ...S.errors },
      },
    },
    async (req) => {
      const who = requireRole(req, "agency");
      const id = Number(req.params.id);
      const { c } = await load(id, true);
      ownAgency(who, c);
      if (clock.now() / 1000 >= c.closesAt) throw new HttpError(409, "closed", "the consultation is closed");
      const { title, summary, sections } = req.body;
      const hash = draftHash({ title, summary, sections });
      const { version, txHash } = await needChain().reviseDraft(c.agency, id, hash, draftUri(hash));
      await store.addDraft({
        consultationId: id,
        version,
        hash,
        title,
        summary,
        sections,
        txHash,
        createdAt: clock.now(),
      });
      cache.delete(id);
      return { id, draftHash: hash, draftVersion: version, txHash };
    },
  );

  app.post(
    "/api/consultations/:id/opinions",
    {
      ...auth,
      config: rl,
      schema: {
        ...auth.schema,
        summary: "Give an opinion (citizen); returns the signed receipt",
        params: S.IdParams,
        headers: S.IdempotencyHeaders,
        body: S.OpinionBody,
        response: { 201: S.Receipt, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = requireRole(req, "citizen");
      const id = Number(req.params.id);
      const { section, stance } = req.body;
      const text = req.body.text ?? "";
      if (LONE_SURROGATE.test(text)) throw new HttpError(400, "bad_request", "text is not valid Unicode");
      const { c, d } = await load(id);
      const status = statusOf(c, clock.now());
      if (status === "scheduled") {
        throw new HttpError(
          409,
          "not_open",
          `the consultation opens at ${new Date(c.opensAt * 1000).toISOString()}`,
        );
      }
      if (status !== "open") throw new HttpError(409, "closed", "the consultation is closed");
      if (!d.sections.some((s) => s.id === section)) {
        throw new HttpError(
          400,
          "bad_request",
          `section ${JSON.stringify(section)} is not in the current draft`,
        );
      }
      const sk = subjectKey(who.sub);
      const rawKey = req.headers["idempotency-key"];
      const idem = rawKey
        ? keyedHash(config.pseudonymSecret, "idempotency", who.sub, String(id), rawKey)
        : null;
      if (idem) {
        const prior = await store.getIdempotent(idem);
        if (prior) return reply.status(201).header("idempotent-replayed", "true").send(JSON.parse(prior));
      }
      const a = await ingest.submit(id, {
        kind: "opinion",
        draftVersion: d.version,
        section,
        stance: stance as Stance,
        text,
        author: authorPseudonym(config.pseudonymSecret, String(id), who.sub),
        channel: "online",
        submittedAt: clock.now(),
        subjectKey: sk,
        idempotencyKey: idem,
      });
      return reply.status(201).send(a.receipt!);
    },
  );

  app.get(
    "/api/me/opinions",
    {
      ...auth,
      schema: {
        ...auth.schema,
        summary: "The signed-in citizen's receipts",
        response: { 200: S.ReceiptList, ...S.errors },
      },
    },
    async (req) => {
      const who = requireRole(req, "citizen", "agency", "admin");
      const receipts = await store.receiptsFor(subjectKey(who.sub));
      return { receipts: receipts.map((r) => JSON.parse(r)) };
    },
  );

  app.post(
    "/api/consultations/:id/opinions/import",
    {
      ...auth,
      config: rl,
      bodyLimit: config.importBodyLimit,
      schema: {
        ...auth.schema,
        summary: "Import offline opinions (agency), CSV: section,stance,text,collectedAt,location",
        params: S.IdParams,
        consumes: ["text/csv"],
        body: { type: "string" } as never,
        response: { 201: S.ImportResult, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = requireRole(req, "agency");
      const id = Number(req.params.id);
      const { c, d } = await load(id, true);
      ownAgency(who, c);
      if (typeof req.body !== "string") throw new HttpError(415, "unsupported_media_type", "send text/csv");
      if (c.tally) throw new HttpError(409, "closed", "the tally is published");
      let rows: string[][];
      try {
        rows = parseCsv(req.body);
      } catch (e) {
        throw new HttpError(400, "bad_request", `CSV: ${(e as Error).message}`);
      }
      const header = rows.shift();
      if (header?.join(",") !== "section,stance,text,collectedAt,location") {
        throw new HttpError(
          400,
          "bad_request",
          "the CSV header must be exactly: section,stance,text,collectedAt,location",
        );
      }
      const sections = new Set(d.sections.map((s) => s.id));
      const csvHash = createHash("sha256").update(req.body).digest("hex");
      const items = rows.map((r, i) => {
        const line = i + 2;
        if (r.length !== 5)
          throw new HttpError(400, "bad_request", `line ${line}: expected 5 fields, got ${r.length}`);
        const [section, stance, text, collectedAt] = r as [string, string, string, string, string];
        if (!sections.has(section))
          throw new HttpError(400, "bad_request", `line ${line}: unknown section ${section}`);
        if (stance !== "agree" && stance !== "disagree" && stance !== "neutral") {
          throw new HttpError(400, "bad_request", `line ${line}: stance must be agree, disagree or neutral`);
        }
        if (text.length > 10_000 || LONE_SURROGATE.test(text)) {
          throw new HttpError(400, "bad_request", `line ${line}: text too long or not valid Unicode`);
        }
        let at: number;
        if (/^\d{1,12}$/.test(collectedAt)) at = Number(collectedAt) * 1000;
        else {
          at = Date.parse(collectedAt);
          if (!/^\d{4}-\d{2}-\d{2}T/.test(collectedAt) || !Number.isFinite(at)) {
            throw new HttpError(
              400,
              "bad_request",
              `line ${line}: collectedAt must be Unix seconds or RFC 3339`,
            );
          }
        }
        if (at > clock.now() + 60_000 || at / 1000 > c.closesAt) {
          throw new HttpError(
            400,
            "bad_request",
            `line ${line}: collectedAt is in the future or after closing`,
          );
        }
        return { section, stance: stance as Stance, text, at: Math.floor(at), line };
      });
      if (items.length === 0) throw new HttpError(400, "bad_request", "no rows");
      if (items.length > 100_000)
        throw new HttpError(413, "payload_too_large", "at most 100,000 rows per import");
      const sk = subjectKey(who.sub);
      let duplicates = 0;
      const pending: Promise<number>[] = [];
      for (const it of items) {
        const idem = keyedHash(config.pseudonymSecret, "import", String(id), csvHash, String(it.line));
        if (await store.getIdempotent(idem)) {
          duplicates++;
          continue;
        }
        pending.push(
          ingest
            .submit(id, {
              kind: "opinion",
              draftVersion: d.version,
              section: it.section,
              stance: it.stance,
              text: it.text,
              author: authorPseudonym(config.pseudonymSecret, String(id), `offline:${csvHash}:${it.line}`),
              channel: "offline",
              submittedAt: it.at,
              subjectKey: sk,
              idempotencyKey: idem,
            })
            .then((a) => a.index),
        );
      }
      const leafIndices = await Promise.all(pending);
      return reply.status(201).send({ imported: leafIndices.length, duplicates, leafIndices });
    },
  );

  app.post(
    "/api/consultations/:id/entries/:index/withhold",
    {
      ...auth,
      config: rl,
      schema: {
        ...auth.schema,
        summary: "Withhold an opinion's text (agency): appends a moderation entry",
        params: S.EntryParams,
        body: S.WithholdBody,
        response: { 201: S.Appended, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = requireRole(req, "agency");
      const id = Number(req.params.id);
      const { c } = await load(id, true);
      ownAgency(who, c);
      if (c.tally) throw new HttpError(409, "closed", "the tally is published");
      const a = await ingest.submit(id, {
        kind: "moderation",
        target: Number(req.params.index),
        reason: req.body.reason,
        by: authorPseudonym(config.pseudonymSecret, String(id), `officer:${who.sub}`),
      });
      return reply.status(201).send({ index: a.index, leafHash: a.leafHash });
    },
  );

  app.get(
    "/api/consultations/:id/log/head",
    { schema: { summary: "Log head", params: S.IdParams, response: { 200: S.LogHead, ...S.errors } } },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await committedLog(id);
      const a = await store.lastAnchor(id);
      return {
        treeSize: size,
        rootHash: await log.root(size),
        anchored:
          a === null
            ? null
            : {
                treeSize: a.treeSize,
                rootHash: a.rootHash,
                txHash: a.txHash,
                blockNumber: a.blockNumber ?? 0,
                anchoredAt: a.anchoredAt ?? 0,
              },
      };
    },
  );

  app.get(
    "/api/consultations/:id/log/proof",
    {
      schema: {
        summary: "Inclusion proof by leaf hash",
        params: S.IdParams,
        querystring: S.ProofQuery,
        response: { 200: S.Proof, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await committedLog(id);
      const treeSize = req.query.treeSize === undefined ? size : Number(req.query.treeSize);
      if (treeSize > size)
        throw new HttpError(400, "bad_request", `treeSize ${treeSize} exceeds the log (${size})`);
      const leafIndex = await store.findLeaf(id, req.query.leafHash as Hex);
      if (leafIndex === null || leafIndex >= size)
        throw new HttpError(404, "not_found", "no leaf with that hash");
      if (leafIndex >= treeSize) {
        throw new HttpError(400, "bad_request", `leaf ${leafIndex} is not in the tree of size ${treeSize}`);
      }
      return {
        leafIndex,
        treeSize,
        rootHash: await log.root(treeSize),
        proof: await log.inclusionProof(leafIndex, treeSize),
      };
    },
  );

  app.get(
    "/api/consultations/:id/log/consistency",
    {
      schema: {
        summary: "Consistency proof between two sizes",
        params: S.IdParams,
        querystring: S.ConsistencyQuery,
        response: { 200: S.Consistency, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await committedLog(id);
      const first = Number(req.query.first);
      const second = req.query.second === undefined ? size : Number(req.query.second);
      if (second > size)
        throw new HttpError(400, "bad_request", `second ${second} exceeds the log (${size})`);
      if (first > second) throw new HttpError(400, "bad_request", "first must not exceed second");
      return { first, second, proof: await log.consistencyProof(first, second) };
    },
  );

  app.get(
    "/api/consultations/:id/log/entries",
    {
      schema: {
        summary: "Entries [start, end), at most 1,000",
        params: S.IdParams,
        querystring: S.EntriesQuery,
        response: { 200: S.Entries, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const c = await store.getConsultation(id);
      if (!c) throw new HttpError(404, "not_found", `consultation ${id} does not exist`);
      const start = Number(req.query.start);
      const end = Number(req.query.end);
      if (end <= start) throw new HttpError(400, "bad_request", "end must be greater than start");
      if (end - start > 1000) throw new HttpError(400, "bad_request", "at most 1,000 entries per request");
      if (start >= c.treeSize)
        throw new HttpError(400, "bad_request", `start ${start} is beyond the log (${c.treeSize})`);
      const rows = await store.getEntries(id, start, Math.min(end, c.treeSize));
      return { entries: rows.map((e) => ({ index: e.index, leaf: e.leaf, leafHash: e.leafHash })) };
    },
  );

  app.post(
    "/api/consultations/:id/close",
    {
      ...auth,
      config: rl,
      schema: {
        ...auth.schema,
        summary: "Close (agency, after closesAt): anchor the final head and publish the tally",
        params: S.IdParams,
        body: S.EmptyBody,
        response: { 200: S.Tally, ...S.errors },
      },
    },
    async (req) => {
      const who = requireRole(req, "agency");
      const id = Number(req.params.id);
      const { c } = await load(id, true);
      ownAgency(who, c);
      if (clock.now() / 1000 < c.closesAt) {
        throw new HttpError(
          409,
          "not_closed",
          `the consultation closes at ${new Date(c.closesAt * 1000).toISOString()}`,
        );
      }
      if (!anchorer) throw new HttpError(503, "chain_unavailable", "no chain is configured");
      const t = await anchorer.close(id);
      cache.delete(id);
      return { document: JSON.parse(t.document), tallyHash: t.tallyHash, txHash: t.txHash };
    },
  );

  app.get(
    "/api/consultations/:id/tally",
    {
      schema: { summary: "The published tally", params: S.IdParams, response: { 200: S.Tally, ...S.errors } },
    },
    async (req) => {
      const id = Number(req.params.id);
      const c = await store.getConsultation(id);
      if (!c) throw new HttpError(404, "not_found", `consultation ${id} does not exist`);
      if (!c.tally) {
        const st = statusOf(c, clock.now());
        throw new HttpError(
          409,
          "no_tally",
          st === "closed" ? "closed; the tally is not published yet" : `the consultation is ${st}`,
        );
      }
      return { document: JSON.parse(c.tally.document), tallyHash: c.tally.hash, txHash: c.tally.txHash };
    },
  );

  app.get(
    "/api/consultations/:id/export",
    {
      schema: {
        summary: "Every entry as NDJSON: {index, leaf, leafHash, text?, salt?, withheld?}",
        params: S.IdParams,
        produces: ["application/x-ndjson"],
        response: { 200: { type: "string" } as never, ...S.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const c = await store.getConsultation(id);
      if (!c) throw new HttpError(404, "not_found", `consultation ${id} does not exist`);
      const size = c.treeSize;
      async function* lines() {
        for (let at = 0; at < size; at += 2000) {
          const rows = await store.getEntries(id, at, Math.min(size, at + 2000));
          let chunk = "";
          for (const e of rows) {
            const o: Record<string, unknown> = { index: e.index, leaf: e.leaf, leafHash: e.leafHash };
            if (e.withheld) o.withheld = true;
            else if (e.text !== null && e.salt !== null) {
              o.text = e.text;
              o.salt = e.salt;
            }
            chunk += `${JSON.stringify(o)}\n`;
          }
          yield chunk;
        }
      }
      reply.type("application/x-ndjson; charset=utf-8");
      reply.header("content-disposition", `attachment; filename="consultation-${id}.ndjson"`);
      return reply.send(Readable.from(lines()));
    },
  );

  // ---------- web client ----------
  const webIndex = join(config.webDist, "index.html");
  if (existsSync(webIndex)) {
    await app.register(fastifyStatic, { root: config.webDist, prefix: "/", wildcard: false });
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.method === "GET" && !req.url.startsWith("/api/") && existsSync(webIndex)) {
      return reply.sendFile("index.html");
    }
    return reply
      .status(404)
      .send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` });
  });

  // ---------- lifecycle ----------
  const startAnchorer = deps.startAnchorer ?? config.anchor.enabled;
  app.addHook("onReady", async () => {
    if (anchorer && startAnchorer) anchorer.start();
  });
  app.addHook("onClose", async () => {
    if (anchorer) await anchorer.stop();
    if (!deps.store) await store.close();
  });
  return app;
}
