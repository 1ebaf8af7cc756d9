// The client verifies against its trust root only: the one baked into this build (GOPY_TRUST_ROOT at
// `npm run build`, also published as ./trust-root.json), or one the user imported in Settings. What the
// service advertises about the chain is compared with it, never used.
import { receiptKeyJwk } from "../../audit/receipts.ts";
import type { Hex, PublicJwk } from "../../protocol/index.ts";
import type { ChainInfo } from "./api.ts";
import { type ChainContext, connect, connectAll, readHead, readRecord } from "./chain.ts";
import { h, replace } from "./dom.ts";
import { t } from "./i18n.ts";
import { loadImportedTrustRoot, saveImportedTrustRoot } from "./settings.ts";
import { parseTrustRoot, type TrustRoot } from "./trust-root.ts";

declare const __GOPY_TRUST_ROOT__: unknown;

export type TrustSource = "built-in" | "imported";

export interface ActiveTrust {
  /** null: this copy was built without a trust root and none was imported: nothing can be verified. */
  root: TrustRoot | null;
  source: TrustSource;
  builtIn: TrustRoot | null;
}

/** The trust root baked into this build, or null (built without GOPY_TRUST_ROOT, or not a Vite build). */
export function builtInTrustRoot(): TrustRoot | null {
  const baked = typeof __GOPY_TRUST_ROOT__ === "undefined" ? null : __GOPY_TRUST_ROOT__;
  if (baked === null) return null;
  try {
    return parseTrustRoot(baked);
  } catch {
    return null;
  }
}

export function activeTrust(): ActiveTrust {
  const builtIn = builtInTrustRoot();
  const imported = loadImportedTrustRoot();
  return imported
    ? { root: imported, source: "imported", builtIn }
    : { root: builtIn, source: "built-in", builtIn };
}

export type TrustErrorKind = "noTrustRoot" | "disagree";

/** Why the chain could not be read as the trust root says: none pinned, or its RPC URLs disagree. */
export class TrustError extends Error {
  readonly kind: TrustErrorKind;
  readonly readings: readonly { rpcUrl: string; value: string }[];
  constructor(kind: TrustErrorKind, message: string, readings: { rpcUrl: string; value: string }[] = []) {
    super(message);
    this.name = "TrustError";
    this.kind = kind;
    this.readings = readings;
  }
}

/** What the service says about the chain, where it differs from the trust root (null: it agrees). */
export interface ServiceMismatch {
  advertisedChainId: number | null;
  advertisedRegistry: string | null;
}

export function serviceMismatch(
  root: TrustRoot,
  advertised: Partial<ChainInfo> | undefined,
): ServiceMismatch | null {
  const chainId = advertised?.chainId === undefined ? null : Number(advertised.chainId);
  const registry = typeof advertised?.contract === "string" ? advertised.contract.toLowerCase() : null;
  const sameChain = chainId === null || chainId === root.chainId;
  const sameRegistry = registry === null || registry === root.registry;
  return sameChain && sameRegistry ? null : { advertisedChainId: chainId, advertisedRegistry: registry };
}

/** The pinned registry through every RPC URL of the trust root (one context per distinct URL). */
export interface PinnedChain {
  root: TrustRoot;
  source: TrustSource;
  /** One context per distinct RPC URL, for reads compared URL by URL (readAgreedHead, chainReceiptKeys). */
  contexts: ChainContext[];
  /** One context over every RPC URL at once: each fact it reads is agreed on by all of them. */
  agreed: ChainContext;
}

/**
 * Connects to every RPC URL of the active trust root, each checked for the pinned chain id and for code
 * at the pinned registry. Throws TrustError("noTrustRoot") when there is none, ChainError otherwise.
 */
export async function pinnedChain(): Promise<PinnedChain> {
  const { root, source } = activeTrust();
  if (!root) throw new TrustError("noTrustRoot", "this copy of the client has no trust root");
  const contexts = await Promise.all(
    root.rpcUrls.map((rpcUrl) => connect({ chainId: root.chainId, contract: root.registry, rpcUrl })),
  );
  // An RPC URL set in Settings replaces every URL of the trust root: the same context several times.
  const distinct = contexts.filter((c, i) => contexts.findIndex((x) => x.rpcUrl === c.rpcUrl) === i);
  const agreed = await connectAll({ chainId: root.chainId, contract: root.registry, rpcUrls: root.rpcUrls });
  return { root, source, contexts: distinct, agreed };
}

/** A head as the pinned registry holds it, agreed on by every RPC URL. */
export interface AgreedHead {
  treeSize: number;
  rootHash: Hex;
  anchoredAt: number;
  /** The counted map's root anchored with this head; null: this registry has no countedRoot. */
  countedRoot: Hex | null;
  /** true once the tally is published: the log is frozen. */
  frozen: boolean;
  rpcUrls: string[];
}

async function readCountedRoot(ctx: ChainContext, id: string): Promise<Hex | null> {
  const reading = await ctx.reader.countedRoot(id);
  // an older registry has no countedRoot: the counted step is then "not checkable on this registry"
  return reading.checkable ? (reading.countedRoot.toLowerCase() as Hex) : null;
}

async function readOne(ctx: ChainContext, id: string): Promise<Omit<AgreedHead, "rpcUrls">> {
  const [head, rec, countedRoot] = await Promise.all([
    readHead(ctx, id),
    readRecord(ctx, id),
    readCountedRoot(ctx, id),
  ]);
  return { ...head, countedRoot, frozen: rec.tallyHash !== null };
}

const describeHead = (h: Omit<AgreedHead, "rpcUrls">) =>
  `treeSize ${h.treeSize}, root ${h.rootHash}, countedRoot ${h.countedRoot ?? "none"}${h.frozen ? ", tally published" : ""}`;

