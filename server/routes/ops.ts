/**
 * Operations: GET /api/health (public: liveness, chain, backlog, counted maps' lag) and GET /metrics (Prometheus, operators only: a
 * bearer token from METRICS_TOKEN; not served without one). Metrics are counters, gauges and coarse histograms of
 * the service as a whole; nothing in them is per request, so they give no timing to link to a leaf.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { notFound, ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";

export async function healthRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, chain, chainId, clock, config, auth } = app.gopy;
  app.get(
    "/health",
    { schema: { summary: "Health", response: { 200: schemas.Health, 503: schemas.Health } } },
    async (_req, reply) => {
      const db = await store.ping();
      let backlog = { backlog: 0, overdue: 0 };
      let counted = { lag: 0, unmappedHeads: 0 };
      if (db) {
        backlog = await store.backlog(clock.now() - config.anchor.maxDelayMs);
        const lag = await store.countedLag();
        counted = { lag: lag.entries, unmappedHeads: lag.unmappedHeads };
      }
      let chainInfo: {
        chainId: number | null;
        contract: string;
        block: number | null;
        rpcUrl?: string;
      } | null = null;
      let chainOk = true;
      if (chain && chainId) {
        chainInfo = { chainId: chainId.checkedId, contract: chain.address, block: null };
        if (config.chain.publicRpcUrl) chainInfo.rpcUrl = config.chain.publicRpcUrl;
        try {
          chainInfo.block = await chain.blockNumber();
          // a chain that is not CHAIN_ID's is not a healthy chain
          chainInfo.chainId = await chainId.verify();
        } catch {
          chainOk = false;
        }
      }
      const ok = db && chainOk;
      return reply.status(ok ? 200 : 503).send({
        ok,
        chain: chainInfo,
        db,
        backlog: backlog.backlog,
        overdue: backlog.overdue,
        counted,
        auth: { issuers: auth.status() },
      });
    },
  );
}

const digest = (text: string) => createHash("sha256").update(text).digest();

export async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { config, metrics } = app.gopy;
  const expected = config.metricsToken === null ? null : digest(config.metricsToken);
  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics (operators: METRICS_TOKEN)", hide: true } },
    async (req, reply) => {
      if (expected === null) throw notFound("metrics are not served: set METRICS_TOKEN");
      const presented = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
      // compare digests in constant time: the token's length and prefix leak nothing
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        reply.header("www-authenticate", 'Bearer realm="metrics"');
        throw new ServiceError(401, "unauthorized", "metrics need the operators' bearer token");
      }
      reply.type(metrics.contentType);
      return metrics.metrics();
    },
  );
}
