/**
 * POST /api/consultations/:id/entries/:index/withhold: the owning agency withholds an opinion's text; and the
 * public moderation log, GET /api/consultations/:id/moderation: every withholding, its reason and the officer's
 * pseudonym, read from the log's own moderation entries (what the auditor recounts), in log order.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { decodeEntry, pseudonym } from "../../protocol/index.ts";
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

/** The public moderation log (no sign-in). */
export async function moderationLogRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  app.get(
    "/consultations/:id/moderation",
    {
      schema: {
        summary:
          "The public moderation log: every withheld text, with its reason code and the officer's pseudonym",
        params: schemas.IdParams,
        querystring: schemas.ModerationLogQuery,
        response: { 200: schemas.ModerationLog, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      await consultations.get(id);
      const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
      const after = req.query.after === undefined ? -1 : Number(req.query.after);
      const rows = await gopy.store.listModerations(id, after, limit + 1);
      const page = rows.slice(0, limit);
      return {
        moderation: page.map((row) => {
          const entry = decodeEntry(row.leaf);
          if (entry.type !== "moderation")
            throw new ServiceError(500, "internal", `entry ${row.index} is not a moderation entry`);
          return {
            index: row.index,
            leafHash: row.leafHash,
            target: entry.target,
            action: entry.action,
            reason: entry.reason,
            by: entry.by,
            at: entry.at,
          };
        }),
        next: rows.length > limit ? String(page[page.length - 1]!.index) : null,
      };
    },
  );
}
