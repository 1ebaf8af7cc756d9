/** Operations: GET /api/health and GET /metrics (Prometheus). */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import * as S from "../schemas.ts";
import type { RouteOptions } from "./context.ts";

export async function opsRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, chain, clock, config, metrics } = ctx.gopy;

  app.get(
    "/api/health",
    { schema: { summary: "Health", response: { 200: S.Health, 503: S.Health } } },
    async (_req, reply) => {
      const db = await store.ping();
      let b = { backlog: 0, overdue: 0 };
      if (db) b = await store.backlog(clock.now() - config.anchor.maxDelayMs);
      let chainInfo: {
        chainId: number | null;
        contract: string;
        block: number | null;
        rpcUrl?: string;
      } | null = null;
      let chainOk = true;
      if (chain) {
        chainInfo = { chainId: ctx.cachedChainId(), contract: chain.address, block: null };
        if (config.chain.publicRpcUrl) chainInfo.rpcUrl = config.chain.publicRpcUrl;
        try {
          chainInfo.block = await chain.blockNumber();
          chainInfo.chainId = (await ctx.chainRef())?.chainId ?? null;
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
}
