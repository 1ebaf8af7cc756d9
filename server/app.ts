/**
 * buildApp(config, deps?): the whole service as a Fastify instance. It wires the parts (store, chain, ingest,
 * anchorer, metrics, auth), exposes them as decorators, and composes the route plugins of server/routes/, one per
 * concern: /api (CORS) with its public routes and an authenticated scope (bearer token checked in onRequest, before
 * any body is read; per-identity rate limit), /metrics for operators, and the web client.
 * Nothing here reads process.env; nothing here speaks SQL.
 */
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { receiptKeyFromSeed } from "../protocol/index.ts";
import { Anchorer } from "./anchorer.ts";
import { Authenticator, authenticate } from "./auth.ts";
import { chainErrorMessage, type RegistryClient, ViemRegistry } from "./chain/registry.ts";
import { ChainIdCheck } from "./chain-id.ts";
import { Checkpoints } from "./checkpoints.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { DraftPublisher } from "./drafts.ts";
import { apiCors, noSuchRoute, setupErrors, setupParsing } from "./http.ts";
import { Ingest } from "./ingest.ts";
import { createMetrics } from "./metrics.ts";
import { ReadingIndexer } from "./reading.ts";
import { type ReadingIndex, ReadingThread } from "./reading-thread.ts";
import { ReceiptKeyRegistrar, receiptKeyBytes32 } from "./receipt-keys.ts";
import { ResponsePublisher } from "./responses.ts";
import { attachmentRoutes, attachmentStaffRoutes } from "./routes/attachments.ts";
import { consultationRoutes, consultationStaffRoutes } from "./routes/consultations.ts";
import { Consultations, draftUri, type Gopy, identityKey, responseUri } from "./routes/context.ts";
import { devIdpRoutes } from "./routes/dev-idp.ts";
import { exportRoutes } from "./routes/export.ts";
import { keysRoutes } from "./routes/keys.ts";
import { logRoutes } from "./routes/log.ts";
import { meRoutes } from "./routes/me.ts";
import { moderationLogRoutes, moderationRoutes } from "./routes/moderation.ts";
import { opinionRoutes } from "./routes/opinions.ts";
import { healthRoutes, metricsRoutes } from "./routes/ops.ts";
import { readingRoutes } from "./routes/reading.ts";
import { responseRoutes, responseStaffRoutes } from "./routes/responses.ts";
import { staticRoutes } from "./routes/static.ts";
import { tlogRoutes } from "./routes/tlog.ts";
import { openStore, type Store } from "./store/index.ts";
import { WitnessClient } from "./witnesses.ts";

export type { Gopy } from "./routes/context.ts";

export interface AppDeps {
  store?: Store;
  chain?: RegistryClient | null;
  clock?: Clock;
  /** Start the anchoring loop when the app is ready (default: config.anchor.enabled). */
  startAnchorer?: boolean;
  /** pino logger options or false (default: level from config). */
  logger?: boolean | object;
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

