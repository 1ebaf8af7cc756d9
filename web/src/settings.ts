// User-visible, user-changeable settings kept in localStorage. Nothing here is secret.

export const DEFAULT_RPC_URL = "http://127.0.0.1:8545";

export interface Settings {
  /** Base URL of the consultation service; "" = the origin this page was served from. */
  apiUrl: string;
  /** Base URL proofs are fetched from (a mirror); "" = the API URL. */
  proofUrl: string;
  /** EVM JSON-RPC URL; "" = the one the service advertises, else DEFAULT_RPC_URL. */
  rpcUrl: string;
  /** Registry contract address; "" = the one the service advertises. */
  contract: string;
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
  const empty: Settings = { apiUrl: "", proofUrl: "", rpcUrl: "", contract: "" };
  const raw = storage()?.getItem(KEY);
  if (!raw) return empty;
  try {
    const parsed = JSON.parse(raw) as Partial<Settings>;
    return {
      apiUrl: typeof parsed.apiUrl === "string" ? parsed.apiUrl : "",
      proofUrl: typeof parsed.proofUrl === "string" ? parsed.proofUrl : "",
      rpcUrl: typeof parsed.rpcUrl === "string" ? parsed.rpcUrl : "",
      contract: typeof parsed.contract === "string" ? parsed.contract : "",
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

export function rpcUrl(advertised: string | undefined, s: Settings = loadSettings()): string {
  return s.rpcUrl.trim() || advertised || DEFAULT_RPC_URL;
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
