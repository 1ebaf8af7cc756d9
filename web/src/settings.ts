// User-visible, user-changeable settings kept in localStorage. Nothing here is secret.
import { parseTrustRoot, type TrustRoot } from "./trust-root.ts";

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

export interface Settings {
  /** Base URL of the consultation service; "" = the origin this page was served from. */
  apiUrl: string;
  /** Base URL proofs are fetched from (a mirror); "" = the API URL. */
  proofUrl: string;
  /** EVM JSON-RPC URL used instead of the trust root's (a node of the user's own); "" = the trust root's. */
  rpcUrl: string;
  /**
   * Base URL of a C2SP tiles mirror (`npm run tiles`): a folder holding one log per consultation id, as the service's
   * /logs does. Set: inclusion proofs are computed here from its tiles; "" = none.
   */
  tilesUrl: string;
}

const KEY = "gopy.settings.v1";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function loadSettings(): Settings {
  const empty: Settings = { apiUrl: "", proofUrl: "", rpcUrl: "", tilesUrl: "" };
  const raw = storage()?.getItem(KEY);
  if (!raw) return empty;
  try {
    const parsed = JSON.parse(raw) as Partial<Settings>;
    return {
      apiUrl: typeof parsed.apiUrl === "string" ? parsed.apiUrl : "",
      proofUrl: typeof parsed.proofUrl === "string" ? parsed.proofUrl : "",
      rpcUrl: typeof parsed.rpcUrl === "string" ? parsed.rpcUrl : "",
      tilesUrl: typeof parsed.tilesUrl === "string" ? parsed.tilesUrl : "",
    };
  } catch {
    return empty;
  }
}

export function saveSettings(s: Settings): void {
  storage()?.setItem(KEY, JSON.stringify(s));
}

function trimSlash(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

export function apiBase(s: Settings = loadSettings()): string {
  return trimSlash(s.apiUrl) || window.location.origin;
}

export function proofBase(s: Settings = loadSettings()): string {
  return trimSlash(s.proofUrl) || apiBase(s);
}

/** The tiles base of consultation `id`'s log in the configured tiles mirror, or null when none is set. */
export function tilesBase(id: string, s: Settings = loadSettings()): string | null {
  const base = trimSlash(s.tilesUrl);
  return base === "" ? null : `${base}/${encodeURIComponent(id)}/`;
}

export function rpcUrl(pinned: string | undefined, s: Settings = loadSettings()): string {
  return s.rpcUrl.trim() || pinned || DEFAULT_RPC_URL;
}

// A trust root imported in Settings replaces the built-in one until the user goes back to it.
const TRUST_ROOT_KEY = "gopy.trustRoot.v1";

export function loadImportedTrustRoot(): TrustRoot | null {
  const raw = storage()?.getItem(TRUST_ROOT_KEY);
  if (!raw) return null;
  try {
    return parseTrustRoot(raw);
  } catch {
    return null;
  }
}

/** Validates and keeps `text` as the trust root (throws TrustRootError); null goes back to the built-in one. */
export function saveImportedTrustRoot(text: string | null): TrustRoot | null {
  if (text === null) {
    storage()?.removeItem(TRUST_ROOT_KEY);
    return null;
  }
  const root = parseTrustRoot(text);
  storage()?.setItem(TRUST_ROOT_KEY, JSON.stringify(root));
  return root;
}

export function isHttpUrl(value: string): boolean {
  if (value.trim() === "") return true;
  try {
    const u = new URL(value.trim());
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