  const metrics = createMetrics(store, clock, config);
  const receiptKey = receiptKeyFromSeed(config.receiptKeySeed);
  // the reading index follows each commit in the background: nothing of it is on the group-commit path; with
  // SQLite's writes off the event loop (SQLITE_WRITER_THREAD), its own writes and reads leave it too
  const readingThread =
    deps.store === undefined &&
    store.kind === "sqlite" &&
    config.sqliteWriterThread &&
    config.sqlitePath !== ":memory:";
  const reading: ReadingIndex = readingThread
    ? new ReadingThread({ path: config.sqlitePath, log: app.log })
    : new ReadingIndexer({ store, log: app.log });
  const checkpoints = new Checkpoints(
    store,
    clock,
    config.log,
    new WitnessClient({
      witnesses: config.log.witnesses,
      timeoutMs: config.log.witnessTimeoutMs,
      log: app.log,
      onFailure: (witness, reason) => metrics.witnessFailures.inc({ witness, reason }),
    }),
  );
  const ingest = new Ingest({
    store,
    clock,
    checkpointKey: (id) => checkpoints.key(id),
    maxAnchorDelayMs: config.anchor.maxDelayMs,
    groupCommitMax: config.ingest.groupCommitMax,
    onCommit: (consultation, entries, online, offline) => {
      reading.committed(consultation);
      metrics.batchSize.observe(entries);
      if (online > 0) metrics.accepted.inc({ channel: "online" }, online);
      if (offline > 0) metrics.accepted.inc({ channel: "offline" }, offline);
    },
  });
  const drafts = chain
    ? new DraftPublisher({
        store,
        chain,
        clock,
        log: app.log,
        txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
        draftUri: (hash) => draftUri(config, hash),
      })
    : null;
  const responses = chain
    ? new ResponsePublisher({
        store,
        chain,
        clock,
        log: app.log,
        txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
        responseUri: (id, version) => responseUri(config, id, version),
      })
    : null;
  // the receipt key goes on chain through the first configured agency's operator key (any operator may add one)
  const receiptKeys = chain
    ? new ReceiptKeyRegistrar({
        store,
        chain,
        clock,
        log: app.log,
        txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
        agencyId: Object.keys(config.chain.agencies)[0] ?? null,
      })
    : null;
  const receiptKeyOnChain = receiptKeyBytes32(receiptKey.publicJwk.x);
  const ensureReceiptKey = () => receiptKeys?.ensure(receiptKeyOnChain);
  const reconcileDrafts = async () => {
    await drafts
      ?.reconcile()
      .catch((e) => app.log.warn({ err: chainErrorMessage(e) }, "draft reconciliation failed"));
    await responses
      ?.reconcile()
      .catch((e) => app.log.warn({ err: chainErrorMessage(e) }, "response reconciliation failed"));
  };
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
        // consultations opened or revised on chain whose records a crash prevented
        // and the receipt key, until the chain holds it (e.g. after an outage at start-up)
        beforeRound: async () => {
          await reconcileDrafts();
          await ensureReceiptKey();
        },
        // every anchored head has a published checkpoint (and so its partial tiles): mirrors prove against it
        onHead: async (consultation, size, rootHash) => {
          await checkpoints.publish(consultation, size, rootHash);
        },
        onAnchored: (consultation, size, gas) => {
          metrics.gasSpent.inc(gas);
          metrics.anchoredSize.set({ consultation: String(consultation) }, size);
        },
      })
    : null;
  if (config.devIdpUrl !== null && config.nodeEnv !== "development") {
    throw new Error("DEV_IDP_URL: the development token mint is served only with NODE_ENV=development");
  }
  const auth = new Authenticator(config, clock, app.log);

  const gopy: Gopy = {
    config,
    store,
    chain,
    chainId: chain ? new ChainIdCheck(chain, config.chain.chainId) : null,
    clock,
    ingest,
    anchorer,
    drafts,
    responses,
    receiptKey,
    checkpoints,
    auth,
    receiptKeys,
    metrics: metrics.registry,
    reading,
  };
  app.decorate("gopy", gopy);
  app.decorate("consultations", new Consultations(store, clock));

  // ---------- parsing, errors, shared plugins (root: inherited by every route plugin) ----------
  setupParsing(app);
  setupErrors(app);
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
  app.decorateRequest("identity", null);

  // ---------- routes: one encapsulated plugin per concern ----------
  await app.register(
    async (api) => {
      await api.register(cors, apiCors);
      api.setNotFoundHandler(noSuchRoute);
      await api.register(healthRoutes);
      await api.register(keysRoutes);
      if (config.devIdpUrl !== null) await api.register(devIdpRoutes);
      await api.register(consultationRoutes);
      await api.register(logRoutes);
      await api.register(exportRoutes);
      await api.register(readingRoutes);
      await api.register(moderationLogRoutes);
      await api.register(responseRoutes);
      await api.register(attachmentRoutes);
      await api.register(async (signedIn) => {
        // the bearer token is checked before the body is read, so no stranger gets a body parsed
        signedIn.addHook("onRequest", authenticate);
        signedIn.addHook("onRoute", (route) => {
          route.schema = { ...route.schema, security: [{ bearer: [] }] };
        });
        await signedIn.register(rateLimit, {
          global: true,
          hook: "onRequest",
          max: config.rateLimit.max,
          timeWindow: config.rateLimit.windowMs,
          // per identity, never per IP address: whole towns share carrier-NAT addresses
          keyGenerator: (req: FastifyRequest) =>
            req.identity ? identityKey(config, req.identity) : "anonymous",
          errorResponseBuilder: (_req, context) => ({
            statusCode: 429,
            error: "rate_limited",
            message: `too many requests; retry in ${Math.ceil(context.ttl / 1000)} s`,
          }),
        });
        await signedIn.register(consultationStaffRoutes);
        await signedIn.register(opinionRoutes);
        await signedIn.register(meRoutes);
        await signedIn.register(moderationRoutes);
        await signedIn.register(responseStaffRoutes);
        await signedIn.register(attachmentStaffRoutes);
      });
    },
    { prefix: "/api" },
  );
  await app.register(tlogRoutes, { prefix: "/logs" });
  await app.register(metricsRoutes);
  await app.register(staticRoutes);

  // ---------- lifecycle ----------
  const startAnchorer = deps.startAnchorer ?? config.anchor.enabled;
  // nothing is signed for the chain before its id is checked against CHAIN_ID
  const onChainChecked = () => {
    void ensureReceiptKey();
    if (anchorer && startAnchorer) anchorer.start();
    // settle draft transactions a crash left pending (also every anchoring round, e.g. after a chain outage)
    else void reconcileDrafts();
  };
  let recheck: NodeJS.Timeout | null = null;
  // discovery runs beside the start, never holding it up: an identity provider that does not answer yet is named in
  // the log and asked again (and by the first token that needs it)
  app.addHook("onReady", async () => {
    void auth.start();
    // entries committed while no indexer ran (a restart, another instance)
    void reading
      .pokeBehind()
      .catch((e) => app.log.warn({ err: String(e) }, "reading index: could not list consultations behind"));
  });
  app.addHook("onReady", async () => {
    const check = gopy.chainId;
    if (!check) return;
    try {
      const chainId = await check.verify();
      if (config.chain.chainId === null) {
        app.log.warn({ chainId }, "CHAIN_ID is not set: the chain RPC_URL serves is trusted as it is");
      }
      onChainChecked();
    } catch (e) {
      // a wrong chain refuses the start; an unreachable one is asked again until it answers
      if (check.mismatch) throw new Error(check.mismatch.message);
      app.log.warn(
        { err: chainErrorMessage(e) },
        "the chain RPC_URL is unreachable at start: CHAIN_ID is not checked yet and nothing is signed until it is; retrying",
      );
      const retryMs = Math.min(config.anchor.intervalMs, 5000);
      recheck = setInterval(() => {
        check.verify().then(
          (chainId) => {
            if (recheck) clearInterval(recheck);
            recheck = null;
            app.log.info({ chainId }, "chain id checked");
            onChainChecked();
          },
          () => {
            if (!check.mismatch) return;
            if (recheck) clearInterval(recheck);
            recheck = null;
            app.log.error(check.mismatch.message);
          },
        );
      }, retryMs);
      recheck.unref();
    }
  });
  app.addHook("onClose", async () => {
    auth.stop();
    if (recheck) clearInterval(recheck);
    if (anchorer) await anchorer.stop();
    await reading.close();
    if (!deps.store) await store.close();
  });
  return app;
}
