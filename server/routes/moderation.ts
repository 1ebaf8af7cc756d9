/** POST /api/consultations/:id/entries/:index/withhold: the owning agency withholds an opinion's text. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { authorPseudonym } from "../../protocol/index.ts";
import { ServiceError } from "../errors.ts";
import * as S from "../schemas.ts";
import { authRoute, type RouteOptions } from "./context.ts";

export async function moderationRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { ingest, config } = ctx.gopy;
  app.post(
    "/api/consultations/:id/entries/:index/withhold",
    {
      ...authRoute(),
      config: ctx.rl,
      schema: {
        ...authRoute().schema,
        summary: "Withhold an opinion's text (agency): appends a moderation entry",
        params: S.EntryParams,
        body: S.WithholdBody,
        response: { 201: S.Appended, ...S.errors },
      },
    },
    async (req, reply) => {
      const { who, id, c } = await ctx.owned(req);
      if (c.tally) throw new ServiceError(409, "closed", "the tally is published");
      const a = await ingest.submit(id, {
        kind: "moderation",
        target: Number(req.params.index),
        reason: req.body.reason,
        by: authorPseudonym(config.pseudonymSecret, String(id), `officer:${who.sub}`),
      });
      return reply.status(201).send({ index: a.index, leafHash: a.leafHash });
    },
  );
}
