/**
 * The service's one error type: an HTTP status and a stable machine-readable code, mapped to `{error, message}` by
 * the one error handler (server/http.ts). Every part of the service (auth, ingest, anchoring, drafts, CSV, chain
 * client) throws it, so a reply never depends on which part refused.
 */
export class ServiceError extends Error {
  readonly statusCode: number;
  readonly code: string;
  /** Finer machine-readable reason, served as `reason` (why a token was refused: `expired`, `unknown_kid`…). */
  readonly reason: string | undefined;
  constructor(
    statusCode: number,
    code: string,
    message: string,
    options?: { cause?: unknown; reason?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServiceError";
    this.statusCode = statusCode;
    this.code = code;
    this.reason = options?.reason;
  }
}

/** 401 with the reason the bearer token is refused. */
export const unauthorized = (reason: string, message: string): ServiceError =>
  new ServiceError(401, "unauthorized", message, { reason });

/** 503: an identity provider needed to check a token cannot be reached right now. */
export const issuerUnavailable = (issuer: string, detail: string): ServiceError =>
  new ServiceError(
    503,
    "issuer_unavailable",
    `the identity provider ${issuer} cannot be reached: ${detail}`,
    {
      reason: "issuer_unavailable",
    },
  );

/** 400 with the field or the input named in the message. */
export const badRequest = (message: string): ServiceError => new ServiceError(400, "bad_request", message);

/** 404. */
export const notFound = (message: string): ServiceError => new ServiceError(404, "not_found", message);

/** 503: the chain cannot be used right now (unreachable, a transaction not mined yet, no chain configured). */
export const chainUnavailable = (message: string, cause?: unknown): ServiceError =>
  new ServiceError(503, "chain_unavailable", message, cause === undefined ? undefined : { cause });
