/**
 * Consultations: list, open (agency), detail, drafts by hash, new draft versions (agency), close (agency) and the
 * published tally.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { draftHash } from "../../protocol/index.ts";
import { toSeconds } from "../clock.ts";
import { ServiceError } from "../errors.ts";
import * as S from "../schemas.ts";
import type { Hex } from "../store/index.ts";
import { authRoute, type RouteOptions, statusOf } from "./context.ts";

export async function consultationRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock, anchorer } = ctx.gopy;

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
      ...authRoute(),
      config: ctx.rl,
      schema: {
        ...authRoute().schema,
        summary: "Open a consultation (agency)",
        body: S.CreateConsultationBody,
        response: { 201: S.DraftCreated, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = ctx.requireRole(req, "agency");
      const ch = ctx.needChain();
      const agency = who.agency!;
      if (!ch.hasAgency(agency)) {
        throw new ServiceError(
          403,
          "forbidden",
          `agency ${agency} has no operator key configured in this service`,
        );
      }
      const { title, summary, sections } = req.body;
      const nowS = toSeconds(clock.now());
      const opensAt = Math.max(req.body.opensAt, nowS);
      const closesAt = req.body.closesAt;
      if (closesAt <= nowS) throw new ServiceError(400, "bad_request", "closesAt must be in the future");
      if (closesAt <= opensAt) throw new ServiceError(400, "bad_request", "closesAt must be after opensAt");
      const hash = draftHash({ title, summary, sections });
      // intent written before the broadcast, records after: a crash in between is reconciled (server/drafts.ts)
      const { id, txHash } = await ctx
        .needPublisher()
        .open(agency, { hash, title, summary, sections }, opensAt, closesAt);
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
      const { c, d } = await ctx.load(Number(req.params.id), true);
      return {
        id: c.id,
        agency: c.agency,
        title: c.title,
        summary: c.summary,
        status: statusOf(c, clock.now()),
        opensAt: c.opensAt,
        closesAt: c.closesAt,
        draft: { version: d.version, hash: d.hash, sections: d.sections },
        chain: await ctx.chainRef(),
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
      if (!d) throw new ServiceError(404, "not_found", "no draft with that hash");
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
      ...authRoute(),
      config: ctx.rl,
      schema: {
        ...authRoute().schema,
        summary: "Publish a new draft version (agency)",
        params: S.IdParams,
        body: S.DraftBody,
        response: { 200: S.DraftCreated, ...S.errors },
      },
    },
    async (req) => {
      const { id, c } = await ctx.owned(req);
      if (clock.now() / 1000 >= c.closesAt)
        throw new ServiceError(409, "closed", "the consultation is closed");
      const { title, summary, sections } = req.body;
      const hash = draftHash({ title, summary, sections });
      const { version, txHash } = await ctx
        .needPublisher()
        .revise(c.agency, id, { hash, title, summary, sections });
      ctx.forget(id);
      return { id, draftHash: hash, draftVersion: version, txHash };
    },
  );

  app.post(
    "/api/consultations/:id/close",
    {
      ...authRoute(),
      config: ctx.rl,
      schema: {
        ...authRoute().schema,
        summary: "Close (agency, after closesAt): anchor the final head and publish the tally",
        params: S.IdParams,
        body: S.EmptyBody,
        response: { 200: S.Tally, ...S.errors },
      },
    },
    async (req) => {
      const { id, c } = await ctx.owned(req);
      if (clock.now() / 1000 < c.closesAt) {
        throw new ServiceError(
          409,
          "not_closed",
          `the consultation closes at ${new Date(c.closesAt * 1000).toISOString()}`,
        );
      }
      if (!anchorer) throw new ServiceError(503, "chain_unavailable", "no chain is configured");
      const t = await anchorer.close(id);
      ctx.forget(id);
      return { document: JSON.parse(t.document), tallyHash: t.tallyHash, txHash: t.txHash };
    },
  );

  app.get(
    "/api/consultations/:id/tally",
    {
      schema: { summary: "The published tally", params: S.IdParams, response: { 200: S.Tally, ...S.errors } },
    },
    async (req) => {
      const c = await ctx.consultation(Number(req.params.id));
      if (!c.tally) {
        const st = statusOf(c, clock.now());
        throw new ServiceError(
          409,
          "no_tally",
          st === "closed" ? "closed; the tally is not published yet" : `the consultation is ${st}`,
        );
      }
      return { document: JSON.parse(c.tally.document), tallyHash: c.tally.hash, txHash: c.tally.txHash };
    },
  );
}
