/**
 * The identity provider's signing keys, fetched from its JWKS URL and kept by `kid`. A token's `kid` arrives before
 * any check, so a stranger chooses it: a kid not in the cache never costs more than one fetch per cooldown, and
 * every miss during a fetch waits for that same fetch. Keys are parsed by node:crypto (RSA, EC P-256 and Ed25519
 * JWKs alike) and handed to the verifier as SPKI PEM.
 */
import { createPublicKey, type JsonWebKey } from "node:crypto";
import type { Clock } from "./clock.ts";
import { ServiceError } from "./errors.ts";

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

  /** The PEM public key of `kid` for a token signed with `alg`; 401 when the IdP has no such key. */
  async publicKeyPem(kid: string | undefined, alg: string | undefined): Promise<string> {
    if (!kid) throw new ServiceError(401, "unauthorized", "token has no kid");
    const now = this.#clock.now();
    const known = this.#state?.keys.get(kid);
    const stale = this.#state === null || now - this.#state.fetchedAt >= JWKS_MAX_AGE_MS;
    if (stale || !known) await this.#refreshIfAllowed(now);
    const key = this.#state?.keys.get(kid);
    if (!key) throw new ServiceError(401, "unauthorized", "unknown signing key");
    if (key.alg !== undefined && key.alg !== alg) {
      throw new ServiceError(401, "unauthorized", "the token's alg is not its key's");
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
      this.#state = { keys, attemptedAt: now, fetchedAt: now };
    } catch (e) {
      // keep the keys we have (the IdP may be down for a while) and wait out the cooldown before asking again
      this.#log.warn({ err: (e as Error).message }, "JWKS fetch failed");
      this.#state = this.#state
        ? { ...this.#state, attemptedAt: now }
        : { keys: new Map(), attemptedAt: now, fetchedAt: now };
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
