import type { Page } from "playwright-core";
import { ed25519NoteKey } from "../../protocol/index.ts";
import { DEMO_PASSWORD } from "../../scripts/demo-idp.ts";
import { call } from "../support/http.ts";
import { type Idp, startIdp } from "../support/idp.ts";
import { type Chain, type Stack as SharedStack, startStack as startSharedStack } from "../support/stack.ts";
import { buildClient, freePort, type TrustRootFile } from "./helpers.ts";

export interface Stack extends SharedStack {
  readonly idp: Idp;
}

/** The checkpoint key (seed, hex) and origin prefix of the stack's logs unless a test gives its own. */
export const STACK_CHECKPOINT_SEED = "5e".repeat(32);
export const STACK_LOG_PREFIX = "localhost/gopy/logs";

/**
 * The trust root of a test chain: its chain id, its registry, its node's RPC URL (or `rpcUrls`), and the stack's log
 * key (v2 receipts are checked with it).
 */
export function chainTrustRoot(chain: Chain, rpcUrls: string[] = [chain.node.url]): TrustRootFile {
  const key = ed25519NoteKey("k", Buffer.from(STACK_CHECKPOINT_SEED, "hex")).publicKey;
  return {
    v: 1,
    chainId: 31337,
    registry: chain.registry.toLowerCase(),
    rpcUrls,
    log: { originPrefix: STACK_LOG_PREFIX, publicKey: Buffer.from(key).toString("base64") },
  };
}

/**
 * The stack with the demo OpenID Provider (this service's origin as the web client's redirect URI) and the
 * client built for its chain and that provider (web/vite.config.ts with GOPY_TRUST_ROOT and GOPY_OIDC): the
 * trust root of `trustRoot(chain)`, by default the chain's own node only.
 */
export async function startStack(
  opts: {
    maxAnchorDelay?: string;
    anchorEnabled?: boolean;
    trustRoot?: (chain: Chain) => Promise<TrustRootFile> | TrustRootFile;
    /** More of the service's environment (e.g. the checkpoint key a trust root names). */
    env?: Record<string, string>;
  } = {},
): Promise<Stack> {
  const port = await freePort();
  const idp = await startIdp({ webOrigins: [`http://127.0.0.1:${port}`] });
  let dist: string | null = null;
  try {
    const stack = await startSharedStack({
      deploy: "ignition",
      port,
      env: {
        ANCHOR_INTERVAL: "500ms",
        ANCHOR_ENABLED: opts.anchorEnabled === false ? "false" : "true",
        MAX_ANCHOR_DELAY: opts.maxAnchorDelay ?? "5m",
        CHAIN_ID: "31337",
        ...idp.env({ roles: ["citizen", "agency"] }),
        CSP_CONNECT_SRC: idp.issuer,
        CHECKPOINT_KEY_SEED: STACK_CHECKPOINT_SEED,
        LOG_ORIGIN_PREFIX: STACK_LOG_PREFIX,
        ...opts.env,
      },
      prepare: async (chain) => {
        dist = buildClient(await (opts.trustRoot ?? ((c: Chain) => chainTrustRoot(c)))(chain), idp.issuer);
        return { WEB_DIST: dist };
      },
    });
    return {
      ...stack,
      idp,
      async stop() {
        await stack.stop();
        await idp.close();
      },
    };
  } catch (e) {
    await idp.close();
    throw e;
  }
}

/**
 * Signs in as a demo account the way a person does: the client's sign-in button, the provider's login page
 * (username and password), and back to the client, signed in.
 */
export async function signInAs(page: Page, username: string, button = "#nav-sign-in"): Promise<void> {
  await page.click(button);
  await page.waitForURL(/\/interaction\//);
  await page.fill("#username", username);
  await page.fill("#password", DEMO_PASSWORD);
  await page.click("#login-submit");
  await page.locator("#signed-in-name").waitFor({ timeout: 30_000 });
}

/** Small HTTP client of the service for test set-up (what an agency's tools would do). */
export async function api<T>(
  base: string,
  path: string,
  init: { method?: string; token?: string; body?: unknown } = {},
): Promise<T> {
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const r = await call(base, method, path, init.token, init.body);
  if (r.status < 200 || r.status > 299) {
    throw new Error(
      `${init.method ?? "GET"} ${path}: ${r.status} ${typeof r.body === "string" ? r.body : JSON.stringify(r.body)}`,
    );
  }
  return r.body as T;
}

export async function token(
  base: string,
  sub: string,
  role: "citizen" | "agency",
  agency?: string,
): Promise<string> {
  const r = await api<{ token: string }>(base, "/api/dev/token", {
    body: agency ? { sub, role, agency } : { sub, role },
  });
  return r.token;
}

export const DRAFT = {
  title: "Dự thảo Luật Đất đai (sửa đổi)",
  summary: "Lấy ý kiến nhân dân về một số điều của dự thảo Luật Đất đai (sửa đổi).",
  sections: [
    {
      id: "dieu-1",
      title: "Điều 1. Phạm vi điều chỉnh",
      text: "Luật này quy định về chế độ sở hữu đất đai, quyền hạn và trách nhiệm của Nhà nước đại diện chủ sở hữu toàn dân về đất đai.",
    },
    {
      id: "dieu-2",
      title: "Điều 2. Đối tượng áp dụng",
      text: "1. Cơ quan nhà nước thực hiện quyền hạn và trách nhiệm đại diện chủ sở hữu toàn dân về đất đai.\n2. Người sử dụng đất.",
    },
    {
      id: "dieu-3",
      title: "Điều 3. Giải thích từ ngữ",
      text: "Trong Luật này, các từ ngữ dưới đây được hiểu như sau: Bản đồ địa chính là bản đồ thể hiện các thửa đất.",
    },
  ],
};
