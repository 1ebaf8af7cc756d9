/**
 * The agency's response to the opinions, article by article: the latest document, exactly the bytes whose SHA-256
 * the registry holds (public), and publishing a new version after the tally (the owning agency, in the
 * authenticated scope). docs/PROTOCOL.md "Response", docs/SERVICE.md.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import {
  type ArticleResponse,
  assertArticleResponse,
  normalizeArticleResponse,
  unansweredArticles,
  unknownArticles,
} from "../../protocol/index.ts";
import { badRequest, notFound, ServiceError } from "../errors.ts";
import { sendJsonText } from "../http.ts";
import * as schemas from "../schemas.ts";
import { checkedResponses, statusOf } from "./context.ts";

export async function responseRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store } = gopy;

  app.get(
    "/consultations/:id/response",
    {
      schema: {
        summary:
          "The agency's latest response (or `?version=n`): the exact canonical bytes whose SHA-256 is the registry's responseHash",
        params: schemas.IdParams,
        querystring: schemas.ResponseQuery,
        produces: ["application/json"],
        response: {
          200: { type: "string", description: "the canonical response document (docs/PROTOCOL.md)" } as never,
          ...schemas.errors,
        },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      const version = req.query.version === undefined ? undefined : Number(req.query.version);
      const found = await store.getResponse(id, version);
      if (!found) {
        if (version !== undefined) throw notFound(`consultation ${id} has no response version ${version}`);
        throw notFound(
          consultation.tally
            ? `consultation ${id} has no response yet`
            : `consultation ${id} is ${statusOf(consultation, gopy.clock.now())}: no response before the tally`,
        );
      }
      // sent as is: these bytes are what the hash on chain covers
      return sendJsonText(
        reply.header("etag", `"${found.hash}"`).header("x-response-version", String(found.version)),
        200,
        found.document,
      );
    },
  );
}

/** Publishing a response (registered in the authenticated scope). */
export async function responseStaffRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;

  app.post(
    "/consultations/:id/response",
    {
      // one answer of up to 20,000 characters per article: more than BODY_LIMIT allows for a long draft
      bodyLimit: gopy.config.importBodyLimit,
      schema: {
        summary: "Publish the agency's response, article by article (agency, after the tally)",
        params: schemas.IdParams,
        body: schemas.ResponseBody,
        response: { 201: schemas.ResponsePublished, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const { consultation, draft } = await consultations.owned(req, id);
      if (!consultation.tally) {
        const status = statusOf(consultation, gopy.clock.now());
        throw new ServiceError(
          409,
          "no_tally",
          status === "closed"
            ? "the consultation is closed but its tally is not published yet: close it first"
            : `the consultation is ${status}: a response comes after the tally`,
        );
      }
      const given = req.body.articles as Record<string, ArticleResponse>;
      const sectionIds = draft.sections.map((s) => s.id);
      const unknown = unknownArticles({ articles: given }, sectionIds);
      if (unknown.length > 0) {
        throw badRequest(
          `articles: the final draft (version ${draft.version}) has no article ${unknown.map((s) => `"${s}"`).join(", ")}`,
        );
      }
      const missing = unansweredArticles({ articles: given }, sectionIds);
      if (missing.length > 0) {
        throw badRequest(
          `articles: every article needs a response; missing ${missing.map((s) => `"${s}"`).join(", ")}`,
        );
      }
      const treeSize = JSON.parse(consultation.tally.document).treeSize as number;
      // in draft order, normalised: the document is the same whatever order staff sent
      const articles: Record<string, ArticleResponse> = {};
      for (const sid of sectionIds) {
        const answer = normalizeArticleResponse(given[sid]!);
        assertArticleResponse(sid, answer);
        const beyond = answer.entries?.find((index) => index >= treeSize);
        if (beyond !== undefined) {
          throw badRequest(
            `articles.${sid}.entries: ${beyond} is not a leaf of the tallied log (size ${treeSize})`,
          );
        }
        articles[sid] = answer;
      }
      const publisher = await checkedResponses(gopy);
      const published = await publisher.publish(consultation, draft, articles);
      req.log.info({ consultation: id, version: published.version }, "response published");
      return reply.status(201).send(published);
    },
  );
}
