/**
 * The built web client (WEB_DIST) at /, with a single-page-application fallback to index.html for GET requests
 * outside /api/; every other unknown route is a JSON 404.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import type { RouteOptions } from "./context.ts";

export async function staticRoutes(app: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const { webDist } = ctx.gopy.config;
  const webIndex = join(webDist, "index.html");
  if (existsSync(webIndex)) {
    await app.register(fastifyStatic, { root: webDist, prefix: "/", wildcard: false });
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.method === "GET" && !req.url.startsWith("/api/") && existsSync(webIndex)) {
      return reply.sendFile("index.html");
    }
    return reply
      .status(404)
      .send({ error: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` });
  });
}
