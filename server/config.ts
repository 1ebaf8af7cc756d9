/**
 * Configuration: read from the environment once, at start, validated into a typed object that is passed down.
 * A bad value stops start-up with a ConfigError naming the variable. Nothing else reads process.env.
 */
import { resolve } from "node:path";
import { parseWitnessVkey } from "../protocol/index.ts";

export type JwtAlgorithm = "RS256" | "ES256" | "EdDSA";
const ALLOWED_ALGORITHMS: readonly JwtAlgorithm[] = ["RS256", "ES256", "EdDSA"];

export type Role = "citizen" | "agency" | "admin";
export const ROLES: readonly Role[] = ["citizen", "agency", "admin"];

/**
 * One OpenID Provider whose tokens the service accepts (OIDC_ISSUERS): its keys come from the JWKS its discovery
 * document names, and it may grant only `roles`, so a citizens' identity provider cannot mint agency staff.
 */
export interface IssuerConfig {
  /** Issuer URL, exactly as in its tokens' `iss` and its `/.well-known/openid-configuration`. */
  issuer: string;
  /** The `aud` its tokens must carry for this service. */
  audience: string;
  /** Roles its tokens may have; a token of any other role is refused. */
  roles: Role[];
  /** Claim holding the stable subject (default `sub`; Entra ID: `oid`). A dotted name reaches into objects. */
  subjectClaim: string;
  /** Claim holding the role, a string or an array of strings (Keycloak: `realm_access.roles`); null: none. */
  roleClaim: string | null;
  /** Role claim value -> role; values not listed are ignored (default: citizen, agency and admin as themselves). */
  roleValues: Record<string, Role>;
  /** Role of a token whose role claim names no role (default citizen when `roles` has it, else none: refused). */
  defaultRole: Role | null;
  /** Claim holding the agency id of staff tokens; null: none. */
  agencyClaim: string | null;
  /** Agency of every staff token of this issuer (an agency's own identity provider); null: from `agencyClaim`. */
  agency: string | null;
}

export interface AgencyConfig {
  /** Address of the agency on chain (holder of AGENCY_ROLE). */
  address: `0x${string}`;
  /** Private key of the agency's operator (hot key of this service). Never logged. */
  operatorKey: `0x${string}`;
}

