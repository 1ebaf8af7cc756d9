// The trust root a copy of the client verifies against: which chain, which registry, which RPC URLs.
// Parsed here only (the build, Settings' import and the pages all call parseTrustRoot).
export interface TrustRoot {
  readonly v: 1;
  readonly chainId: number;
  /** lowercase 0x-hex */
  readonly registry: `0x${string}`;
  readonly rpcUrls: readonly string[];
}

export class TrustRootError extends Error {
  /** the field that is wrong, or "" for the document itself */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "TrustRootError";
    this.field = field;
  }
}

const FIELDS = ["v", "chainId", "registry", "rpcUrls"];

/** Validates a trust root (a parsed JSON value or its text); throws TrustRootError naming the field. */
export function parseTrustRoot(input: unknown): TrustRoot {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch {
      throw new TrustRootError("", "the trust root is not JSON");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new TrustRootError("", "the trust root is not a JSON object");
  const doc = value as Record<string, unknown>;
  const extra = Object.keys(doc).find((k) => !FIELDS.includes(k));
  if (extra !== undefined) throw new TrustRootError(extra, `the trust root has an unknown field "${extra}"`);
  if (doc.v !== 1) throw new TrustRootError("v", "the trust root's version v must be 1");
  const chainId = doc.chainId;
  if (typeof chainId !== "number" || !Number.isSafeInteger(chainId) || chainId <= 0)
    throw new TrustRootError("chainId", "the trust root's chainId must be a positive integer");
  if (typeof doc.registry !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(doc.registry))
    throw new TrustRootError("registry", "the trust root's registry must be a 20-byte 0x-hex address");
  const urls = doc.rpcUrls;
  if (!Array.isArray(urls) || urls.length === 0)
    throw new TrustRootError("rpcUrls", "the trust root's rpcUrls must list at least one RPC URL");
  for (const [i, url] of urls.entries()) {
    if (!isHttpUrl(url)) throw new TrustRootError("rpcUrls", `rpcUrls[${i}] is not an http(s) URL`);
  }
  if (new Set(urls).size !== urls.length)
    throw new TrustRootError("rpcUrls", "the trust root's rpcUrls list the same URL twice");
  return {
    v: 1,
    chainId,
    registry: doc.registry.toLowerCase() as `0x${string}`,
    rpcUrls: [...(urls as string[])],
  };
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== "string") return false;
  try {
    const u = new URL(value);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
