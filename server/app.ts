/**
 * buildApp(config, deps?): the whole service as a Fastify instance. It wires the parts (store, chain, ingest,
 * anchorer, metrics, auth) and composes the route plugins of server/routes/, one per concern.
 * Nothing here reads process.env; nothing here speaks SQL.
 */
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { receiptKeyFromSeed } from "../protocol/index.ts";
import { Anchorer } from "./anchorer.ts";
import { createDevIdp, registerAuth } from "./auth.ts";
import { chainErrorMessage, type RegistryClient, ViemRegistry } from "./chain/registry.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { DraftPublisher } from "./drafts.ts";
import { setupCors, setupErrors, setupParsing } from "./http.ts";
import { Ingest, keyedHash } from "./ingest.ts";
import { createMetrics } from "./metrics.ts";
import { consultationRoutes } from "./routes/consultations.ts";
import { createRouteContext } from "./routes/context.ts";
import { devIdpRoutes } from "./routes/dev-idp.ts";
import { exportRoutes } from "./routes/export.ts";
import { keysRoutes } from "./routes/keys.ts";
import { logRoutes } from "./routes/log.ts";
import { meRoutes } from "./routes/me.ts";
import { moderationRoutes } from "./routes/moderation.ts";
import { opinionRoutes } from "./routes/opinions.ts";
import { opsRoutes } from "./routes/ops.ts";
import { staticRoutes } from "./routes/static.ts";
import { openStore, type Store } from "./store/index.ts";

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

  const m = createMetrics(store, clock, config);
  const receiptKey = receiptKeyFromSeed(config.receiptKeySeed);
  const ingest = new Ingest({
    store,
    clock,
    receiptKey,
    maxAnchorDelayMs: config.anchor.maxDelayMs,
    groupCommitMax: config.ingest.groupCommitMax,
    onCommit: (_c, n, online, offline) => {
      m.batchSize.observe(n);
      if (online > 0) m.accepted.inc({ channel: "online" }, online);
      if (offline > 0) m.accepted.inc({ channel: "offline" }, offline);
    },
  });
  const drafts = chain
    ? new DraftPublisher({
        store,
        chain,
        clock,
        log: app.log,
        txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
        draftUri: (hash) => `${config.publicUrl}/api/drafts/${hash}`,
      })
    : null;
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
        beforeRound: () =>
          drafts!
            .reconcile()
            .catch((e) => app.log.warn({ err: chainErrorMessage(e) }, "draft reconciliation failed")),
        onAnchored: (c, size, gas) => {
          m.gasSpent.inc(gas);
          m.anchoredSize.set({ consultation: String(c) }, size);
        },
      })
    : null;
  if (config.devIdp && config.nodeEnv === "production") {
    throw new Error("DEV_IDP: the development identity provider cannot run with NODE_ENV=production");
  }
  const devIdp = config.devIdp ? createDevIdp(config) : null;

  const gopy = {
    config,
    store,
    chain,
    clock,
    ingest,
    anchorer,
    drafts,
    receiptKey,
    devIdp,
    metrics: m.registry,
  };
  app.decorate("gopy", gopy);

  // ---------- parsing, errors, shared plugins (root: inherited by every route plugin) ----------
  setupParsing(app, config);
  setupErrors(app);
  setupCors(app);
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

  // ---------- routes: one encapsulated plugin per concern ----------
  const ctx = createRouteContext(gopy);
  await app.register(opsRoutes, { ctx });
  await app.register(keysRoutes, { ctx });
  if (devIdp) await app.register(devIdpRoutes, { ctx, devIdp });
  await app.register(consultationRoutes, { ctx });
  await app.register(opinionRoutes, { ctx });
  await app.register(meRoutes, { ctx });
  await app.register(moderationRoutes, { ctx });
  await app.register(logRoutes, { ctx });
  await app.register(exportRoutes, { ctx });
  await app.register(staticRoutes, { ctx });

  // ---------- lifecycle ----------
  const startAnchorer = deps.startAnchorer ?? config.anchor.enabled;
  app.addHook("onReady", async () => {
    if (anchorer && startAnchorer) anchorer.start();
    // settle draft transactions a crash left pending (also every anchoring round, e.g. after a chain outage)
    else if (drafts) {
      drafts
        .reconcile()
        .catch((e) => app.log.warn({ err: chainErrorMessage(e) }, "draft reconciliation failed"));
    }
  });
  app.addHook("onClose", async () => {
    if (anchorer) await anchorer.stop();
    if (!deps.store) await store.close();
  });
  return app;
}
