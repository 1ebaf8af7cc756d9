// The real stack for the end-to-end browser test (test/support/stack.ts): a `hardhat node` child process on a
// free port, the registry deployed through its Ignition module (in memory: nothing written under
// ignition/deployments), an agency with its operator, and the service (buildApp) on a free port serving web/dist.
import { call } from "../support/http.ts";
import { type Chain, type Stack, startStack as startSharedStack } from "../support/stack.ts";
import { buildClient, type TrustRootFile } from "./helpers.ts";

export type { Stack };

/** The trust root of a test chain: its chain id, its registry, its node's RPC URL (or `rpcUrls`). */
export function chainTrustRoot(chain: Chain, rpcUrls: string[] = [chain.node.url]): TrustRootFile {
  return { v: 1, chainId: 31337, registry: chain.registry.toLowerCase(), rpcUrls };
}

/**
 * The stack with the client built for its chain (web/vite.config.ts with GOPY_TRUST_ROOT): the trust root of
 * `trustRoot(chain)`, by default the chain's own node only.
 */
export function startStack(
  opts: {
    maxAnchorDelay?: string;
    anchorEnabled?: boolean;
    trustRoot?: (chain: Chain) => Promise<TrustRootFile> | TrustRootFile;
  } = {},
): Promise<Stack> {
  return startSharedStack({
    deploy: "ignition",
    env: {
      ANCHOR_INTERVAL: "500ms",
      ANCHOR_ENABLED: opts.anchorEnabled === false ? "false" : "true",
      MAX_ANCHOR_DELAY: opts.maxAnchorDelay ?? "5m",
      CHAIN_ID: "31337",
    },
    prepare: async (chain) => ({
      WEB_DIST: buildClient(await (opts.trustRoot ?? ((c: Chain) => chainTrustRoot(c)))(chain)),
    }),
  });
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
