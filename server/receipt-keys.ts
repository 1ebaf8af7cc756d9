/**
 * Receipt-signing keys on chain. At start-up (and every anchoring round until it is done) the service makes sure the
 * key it signs receipts with is recorded in the registry (addReceiptKey), so verifiers take it from the chain instead
 * of from /api/keys; `retire` records that a key signs no new receipts (retireReceiptKey; receipts it signed stay
 * valid). Both take the intent pipeline (server/intents.ts) with one configured agency's operator key (any operator
 * may manage receipt keys). Idempotent across restarts and instances: pending key intents are settled first, and
 * under the operator key's lock the chain is asked before anything is signed, so a key already added (or retired) is
 * done and another instance's intent on its way is waited for.
 */
import type { FastifyBaseLogger } from "fastify";
import { base64UrlDecode, bytesToHex, type Hex } from "../protocol/index.ts";
import { chainErrorMessage, type ReceiptKeyRecord, type RegistryClient } from "./chain/registry.ts";
import type { Clock } from "./clock.ts";
import { ServiceError } from "./errors.ts";
import { type IntentKind, IntentPipeline } from "./intents.ts";
import type { KeyIntent, NewKeyIntent, Store } from "./store/index.ts";

const ZERO_ADDRESS: Hex = `0x${"00".repeat(20)}`;

/** The registry's bytes32 form of an Ed25519 public JWK's `x` (base64url of the 32-byte key). */
export function receiptKeyBytes32(x: string): Hex {
  const bytes = base64UrlDecode(x, "receipt key x");
  if (bytes.length !== 32) throw new ServiceError(400, "invalid_key", "an Ed25519 public key is 32 bytes");
  return bytesToHex(bytes);
}

/** True when the registry has recorded the key (retired or not). */
export const isAdded = (record: ReceiptKeyRecord): boolean => record.addedBy.toLowerCase() !== ZERO_ADDRESS;

export interface ReceiptKeyRegistrarOptions {
  store: Store;
  chain: RegistryClient;
  clock: Clock;
  log: FastifyBaseLogger;
  /** How long a transaction is waited for before it is left to reconciliation. */
  txTimeoutMs: number;
  /** The agency whose operator key sends the transactions; null when none is configured (nothing can be sent). */
  agencyId: string | null;
}

export class ReceiptKeyRegistrar {
  private readonly options: ReceiptKeyRegistrarOptions;
  private readonly intents: IntentPipeline;
  /** Key intents: mined → done; a dropped one is sent again only while the chain still needs it. */
  private readonly kind: IntentKind<KeyIntent>;
  private registered = false;
  private ensuring: Promise<boolean> | null = null;

  constructor(options: ReceiptKeyRegistrarOptions) {
    this.options = options;
    this.intents = new IntentPipeline(options);
    const { store, chain, log } = options;
    const describe = (intent: KeyIntent) => ({
      receiptKey: intent.publicKey,
      kind: `${intent.kind} receipt key`,
      tx: intent.txHash,
    });
    this.kind = {
      describe,
      mined: async (intent) => {
        await store.resolveKeyIntent(intent.id, "mined");
        log.info(
          describe(intent),
          intent.kind === "add" ? "receipt key added on chain" : "receipt key retired on chain",
        );
      },
      failed: (intent) => store.resolveKeyIntent(intent.id, "failed"),
      stillNeeded: async (intent) => {
        const record = await chain.receiptKey(intent.publicKey);
        return intent.kind === "add" ? !isAdded(record) : isAdded(record) && record.retiredBlock === 0;
      },
    };
  }

  /** Settles every pending key intent with the chain (server/intents.ts). Throws when the chain cannot answer. */
  async reconcile(): Promise<void> {
    for (const intent of await this.options.store.pendingKeyIntents()) {
      await this.intents.settle(this.kind, intent);
    }
  }

  /**
   * Makes sure `publicKey` is recorded in the registry; returns the chain's record of it afterwards (not yet added
   * when the transaction is still pending, here or in another instance). Throws when the chain cannot answer.
   */
  add(publicKey: Hex): Promise<ReceiptKeyRecord> {
    return this.change("add", publicKey);
  }

  /**
   * Retires `publicKey` in the registry; returns the chain's record of it afterwards. Refused (404) for a key the
   * registry never recorded. Throws when the chain cannot answer.
   */
  retire(publicKey: Hex): Promise<ReceiptKeyRecord> {
    return this.change("retire", publicKey);
  }

  /**
   * The start-up check: adds the service's receipt key unless the chain has it. Never throws (a failure is logged and
   * the next call tries again); resolves to true once the chain holds the key, and stays true.
   */
  ensure(publicKey: Hex): Promise<boolean> {
    if (this.registered) return Promise.resolve(true);
    if (!this.ensuring) {
      this.ensuring = this.ensureOnce(publicKey).finally(() => {
        this.ensuring = null;
      });
    }
    return this.ensuring;
  }

  private async ensureOnce(publicKey: Hex): Promise<boolean> {
    const { log } = this.options;
    try {
      const record = await this.add(publicKey);
      if (!isAdded(record)) return false;
      this.registered = true;
      if (record.retiredBlock !== 0) {
        log.warn(
          { receiptKey: publicKey, retiredBlock: record.retiredBlock },
          "the receipt key is retired on chain: receipts keep verifying, but rotate RECEIPT_KEY_SEED",
        );
      } else {
        log.info({ receiptKey: publicKey, addedBlock: record.addedBlock }, "receipt key registered on chain");
      }
      return true;
    } catch (e) {
      log.warn(
        { receiptKey: publicKey, err: chainErrorMessage(e) },
        "receipt key not registered yet; will retry",
      );
      return false;
    }
  }

  private async change(kind: KeyIntent["kind"], publicKey: Hex): Promise<ReceiptKeyRecord> {
    const { store, chain, clock, agencyId } = this.options;
    await this.reconcile();
    const needed = (record: ReceiptKeyRecord) =>
      kind === "add" ? !isAdded(record) : isAdded(record) && record.retiredBlock === 0;
    const before = await chain.receiptKey(publicKey);
    if (kind === "retire" && !isAdded(before)) {
      throw new ServiceError(404, "not_found", `receipt key ${publicKey} was never added to the registry`);
    }
    if (!needed(before)) return before;
    if (agencyId === null) {
      throw new ServiceError(
        503,
        "chain_unavailable",
        "no operator key is configured to send the transaction",
      );
    }
    await this.intents.send(
      this.kind,
      agencyId,
      // decided under the operator lock: another instance may be sending the same change right now
      async () => {
        const pending = await store.pendingKeyIntents();
        if (pending.some((i) => i.kind === kind && i.publicKey === publicKey)) return null;
        if (!needed(await chain.receiptKey(publicKey))) return null;
        return kind === "add"
          ? chain.signAddReceiptKey(agencyId, publicKey)
          : chain.signRetireReceiptKey(agencyId, publicKey);
      },
      async (signed) => {
        const intent: NewKeyIntent = { kind, publicKey, agency: agencyId, ...signed, createdAt: clock.now() };
        return { ...intent, id: await store.addKeyIntent(intent), status: "pending" };
      },
    );
    return chain.receiptKey(publicKey);
  }
}