export interface Config {
  nodeEnv: "development" | "production" | "test";
  host: string;
  port: number;
  /** Base URL under which this service is reachable (draft and tally URIs on chain point here). */
  publicUrl: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** PostgreSQL connection string; when set, PostgreSQL is used instead of SQLite. */
  databaseUrl: string | null;
  /** PostgreSQL schema (default public). */
  databaseSchema: string;
  /** SQLite file (used when databaseUrl is null). */
  sqlitePath: string;
  /** SQLite group commits (and their fsync) and the reading index in worker threads, off the event loop (default). */
  sqliteWriterThread: boolean;
  chain: {
    /** JSON-RPC URL of the EVM network; null disables the chain (no consultations can be opened or anchored). */
    rpcUrl: string | null;
    /**
     * JSON-RPC URL that citizens' browsers and auditors may use to read the chain themselves (PUBLIC_RPC_URL),
     * served as `chain.rpcUrl`; null/absent: not advertised (RPC_URL may be private, so it is never served).
     */
    publicRpcUrl?: string | null;
    registryAddress: `0x${string}` | null;
    /** Expected chain id (checked against the RPC at start when set). */
    chainId: number | null;
    /** agency id (JWT `agency` claim) -> on-chain address + operator key. */
    agencies: Record<string, AgencyConfig>;
    /** agency id -> display names (AGENCY_NAMES); an agency missing here is shown by its id. */
    agencyNames: Record<string, AgencyName>;
    /** Seconds to wait for a transaction to be mined before retrying later. */
    txTimeoutSeconds: number;
  };
  /** HMAC secret of the per-consultation author pseudonyms and subject keys (>= 32 bytes). */
  pseudonymSecret: Uint8Array;
  /** 32-byte seed of the Ed25519 receipt-signing key. */
  receiptKeySeed: Uint8Array;
  /** Public keys (base64url Ed25519 `x`) of retired receipt-signing keys, still listed at /api/keys. */
  retiredReceiptKeys: string[];
  /** The C2SP transparency log API (/logs/<id>/...): checkpoints, tiles and entry bundles. */
  log: {
    /** Scheme-less prefix of every log's origin: consultation <id>'s log is `<originPrefix>/<id>` (LOG_ORIGIN_PREFIX). */
    originPrefix: string;
    /** 32-byte seed of the Ed25519 checkpoint key (CHECKPOINT_KEY_SEED); its key name is each log's origin. */
    checkpointKeySeed: Uint8Array;
    /** A checkpoint older than this (ms) is refreshed to the committed size when one is asked for (CHECKPOINT_INTERVAL). */
    checkpointIntervalMs: number;
    /** C2SP witnesses every published checkpoint is submitted to (WITNESSES): base URL and cosignature vkey. */
    witnesses: { url: string; vkey: string }[];
    /** How long a witness is waited for (WITNESS_TIMEOUT); past it the checkpoint goes on without its cosignature. */
    witnessTimeoutMs: number;
  };
  jwt: {
    /** The identity providers whose tokens are accepted (OIDC_ISSUERS). */
    issuers: IssuerConfig[];
    algorithms: JwtAlgorithm[];
    /** Milliseconds a token's nbf may lie ahead of (and its exp behind) this service's clock: IdP clock skew. */
    clockToleranceMs: number;
  };
  /**
   * The demo identity provider's issuer (DEV_IDP_URL), whose development mint POST /api/dev/token forwards to; null:
   * no such route. Only with NODE_ENV=development set explicitly, and only an issuer of OIDC_ISSUERS.
   */
  devIdpUrl: string | null;
  /** Bearer token operators scrape /metrics with; null: /metrics is not served. */
  metricsToken: string | null;
  /** Origins, besides this service and PUBLIC_RPC_URL, the served web client may connect to (CSP connect-src). */
  cspConnectSrc: string[];
  anchor: {
    enabled: boolean;
    /** Milliseconds between anchoring rounds. */
    intervalMs: number;
    /** Anchor early once this many entries wait. */
    batchMax: number;
    /** Promised anchoring deadline, milliseconds after issuance. */
    maxDelayMs: number;
  };
  ingest: {
    /** Largest group-commit batch. */
    groupCommitMax: number;
  };
  rateLimit: { max: number; windowMs: number };
  bodyLimit: number;
  importBodyLimit: number;
  /** Largest attachment upload (bytes). */
  attachmentLimit: number;
  /** Folder of the built web client, served at / when it exists. */
  webDist: string;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === "" ? fallback : value;
}

function optStr(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value === "" ? null : value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(name, `expected an integer, got ${JSON.stringify(raw)}`);
  const parsed = Number(raw.trim());
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, `expected an integer between ${min} and ${max}, got ${raw}`);
  }
  return parsed;
}

