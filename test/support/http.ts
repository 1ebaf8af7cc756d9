// HTTP and polling helpers shared by the web and audit tests and the evidence benches.

/**
 * Calls `fn` until it returns something truthy, every `everyMs`, for at most `ms`. A call that throws counts
 * as "not yet"; the last error is quoted if time runs out.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 60_000,
  everyMs = 100,
): Promise<T> {
  const until = Date.now() + ms;
  let lastError: unknown = null;
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      lastError = e;
      return null;
    });
    if (v) return v;
    if (Date.now() > until) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body (or its text when not JSON), read field by field by callers
  body: any;
}

/** JSON over HTTP (Node's fetch, keep-alive): the status and the parsed body (its text if it is not JSON). */
export async function call(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const r = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: r.status, body: parsed };
}
