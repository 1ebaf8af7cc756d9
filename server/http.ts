/**
 * Request parsing and error replies for the whole app (set on the root instance, inherited by every route plugin):
 * strict UTF-8 JSON without `__proto__`/`constructor` keys, UTF-8 CSV with its own body limit, and `{error, message}`
 * replies with the right status for every kind of failure.
 */
import type { FastifyInstance } from "fastify";
import { BaseError as ViemError } from "viem";
import { ProtocolError } from "../protocol/index.ts";
import { chainErrorMessage, chainFailure } from "./chain/registry.ts";
import type { Config } from "./config.ts";
import { badRequest, ServiceError } from "./errors.ts";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function rejectProto(key: string, value: unknown): unknown {
  if (key === "__proto__" || key === "constructor") throw badRequest(`forbidden key "${key}"`);
  return value;
}

export function setupParsing(app: FastifyInstance, config: Config): void {
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    const buf = body as Buffer;
    if (buf.length === 0) return done(null, null);
    let text: string;
    try {
      text = strictUtf8.decode(buf);
    } catch {
      return done(badRequest("body is not valid UTF-8"), undefined);
    }
    try {
      done(null, JSON.parse(text, rejectProto));
    } catch (e) {
      if (e instanceof ServiceError) return done(e, undefined);
      done(badRequest(`malformed JSON: ${(e as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser(
    "text/csv",
    { parseAs: "buffer", bodyLimit: config.importBodyLimit },
    (_req, body, done) => {
      try {
        done(null, strictUtf8.decode(body as Buffer));
      } catch {
        done(badRequest("body is not valid UTF-8"), undefined);
      }
    },
  );
}

export function setupErrors(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const e = err as Error & {
      statusCode?: number;
      code?: string;
      validation?: unknown;
      validationContext?: string;
    };
    if (e instanceof ViemError) {
      // a chain call failed below the service's own checks: classified by viem's error type
      request.log.warn({ err: chainErrorMessage(e) }, "chain error");
      const f = chainFailure(e);
      return reply.status(f.statusCode).send({ error: f.code, message: f.message });
    }
    if (e instanceof ServiceError) {
      if (e.code.startsWith("chain_")) request.log.warn({ err: e.message }, "chain error");
      return reply.status(e.statusCode).send({ error: e.code, message: e.message });
    }
    if (e instanceof ProtocolError)
      return reply.status(400).send({ error: "bad_request", message: e.message });
    if (e.validation) {
      return reply
        .status(400)
        .send({ error: "bad_request", message: `${e.validationContext ?? "request"}: ${e.message}` });
    }
    if (e.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.status(413).send({ error: "payload_too_large", message: "request body is too large" });
    }
    if (e.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.status(415).send({ error: "unsupported_media_type", message: e.message });
    }
    if (e.statusCode === 429) {
      return reply.status(429).send({ error: "rate_limited", message: "too many requests; slow down" });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: "bad_request", message: e.message });
    }
    request.log.error({ err: e }, "internal error");
    return reply.status(500).send({ error: "internal", message: "internal error" });
  });
}

/**
 * CORS for /api/*, so a copy of the web client hosted anywhere (issue 5) can use this service: every origin may read
 * the public routes, and may call the authenticated ones with its own `Authorization: Bearer` token. No credentials
 * mode (`Access-Control-Allow-Credentials` is never sent): the service has no cookies, and a page from another
 * origin can only send a token it already holds, so allowing any origin exposes nothing a browser would attach by
 * itself. /metrics and /docs are not cross-origin.
 */
export const CORS_ALLOW_METHODS = "GET, HEAD, POST, PUT";
export const CORS_ALLOW_HEADERS = "authorization, content-type, idempotency-key";
export const CORS_EXPOSE_HEADERS = "content-disposition, idempotent-replayed, retry-after";

export function setupCors(app: FastifyInstance): void {
  app.addHook("onRequest", async (req, reply) => {
    if (!req.url.startsWith("/api/")) return;
    reply.header("access-control-allow-origin", "*");
    reply.header("access-control-expose-headers", CORS_EXPOSE_HEADERS);
  });
  app.options("/api/*", { schema: { hide: true } }, async (_req, reply) => {
    reply
      .header("access-control-allow-methods", CORS_ALLOW_METHODS)
      .header("access-control-allow-headers", CORS_ALLOW_HEADERS)
      .header("access-control-max-age", "600");
    return reply.status(204).send();
  });
}
