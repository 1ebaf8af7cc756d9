/** POST /api/consultations/:id/entries/:index/withhold: the owning agency withholds an opinion's text. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { pseudonym } from "../../protocol/index.ts";
import { ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";

export async function moderationRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { ingest, config } = gopy;
  app.post(
    "/consultations/:id/entries/:index/withhold",
    {
      schema: {
        summary: "Withhold an opinion's text (agency): appends a moderation entry",
        params: schemas.EntryParams,
        body: schemas.WithholdBody,
        response: { 201: schemas.Appended, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const { staff, consultation } = await consultations.owned(req, id);
      if (consultation.tally) throw new ServiceError(409, "closed", "the tally is published");
      const appended = await ingest.submit(id, {
        kind: "moderation",
        target: Number(req.params.index),
        reason: req.body.reason,
        by: pseudonym(config.pseudonymSecret, "officer", String(id), staff.sub),
      });
      return reply.status(201).send({ index: appended.index, leafHash: appended.leafHash });
    },
  );
}