/** Duration in seconds; accepts "10", "10s", "5m", "250ms". Returns milliseconds. */
function duration(env: Env, name: string, defMs: number, minMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return defMs;
  const parts = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!parts)
    throw new ConfigError(
      name,
      `expected a duration such as 10, 10s, 5m or 250ms, got ${JSON.stringify(raw)}`,
    );
  const unit = parts[2] ?? "s";
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000;
  const ms = Math.round(Number(parts[1]) * factor);
  if (ms < minMs) throw new ConfigError(name, `must be at least ${minMs} ms`);
  return ms;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const word = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(word)) return true;
  if (["0", "false", "no", "off"].includes(word)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(raw)}`);
}

function hexBytes(env: Env, name: string, minBytes: number, maxBytes: number): Uint8Array | null {
  const raw = optStr(env, name);
  if (raw === null) return null;
  const hex = raw.trim().replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new ConfigError(name, "expected hex bytes");
  const length = hex.length / 2;
  if (length < minBytes || length > maxBytes) {
    throw new ConfigError(
      name,
      minBytes === maxBytes ? `expected ${minBytes} bytes` : `expected ${minBytes} to ${maxBytes} bytes`,
    );
  }
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

function address(name: string, value: unknown): `0x${string}` {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new ConfigError(name, `expected a 0x-prefixed 20-byte address, got ${JSON.stringify(value)}`);
  }
  return value as `0x${string}`;
}

function privateKey(name: string, value: unknown): `0x${string}` {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    // never echo the value: it may be a (mistyped) key
    throw new ConfigError(name, "expected a 0x-prefixed 32-byte private key");
  }
  return value.toLowerCase() as `0x${string}`;
}

function url(name: string, value: string): string {
  try {
    const parsed = new URL(value);
    if (!["http:", "https:", "ws:", "wss:", "postgres:", "postgresql:"].includes(parsed.protocol))
      throw new Error();
    return value;
  } catch {
    throw new ConfigError(name, `expected a URL, got ${JSON.stringify(value)}`);
  }
}

export interface AgencyName {
  vi: string;
  en: string;
}

/** The demo's two agencies, named when AGENCY_NAMES is not set. */
const DEMO_AGENCY_NAMES: Record<string, AgencyName> = {
  "bo-tu-phap": { vi: "Bộ Tư pháp", en: "Ministry of Justice" },
  "bo-y-te": { vi: "Bộ Y tế", en: "Ministry of Health" },
};

function agencyNames(env: Env): Record<string, AgencyName> {
  const raw = optStr(env, "AGENCY_NAMES");
  if (raw === null) return { ...DEMO_AGENCY_NAMES };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("AGENCY_NAMES", 'expected JSON {"<agency id>": {"vi": "…", "en": "…"}}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("AGENCY_NAMES", "expected a JSON object keyed by agency id");
  }
  const entries: [string, AgencyName][] = [];
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id) || id === "__proto__")
      throw new ConfigError("AGENCY_NAMES", `bad agency id ${JSON.stringify(id)}`);
    const fields = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    for (const lang of ["vi", "en"] as const) {
      const name = fields[lang];
      if (typeof name !== "string" || name.trim() === "" || name.length > 200)
        throw new ConfigError(
          "AGENCY_NAMES",
          `agency ${id}: "${lang}" must be a name of 1 to 200 characters`,
        );
    }
    entries.push([id, { vi: String(fields.vi), en: String(fields.en) }]);
  }
  return Object.fromEntries(entries);
}

/** An agency's display names: configured, or its id in both languages. */
export function agencyNameOf(config: Config, agency: string): AgencyName {
  const names = config.chain.agencyNames;
  return Object.hasOwn(names, agency) ? names[agency]! : { vi: agency, en: agency };
}

function agencies(env: Env): Record<string, AgencyConfig> {
  const raw = optStr(env, "AGENCIES");
  if (raw === null) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      "AGENCIES",
      'expected JSON {"<agency id>": {"address": "0x…", "operatorKey": "0x…"}}',
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError("AGENCIES", "expected a JSON object keyed by agency id");
  }
  const entries: [string, AgencyConfig][] = [];
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    // "__proto__" would set the prototype of an object keyed by agency ids instead of adding an agency
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id) || id === "__proto__")
      throw new ConfigError("AGENCIES", `bad agency id ${JSON.stringify(id)}`);
    if (typeof value !== "object" || value === null)
      throw new ConfigError("AGENCIES", `agency ${id}: expected an object`);
    const fields = value as Record<string, unknown>;
    entries.push([
      id,
      {
        address: address(`AGENCIES.${id}.address`, fields.address),
        operatorKey: privateKey(`AGENCIES.${id}.operatorKey`, fields.operatorKey),
      },
    ]);
  }
  // own data properties, even for ids such as "constructor" or "toString"
  return Object.fromEntries(entries);
}

const CLAIM_NAME = /^[A-Za-z0-9_.:/-]{1,200}$/;

function claimName(variable: string, value: unknown, fallback: string | null): string | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  if (typeof value !== "string" || !CLAIM_NAME.test(value))
    throw new ConfigError(variable, "expected a claim name (letters, digits, _ . : / -)");
  return value;
}

function role(variable: string, value: unknown): Role {
  if (typeof value !== "string" || !ROLES.includes(value as Role))
    throw new ConfigError(variable, `expected one of ${ROLES.join(", ")}, got ${JSON.stringify(value)}`);
  return value as Role;
}

const ISSUER_FIELDS = new Set([
  "issuer",
  "audience",
  "roles",
  "subjectClaim",
  "roleClaim",
  "roleValues",
  "defaultRole",
  "agencyClaim",
  "agency",
]);

/** OIDC_ISSUERS: a JSON array of identity providers, each with the roles it may grant and its claim names. */
function oidcIssuers(env: Env): IssuerConfig[] {
  const raw = optStr(env, "OIDC_ISSUERS");
  if (raw === null) {
    throw new ConfigError(
      "OIDC_ISSUERS",
      'required: a JSON array such as [{"issuer": "https://id.example.gov.vn", "audience": "gopy", "roles": ["citizen"]}]',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError("OIDC_ISSUERS", "expected a JSON array of issuer objects");
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 32)
    throw new ConfigError("OIDC_ISSUERS", "expected a JSON array of 1 to 32 issuer objects");
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i): IssuerConfig => {
    const at = `OIDC_ISSUERS[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry))
      throw new ConfigError(at, "expected an object");
    const fields = entry as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!ISSUER_FIELDS.has(key)) throw new ConfigError(`${at}.${key}`, "unknown field");
    }
    if (typeof fields.issuer !== "string") throw new ConfigError(`${at}.issuer`, "required: the issuer URL");
    const issuer = url(`${at}.issuer`, fields.issuer);
    if (!/^https?:$/.test(new URL(issuer).protocol))
      throw new ConfigError(`${at}.issuer`, "expected an http(s) URL");
    if (seen.has(issuer)) throw new ConfigError(`${at}.issuer`, `${issuer} is listed twice`);
    seen.add(issuer);
    if (typeof fields.audience !== "string" || fields.audience === "" || fields.audience.length > 500)
      throw new ConfigError(`${at}.audience`, "required: the `aud` its tokens carry for this service");
    if (!Array.isArray(fields.roles) || fields.roles.length === 0)
      throw new ConfigError(`${at}.roles`, `required: a non-empty array of ${ROLES.join(", ")}`);
    const roles = [...new Set(fields.roles.map((r: unknown) => role(`${at}.roles`, r)))];
    const roleValues: Record<string, Role> = Object.fromEntries(ROLES.map((r) => [r, r]));
    if (fields.roleValues !== undefined) {
      if (
        typeof fields.roleValues !== "object" ||
        fields.roleValues === null ||
        Array.isArray(fields.roleValues)
      )
        throw new ConfigError(`${at}.roleValues`, "expected an object {claim value: role}");
      for (const key of Object.keys(roleValues)) delete roleValues[key];
      for (const [value, mapped] of Object.entries(fields.roleValues as Record<string, unknown>)) {
        if (value === "__proto__") throw new ConfigError(`${at}.roleValues`, "bad claim value");
        roleValues[value] = role(`${at}.roleValues.${value}`, mapped);
      }
    }
    const defaultRole =
      fields.defaultRole === undefined
        ? roles.includes("citizen")
          ? "citizen"
          : null
        : fields.defaultRole === null
          ? null
          : role(`${at}.defaultRole`, fields.defaultRole);
    if (defaultRole !== null && !roles.includes(defaultRole))
      throw new ConfigError(`${at}.defaultRole`, "must be one of the issuer's roles");
    let agency: string | null = null;
    if (fields.agency !== undefined && fields.agency !== null) {
      if (typeof fields.agency !== "string" || !/^[A-Za-z0-9_.-]{1,64}$/.test(fields.agency))
        throw new ConfigError(`${at}.agency`, "expected an agency id");
      agency = fields.agency;
    }
    return {
      issuer,
      audience: fields.audience,
      roles,
      subjectClaim: claimName(`${at}.subjectClaim`, fields.subjectClaim, "sub") ?? "sub",
      roleClaim: claimName(`${at}.roleClaim`, fields.roleClaim, "role"),
      roleValues,
      defaultRole,
      agencyClaim: claimName(`${at}.agencyClaim`, fields.agencyClaim, "agency"),
      agency,
    };
  });
}

