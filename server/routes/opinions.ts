/** Opinions: a citizen's opinion (signed receipt) and the owning agency's CSV import of offline opinions. */
import { createHash } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { parse as parseCsv } from "csv-parse/sync";
import type { FastifyInstance } from "fastify";
import { keyedHash, pseudonym, type Stance } from "../../protocol/index.ts";
import { requireRole } from "../auth.ts";
import { badRequest, ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";
import type { ConsultationRecord } from "../store/index.ts";
import { LONE_SURROGATE, statusOf, subjectKey } from "./context.ts";

const CSV_HEADER = "section,stance,text,collectedAt,location";
const MAX_IMPORT_ROWS = 100_000;

interface OfflineRow {
  section: string;
  stance: Stance;
  text: string;
  /** Milliseconds. */
  collectedAt: number;
  /** Line of the row in the file (the header is line 1); part of the row's idempotency key. */
  line: number;
}

/** Milliseconds of a `collectedAt` cell (Unix seconds or RFC 3339), or null. */
function collectedAtMs(cell: string): number | null {
  if (/^\d{1,12}$/.test(cell)) return Number(cell) * 1000;
  const parsed = Date.parse(cell);
  return /^\d{4}-\d{2}-\d{2}T/.test(cell) && Number.isFinite(parsed) ? parsed : null;
}

/**
 * The rows of an import file (RFC 4180, csv-parse), every one checked before anything is appended: a known
 * section, a stance, a text, and a collection time inside the consultation's window opensAt <= collectedAt <
 * closesAt (the window the auditor checks) and not in the future. Any fault is a 400 naming the line.
 */
function offlineRows(
  csv: string,
  consultation: ConsultationRecord,
  sections: ReadonlySet<string>,
  nowMs: number,
): OfflineRow[] {
  let records: string[][];
  try {
    records = parseCsv(csv, { bom: true, relax_column_count: true, skip_empty_lines: true });
  } catch (e) {
    throw badRequest(`CSV: ${(e as Error).message}`);
  }
  const header = records.shift();
  if (header?.join(",") !== CSV_HEADER) throw badRequest(`the CSV header must be exactly: ${CSV_HEADER}`);
  if (records.length === 0) throw badRequest("no rows");
  if (records.length > MAX_IMPORT_ROWS) {
    throw new ServiceError(413, "payload_too_large", "at most 100,000 rows per import");
  }
  const window = `[${new Date(consultation.opensAt * 1000).toISOString()}, ${new Date(consultation.closesAt * 1000).toISOString()})`;
  return records.map((record, index) => {
    const line = index + 2;
    const refuse = (message: string) => badRequest(`line ${line}: ${message}`);
    if (record.length !== 5) throw refuse(`expected 5 fields, got ${record.length}`);
    const [section, stance, text, collectedAt] = record as [string, string, string, string, string];
    if (!sections.has(section)) throw refuse(`unknown section ${section}`);
    if (stance !== "agree" && stance !== "disagree" && stance !== "neutral") {
      throw refuse("stance must be agree, disagree or neutral");
    }
    if (text.length > 10_000 || LONE_SURROGATE.test(text)) throw refuse("text too long or not valid Unicode");
    const at = collectedAtMs(collectedAt);
    if (at === null) throw refuse("collectedAt must be Unix seconds or RFC 3339");
    if (at < consultation.opensAt * 1000 || at >= consultation.closesAt * 1000) {
      throw refuse(`collectedAt ${collectedAt} is outside the consultation's window ${window}`);
    }
    if (at > nowMs + 60_000) throw refuse(`collectedAt ${collectedAt} is in the future`);
    return { section, stance, text, collectedAt: at, line };
  });
}

export async function opinionRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store, clock, config, ingest } = gopy;

  app.post(
    "/consultations/:id/opinions",
    {
      schema: {
        summary: "Give an opinion (citizen); returns the signed receipt",
        params: schemas.IdParams,
        headers: schemas.IdempotencyHeaders,
        body: schemas.OpinionBody,
        response: { 201: schemas.Receipt, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const citizen = requireRole(req, "citizen");
      const id = Number(req.params.id);
      const { section, stance } = req.body;
      const text = req.body.text ?? "";
      if (LONE_SURROGATE.test(text)) throw badRequest("text is not valid Unicode");
      const { consultation, draft } = await consultations.withDraft(id);
      const status = statusOf(consultation, clock.now());
      if (status === "scheduled") {
        throw new ServiceError(
          409,
          "not_open",
          `the consultation opens at ${new Date(consultation.opensAt * 1000).toISOString()}`,
        );
      }
      if (status !== "open") throw new ServiceError(409, "closed", "the consultation is closed");
      if (!draft.sections.some((candidate) => candidate.id === section)) {
        throw badRequest(`section ${JSON.stringify(section)} is not in the current draft`);
      }
      const clientKey = req.headers["idempotency-key"];
      const idempotencyKey = clientKey
        ? keyedHash(config.pseudonymSecret, "idempotency", citizen.sub, String(id), clientKey)
        : null;
      if (idempotencyKey) {
        const prior = await store.getIdempotent(idempotencyKey);
        if (prior) return reply.status(201).header("idempotent-replayed", "true").send(JSON.parse(prior));
      }
      const accepted = await ingest.submit(id, {
        kind: "opinion",
        draftVersion: draft.version,
        section,
        stance: stance as Stance,
        text,
        author: pseudonym(config.pseudonymSecret, "citizen", String(id), citizen.sub),
        channel: "online",
        collectedAt: null,
        subjectKey: subjectKey(config, citizen.sub),
        idempotencyKey,
      });
      return reply.status(201).send(accepted.receipt!);
    },
  );

  app.post(
    "/consultations/:id/opinions/import",
    {
      // the only route that reads more than BODY_LIMIT, and only from a signed-in agency (checked in onRequest)
      bodyLimit: config.importBodyLimit,
      onRequest: async (req) => {
        requireRole(req, "agency");
      },
      schema: {
        summary: `Import offline opinions (agency), CSV: ${CSV_HEADER}`,
        params: schemas.IdParams,
        consumes: ["text/csv"],
        body: { type: "string" } as never,
        response: { 201: schemas.ImportResult, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const { staff, consultation, draft } = await consultations.owned(req, id);
      if (typeof req.body !== "string")
        throw new ServiceError(415, "unsupported_media_type", "send text/csv");
      if (consultation.tally) throw new ServiceError(409, "closed", "the tally is published");
      const sections = new Set(draft.sections.map((section) => section.id));
      const rows = offlineRows(req.body, consultation, sections, clock.now());
      const csvHash = createHash("sha256").update(req.body).digest("hex");
      const staffKey = subjectKey(config, staff.sub);
      let duplicates = 0;
      const pending: Promise<number>[] = [];
      for (const row of rows) {
        const idempotencyKey = keyedHash(
          config.pseudonymSecret,
          "import",
          String(id),
          csvHash,
          String(row.line),
        );
        if (await store.getIdempotent(idempotencyKey)) {
          duplicates++;
          continue;
        }
        pending.push(
          ingest
            .submit(id, {
              kind: "opinion",
              draftVersion: draft.version,
              section: row.section,
              stance: row.stance,
              text: row.text,
              author: pseudonym(config.pseudonymSecret, "offline", String(id), `${csvHash}:${row.line}`),
              channel: "offline",
              collectedAt: row.collectedAt,
              subjectKey: staffKey,
              idempotencyKey,
            })
            .then((accepted) => accepted.index),
        );
      }
      const leafIndices = await Promise.all(pending);
      return reply.status(201).send({ imported: leafIndices.length, duplicates, leafIndices });
    },
  );
}
