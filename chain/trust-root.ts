/**
 * The trust root: what a verifier (the browser build, the auditor CLI, anyone's script) holds before it asks
 * anything of anyone. It names the chain, the registry contract on it and RPC endpoints, ideally run by
 * different parties; every fact about a consultation is then read from that registry through those endpoints,
 * and whatever the service advertises is only compared with it.
 *
 * Version 1, a JSON object with exactly these keys:
 *
 *   {"v": 1, "chainId": 31337, "registry": "0x…40 hex…", "rpcUrls": ["https://rpc.example.org", …]}
 *
 * - `chainId`: a positive integer (EIP-155 chain id), at most 2^53 - 1.
 * - `registry`: the ConsultationRegistry address, 0x and 40 hex digits (any case; kept lowercase).
 * - `rpcUrls`: one or more distinct http(s) URLs without credentials; with several, they must agree.
 *
 * Optional, the consultations' transparency logs (C2SP checkpoints and tiles, docs/PROTOCOL.md):
 *
 *   "log": {"originPrefix": "consult.example.gov.vn/logs", "publicKey": "<standard base64 of the 32-byte key>"}
 *
 * - `originPrefix`: the service's LOG_ORIGIN_PREFIX; consultation <id>'s log is `<originPrefix>/<id>`.
 * - `publicKey`: the Ed25519 checkpoint key (CHECKPOINT_KEY_SEED's public key), so a verifier derives each log's
 *   vkey (`<origin>+<key id>+<base64(0x01 || key)>`) without asking the service (logVerifierKey below).
 *
 * Optional with `log`, witnesses: `"witnesses": ["<name>+<id>+<base64(0x04 || key)>", …], "quorum": k` (both or
 * neither): a checkpoint is then accepted only with valid cosignatures of at least k of those witnesses.
 *
 * Any other key is refused, so a file written for a later version is never half-understood. A later version
 * adds optional fields under their own names (witnesses and their quorum) and a verifier that knows them accepts
 * both versions; `parseTrustRoot` refuses every version but 1.
 */

/** A parsed, normalized version-1 trust root. */
export interface TrustRoot {
  readonly v: 1;
  readonly chainId: number;
  /** Lowercase 0x address. */
  readonly registry: `0x${string}`;
  /** At least one http(s) URL, as given (trimmed), no duplicates. */
  readonly rpcUrls: readonly string[];
  /** The logs' origin prefix and checkpoint key, when the trust root names them. */
  readonly log?: TrustRootLog;
  /** Witness vkeys (tlog-cosignature v1) whose cosignatures a checkpoint needs, `quorum` of them (k of n). */
  readonly witnesses?: readonly string[];
  readonly quorum?: number;
}

export interface TrustRootLog {
  readonly originPrefix: string;
  /** The 32-byte Ed25519 checkpoint public key, standard base64 as written (so the root round-trips as JSON). */
  readonly publicKey: string;
}

/** The field a defect is in ("" for the document as a whole). */
export type TrustRootField = "" | "v" | "chainId" | "registry" | "rpcUrls" | `rpcUrls[${number}]` | string;

/** A trust root refused by parseTrustRoot: `field` is where the defect is, the message says what it is. */
export class TrustRootError extends Error {
  readonly field: TrustRootField;
  constructor(field: TrustRootField, message: string) {
    super(field === "" ? `trust root: ${message}` : `trust root: "${field}" ${message}`);
    this.name = "TrustRootError";
    this.field = field;
  }
}

const KEYS = ["v", "chainId", "registry", "rpcUrls"] as const;
const OPTIONAL_KEYS = ["log", "witnesses", "quorum"] as const;
/** A cosignature/v1 vkey: name, 8 hex digits, base64 of 0x04 and 32 bytes (44 characters, the first B). */
const WITNESS_VKEY = /^[^\s+]+\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/;
const LOG_KEYS = ["originPrefix", "publicKey"] as const;
/** What LOG_ORIGIN_PREFIX accepts (server/config.ts): a scheme-less host and path, no spaces, no "+". */
const ORIGIN_PREFIX = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~%!$&'()*,;=:@-]+)*$/;

/**
 * Checks a trust root document (already parsed from JSON, or JSON text) and returns it normalized, or throws a
 * TrustRootError naming the first defect's field.
 */
