/**
 * The built web client (WEB_DIST) at /, with a single-page-application fallback to index.html for GET requests
 * outside /api/, under a Content-Security-Policy; every other unknown route is a JSON 404.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config.ts";
import { noSuchRoute } from "../http.ts";

/**
 * The client's policy: its own scripts only (no inline script, no eval), no plugins, no framing (clickjacking of the
 * opinion form), and connections to this service, to the RPC it advertises, to CSP_CONNECT_SRC (other parties'
 * RPC nodes, proof mirrors) and to the citizen's own local node (loopback, the client's default RPC). An RPC URL
 * set in the client's settings elsewhere is blocked in this copy; a copy hosted anywhere else has its own policy.
 */
export function contentSecurityPolicy(config: Config): string {
  const connect = new Set(["'self'"]);
  if (config.chain.publicRpcUrl) connect.add(new URL(config.chain.publicRpcUrl).origin);
  for (const origin of config.cspConnectSrc) connect.add(origin);
  connect.add("http://127.0.0.1:*").add("http://localhost:*");
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "worker-src 'self'",
    `connect-src ${[...connect].join(" ")}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.gopy;
  const webIndex = join(config.webDist, "index.html");
  const policy = contentSecurityPolicy(config);
  if (existsSync(webIndex)) {
    await app.register(fastifyStatic, {
      root: config.webDist,
      prefix: "/",
      wildcard: false,
      // every file: the page's policy, and a module worker's own (a worker takes the policy of its script)
      setHeaders: (reply) => {
        reply.header("content-security-policy", policy);
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.method === "GET" && !req.url.startsWith("/api/") && existsSync(webIndex)) {
      return reply.header("content-security-policy", policy).sendFile("index.html");
    }
    return noSuchRoute(req, reply);
  });
}
