/** GET /api/consultations/:id/export: every entry as NDJSON, streamed (withheld texts and salts left out). */
import { Readable } from "node:stream";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import * as schemas from "../schemas.ts";

export async function exportRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store } = gopy;
  app.get(
    "/consultations/:id/export",
    {
      schema: {
        summary: "Every entry as NDJSON: {index, leaf, leafHash, text?, salt?, withheld?}",
        params: schemas.IdParams,
        produces: ["application/x-ndjson"],
        response: { 200: { type: "string" } as never, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const size = (await consultations.get(id)).treeSize;
      async function* lines() {
        for (let at = 0; at < size; at += 2000) {
          const rows = await store.getEntries(id, at, Math.min(size, at + 2000));
          let chunk = "";
          for (const entry of rows) {
            const line: Record<string, unknown> = {
              index: entry.index,
              leaf: entry.leaf,
              leafHash: entry.leafHash,
            };
            if (entry.withheld) line.withheld = true;
            else if (entry.text !== null && entry.salt !== null) {
              line.text = entry.text;
              line.salt = entry.salt;
            }
            chunk += `${JSON.stringify(line)}\n`;
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
