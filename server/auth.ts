/**
 * Identity: access tokens (JWT) from the configured OpenID Providers (OIDC_ISSUERS). A token names its issuer; only
 * a configured one is asked for keys (discovered from its `/.well-known/openid-configuration`, server/jwks.ts), and
 * its `aud`, `exp` and `nbf` are checked against this service's clock within JWT_CLOCK_TOLERANCE, its `alg` against
 * the allowlist (RS256, ES256, EdDSA: never HS* or none), its signature by fast-jwt. The issuer's claim mapping
 * turns the claims into a role, which must be one the issuer may grant. Every refusal is a 401 with a `reason`; an
 * issuer that cannot be reached is a 503.
 */

import { hash } from "node:crypto";
import { createDecoder, createVerifier, TokenError } from "fast-jwt";
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Clock } from "./clock.ts";
import type { Config, IssuerConfig, Role } from "./config.ts";
import { ServiceError, unauthorized } from "./errors.ts";
import { IssuerKeys } from "./jwks.ts";

export type { Role } from "./config.ts";

export interface Identity {
  sub: string;
  role: Role;
  agency: string | null;
}

declare module "fastify" {
  interface FastifyRequest {
    identity: Identity | null;
  }
}

/** What GET /api/health says of each configured identity provider. */
export interface IssuerStatus {
  issuer: string;
  roles: Role[];
  /** Its discovery document has been read. */
  reachable: boolean;
}

interface Claims {
  [claim: string]: unknown;
  iss?: unknown;
  aud?: unknown;
  exp?: unknown;
  nbf?: unknown;
}

type Verify = (token: string) => Claims;

interface Issuer {
  config: IssuerConfig;
  keys: IssuerKeys;
  /** One verifier per signing key (its PEM), the key parsed once: parsing it per token was a tenth of a request. */
  verifiers: Map<string, Verify>;
}

/** Verifiers kept per issuer (keys rotate; the oldest verifier goes first). */
const MAX_VERIFIERS = 16;

