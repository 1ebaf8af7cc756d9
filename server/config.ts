/**
 * Configuration: read from the environment once, at start, validated into a typed object that is passed down.
 * A bad value stops start-up with a ConfigError naming the variable. Nothing else reads process.env.
 */
import { resolve } from "node:path";

export type JwtAlgorithm = "RS256" | "ES256" | "EdDSA";
const ALLOWED_ALGORITHMS: readonly JwtAlgorithm[] = ["RS256", "ES256", "EdDSA"];

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
  /** SQLite group commits (and their fsync) in a worker thread, off the event loop. */
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
    /** Seconds to wait for a transaction to be mined before retrying later. */
    txTimeoutSeconds: number;
  };
  /** HMAC secret of the per-consultation author pseudonyms and subject keys (>= 32 bytes). */
  pseudonymSecret: Uint8Array;
  /** 32-byte seed of the Ed25519 receipt-signing key. */
  receiptKeySeed: Uint8Array;
  /** Public keys (base64url Ed25519 `x`) of retired receipt-signing keys, still listed at /api/keys. */
  retiredReceiptKeys: string[];
  jwt: {
    jwksUrl: string | null;
    publicKeyPem: string | null;
    issuer: string;
    audience: string;
    algorithms: JwtAlgorithm[];
    /** Milliseconds a token's nbf may lie ahead of (and its exp behind) this service's clock: IdP clock skew. */
    clockToleranceMs: number;
  };
  /** Development identity provider (POST /api/dev/token). Only with NODE_ENV=development set explicitly. */
  devIdp: boolean;
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

  const devIdp = bool(env, "DEV_IDP", false);
  if (devIdp && nodeEnv !== "development") {
    throw new ConfigError(
      "DEV_IDP",
      `the development identity provider mints tokens for any role: it runs only with NODE_ENV=development set explicitly (NODE_ENV is ${env.NODE_ENV ? JSON.stringify(env.NODE_ENV) : "unset, that is production"})`,
    );
  }
  const jwksRaw = optStr(env, "JWT_JWKS_URL");
  const jwksUrl = jwksRaw === null ? null : url("JWT_JWKS_URL", jwksRaw);
  const pemRaw = optStr(env, "JWT_PUBLIC_KEY");
  const publicKeyPem = pemRaw === null ? null : pemRaw.replace(/\\n/g, "\n");
  if (publicKeyPem !== null && !/-----BEGIN PUBLIC KEY-----/.test(publicKeyPem)) {
    throw new ConfigError("JWT_PUBLIC_KEY", "expected a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  if (jwksUrl !== null && publicKeyPem !== null) {
    throw new ConfigError("JWT_PUBLIC_KEY", "set JWT_JWKS_URL or JWT_PUBLIC_KEY, not both");
  }
  if (jwksUrl === null && publicKeyPem === null && !devIdp) {
    throw new ConfigError(
      "JWT_JWKS_URL",
      "required (or JWT_PUBLIC_KEY, or DEV_IDP=true with NODE_ENV=development)",
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
  const issuer = str(env, "JWT_ISSUER", devIdp ? "gopy-dev-idp" : "");
  if (!issuer) throw new ConfigError("JWT_ISSUER", "required");
  const audience = str(env, "JWT_AUDIENCE", devIdp ? "gopy" : "");
  if (!audience) throw new ConfigError("JWT_AUDIENCE", "required");
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
    sqliteWriterThread: bool(env, "SQLITE_WRITER_THREAD", false),
    chain: {
      rpcUrl,
      publicRpcUrl,
      registryAddress,
      chainId,
      agencies: agencies(env),
      txTimeoutSeconds: int(env, "TX_TIMEOUT", 60, 1, 3600),
    },
    pseudonymSecret,
    receiptKeySeed,
    retiredReceiptKeys,
    jwt: { jwksUrl, publicKeyPem, issuer, audience, algorithms, clockToleranceMs },
    devIdp,
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
    webDist: resolve(str(env, "WEB_DIST", "web/dist")),
  };
}
