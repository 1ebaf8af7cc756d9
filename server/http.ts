/**
 * Request parsing and error replies for the whole app (set on the root instance, inherited by every route plugin):
 * strict UTF-8 JSON without `__proto__` keys, UTF-8 CSV (both under the route's body limit: BODY_LIMIT, the import
 * route IMPORT_BODY_LIMIT), `{error, message}` replies with the right status for every kind of failure, and the
 * CORS policy of /api.
 */
import type { FastifyCorsOptions } from "@fastify/cors";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { BaseError as ViemError } from "viem";
import { ProtocolError } from "../protocol/index.ts";
import { chainErrorMessage, chainFailure } from "./chain/registry.ts";
import { badRequest, ServiceError } from "./errors.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON.parse makes `__proto__` an own property, which a later spread or Object.assign turns into a prototype: it is
 * refused at any depth. Every other key, `constructor` included (a section may be called so), is data.
 */
function refuseProtoKey(key: string, value: unknown): unknown {
  if (key === "__proto__") throw badRequest('forbidden key "__proto__"');
  return value;
}

/** A JSON request body: strict UTF-8, no `__proto__` key; null when empty. Throws a 400 ServiceError. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return null;
  let text: string;
  try {
    text = strictUtf8.decode(body);
  } catch {
    throw badRequest("body is not valid UTF-8");
  }
  try {
    // A key reads `__proto__` only if the text says so, or spells it with \u escapes: a text with neither (nearly
    // every body) is parsed without the reviver, which made parsing several times slower.
    return text.includes("__proto__") || text.includes("\\u")
      ? JSON.parse(text, refuseProtoKey)
      : JSON.parse(text);
  } catch (e) {
    if (e instanceof ServiceError) throw e;
    throw badRequest(`malformed JSON: ${(e as Error).message}`);
  }
}

export function setupParsing(app: FastifyInstance): void {
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (e) {
      done(e as ServiceError, undefined);
    }
  });
  // no bodyLimit of its own: the route's applies (BODY_LIMIT everywhere but the import route)
  app.addContentTypeParser("text/csv", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, strictUtf8.decode(body as Buffer));
    } catch {
      done(badRequest("body is not valid UTF-8"), undefined);
    }
  });
}

/**
 * Sends text that is already JSON (a receipt as stored) as it is: Fastify serializes objects, never a string sent
 * with a JSON content type, so the bytes the citizen gets are the stored ones and cost no second serialization.
 */
export function sendJsonText(reply: FastifyReply, statusCode: number, json: string): FastifyReply {
  return reply.status(statusCode).type("application/json; charset=utf-8").send(json);
}

/** The JSON 404 of a route that does not exist. */
export function noSuchRoute(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .status(404)
    .send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` });
}

export function setupErrors(app: FastifyInstance): void {
  app.setErrorHandler((thrown, request, reply) => {
    const error = thrown as Error & {
      statusCode?: number;
      code?: string;
      validation?: unknown;
      validationContext?: string;
    };
    if (error instanceof ViemError) {
      // a chain call failed below the service's own checks: classified by viem's error type
      request.log.warn({ err: chainErrorMessage(error) }, "chain error");
      const failure = chainFailure(error);
      return reply.status(failure.statusCode).send({ error: failure.code, message: failure.message });
    }
    if (error instanceof ServiceError) {
      if (error.code.startsWith("chain_")) request.log.warn({ err: error.message }, "chain error");
      const body = { error: error.code, message: error.message };
      return reply
        .status(error.statusCode)
        .send(error.reason === undefined ? body : { ...body, reason: error.reason });
    }
    if (error instanceof ProtocolError)
      return reply.status(400).send({ error: "bad_request", message: error.message });
    if (error.validation) {
      return reply
        .status(400)
        .send({ error: "bad_request", message: `${error.validationContext ?? "request"}: ${error.message}` });
    }
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.status(413).send({ error: "payload_too_large", message: "request body is too large" });
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.status(415).send({ error: "unsupported_media_type", message: error.message });
    }
    if (error.statusCode === 429) {
      return reply.status(429).send({ error: "rate_limited", message: "too many requests; slow down" });
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error: "bad_request", message: error.message });
    }
    request.log.error({ err: error }, "internal error");
    return reply.status(500).send({ error: "internal", message: "internal error" });
  });
}

/**
 * CORS for /api/* (@fastify/cors, registered in the /api scope only), so a copy of the web client hosted anywhere
 * can use this service: every origin may read the public routes, and may call the authenticated ones with its own
 * `Authorization: Bearer` token. No credentials mode (`Access-Control-Allow-Credentials` is never sent): the service
 * has no cookies, and a page from another origin can only send a token it already holds, so allowing any origin
 * exposes nothing a browser would attach by itself. /metrics, /docs and the web client are not cross-origin.
 */
export const apiCors: FastifyCorsOptions = {
  origin: "*",
  credentials: false,
  methods: ["GET", "HEAD", "POST", "PUT"],
  allowedHeaders: ["authorization", "content-type", "idempotency-key"],
  exposedHeaders: ["content-disposition", "idempotent-replayed", "retry-after"],
  maxAge: 600,
};