const decodeComplete = createDecoder({ complete: true }) as (token: string) => {
  header: { alg?: unknown; kid?: unknown };
  payload: unknown;
};

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no claim has that name. */
function claim(claims: Claims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let value: unknown = claims;
  for (const part of name.split(".")) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The identity a verified token of `issuer` stands for, through the issuer's claim mapping. */
export function identityOf(claims: Claims, issuer: IssuerConfig): Identity {
  const sub = claim(claims, issuer.subjectClaim);
  if (typeof sub !== "string" || sub.length === 0 || sub.length > 256) {
    throw unauthorized("missing_subject", `token has no subject (${issuer.subjectClaim})`);
  }
  const raw = issuer.roleClaim === null ? undefined : claim(claims, issuer.roleClaim);
  const values = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw : [];
  const mapped = new Set<Role>();
  for (const value of values) {
    if (typeof value === "string" && Object.hasOwn(issuer.roleValues, value))
      mapped.add(issuer.roleValues[value]!);
  }
  if (mapped.size > 1)
    throw unauthorized("ambiguous_role", `token maps to several roles: ${[...mapped].join(", ")}`);
  const role = mapped.size === 1 ? [...mapped][0]! : issuer.defaultRole;
  if (role === null)
    throw unauthorized("no_role", `token has no role this service knows (${issuer.roleClaim})`);
  if (!issuer.roles.includes(role)) {
    throw unauthorized("role_not_allowed", `${issuer.issuer} may not grant the ${role} role`);
  }
  if (role === "citizen") return { sub, role, agency: null };
  const agencyClaim = issuer.agencyClaim === null ? undefined : claim(claims, issuer.agencyClaim);
  const agency =
    issuer.agency ?? (typeof agencyClaim === "string" && agencyClaim.length > 0 ? agencyClaim : null);
  if (role === "agency" && agency === null) throw unauthorized("no_agency", "agency token without agency");
  return { sub, role, agency };
}

const signatureReasons: Record<string, string> = {
  [TokenError.codes.invalidAlgorithm]: "alg_not_allowed",
  [TokenError.codes.invalidKey]: "alg_not_allowed",
  [TokenError.codes.missingRequiredClaim]: "missing_claim",
  [TokenError.codes.malformed]: "malformed",
  [TokenError.codes.invalidPayload]: "malformed",
};

/** Verifies bearer tokens against the configured issuers. */
export class Authenticator {
  readonly #issuers: Map<string, Issuer>;
  readonly #algorithms: ReadonlySet<string>;
  readonly #clock: Clock;
  readonly #toleranceMs: number;

  constructor(config: Pick<Config, "jwt">, clock: Clock, log: FastifyBaseLogger) {
    this.#clock = clock;
    this.#algorithms = new Set(config.jwt.algorithms);
    this.#toleranceMs = config.jwt.clockToleranceMs;
    this.#issuers = new Map(
      config.jwt.issuers.map((issuer) => {
        const keys = new IssuerKeys({ issuer: issuer.issuer, clock, log });
        return [issuer.issuer, { config: issuer, keys, verifiers: new Map() }];
      }),
    );
  }

  /** The verifier of tokens signed by the key `pem` (created on its first token). */
  #verifierOf(issuer: Issuer, pem: string): Verify {
    let verify = issuer.verifiers.get(pem);
    if (!verify) {
      verify = createVerifier({
        key: pem,
        algorithms: [...this.#algorithms] as never,
        // exp and nbf are checked against the service's clock in verify(), cached or not; iss and aud before
        ignoreExpiration: true,
        ignoreNotBefore: true,
        // verified tokens are cached (LRU): a citizen's next request skips the signature check
        cache: 10_000,
        cacheTTL: 300_000,
        // keyed by one-shot SHA-256 of the token: fast-jwt's default decodes the header to pick a SHA-2 per call
        cacheKeyBuilder: (token: string) => hash("sha256", token),
      }) as unknown as Verify;
      if (issuer.verifiers.size >= MAX_VERIFIERS)
        issuer.verifiers.delete(issuer.verifiers.keys().next().value!);
      issuer.verifiers.set(pem, verify);
    }
    return verify;
  }

  /** Discovers every issuer (in parallel); an unreachable one is retried in the background, never fatal. */
  async start(): Promise<void> {
    await Promise.all([...this.#issuers.values()].map((issuer) => issuer.keys.start()));
  }

  stop(): void {
    for (const issuer of this.#issuers.values()) issuer.keys.stop();
  }

  status(): IssuerStatus[] {
    return [...this.#issuers.values()].map(({ config, keys }) => ({
      issuer: config.issuer,
      roles: [...config.roles],
      reachable: keys.discovered,
    }));
  }

  /** The identity of a bearer token; a ServiceError (401 with a reason, or 503) otherwise. */
  async verify(token: string): Promise<Identity> {
    let decoded: ReturnType<typeof decodeComplete>;
    try {
      decoded = decodeComplete(token);
    } catch {
      throw unauthorized("malformed", "token is not a JWT");
    }
    const alg = decoded.header?.alg;
    if (typeof alg !== "string" || !this.#algorithms.has(alg)) {
      throw unauthorized("alg_not_allowed", `alg ${JSON.stringify(alg)} is not allowed`);
    }
    const claims = decoded.payload as Claims;
    if (typeof claims !== "object" || claims === null)
      throw unauthorized("malformed", "token payload is not an object");
    const issuer = typeof claims.iss === "string" ? this.#issuers.get(claims.iss) : undefined;
    if (!issuer)
      throw unauthorized("unknown_issuer", `issuer ${JSON.stringify(claims.iss)} is not configured`);
    const audiences =
      typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
    if (!audiences.includes(issuer.config.audience)) {
      throw unauthorized("wrong_audience", `token is not for audience ${issuer.config.audience}`);
    }
    const now = this.#clock.now();
    if (typeof claims.exp !== "number") throw unauthorized("missing_claim", "token has no exp");
    if (claims.exp * 1000 + this.#toleranceMs <= now) throw unauthorized("expired", "token expired");
    if (claims.nbf !== undefined) {
      if (typeof claims.nbf !== "number") throw unauthorized("malformed", "token nbf is not a number");
      if (claims.nbf * 1000 - this.#toleranceMs > now)
        throw unauthorized("not_yet_valid", "token is not valid yet");
    }
    // every token, cached or not, needs its key in the issuer's current JWKS: a key the issuer withdrew is refused
    const pem = await issuer.keys.publicKeyPem(
      typeof decoded.header.kid === "string" ? decoded.header.kid : undefined,
      alg,
    );
    try {
      this.#verifierOf(issuer, pem)(token);
    } catch (e) {
      const original = (e as { originalError?: unknown }).originalError;
      if (original instanceof ServiceError) throw original;
      if (e instanceof ServiceError) throw e;
      const code = (e as { code?: string }).code ?? "";
      throw unauthorized(signatureReasons[code] ?? "bad_signature", `invalid token: ${(e as Error).message}`);
    }
    return identityOf(claims, issuer.config);
  }
}

/**
 * onRequest hook of the authenticated scope: verifies the bearer token (any failure: 401, an unreachable issuer:
 * 503) and sets request.identity, before any body is read.
 */
export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const header = request.headers.authorization;
  if (!header || !/^Bearer [A-Za-z0-9_.-]+$/.test(header)) {
    throw unauthorized("missing_token", "a bearer token is required");
  }
  request.identity = await request.server.gopy.auth.verify(header.slice("Bearer ".length));
}

/** The signed-in identity, which must have one of `roles` (403 otherwise). */
export function requireRole(request: FastifyRequest, ...roles: Role[]): Identity {
  const identity = request.identity;
  if (!identity) throw unauthorized("missing_token", "a bearer token is required");
  if (!roles.includes(identity.role))
    throw new ServiceError(403, "forbidden", `this action needs the ${roles.join(" or ")} role`);
  return identity;
}
