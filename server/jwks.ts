/**
 * An identity provider's signing keys: its JWKS URL comes from its OpenID discovery document, and the keys are
 * fetched from it and kept by `kid`. A token's `kid` arrives before
 * any check, so a stranger chooses it: a kid not in the cache never costs more than one fetch per cooldown, and
 * every miss during a fetch waits for that same fetch. Keys are parsed by node:crypto (RSA, EC P-256 and Ed25519
 * JWKs alike) and handed to the verifier as SPKI PEM.
 */
import { createPublicKey, type JsonWebKey } from "node:crypto";
import type { Clock } from "./clock.ts";
import { issuerUnavailable, unauthorized } from "./errors.ts";

/** At most one JWKS fetch per this many milliseconds, however many unknown kids arrive. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Keys older than this are fetched again on the next request (rotations and revocations reach us). */
export const JWKS_MAX_AGE_MS = 600_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_KEYS = 100;

export interface JwksLog {
  warn(details: object, message: string): void;
}

interface Fetched {
  /** kid -> SPKI PEM and the key's `alg`, when it names one. */
  keys: Map<string, { pem: string; alg: string | undefined }>;
  /** Clock time (ms) of the last fetch attempt, successful or not. */
  attemptedAt: number;
  /** Clock time (ms) the keys were fetched. */
  fetchedAt: number;
  /** The last attempt failed: a kid we do not know may be a key we could not fetch. */
  failed: string | null;
}

export class JwksKeys {
  readonly #url: string;
  readonly #clock: Clock;
  readonly #log: JwksLog;
  #state: Fetched | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(options: { url: string; clock: Clock; log: JwksLog }) {
    this.#url = options.url;
    this.#clock = options.clock;
    this.#log = options.log;
  }

  /**
   * The PEM public key of `kid` for a token signed with `alg`; 401 when the IdP has no such key, 503 when it may
   * have one we could not fetch (it is unreachable).
   */
  async publicKeyPem(kid: string | undefined, alg: string | undefined): Promise<string> {
    if (!kid) throw unauthorized("unknown_kid", "token has no kid");
    const now = this.#clock.now();
    const known = this.#state?.keys.get(kid);
    const stale = this.#state === null || now - this.#state.fetchedAt >= JWKS_MAX_AGE_MS;
    if (stale || !known) await this.#refreshIfAllowed(now);
    const key = this.#state?.keys.get(kid);
    if (!key) {
      if (this.#state?.failed) throw issuerUnavailable(this.#url, this.#state.failed);
      throw unauthorized("unknown_kid", "unknown signing key");
    }
    if (key.alg !== undefined && key.alg !== alg) {
      throw unauthorized("alg_not_allowed", "the token's alg is not its key's");
    }
    return key.pem;
  }

  /** One shared fetch, at most once per cooldown; until the next one, kids not in the last answer are missing. */
  #refreshIfAllowed(now: number): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (this.#state !== null && now - this.#state.attemptedAt < JWKS_COOLDOWN_MS) return Promise.resolve();
    this.#refreshing = this.#refresh(now).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(now: number): Promise<void> {
    try {
      const keys = await this.#fetchKeys();
      this.#state = { keys, attemptedAt: now, fetchedAt: now, failed: null };
    } catch (e) {
      // keep the keys we have (the IdP may be down for a while) and wait out the cooldown before asking again
      const failed = (e as Error).message;
      this.#log.warn({ jwks: this.#url, err: failed }, "JWKS fetch failed");
      this.#state = this.#state
        ? { ...this.#state, attemptedAt: now, failed }
        : { keys: new Map(), attemptedAt: now, fetchedAt: now, failed };
    }
  }

  async #fetchKeys(): Promise<Fetched["keys"]> {
    const response = await fetch(this.#url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error("JWKS has no keys array");
    const keys: Fetched["keys"] = new Map();
    for (const jwk of body.keys.slice(0, MAX_KEYS) as (JsonWebKey & { kid?: unknown; use?: unknown })[]) {
      if (typeof jwk !== "object" || jwk === null || typeof jwk.kid !== "string") continue;
      if (jwk.use !== undefined && jwk.use !== "sig") continue;
      try {
        const pem = createPublicKey({ key: jwk, format: "jwk" }).export({ type: "spki", format: "pem" });
        keys.set(jwk.kid, { pem: String(pem), alg: typeof jwk.alg === "string" ? jwk.alg : undefined });
      } catch (e) {
        this.#log.warn({ kid: jwk.kid, err: (e as Error).message }, "JWKS key skipped: not a public key");
      }
    }
    return keys;
  }
}

