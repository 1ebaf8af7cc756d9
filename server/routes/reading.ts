/**
 * Public reading (issue 12 §3): one section's opinions, newest first, with filters, full-text search and opaque
 * cursors; its campaigns; a consultation's stats for the dashboard. All served from the reading index
 * (server/reading.ts), which each request nudges so entries committed by another instance are indexed too.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Gopy } from "../app.ts";
import { ServiceError } from "../errors.ts";
import { DEFAULT_PAGE, foldWords, readingPage } from "../reading.ts";
import * as schemas from "../schemas.ts";
import type { ConsultationRecord, ReadingFilter } from "../store/index.ts";

/**
 * Whether this request may see the consultation's counts: always after closesAt, while open only when the agency
 * chose public counts, or for its own staff (a bearer token is verified when one is sent).
 */
async function countsVisible(gopy: Gopy, req: FastifyRequest, c: ConsultationRecord): Promise<boolean> {
  if (c.publicCounts || c.tally || gopy.clock.now() >= c.closesAt * 1000) return true;
  const header = req.headers.authorization;
  if (!header || !/^Bearer [A-Za-z0-9_.-]+$/.test(header)) return false;
  const identity = await gopy.auth.verify(header.slice("Bearer ".length));
  return identity.role === "agency" && identity.agency === c.agency;
}

async function requireCounts(gopy: Gopy, req: FastifyRequest, c: ConsultationRecord): Promise<void> {
  if (!(await countsVisible(gopy, req, c))) {
    throw new ServiceError(
      403,
      "counts_hidden",
      "the agency keeps counts private until the consultation closes (its staff see them)",
    );
  }
}

export async function readingRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store, config } = gopy;

  app.get(
    "/consultations/:id/sections/:section/opinions",
    {
      schema: {
        summary:
          "Public opinions of one section, newest first (cursor pagination, filters, full-text search)",
        params: schemas.SectionParams,
        querystring: schemas.ReadingQuery,
        response: { 200: schemas.OpinionPage, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { section } = req.params;
      await consultations.get(id);
      gopy.reading.poke(id);
      const q = req.query;
      const filter: ReadingFilter = {};
      if (q.stance !== undefined) filter.stance = q.stance;
      if (q.channel !== undefined) filter.channel = q.channel;
      if (q.campaign !== undefined) filter.campaign = Number(q.campaign);
      if (q.q !== undefined) {
        const words = foldWords(q.q);
        if (words.length === 0)
          throw new ServiceError(400, "bad_request", "q must contain a letter or a digit");
        if (words.length > 16) throw new ServiceError(400, "bad_request", "q has more than 16 words");
        filter.words = words;
      }
      const limit = q.limit === undefined ? DEFAULT_PAGE : Number(q.limit);
      const { readings, next } = await readingPage(
        store,
        config.pseudonymSecret,
        id,
        section,
        filter,
        q.cursor,
        limit,
      );
      return {
        opinions: readings.map((r) => ({
          leafIndex: r.index,
          stance: r.stance as "agree",
          channel: r.channel as "online",
          submittedAt: r.submittedAt,
          text: r.text,
          withheldReason: r.text === null ? (r.withheldReason ?? "withheld") : null,
          campaign: r.campaign,
        })),
        next,
      };
    },
  );

  app.get(
    "/consultations/:id/sections/:section/campaigns",
    {
      schema: {
        summary: "Campaigns (groups of near-identical opinions) of one section, largest first",
        params: schemas.SectionParams,
        querystring: schemas.CampaignQuery,
        response: { 200: schemas.CampaignList, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      await requireCounts(gopy, req, consultation);
      gopy.reading.poke(id);
      const limit = req.query.limit === undefined ? DEFAULT_PAGE : Number(req.query.limit);
      return {
        campaigns: await store.campaigns(id, req.params.section, limit),
        indexedSize: await store.readingProgress(id),
      };
    },
  );

  app.get(
    "/consultations/:id/stats",
    {
      schema: {
        summary:
          "Counts for the dashboard: per section and stance, per channel, arrivals per hour (when counts are visible)",
        params: schemas.IdParams,
        response: { 200: schemas.Stats, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      await requireCounts(gopy, req, consultation);
      gopy.reading.poke(id);
      const stats = await store.readingStats(id);
      return { publicCounts: consultation.publicCounts, treeSize: consultation.treeSize, ...stats };
    },
  );
}
