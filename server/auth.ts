/**
 * Identity: JWTs from an external identity provider (JWKS URL or PEM key), verified by @fastify/jwt with an
 * algorithm allowlist (RS256, ES256, EdDSA) and iss/aud/exp/nbf checks. Optional development identity provider that
 * signs RS256 tokens with a key generated at start (never in production). RS256, the usual OpenID Connect choice, is
 * also the cheapest to verify on the ingest path (an RSA-2048 check costs about a quarter of an Ed25519 one).
 */
import { createPrivateKey, sign as cryptoSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import fastifyJwt from "@fastify/jwt";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import buildGetJwks from "get-jwks";
import type { Config } from "./config.ts";
import { ServiceError } from "./errors.ts";

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

const b64u = (s: string | Buffer): string => Buffer.from(s).toString("base64url");

export function createDevIdp(config: Pick<Config, "jwt">): DevIdp {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const priv: KeyObject = createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }));
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
      const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
      return `${input}.${b64u(cryptoSign("sha256", Buffer.from(input), priv))}`;
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
): Promise<void> {
  const { jwt } = config;
  let jwksKey: ((kid: string | undefined, alg: string | undefined) => Promise<string>) | null = null;
  if (jwt.jwksUrl) {
    const u = new URL(jwt.jwksUrl);
    const getJwks = buildGetJwks({ jwksPath: u.pathname + u.search, max: 100, ttl: 600_000 });
    const domain = u.origin;
    jwksKey = (kid, alg) => {
      if (!kid) throw new ServiceError(401, "unauthorized", "token has no kid");
      return getJwks.getPublicKey({ domain, kid, ...(alg ? { alg } : {}) });
    };
  }
  const secret = async (_req: FastifyRequest, token: DecodedToken): Promise<string> => {
    const kid = token.header?.kid;
    if (devIdp && kid === DEV_KID) return devIdp.publicPem;
    if (jwksKey) return jwksKey(kid, token.header?.alg);
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
      clockTolerance: 0,
    },
  });
  app.decorateRequest("identity", null);
}

function toIdentity(payload: unknown): Identity {
  const p = payload as { sub?: unknown; role?: unknown; agency?: unknown };
  if (typeof p.sub !== "string" || p.sub.length === 0 || p.sub.length > 256) {
    throw new ServiceError(401, "unauthorized", "token subject missing");
  }
  const role = p.role === undefined ? "citizen" : p.role;
  if (role !== "citizen" && role !== "agency" && role !== "admin") {
    throw new ServiceError(401, "unauthorized", "unknown role in token");
  }
  const agency = typeof p.agency === "string" && p.agency.length > 0 ? p.agency : null;
  if (role === "agency" && agency === null)
    throw new ServiceError(401, "unauthorized", "agency token without agency");
  return { sub: p.sub, role, agency };
}

/** preHandler: verifies the bearer token (any failure: 401) and sets request.identity. */
export async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
  const h = request.headers.authorization;
  if (!h || !/^Bearer [A-Za-z0-9_.-]+$/.test(h)) {
    throw new ServiceError(401, "unauthorized", "a bearer token is required");
  }
  let payload: unknown;
  try {
    payload = await request.jwtVerify();
  } catch (e) {
    const msg = (e as { message?: string }).message ?? "invalid token";
    throw new ServiceError(401, "unauthorized", `invalid token: ${msg.replace(/\.$/, "")}`);
  }
  request.identity = toIdentity(payload);
}

export function requireRole(request: FastifyRequest, ...roles: Role[]): Identity {
  const id = request.identity;
  if (!id) throw new ServiceError(401, "unauthorized", "a bearer token is required");
  if (!roles.includes(id.role))
    throw new ServiceError(403, "forbidden", `this action needs the ${roles.join(" or ")} role`);
  return id;
}
