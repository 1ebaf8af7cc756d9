/** Opinions: a citizen's opinion (signed receipt) and the owning agency's CSV import of offline opinions. */
import { createHash } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { parse as parseCsv } from "csv-parse/sync";
import type { FastifyInstance } from "fastify";
import { keyedHash, pseudonym, type Stance } from "../../protocol/index.ts";
import { requireRole } from "../auth.ts";
import { badRequest, ServiceError } from "../errors.ts";
import { sendJsonText } from "../http.ts";
import * as schemas from "../schemas.ts";
import type { ConsultationRecord } from "../store/index.ts";
import { identityKey, LONE_SURROGATE, statusOf, subjectKey } from "./context.ts";

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

/** One row of an import file as checked: the row, or what is wrong with it (`error`, naming the field). */
interface RowCheck {
  line: number;
  row: OfflineRow | null;
  error: string | null;
  /** The cells as given, for a preview. */
  cells: string[];
}

/**
 * The rows of an import file (RFC 4180, csv-parse), every one checked before anything is appended: a known
 * section, a stance, a text, and a collection time inside the consultation's window opensAt <= collectedAt <
 * closesAt (the window the auditor checks) and not in the future. A fault of the file itself (not CSV, wrong
 * header, no rows, too many) is a 400; a fault of a row is reported on that row, so the import refuses the file
 * naming the line and the dry run lists every row's fault (one validation for both).
 */
function checkRows(
  csv: string,
  consultation: ConsultationRecord,
  sections: ReadonlySet<string>,
  nowMs: number,
): RowCheck[] {
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
    const refuse = (error: string): RowCheck => ({ line, row: null, error, cells: record });
    if (record.length !== 5) return refuse(`expected 5 fields, got ${record.length}`);
    const [section, stance, text, collectedAt] = record as [string, string, string, string, string];
    if (!sections.has(section)) return refuse(`section: unknown section ${section}`);
    if (stance !== "agree" && stance !== "disagree" && stance !== "neutral") {
      return refuse("stance must be agree, disagree or neutral");
    }
    if (text.length > 10_000 || LONE_SURROGATE.test(text))
      return refuse("text too long or not valid Unicode");
    const at = collectedAtMs(collectedAt);
    if (at === null) return refuse("collectedAt must be Unix seconds or RFC 3339");
    if (at < consultation.opensAt * 1000 || at >= consultation.closesAt * 1000) {
      return refuse(`collectedAt ${collectedAt} is outside the consultation's window ${window}`);
    }
    if (at > nowMs + 60_000) return refuse(`collectedAt ${collectedAt} is in the future`);
    return { line, row: { section, stance, text, collectedAt: at, line }, error: null, cells: record };
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
        if (prior) return sendJsonText(reply.header("idempotent-replayed", "true"), 201, prior);
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
        subjectKey: identityKey(config, citizen),
        idempotencyKey,
      });
      // the receipt as stored, byte for byte: already JSON, so not serialized again
      return sendJsonText(reply, 201, accepted.receiptJson!);
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
        querystring: schemas.ImportQuery,
        consumes: ["text/csv"],
        body: { type: "string" } as never,
        response: { 200: schemas.ImportPreview, 201: schemas.ImportResult, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const { staff, consultation, draft } = await consultations.owned(req, id);
      if (typeof req.body !== "string")
        throw new ServiceError(415, "unsupported_media_type", "send text/csv");
      if (consultation.tally) throw new ServiceError(409, "closed", "the tally is published");
      const sections = new Set(draft.sections.map((section) => section.id));
      const checks = checkRows(req.body, consultation, sections, clock.now());
      const csvHash = createHash("sha256").update(req.body).digest("hex");
      const staffKey = subjectKey(config, staff.sub);
      // a row's idempotency key: the same file sent again imports nothing twice
      const keyOf = (line: number) =>
        keyedHash(config.pseudonymSecret, "import", String(id), csvHash, String(line));
      if (req.query.dryRun === "true") {
        // the preview: the same checks, every row's result, nothing written
        const rows = [];
        for (const check of checks) {
          const duplicate = check.row !== null && (await store.getIdempotent(keyOf(check.line))) !== null;
          const [section = "", stance = "", text = "", collectedAt = ""] = check.cells;
          rows.push({ line: check.line, section, stance, text, collectedAt, error: check.error, duplicate });
        }
        return reply.status(200).send({
          dryRun: true as const,
          valid: rows.filter((r) => r.error === null && !r.duplicate).length,
          invalid: rows.filter((r) => r.error !== null).length,
          duplicates: rows.filter((r) => r.duplicate).length,
          rows,
        });
      }
      const bad = checks.find((check) => check.error !== null);
      if (bad) throw badRequest(`line ${bad.line}: ${bad.error}`);
      let duplicates = 0;
      const pending: Promise<number>[] = [];
      for (const { row } of checks) {
        if (!row) continue;
        const idempotencyKey = keyOf(row.line);
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
