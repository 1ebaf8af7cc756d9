/** GET /api/consultations/:id/export: every entry as NDJSON, streamed (withheld texts and salts left out). */
import { Readable } from "node:stream";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import * as S from "../schemas.ts";
import type { RouteOptions } from "./context.ts";

export async function exportRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx.gopy;
  app.get(
    "/api/consultations/:id/export",
    {
      schema: {
        summary: "Every entry as NDJSON: {index, leaf, leafHash, text?, salt?, withheld?}",
        params: S.IdParams,
        produces: ["application/x-ndjson"],
        response: { 200: { type: "string" } as never, ...S.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const size = (await ctx.consultation(id)).treeSize;
      async function* lines() {
        for (let at = 0; at < size; at += 2000) {
          const rows = await store.getEntries(id, at, Math.min(size, at + 2000));
          let chunk = "";
          for (const e of rows) {
            const o: Record<string, unknown> = { index: e.index, leaf: e.leaf, leafHash: e.leafHash };
            if (e.withheld) o.withheld = true;
            else if (e.text !== null && e.salt !== null) {
              o.text = e.text;
              o.salt = e.salt;
            }
            chunk += `${JSON.stringify(o)}\n`;
          }
          yield chunk;
        }
      }
      reply.type("application/x-ndjson; charset=utf-8");
      reply.header("content-disposition", `attachment; filename="consultation-${id}.ndjson"`);
      return reply.send(Readable.from(lines()));
    },
  );
}
