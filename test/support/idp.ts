// Tokens for tests and benches from the demo OpenID Provider (scripts/demo-idp.ts, node-oidc-provider) over real
// HTTP: the same issuer, discovery, JWKS and signing key as `npm start`'s. One provider per process is shared
// (`sharedIdp()`); a test that rotates keys or takes the provider down starts its own. The forgeries of the hostile
// tests (tampered, alg none, HS256 with the public key as secret, a stranger's key) are derived from real tokens.
import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  sign,
} from "node:crypto";
import { type DemoIdp, type DemoIdpOptions, type MintClaims, startDemoIdp } from "../../scripts/demo-idp.ts";

export interface Idp extends DemoIdp {
  /** A token the provider signed for `sub` (role citizen unless given). */
  token(claims: MintClaims): Promise<string>;
  /** The service's environment for this provider: OIDC_ISSUERS (citizen and agency roles) and DEV_IDP_URL. */
  env(issuerOverrides?: Record<string, unknown>): Record<string, string>;
}

export async function startIdp(options: DemoIdpOptions = {}): Promise<Idp> {
  const idp = await startDemoIdp({ nodeEnv: "development", ...options });
  const issuerEntry = (overrides: Record<string, unknown> = {}) => ({
    issuer: idp.issuer,
    audience: idp.audience,
    roles: ["citizen", "agency", "admin"],
    ...overrides,
  });
  return Object.assign(idp, {
    token: (claims: MintClaims) => idp.mint(claims),
    env: (overrides?: Record<string, unknown>) => ({
      OIDC_ISSUERS: JSON.stringify([issuerEntry(overrides)]),
      DEV_IDP_URL: idp.issuer,
    }),
  });
}

let shared: Promise<Idp> | null = null;

/** The process's demo provider, started on first use. */
export function sharedIdp(): Promise<Idp> {
  shared ??= startIdp();
  return shared;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString("base64url");
const parts = (token: string) => {
  const [header, payload, signature] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header!, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>,
    signature: signature!,
  };
};

/** The token with one claim changed and the provider's signature kept. */
export function tampered(token: string, claims: Record<string, unknown>): string {
  const { header, payload, signature } = parts(token);
  return `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify({ ...payload, ...claims }))}.${signature}`;
}

/** The token's claims, unsigned, under `alg: none`. */
export function algNone(token: string): string {
  const { header, payload } = parts(token);
  return `${b64u(JSON.stringify({ ...header, alg: "none" }))}.${b64u(JSON.stringify(payload))}.`;
}

/** The provider's public signing key as PEM (what an HS/public-key confusion attack uses as the HMAC secret). */
export async function publicKeyPem(idp: { issuer: string }): Promise<string> {
  const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: JsonWebKey[] };
  return String(
    createPublicKey({ key: jwks.keys[0]!, format: "jwk" }).export({ type: "spki", format: "pem" }),
  );
}

/** The token's claims under HS256, keyed with the provider's public key (algorithm confusion). */
export function hsConfusion(token: string, pem: string): string {
  const { header, payload } = parts(token);
  const input = `${b64u(JSON.stringify({ ...header, alg: "HS256" }))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(createHmac("sha256", pem).update(input).digest())}`;
}

const stranger: KeyObject = generateKeyPairSync("ed25519").privateKey;

/** The token's claims signed by a key the provider never had, under `kid` (its own kid: a forged signature). */
export function strangerSigned(token: string, kid: string, claims: Record<string, unknown> = {}): string {
  const { header, payload } = parts(token);
  const input = `${b64u(JSON.stringify({ ...header, alg: "EdDSA", kid }))}.${b64u(JSON.stringify({ ...payload, ...claims }))}`;
  return `${input}.${b64u(sign(null, Buffer.from(input), stranger))}`;
}

/** The kid of a token's header. */
export const kidOf = (token: string): string => String(parts(token).header.kid);