export function parseTrustRoot(json: unknown): TrustRoot {
  let doc = json;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch (e) {
      throw new TrustRootError("", `is not JSON (${(e as Error).message})`);
    }
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new TrustRootError("", `must be a JSON object, got ${describe(doc)}`);
  }
  const o = doc as Record<string, unknown>;
  if (!("v" in o)) throw new TrustRootError("v", "is missing: a trust root names its version (1)");
  if (o.v !== 1)
    throw new TrustRootError("v", `must be 1 (the version this verifier reads), got ${describe(o.v)}`);
  for (const key of Object.keys(o)) {
    if (!(KEYS as readonly string[]).includes(key) && !(OPTIONAL_KEYS as readonly string[]).includes(key)) {
      throw new TrustRootError(
        key,
        `is not a field of a version 1 trust root (fields: ${[...KEYS, ...OPTIONAL_KEYS].join(", ")})`,
      );
    }
  }
  for (const key of KEYS) if (!(key in o)) throw new TrustRootError(key, "is missing");

  const { chainId, registry, rpcUrls } = o;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new TrustRootError("chainId", `must be a positive integer, got ${describe(chainId)}`);
  }
  if (typeof registry !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(registry)) {
    throw new TrustRootError(
      "registry",
      `must be a 20-byte address (0x and 40 hex digits), got ${describe(registry)}`,
    );
  }
  if (/^0x0{40}$/.test(registry)) throw new TrustRootError("registry", "must not be the zero address");
  if (!Array.isArray(rpcUrls)) {
    throw new TrustRootError("rpcUrls", `must be a list of http(s) URLs, got ${describe(rpcUrls)}`);
  }
  if (rpcUrls.length === 0) throw new TrustRootError("rpcUrls", "must list at least one RPC URL");
  const urls: string[] = [];
  rpcUrls.forEach((u, i) => {
    const field = `rpcUrls[${i}]`;
    const url = checkRpcUrl(u, field);
    if (urls.includes(url)) throw new TrustRootError(field, `repeats ${url}`);
    urls.push(url);
  });
  const root: TrustRoot = { v: 1, chainId, registry: registry.toLowerCase() as `0x${string}`, rpcUrls: urls };
  let out: TrustRoot = "log" in o ? { ...root, log: parseLog(o.log) } : root;
  if ("witnesses" in o || "quorum" in o) {
    const { witnesses, quorum } = o;
    if (!Array.isArray(witnesses) || witnesses.length === 0 || witnesses.length > 32)
      throw new TrustRootError("witnesses", "must list 1 to 32 witness vkeys (cosignature/v1)");
    witnesses.forEach((w, i) => {
      if (typeof w !== "string" || !WITNESS_VKEY.test(w))
        throw new TrustRootError(
          `witnesses[${i}]`,
          `must be a cosignature/v1 vkey <name>+<id>+<base64 key>, got ${describe(w)}`,
        );
      if (witnesses.indexOf(w) !== i) throw new TrustRootError(`witnesses[${i}]`, "repeats a witness");
    });
    if (typeof quorum !== "number" || !Number.isInteger(quorum) || quorum < 1 || quorum > witnesses.length)
      throw new TrustRootError(
        "quorum",
        `must be an integer from 1 to the number of witnesses, got ${describe(quorum)}`,
      );
    if (!out.log)
      throw new TrustRootError("witnesses", "need the log field: witnesses cosign the log's checkpoints");
    out = { ...out, witnesses: witnesses as string[], quorum };
  }
  return out;
}

function parseLog(value: unknown): TrustRootLog {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TrustRootError("log", `must be an object {originPrefix, publicKey}, got ${describe(value)}`);
  }
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(LOG_KEYS as readonly string[]).includes(key))
      throw new TrustRootError(`log.${key}`, `is not a field of log (fields: ${LOG_KEYS.join(", ")})`);
  }
  for (const key of LOG_KEYS) if (!(key in o)) throw new TrustRootError(`log.${key}`, "is missing");
  const { originPrefix, publicKey } = o;
  if (typeof originPrefix !== "string" || originPrefix.length > 200 || !ORIGIN_PREFIX.test(originPrefix)) {
    throw new TrustRootError(
      "log.originPrefix",
      `must be a scheme-less prefix such as consult.example.gov.vn/logs (no trailing slash), got ${describe(originPrefix)}`,
    );
  }
  // canonical padded base64 of exactly 32 bytes: 43 characters, the last of them one of the 16 that end 32 bytes
  if (typeof publicKey !== "string" || !/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(publicKey)) {
    throw new TrustRootError(
      "log.publicKey",
      `must be the 32-byte Ed25519 checkpoint key in standard base64 (44 characters), got ${describe(publicKey)}`,
    );
  }
  return { originPrefix, publicKey };
}

/** The trust root's log as v2 receipts are checked against it (the prefix and the 32-byte key), or null. */
export function trustedLogKey(root: TrustRoot): { originPrefix: string; publicKey: Uint8Array } | null {
  if (!root.log) return null;
  const binary = atob(root.log.publicKey);
  return { originPrefix: root.log.originPrefix, publicKey: Uint8Array.from(binary, (c) => c.charCodeAt(0)) };
}

/** The origin of consultation `id`'s log and its 32-byte checkpoint key, when the trust root names them. */
export function trustedLog(
  root: TrustRoot,
  id: string | number,
): { origin: string; publicKey: Uint8Array } | null {
  const key = trustedLogKey(root);
  return key && { origin: `${key.originPrefix}/${id}`, publicKey: key.publicKey };
}

/** An RPC URL as a trust root or the CLI takes it: http(s), a host, no user or password in it. */
export function checkRpcUrl(value: unknown, field: string): string {
  if (typeof value !== "string")
    throw new TrustRootError(field, `must be an http(s) URL, got ${describe(value)}`);
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TrustRootError(field, `is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TrustRootError(
      field,
      `must be an http or https URL, got ${url.protocol.slice(0, -1)}: ${text}`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    // a published trust root must not carry a credential
    throw new TrustRootError(field, "must not contain a user name or password");
  }
  return text;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
