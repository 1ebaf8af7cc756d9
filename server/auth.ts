/**
 * Identity: JWTs from an external identity provider (JWKS URL or PEM key), verified by @fastify/jwt with an
 * algorithm allowlist (RS256, ES256, EdDSA) and iss/aud/exp/nbf checks within a small clock tolerance. JWKS keys come
 * from server/jwks.ts (one shared fetch per cooldown). Optional development identity provider that signs RS256
 * tokens with a key generated at start (NODE_ENV=development only). RS256, the usual OpenID Connect choice, is also
 * the cheapest to verify on the ingest path (an RSA-2048 check costs about a quarter of an Ed25519 one).
 */
import { createPrivateKey, sign as cryptoSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import fastifyJwt from "@fastify/jwt";
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import { ServiceError } from "./errors.ts";
import { JwksKeys } from "./jwks.ts";

export type Role = "citizen" | "agency" | "admin";

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

export const DEV_KID = "gopy-dev-idp";

export interface DevIdp {
  publicPem: string;
  issue(sub: string, role: Role, agency: string | null, nowMs: number): string;
}

const base64url = (bytes: string | Buffer): string => Buffer.from(bytes).toString("base64url");

export function createDevIdp(config: Pick<Config, "jwt">): DevIdp {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey: KeyObject = createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }));
  return {
    publicPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
    issue(sub, role, agency, nowMs) {
      const iat = Math.floor(nowMs / 1000);
      const header = { alg: "RS256", typ: "JWT", kid: DEV_KID };
      const payload: Record<string, unknown> = {
        sub,
        role,
        iss: config.jwt.issuer,
        aud: config.jwt.audience,
        iat,
        nbf: iat - 5,
        exp: iat + 12 * 3600,
      };
      if (agency !== null) payload.agency = agency;
      const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      return `${input}.${base64url(cryptoSign("sha256", Buffer.from(input), signingKey))}`;
    },
  };
}

interface DecodedToken {
  header: { kid?: string; alg?: string };
  payload: { iss?: string };
}

export async function registerAuth(
  app: FastifyInstance,
  config: Pick<Config, "jwt">,
  devIdp: DevIdp | null,
  clock: Clock,
  log: FastifyBaseLogger,
): Promise<void> {
  const { jwt } = config;
  const jwks = jwt.jwksUrl ? new JwksKeys({ url: jwt.jwksUrl, clock, log }) : null;
  const secret = async (_req: FastifyRequest, token: DecodedToken): Promise<string> => {
    const kid = token.header?.kid;
    if (devIdp && kid === DEV_KID) return devIdp.publicPem;
    if (jwks) return jwks.publicKeyPem(kid, token.header?.alg);
    if (jwt.publicKeyPem) return jwt.publicKeyPem;
    throw new ServiceError(401, "unauthorized", "unknown signing key");
  };
  await app.register(fastifyJwt, {
    secret: { public: secret as never },
    decode: { complete: true },
    verify: {
      algorithms: jwt.algorithms,
      allowedIss: jwt.issuer,
      allowedAud: jwt.audience,
      requiredClaims: ["sub", "exp"],
      // verified tokens are cached (LRU, bounded by their exp): a citizen's next request skips the signature check
      cache: 10_000,
      cacheTTL: 300_000,
      // a token minted this instant by an IdP whose clock runs a little ahead is valid, not "not yet active"
      clockTolerance: jwt.clockToleranceMs,
    },
  });
  app.decorateRequest("identity", null);
}

function toIdentity(payload: unknown): Identity {
  const claims = payload as { sub?: unknown; role?: unknown; agency?: unknown };
  if (typeof claims.sub !== "string" || claims.sub.length === 0 || claims.sub.length > 256) {
    throw new ServiceError(401, "unauthorized", "token subject missing");
  }
  const role = claims.role === undefined ? "citizen" : claims.role;
  if (role !== "citizen" && role !== "agency" && role !== "admin") {
    throw new ServiceError(401, "unauthorized", "unknown role in token");
  }
  const agency = typeof claims.agency === "string" && claims.agency.length > 0 ? claims.agency : null;
  if (role === "agency" && agency === null)
    throw new ServiceError(401, "unauthorized", "agency token without agency");
  return { sub: claims.sub, role, agency };
}

/**
 * onRequest hook of the authenticated scope: verifies the bearer token (any failure: 401) and sets
 * request.identity, before any body is read.
 */
export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const header = request.headers.authorization;
  if (!header || !/^Bearer [A-Za-z0-9_.-]+$/.test(header)) {
    throw new ServiceError(401, "unauthorized", "a bearer token is required");
  }
  let payload: unknown;
  try {
    payload = await request.jwtVerify();
  } catch (e) {
    const reason = (e as { message?: string }).message ?? "invalid token";
    throw new ServiceError(401, "unauthorized", `invalid token: ${reason.replace(/\.$/, "")}`);
  }
  request.identity = toIdentity(payload);
}

/** The signed-in identity, which must have one of `roles` (403 otherwise). */
export function requireRole(request: FastifyRequest, ...roles: Role[]): Identity {
  const identity = request.identity;
  if (!identity) throw new ServiceError(401, "unauthorized", "a bearer token is required");
  if (!roles.includes(identity.role))
    throw new ServiceError(403, "forbidden", `this action needs the ${roles.join(" or ")} role`);
  return identity;
}
