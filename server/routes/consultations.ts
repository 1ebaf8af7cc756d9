/**
 * Consultations: list, detail, drafts by hash and the published tally (public); opening, new draft versions and
 * closing (the owning agency, in the authenticated scope).
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { draftHash } from "../../protocol/index.ts";
import { requireRole } from "../auth.ts";
import { toSeconds } from "../clock.ts";
import { agencyNameOf } from "../config.ts";
import { badRequest, notFound, ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";
import type { Attachment, Hex } from "../store/index.ts";
import { resolveAttachments } from "./attachments.ts";
import { chainRef, checkedAnchorer, checkedChain, checkedPublisher, statusOf } from "./context.ts";

export async function consultationRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store, clock } = gopy;

  app.get(
    "/consultations",
    {
      schema: {
        summary: "Consultations, newest first",
        response: { 200: schemas.ConsultationList, ...schemas.errors },
      },
    },
    async () => {
      const now = clock.now();
      const list = await store.listConsultations();
      return {
        consultations: list.map((consultation) => ({
          id: consultation.id,
          agency: consultation.agency,
          agencyName: agencyNameOf(gopy.config, consultation.agency),
          title: consultation.title,
          status: statusOf(consultation, now),
          opensAt: consultation.opensAt,
          closesAt: consultation.closesAt,
        })),
      };
    },
  );

  app.get(
    "/consultations/:id",
    {
      schema: {
        summary: "A consultation",
        params: schemas.IdParams,
        response: { 200: schemas.ConsultationDetail, ...schemas.errors },
      },
    },
    async (req) => {
      const { consultation, draft } = await consultations.withDraft(Number(req.params.id), true);
      return {
        id: consultation.id,
        agency: consultation.agency,
        title: consultation.title,
        summary: consultation.summary,
        status: statusOf(consultation, clock.now()),
        opensAt: consultation.opensAt,
        closesAt: consultation.closesAt,
        draft: {
          version: draft.version,
          hash: draft.hash,
          sections: draft.sections,
          ...attachmentsOf(draft.attachments),
        },
        chain: await chainRef(gopy),
        agencyName: agencyNameOf(gopy.config, consultation.agency),
        publicCounts: consultation.publicCounts,
      };
    },
  );

  app.get(
    "/drafts/:hash",
    {
      schema: {
        summary:
          "A draft by its hash (the draftURI stored on chain): the document, and every consultation version using it",
        params: schemas.HashParams,
        response: { 200: schemas.DraftDocument, ...schemas.errors },
      },
    },
    async (req) => {
      // the hash covers title, summary and sections: every draft stored under it is this same document
      const uses = await store.findDraftsByHash(req.params.hash as Hex);
      const [first] = uses;
      if (!first) throw notFound("no draft with that hash");
      return {
        hash: first.hash,
        title: first.title,
        summary: first.summary,
        sections: first.sections,
        ...attachmentsOf(first.attachments),
        uses: uses.map((draft) => ({ consultation: draft.consultationId, version: draft.version })),
      };
    },
  );

  app.get(
    "/consultations/:id/tally",
    {
      schema: {
        summary: "The published tally",
        params: schemas.IdParams,
        response: { 200: schemas.Tally, ...schemas.errors },
      },
    },
    async (req) => {
      const consultation = await consultations.get(Number(req.params.id));
      if (!consultation.tally) {
        const status = statusOf(consultation, clock.now());
        throw new ServiceError(
          409,
          "no_tally",
          status === "closed" ? "closed; the tally is not published yet" : `the consultation is ${status}`,
        );
      }
      const { document, hash, txHash } = consultation.tally;
      return { document: JSON.parse(document), tallyHash: hash, txHash };
    },
  );
}

/** Routes of the owning agency (registered in the authenticated scope). */
export async function consultationStaffRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { clock } = gopy;

  app.post(
    "/consultations",
    {
      schema: {
        summary: "Open a consultation (agency)",
        body: schemas.CreateConsultationBody,
        response: { 201: schemas.DraftCreated, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const staff = requireRole(req, "agency");
      const agency = staff.agency!;
      const chain = await checkedChain(gopy);
      if (!chain.hasAgency(agency)) {
        throw new ServiceError(
          403,
          "forbidden",
          `agency ${agency} has no operator key configured in this service`,
        );
      }
      const { title, summary, sections } = req.body;
      const attachments = await resolveAttachments(gopy.store, req.body.attachments);
      const nowSeconds = toSeconds(clock.now());
      const opensAt = Math.max(req.body.opensAt, nowSeconds);
      const closesAt = req.body.closesAt;
      if (closesAt <= nowSeconds) throw badRequest("closesAt must be in the future");
      if (closesAt <= opensAt) throw badRequest("closesAt must be after opensAt");
      const hash = draftHash({ title, summary, sections, attachments });
      // intent written before the broadcast, records after: a crash in between is reconciled (server/drafts.ts)
      const publisher = await checkedPublisher(gopy);
      const { id, txHash } = await publisher.open(
        agency,
        { hash, title, summary, sections, attachments },
        opensAt,
        closesAt,
        req.body.publicCounts ?? true,
      );
      req.log.info({ consultation: id, agency }, "consultation opened");
      return reply.status(201).send({ id, draftHash: hash, draftVersion: 1, txHash });
    },
  );

  app.put(
    "/consultations/:id/draft",
    {
      schema: {
        summary: "Publish a new draft version (agency)",
        params: schemas.IdParams,
        body: schemas.DraftBody,
        response: { 200: schemas.DraftCreated, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { consultation } = await consultations.owned(req, id);
      if (clock.now() / 1000 >= consultation.closesAt)
        throw new ServiceError(409, "closed", "the consultation is closed");
      const { title, summary, sections } = req.body;
      const attachments = await resolveAttachments(gopy.store, req.body.attachments);
      const hash = draftHash({ title, summary, sections, attachments });
      const publisher = await checkedPublisher(gopy);
      const { version, txHash } = await publisher.revise(consultation.agency, id, {
        hash,
        title,
        summary,
        sections,
        attachments,
      });
      consultations.forget(id);
      return { id, draftHash: hash, draftVersion: version, txHash };
    },
  );

  app.post(
    "/consultations/:id/close",
    {
      schema: {
        summary: "Close (agency, after closesAt): anchor the final head and publish the tally",
        params: schemas.IdParams,
        body: schemas.EmptyBody,
        response: { 200: schemas.Tally, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { consultation } = await consultations.owned(req, id);
      if (clock.now() / 1000 < consultation.closesAt) {
        throw new ServiceError(
          409,
          "not_closed",
          `the consultation closes at ${new Date(consultation.closesAt * 1000).toISOString()}`,
        );
      }
      const anchorer = await checkedAnchorer(gopy);
      const tally = await anchorer.close(id);
      consultations.forget(id);
      return { document: JSON.parse(tally.document), tallyHash: tally.tallyHash, txHash: tally.txHash };
    },
  );
}

/** A draft's attachments as documents serve them: the member is absent when there are none (as in the hash). */
function attachmentsOf(attachments: Attachment[] | undefined): { attachments?: Attachment[] } {
  return attachments && attachments.length > 0 ? { attachments } : {};
}
