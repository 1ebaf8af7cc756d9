// An external identity provider of our own for tests and the evidence benches: RS256, ES256 and EdDSA (Ed25519)
// keys served as a JWKS over real HTTP, counting the fetches, with key rotation; tokens signed by each key.
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer, type Server } from "node:http";

export type IdpAlgorithm = "RS256" | "ES256" | "EdDSA";

export interface Idp {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** RSA public key PEM (what an HS/RS confusion attack would use as an HMAC secret). */
  readonly rsaPublicPem: string;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number;
  /**
   * A token of `claims` over issuer, audience, iat, nbf (5 s back) and exp (an hour), signed by the key of `alg`
   * (default RS256) under its kid; `kid`, `key` and `times` override.
   */
  token(
    claims: Record<string, unknown>,
    opts?: { alg?: IdpAlgorithm; kid?: string; key?: KeyObject; times?: { iat?: number; nbf?: number } },
  ): string;
  /** A token signed with a key the service has never seen (kid unknown to the JWKS). */
  foreignToken(claims: Record<string, unknown>, kid?: string): string;
  hsConfusion(claims: Record<string, unknown>): string;
  /** Adds a new key to the served JWKS (a rotation) under `kid`; tokens with `{kid}` are then signed by it. */
  addKey(kid: string, alg: IdpAlgorithm): void;
  close(): Promise<void>;
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function keyPair(alg: IdpAlgorithm) {
  if (alg === "RS256") return generateKeyPairSync("rsa", { modulusLength: 2048 });
  if (alg === "ES256") return generateKeyPairSync("ec", { namedCurve: "P-256" });
  return generateKeyPairSync("ed25519");
}

function signature(alg: IdpAlgorithm, input: string, key: KeyObject): Buffer {
  if (alg === "ES256") return sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  if (alg === "EdDSA") return sign(null, Buffer.from(input), key);
  return sign("sha256", Buffer.from(input), key);
}

/** A compact JWS of `header` and `payload` signed by `key` with `alg`. */
export function signJwt(
  header: { alg: IdpAlgorithm; [field: string]: unknown },
  payload: object,
  key: KeyObject,
): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${b64u(signature(header.alg, input, key))}`;
}

export const DEFAULT_KIDS: Record<IdpAlgorithm, string> = { RS256: "rsa-1", ES256: "ec-1", EdDSA: "ed-1" };

export async function startIdp(
  opts: { issuer?: string; audience?: string; algorithms?: readonly IdpAlgorithm[] } = {},
): Promise<Idp> {
  const issuer = opts.issuer ?? "https://id.example.gov.vn";
  const audience = opts.audience ?? "gopy";
  const signers = new Map<string, { alg: IdpAlgorithm; privateKey: KeyObject }>();
  const served: object[] = [];
  const addKey = (kid: string, alg: IdpAlgorithm) => {
    const pair = keyPair(alg);
    signers.set(kid, { alg, privateKey: pair.privateKey });
    served.push({ ...(pair.publicKey.export({ format: "jwk" }) as object), kid, alg, use: "sig" });
    return pair;
  };
  const rsa = addKey(DEFAULT_KIDS.RS256, "RS256");
  for (const alg of opts.algorithms ?? ["ES256", "EdDSA"]) {
    if (alg !== "RS256") addKey(DEFAULT_KIDS[alg], alg);
  }
  const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 });
  let jwksFetches = 0;
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/jwks.json") {
      jwksFetches++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: served }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const claimsWith = (claims: Record<string, unknown>, times: { iat?: number; nbf?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const iat = times.iat ?? now;
    return { iss: issuer, aud: audience, iat, nbf: times.nbf ?? iat - 5, exp: now + 3600, ...claims };
  };
  const rsaPublicPem = rsa.publicKey.export({ format: "pem", type: "spki" }).toString();
  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer,
    audience,
    rsaPublicPem,
    get jwksFetches() {
      return jwksFetches;
    },
    token(claims, tokenOpts = {}) {
      const kid = tokenOpts.kid ?? DEFAULT_KIDS[tokenOpts.alg ?? "RS256"];
      const signer = signers.get(kid);
      const alg = tokenOpts.alg ?? signer?.alg ?? "RS256";
      const key = tokenOpts.key ?? signer?.privateKey;
      if (!key) throw new Error(`the test IdP has no key ${kid}`);
      return signJwt({ alg, typ: "JWT", kid }, claimsWith(claims, tokenOpts.times), key);
    },
    foreignToken(claims, kid = "rsa-unknown") {
      return signJwt({ alg: "RS256", typ: "JWT", kid }, claimsWith(claims), foreign.privateKey);
    },
    hsConfusion(claims) {
      const input = `${b64u(JSON.stringify({ alg: "HS256", typ: "JWT", kid: DEFAULT_KIDS.RS256 }))}.${b64u(JSON.stringify(claimsWith(claims)))}`;
      return `${input}.${b64u(createHmac("sha256", rsaPublicPem).update(input).digest())}`;
    },
    addKey(kid, alg) {
      addKey(kid, alg);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
