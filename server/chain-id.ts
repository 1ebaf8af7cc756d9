/**
 * Which chain RPC_URL serves, checked before anything is signed for it: with CHAIN_ID set, the RPC's chain id must
 * be that one. A mismatch is final (every chain write refused, and the start refused when found at start); an RPC
 * that does not answer is asked again by the next caller, so a service started during a chain outage checks the id
 * as soon as the chain is back.
 */
import type { RegistryClient } from "./chain/registry.ts";
import { chainUnavailable, ServiceError } from "./errors.ts";

export class ChainIdCheck {
  readonly #chain: RegistryClient;
  readonly #expected: number | null;
  #checked: number | null = null;
  #mismatch: ServiceError | null = null;
  #pending: Promise<number> | null = null;

  constructor(chain: RegistryClient, expected: number | null) {
    this.#chain = chain;
    this.#expected = expected;
  }

  /** The chain id once checked; null before, and for good after a mismatch. */
  get checkedId(): number | null {
    return this.#checked;
  }

  /** The mismatch found, if any. */
  get mismatch(): ServiceError | null {
    return this.#mismatch;
  }

  /**
   * The RPC's chain id, checked against CHAIN_ID (concurrent callers share one read). Throws 503 chain_mismatch
   * when it differs (from then on without asking), 503 chain_unavailable when the RPC does not answer.
   */
  verify(): Promise<number> {
    if (this.#checked !== null) return Promise.resolve(this.#checked);
    if (this.#mismatch) return Promise.reject(this.#mismatch);
    this.#pending ??= this.#read().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #read(): Promise<number> {
    let served: number;
    try {
      served = await this.#chain.chainId();
    } catch (e) {
      throw chainUnavailable("the chain id is not checked yet: the RPC at RPC_URL does not answer", e);
    }
    if (this.#expected !== null && served !== this.#expected) {
      this.#mismatch = new ServiceError(
        503,
        "chain_mismatch",
        `CHAIN_ID is ${this.#expected} but the RPC at RPC_URL serves chain ${served}: nothing is signed for it`,
      );
      throw this.#mismatch;
    }
    this.#checked = served;
    return served;
  }
}