/**
 * Reads the anchored head (size, root, countedRoot, frozen) of consultation `id` through every RPC URL of
 * the trust root; they must agree. A node a block behind may differ for a moment, so a disagreement is
 * read once more before it is reported as TrustError("disagree").
 */
export async function readAgreedHead(pinned: PinnedChain, id: string, retryMs = 1500): Promise<AgreedHead> {
  for (let attempt = 0; ; attempt++) {
    const heads = await Promise.all(pinned.contexts.map((ctx) => readOne(ctx, id)));
    const first = describeHead(heads[0]!);
    if (heads.every((h) => describeHead(h) === first))
      return { ...heads[0]!, rpcUrls: pinned.contexts.map((c) => c.rpcUrl) };
    if (attempt >= 1) {
      const readings = heads.map((h, i) => ({ rpcUrl: pinned.contexts[i]!.rpcUrl, value: describeHead(h) }));
      throw new TrustError("disagree", "the trust root's RPC URLs disagree on the anchored head", readings);
    }
    await new Promise((r) => setTimeout(r, retryMs));
  }
}

/** Every receipt-signing key the registry lists (raw Ed25519 public keys, lowercase hex). */
async function readChainKeys(ctx: ChainContext): Promise<Hex[]> {
  const reading = await ctx.reader.receiptKeys();
  return reading.checkable ? reading.keys.map((k) => k.publicKey.toLowerCase() as Hex) : [];
}

const KEYS_STORE = "gopy.chainKeys.v1";

function storeId(root: TrustRoot): string {
  return `${root.chainId}:${root.registry}`;
}

function storedKeys(root: TrustRoot): Hex[] {
  try {
    const all = JSON.parse(localStorage.getItem(KEYS_STORE) ?? "{}") as Record<string, unknown>;
    const list = all[storeId(root)];
    return Array.isArray(list)
      ? list.filter((k): k is Hex => typeof k === "string" && /^0x[0-9a-f]{64}$/.test(k))
      : [];
  } catch {
    return [];
  }
}

function storeKeys(root: TrustRoot, keys: Hex[]): void {
  try {
    const all = JSON.parse(localStorage.getItem(KEYS_STORE) ?? "{}") as Record<string, unknown>;
    all[storeId(root)] = keys;
    localStorage.setItem(KEYS_STORE, JSON.stringify(all));
  } catch {
    // storage full or disabled: the keys read now still serve this check
  }
}

/** A raw Ed25519 public key as the JWK protocol/ verifies receipts with. */
export const keyToJwk: (publicKey: Hex) => PublicJwk = receiptKeyJwk;

export interface ChainKeys {
  keys: PublicJwk[];
  /** why the registry could not be read now (the keys then are those seen before), or null */
  readError: unknown;
}

/**
 * The receipt-signing keys of the pinned registry: every key any earlier check saw (kept per registry in
 * this browser) plus those it lists now. A key enters only when every RPC URL of the trust root lists it,
 * and none ever leaves: a receipt signed by a key the chain knew keeps verifying.
 */
export async function chainReceiptKeys(pinned: PinnedChain): Promise<ChainKeys> {
  const seen = storedKeys(pinned.root);
  let readError: unknown = null;
  try {
    const lists = await Promise.all(pinned.contexts.map(readChainKeys));
    const agreed = lists[0]!.filter((k) => lists.every((l) => l.includes(k)));
    const merged = [...seen, ...agreed.filter((k) => !seen.includes(k))];
    if (merged.length !== seen.length) storeKeys(pinned.root, merged);
    return { keys: merged.map(keyToJwk), readError };
  } catch (e) {
    readError = e;
  }
  return { keys: seen.map(keyToJwk), readError };
}

/** Keys seen before for the active trust root, without reading the chain (the chain unreachable). */
export function seenReceiptKeys(): PublicJwk[] {
  const { root } = activeTrust();
  return root ? storedKeys(root).map(keyToJwk) : [];
}

/**
 * The plain warnings a page that touches the chain shows: the service advertises another chain or
 * registry than the trust root; or this copy has no trust root. Null when there is nothing to say.
 */
export function trustWarning(advertised: Partial<ChainInfo> | undefined): HTMLElement | null {
  const { root } = activeTrust();
  if (!root)
    return h(
      "p",
      { class: "trust-warning", id: "trust-warning", role: "alert", "data-kind": "none" },
      t("trust.none"),
    );
  const mismatch = serviceMismatch(root, advertised);
  if (!mismatch) return null;
  return h(
    "p",
    { class: "trust-warning", id: "trust-warning", role: "alert", "data-kind": "mismatch" },
    t("trust.mismatch", {
      advertised: mismatch.advertisedRegistry ?? "?",
      advertisedChain: mismatch.advertisedChainId ?? "?",
      registry: root.registry,
      chainId: root.chainId,
    }),
  );
}

/** The banner every page shows while an imported trust root replaces the built-in one (empty otherwise). */
export function renderTrustBanner(box: HTMLElement, onChange: () => void): void {
  const { root, source } = activeTrust();
  if (!root || source !== "imported") {
    box.hidden = true;
    replace(box);
    return;
  }
  box.hidden = false;
  replace(
    box,
    h(
      "p",
      { id: "trust-imported", "data-registry": root.registry },
      t("trust.imported", { registry: root.registry, chainId: root.chainId }),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "link",
          id: "trust-back",
          onclick: () => {
            saveImportedTrustRoot(null);
            onChange();
          },
        },
        t("trust.backToBuiltIn"),
      ),
    ),
  );
}