/** At most one discovery attempt per this many milliseconds on demand (a retry loop runs besides, from start). */
const DISCOVERY_COOLDOWN_MS = 5_000;
const DISCOVERY_RETRY_MAX_MS = 30_000;

export interface IssuerLog extends JwksLog {
  info(details: object, message: string): void;
}

/**
 * One OpenID Provider: its discovery document (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be
 * the configured one) names its JWKS. Unreachable at start, it is asked again with a growing delay; meanwhile its
 * tokens are 503, never 500, and the other issuers work.
 */
export class IssuerKeys {
  readonly issuer: string;
  readonly #clock: Clock;
  readonly #log: IssuerLog;
  #jwks: JwksKeys | null = null;
  #discovering: Promise<void> | null = null;
  #attemptedAt: number | null = null;
  #lastError = "not asked yet";
  #retry: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: { issuer: string; clock: Clock; log: IssuerLog }) {
    this.issuer = options.issuer;
    this.#clock = options.clock;
    this.#log = options.log;
  }

  /** Whether the discovery document has been read (the JWKS itself may still be unreachable). */
  get discovered(): boolean {
    return this.#jwks !== null;
  }

  /** First discovery; on failure, says which issuer it cannot reach and retries in the background. */
  async start(): Promise<void> {
    await this.#discover();
    if (!this.#jwks) this.#scheduleRetry(1000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
  }

  async publicKeyPem(kid: string | undefined, alg: string | undefined): Promise<string> {
    if (!this.#jwks) {
      const now = this.#clock.now();
      if (this.#attemptedAt === null || now - this.#attemptedAt >= DISCOVERY_COOLDOWN_MS || this.#discovering)
        await this.#discover();
    }
    if (!this.#jwks) throw issuerUnavailable(this.issuer, this.#lastError);
    return this.#jwks.publicKeyPem(kid, alg);
  }

  #scheduleRetry(delayMs: number): void {
    if (this.#stopped) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      void this.#discover().then(() => {
        if (!this.#jwks) this.#scheduleRetry(Math.min(delayMs * 2, DISCOVERY_RETRY_MAX_MS));
      });
    }, delayMs);
    this.#retry.unref();
  }

  #discover(): Promise<void> {
    this.#discovering ??= this.#fetchDiscovery().finally(() => {
      this.#discovering = null;
    });
    return this.#discovering;
  }

  async #fetchDiscovery(): Promise<void> {
    if (this.#jwks) return;
    this.#attemptedAt = this.#clock.now();
    const url = `${this.issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
      const doc = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
      // OpenID Connect Discovery 1.0, 4.3: the document must be the configured issuer's
      if (doc.issuer !== this.issuer) {
        throw new Error(`discovery names issuer ${JSON.stringify(doc.issuer)}, not ${this.issuer}`);
      }
      if (typeof doc.jwks_uri !== "string" || !/^https?:\/\//.test(doc.jwks_uri)) {
        throw new Error("discovery has no http(s) jwks_uri");
      }
      this.#jwks = new JwksKeys({ url: doc.jwks_uri, clock: this.#clock, log: this.#log });
      this.#log.info({ issuer: this.issuer, jwks: doc.jwks_uri }, "identity provider discovered");
    } catch (e) {
      this.#lastError = (e as Error).message;
      this.#log.warn(
        { issuer: this.issuer, err: this.#lastError },
        "identity provider unreachable: its tokens are refused with 503 until it answers; retrying",
      );
    }
  }
}
