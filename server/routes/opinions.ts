/** Opinions: a citizen's opinion (signed receipt) and the owning agency's CSV import of offline opinions. */
import { createHash } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { authorPseudonym, type Stance } from "../../protocol/index.ts";
import { parseCsv } from "../csv.ts";
import { ServiceError } from "../errors.ts";
import { keyedHash } from "../ingest.ts";
import * as S from "../schemas.ts";
import { authRoute, LONE_SURROGATE, type RouteOptions, statusOf } from "./context.ts";

const CSV_HEADER = "section,stance,text,collectedAt,location";

export async function opinionRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock, config, ingest } = ctx.gopy;

  app.post(
    "/api/consultations/:id/opinions",
    {
      ...authRoute(),
      config: ctx.rl,
      schema: {
        ...authRoute().schema,
        summary: "Give an opinion (citizen); returns the signed receipt",
        params: S.IdParams,
        headers: S.IdempotencyHeaders,
        body: S.OpinionBody,
        response: { 201: S.Receipt, ...S.errors },
      },
    },
    async (req, reply) => {
      const who = ctx.requireRole(req, "citizen");
      const id = Number(req.params.id);
      const { section, stance } = req.body;
      const text = req.body.text ?? "";
      if (LONE_SURROGATE.test(text)) throw new ServiceError(400, "bad_request", "text is not valid Unicode");
      const { c, d } = await ctx.load(id);
      const status = statusOf(c, clock.now());
      if (status === "scheduled") {
        throw new ServiceError(
          409,
          "not_open",
          `the consultation opens at ${new Date(c.opensAt * 1000).toISOString()}`,
        );
      }
      if (status !== "open") throw new ServiceError(409, "closed", "the consultation is closed");
      if (!d.sections.some((s) => s.id === section)) {
        throw new ServiceError(
          400,
          "bad_request",
          `section ${JSON.stringify(section)} is not in the current draft`,
        );
      }
      const rawKey = req.headers["idempotency-key"];
      const idem = rawKey
        ? keyedHash(config.pseudonymSecret, "idempotency", who.sub, String(id), rawKey)
        : null;
      if (idem) {
        const prior = await store.getIdempotent(idem);
        if (prior) return reply.status(201).header("idempotent-replayed", "true").send(JSON.parse(prior));
      }
      const a = await ingest.submit(id, {
        kind: "opinion",
        draftVersion: d.version,
        section,
        stance: stance as Stance,
        text,
        author: authorPseudonym(config.pseudonymSecret, String(id), who.sub),
        channel: "online",
        submittedAt: clock.now(),
        subjectKey: ctx.subjectKey(who.sub),
        idempotencyKey: idem,
      });
      return reply.status(201).send(a.receipt!);
    },
  );

  app.post(
    "/api/consultations/:id/opinions/import",
    {
      ...authRoute(),
      config: ctx.rl,
      bodyLimit: config.importBodyLimit,
      schema: {
        ...authRoute().schema,
        summary: `Import offline opinions (agency), CSV: ${CSV_HEADER}`,
        params: S.IdParams,
        consumes: ["text/csv"],
        body: { type: "string" } as never,
        response: { 201: S.ImportResult, ...S.errors },
      },
    },
    async (req, reply) => {
      const { who, id, c, d } = await ctx.owned(req);
      if (typeof req.body !== "string")
        throw new ServiceError(415, "unsupported_media_type", "send text/csv");
      if (c.tally) throw new ServiceError(409, "closed", "the tally is published");
      let rows: string[][];
      try {
        rows = parseCsv(req.body);
      } catch (e) {
        throw new ServiceError(400, "bad_request", `CSV: ${(e as Error).message}`);
      }
      const header = rows.shift();
      if (header?.join(",") !== CSV_HEADER) {
        throw new ServiceError(400, "bad_request", `the CSV header must be exactly: ${CSV_HEADER}`);
      }
      const sections = new Set(d.sections.map((s) => s.id));
      const csvHash = createHash("sha256").update(req.body).digest("hex");
      const items = rows.map((r, i) => {
        const line = i + 2;
        const bad = (message: string) => new ServiceError(400, "bad_request", `line ${line}: ${message}`);
        if (r.length !== 5) throw bad(`expected 5 fields, got ${r.length}`);
        const [section, stance, text, collectedAt] = r as [string, string, string, string, string];
        if (!sections.has(section)) throw bad(`unknown section ${section}`);
        if (stance !== "agree" && stance !== "disagree" && stance !== "neutral") {
          throw bad("stance must be agree, disagree or neutral");
        }
        if (text.length > 10_000 || LONE_SURROGATE.test(text))
          throw bad("text too long or not valid Unicode");
        let at: number;
        if (/^\d{1,12}$/.test(collectedAt)) at = Number(collectedAt) * 1000;
        else {
          at = Date.parse(collectedAt);
          if (!/^\d{4}-\d{2}-\d{2}T/.test(collectedAt) || !Number.isFinite(at)) {
            throw bad("collectedAt must be Unix seconds or RFC 3339");
          }
        }
        if (at > clock.now() + 60_000 || at / 1000 > c.closesAt) {
          throw bad("collectedAt is in the future or after closing");
        }
        return { section, stance: stance as Stance, text, at: Math.floor(at), line };
      });
      if (items.length === 0) throw new ServiceError(400, "bad_request", "no rows");
      if (items.length > 100_000)
        throw new ServiceError(413, "payload_too_large", "at most 100,000 rows per import");
      const sk = ctx.subjectKey(who.sub);
      let duplicates = 0;
      const pending: Promise<number>[] = [];
      for (const it of items) {
        const idem = keyedHash(config.pseudonymSecret, "import", String(id), csvHash, String(it.line));
        if (await store.getIdempotent(idem)) {
          duplicates++;
          continue;
        }
        pending.push(
          ingest
            .submit(id, {
              kind: "opinion",
              draftVersion: d.version,
              section: it.section,
              stance: it.stance,
              text: it.text,
              author: authorPseudonym(config.pseudonymSecret, String(id), `offline:${csvHash}:${it.line}`),
              channel: "offline",
              submittedAt: it.at,
              subjectKey: sk,
              idempotencyKey: idem,
            })
            .then((a) => a.index),
        );
      }
      const leafIndices = await Promise.all(pending);
      return reply.status(201).send({ imported: leafIndices.length, duplicates, leafIndices });
    },
  );
}
