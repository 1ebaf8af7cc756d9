/**
 * GET /api/consultations/:id/export: entries as NDJSON, streamed (withheld texts and salts left out), each opinion
 * with its advisory `campaign`; a range of entries (`start`, `end`) so a long download resumes where it stopped;
 * gzip when the client accepts it.
 */
import { pipeline, Readable } from "node:stream";
import { createGzip } from "node:zlib";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../errors.ts";
import * as schemas from "../schemas.ts";

/** Entries read from the store at a time. */
const PAGE = 2000;

/** Whether an Accept-Encoding header allows gzip (a `q=0` refuses it; `*` allows it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star: boolean | null = null;
  for (const part of header.split(",")) {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (coding === "gzip" || coding === "x-gzip") return allowed;
    if (coding === "*") star = allowed;
  }
  return star === true;
}

// the leaf is RFC 8785 JSON without the text (only its hash): this member marks an opinion, nothing else can
const OPINION_MEMBER = '"type":"opinion"';

export async function exportRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store } = gopy;
  app.get(
    "/consultations/:id/export",
    {
      schema: {
        summary:
          "Entries [start, end) as NDJSON: {index, leaf, leafHash, text?, salt?, withheld?, campaign?}; gzip if accepted",
        params: schemas.IdParams,
        querystring: schemas.ExportQuery,
        produces: ["application/x-ndjson"],
        response: { 200: { type: "string" } as never, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const size = (await consultations.get(id)).treeSize;
      const start = req.query.start === undefined ? 0 : Number(req.query.start);
      const end = req.query.end === undefined ? size : Number(req.query.end);
      if (end > size) throw badRequest(`end ${end} is past the log's size ${size}`);
      if (start > end) throw badRequest(`start ${start} is after end ${end}`);
      async function* lines() {
        for (let at = start; at < end; at += PAGE) {
          const to = Math.min(end, at + PAGE);
          const rows = await store.getEntries(id, at, to);
          const campaigns = await store.readingCampaigns(id, at, to);
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
            if (entry.leaf.includes(OPINION_MEMBER)) line.campaign = campaigns.get(entry.index) ?? null;
            chunk += `${JSON.stringify(line)}\n`;
          }
          yield chunk;
        }
      }
      reply.type("application/x-ndjson; charset=utf-8");
      reply.header("vary", "accept-encoding");
      const range = start === 0 && end === size ? "" : `-${start}-${end}`;
      reply.header("content-disposition", `attachment; filename="consultation-${id}${range}.ndjson"`);
      const body = Readable.from(lines());
      if (!acceptsGzip(req.headers["accept-encoding"])) return reply.send(body);
      reply.header("content-encoding", "gzip");
      const gzip = createGzip();
      // an error reading the store ends the gzip stream too (the response is cut, not left hanging)
      pipeline(body, gzip, () => {});
      return reply.send(gzip);
    },
  );
}