/** WITNESSES: a JSON array of {url, vkey}, the vkey a cosignature/v1 key (algorithm 0x04). */
function witnessList(env: Env): { url: string; vkey: string }[] {
  const raw = optStr(env, "WITNESSES");
  if (raw === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(
      "WITNESSES",
      'expected a JSON array [{"url": "https://…", "vkey": "<name>+<id>+<key>"}]',
    );
  }
  if (!Array.isArray(parsed) || parsed.length > 32)
    throw new ConfigError("WITNESSES", "expected a JSON array of at most 32 witnesses");
  return parsed.map((w: unknown, i) => {
    const at = `WITNESSES[${i}]`;
    const fields = (typeof w === "object" && w !== null ? w : {}) as Record<string, unknown>;
    if (typeof fields.url !== "string" || !/^https?:\/\//.test(fields.url))
      throw new ConfigError(`${at}.url`, "expected the witness's http(s) base URL");
    url(`${at}.url`, fields.url);
    if (typeof fields.vkey !== "string") throw new ConfigError(`${at}.vkey`, "expected the witness's vkey");
    try {
      parseWitnessVkey(fields.vkey);
    } catch (e) {
      throw new ConfigError(`${at}.vkey`, (e as Error).message);
    }
    return { url: fields.url, vkey: fields.vkey };
  });
}

/** Reads and validates the configuration. Throws ConfigError naming the variable on a bad value. */
export function loadConfig(env: Env = process.env): Config {
  // unset is production: whatever is meant for development only must be asked for by name
  const nodeEnvRaw = str(env, "NODE_ENV", "production");
  if (!["development", "production", "test"].includes(nodeEnvRaw)) {
    throw new ConfigError(
      "NODE_ENV",
      `expected development, production or test, got ${JSON.stringify(nodeEnvRaw)}`,
    );
  }
  const nodeEnv = nodeEnvRaw as Config["nodeEnv"];
  const host = str(env, "HOST", "127.0.0.1");
  const port = int(env, "PORT", 3000, 0, 65535);
  const publicUrlRaw = optStr(env, "PUBLIC_URL");
  const publicUrl = (publicUrlRaw ? url("PUBLIC_URL", publicUrlRaw) : `http://${host}:${port}`).replace(
    /\/+$/,
    "",
  );
  const logLevel = str(env, "LOG_LEVEL", "info");
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    throw new ConfigError("LOG_LEVEL", `expected one of fatal, error, warn, info, debug, trace, silent`);
  }
  const databaseUrlRaw = optStr(env, "DATABASE_URL");
  const databaseUrl = databaseUrlRaw === null ? null : url("DATABASE_URL", databaseUrlRaw);
  const databaseSchema = str(env, "DATABASE_SCHEMA", "public");
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError("DATABASE_SCHEMA", "expected a lowercase SQL identifier");
  }
  const sqlitePath = resolve(str(env, "SQLITE_PATH", "data/gopy.sqlite"));

  const rpcRaw = optStr(env, "RPC_URL");
  const rpcUrl = rpcRaw === null ? null : url("RPC_URL", rpcRaw);
  const regRaw = optStr(env, "REGISTRY_ADDRESS");
  const registryAddress = regRaw === null ? null : address("REGISTRY_ADDRESS", regRaw);
  if ((rpcUrl === null) !== (registryAddress === null)) {
    throw new ConfigError(
      rpcUrl === null ? "RPC_URL" : "REGISTRY_ADDRESS",
      "RPC_URL and REGISTRY_ADDRESS go together: set both or neither",
    );
  }
  const publicRpcRaw = optStr(env, "PUBLIC_RPC_URL");
  const publicRpcUrl = publicRpcRaw === null ? null : url("PUBLIC_RPC_URL", publicRpcRaw);
  const chainIdRaw = optStr(env, "CHAIN_ID");
  const chainId = chainIdRaw === null ? null : int(env, "CHAIN_ID", 0, 1, Number.MAX_SAFE_INTEGER);

  const pseudonymSecret = hexBytes(env, "PSEUDONYM_SECRET", 32, 256);
  if (!pseudonymSecret)
    throw new ConfigError("PSEUDONYM_SECRET", "required: at least 32 random bytes as hex");
  const receiptKeySeed = hexBytes(env, "RECEIPT_KEY_SEED", 32, 32);
  if (!receiptKeySeed) throw new ConfigError("RECEIPT_KEY_SEED", "required: 32 random bytes as hex");

  const retiredRaw = str(env, "RETIRED_RECEIPT_KEYS", "");
  const retiredReceiptKeys = retiredRaw
    .split(",")
    .map((key) => key.trim())
    .filter((key) => key !== "");
  for (const key of retiredReceiptKeys) {
    if (!/^[A-Za-z0-9_-]{43}$/.test(key)) {
      throw new ConfigError(
        "RETIRED_RECEIPT_KEYS",
        "expected comma-separated base64url Ed25519 public keys (43 chars)",
      );
    }
  }

  const checkpointKeySeed = hexBytes(env, "CHECKPOINT_KEY_SEED", 32, 32);
  if (!checkpointKeySeed) throw new ConfigError("CHECKPOINT_KEY_SEED", "required: 32 random bytes as hex");
  const originPrefix = str(env, "LOG_ORIGIN_PREFIX", "localhost/gopy/logs");
  // an origin is also a note key name: no scheme, no spaces, no "+", no trailing slash
  if (
    !/^[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~%!$&'()*,;=:@-]+)*$/.test(originPrefix) ||
    originPrefix.length > 200
  ) {
    throw new ConfigError(
      "LOG_ORIGIN_PREFIX",
      "expected a scheme-less URL prefix such as consult.example.gov.vn/logs (host, optional path, no trailing slash)",
    );
  }
  const checkpointIntervalMs = duration(env, "CHECKPOINT_INTERVAL", 1000, 0);
  const witnesses = witnessList(env);
  const witnessTimeoutMs = duration(env, "WITNESS_TIMEOUT", 3000, 100);

  for (const replaced of ["JWT_JWKS_URL", "JWT_PUBLIC_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "DEV_IDP"]) {
    if (optStr(env, replaced) !== null) {
      throw new ConfigError(
        replaced,
        `no longer read: identity providers are configured by OIDC_ISSUERS (keys discovered from each issuer) and the demo's mint by DEV_IDP_URL`,
      );
    }
  }
  const issuers = oidcIssuers(env);
  // a citizen's pseudonyms derive from the subject alone: two citizen issuers could hand out the same one
  if (issuers.filter((i) => i.roles.includes("citizen")).length > 1) {
    throw new ConfigError("OIDC_ISSUERS", "at most one issuer may grant the citizen role");
  }
  const devIdpRaw = optStr(env, "DEV_IDP_URL");
  const devIdpUrl = devIdpRaw === null ? null : url("DEV_IDP_URL", devIdpRaw).replace(/\/+$/, "");
  if (devIdpUrl !== null && nodeEnv !== "development") {
    throw new ConfigError(
      "DEV_IDP_URL",
      `the development token mint issues tokens for any role: it is served only with NODE_ENV=development set explicitly (NODE_ENV is ${env.NODE_ENV ? JSON.stringify(env.NODE_ENV) : "unset, that is production"})`,
    );
  }
  if (devIdpUrl !== null && !issuers.some((i) => i.issuer === devIdpUrl)) {
    throw new ConfigError(
      "DEV_IDP_URL",
      "must be the issuer of one of OIDC_ISSUERS (its tokens are verified as any)",
    );
  }
  const algRaw = str(env, "JWT_ALGORITHMS", ALLOWED_ALGORITHMS.join(","));
  const algorithms = algRaw.split(",").map((algorithm) => algorithm.trim()) as JwtAlgorithm[];
  for (const algorithm of algorithms) {
    if (!ALLOWED_ALGORITHMS.includes(algorithm)) {
      throw new ConfigError(
        "JWT_ALGORITHMS",
        `${JSON.stringify(algorithm)} is not allowed; allowed: RS256, ES256, EdDSA`,
      );
    }
  }
  const clockToleranceMs = duration(env, "JWT_CLOCK_TOLERANCE", 5_000, 0);
  if (clockToleranceMs > 60_000) throw new ConfigError("JWT_CLOCK_TOLERANCE", "at most 60 s");

  const metricsToken = optStr(env, "METRICS_TOKEN");
  if (metricsToken !== null && !/^[A-Za-z0-9._~+/=-]{32,256}$/.test(metricsToken)) {
    // never echo the value: it is a secret
    throw new ConfigError(
      "METRICS_TOKEN",
      "expected 32 to 256 token characters (e.g. `openssl rand -hex 32`)",
    );
  }
  const cspConnectSrc = str(env, "CSP_CONNECT_SRC", "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => new URL(url("CSP_CONNECT_SRC", entry)).origin);

  return {
    nodeEnv,
    host,
    port,
    publicUrl,
    logLevel: logLevel as Config["logLevel"],
    databaseUrl,
    databaseSchema,
    sqlitePath,
    sqliteWriterThread: bool(env, "SQLITE_WRITER_THREAD", true),
    chain: {
      rpcUrl,
      publicRpcUrl,
      registryAddress,
      chainId,
      agencies: agencies(env),
      agencyNames: agencyNames(env),
      txTimeoutSeconds: int(env, "TX_TIMEOUT", 60, 1, 3600),
    },
    pseudonymSecret,
    receiptKeySeed,
    retiredReceiptKeys,
    log: { originPrefix, checkpointKeySeed, checkpointIntervalMs, witnesses, witnessTimeoutMs },
    jwt: { issuers, algorithms, clockToleranceMs },
    devIdpUrl,
    metricsToken,
    cspConnectSrc,
    anchor: {
      enabled: bool(env, "ANCHOR_ENABLED", true),
      intervalMs: duration(env, "ANCHOR_INTERVAL", 60_000, 100),
      batchMax: int(env, "BATCH_MAX", 50_000, 1, 10_000_000),
      maxDelayMs: duration(env, "MAX_ANCHOR_DELAY", 300_000, 1000),
    },
    ingest: { groupCommitMax: int(env, "GROUP_COMMIT_MAX", 4096, 1, 100_000) },
    rateLimit: {
      max: int(env, "RATE_LIMIT_MAX", 60, 1, 1_000_000),
      windowMs: duration(env, "RATE_LIMIT_WINDOW", 60_000, 1000),
    },
    bodyLimit: int(env, "BODY_LIMIT", 65_536, 1024, 10_485_760),
    importBodyLimit: int(env, "IMPORT_BODY_LIMIT", 10_485_760, 1024, 1_073_741_824),
    attachmentLimit: int(env, "ATTACHMENT_LIMIT", 20_971_520, 1024, 1_073_741_824),
    webDist: resolve(str(env, "WEB_DIST", "web/dist")),
  };
}
