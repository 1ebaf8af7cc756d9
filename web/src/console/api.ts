// The staff routes the console calls (docs/SERVICE.md), through the client's one request function.
import type { Hex, TallyDocument } from "../../../protocol/index.ts";
import { type Consultation, request, type Section } from "../api.ts";
import { apiBase } from "../settings.ts";

const enc = encodeURIComponent;

export interface DraftInput {
  title: string;
  summary: string;
  sections: Section[];
}

export interface DraftCreated {
  id: number;
  draftHash: Hex;
  draftVersion: number;
  txHash: Hex;
}

/** The consultation as the console shows it: `agencyName` when the service gives display names. */
export type StaffConsultation = Consultation & { agencyName?: { vi: string; en: string } };

export function openConsultation(
  body: DraftInput & { opensAt: number; closesAt: number },
): Promise<DraftCreated> {
  return request(apiBase(), "/api/consultations", {
    method: "POST",
    auth: true,
    body: JSON.stringify(body),
    timeoutMs: 120_000,
  });
}

export function reviseDraft(id: string, body: DraftInput): Promise<DraftCreated> {
  return request(apiBase(), `/api/consultations/${enc(id)}/draft`, {
    method: "PUT",
    auth: true,
    body: JSON.stringify(body),
    timeoutMs: 120_000,
  });
}

/** A draft document by its hash (the draftURI on chain): every version of a consultation is one. */
export function getDraft(hash: string): Promise<DraftInput & { hash: Hex }> {
  return request(apiBase(), `/api/drafts/${enc(hash)}`);
}

export function withhold(
  id: string,
  index: number,
  reason: string,
): Promise<{ index: number; leafHash: Hex }> {
  return request(apiBase(), `/api/consultations/${enc(id)}/entries/${index}/withhold`, {
    method: "POST",
    auth: true,
    body: JSON.stringify({ reason }),
  });
}

export interface PreviewRow {
  line: number;
  section: string;
  stance: string;
  text: string;
  collectedAt: string;
  error: string | null;
  duplicate: boolean;
}

export interface ImportPreview {
  dryRun: true;
  valid: number;
  invalid: number;
  duplicates: number;
  rows: PreviewRow[];
}

export function previewImport(id: string, csv: string): Promise<ImportPreview> {
  return request(apiBase(), `/api/consultations/${enc(id)}/opinions/import?dryRun=true`, {
    method: "POST",
    auth: true,
    body: csv,
    headers: { "content-type": "text/csv" },
    timeoutMs: 60_000,
  });
}

export function importCsv(
  id: string,
  csv: string,
): Promise<{ imported: number; duplicates: number; leafIndices: number[] }> {
  return request(apiBase(), `/api/consultations/${enc(id)}/opinions/import`, {
    method: "POST",
    auth: true,
    body: csv,
    headers: { "content-type": "text/csv" },
    timeoutMs: 120_000,
  });
}

export function close(id: string): Promise<{ document: TallyDocument; tallyHash: Hex; txHash: Hex }> {
  return request(apiBase(), `/api/consultations/${enc(id)}/close`, {
    method: "POST",
    auth: true,
    body: "{}",
    timeoutMs: 120_000,
  });
}

// ---- routes built by the "reading" work (docs/SERVICE.md): statistics and opinions per article ----

/** GET …/stats, as the dashboard reads it (see normaliseStats in dashboard.ts for the shapes taken). */
export function getStats(id: string): Promise<unknown> {
  return request(apiBase(), `/api/consultations/${enc(id)}/stats`, { auth: true });
}

export interface PublicOpinion {
  leafIndex: number;
  stance: string;
  text?: string | null;
  withheld?: string | boolean | null;
  withheldReason?: string | null;
  channel: string;
  submittedAt?: string | number;
  time?: string | number;
  campaign: string | null;
  campaignSize?: number;
}

export interface OpinionFilter {
  stance?: string;
  channel?: string;
  q?: string;
  campaign?: string;
}

export function getOpinions(
  id: string,
  section: string,
  filter: OpinionFilter,
  cursor: string | null,
  limit = 20,
): Promise<{ opinions: PublicOpinion[]; next: string | null }> {
  const qs = new URLSearchParams({ limit: String(limit) });
  if (cursor) qs.set("cursor", cursor);
  for (const [k, v] of Object.entries(filter)) if (v) qs.set(k, v);
  return request(apiBase(), `/api/consultations/${enc(id)}/sections/${enc(section)}/opinions?${qs}`);
}

// ---- routes built by the "response" work: the agency's response report ----

export type ResponseStatus = "accepted" | "partly-accepted" | "not-accepted" | "explained";
export const RESPONSE_STATUSES: readonly ResponseStatus[] = [
  "accepted",
  "partly-accepted",
  "not-accepted",
  "explained",
];

export function publishResponse(
  id: string,
  articles: Record<string, { status: ResponseStatus; text: string }>,
): Promise<{ version: number; responseHash: Hex; txHash: Hex }> {
  return request(apiBase(), `/api/consultations/${enc(id)}/response`, {
    method: "POST",
    auth: true,
    body: JSON.stringify({ articles }),
    timeoutMs: 120_000,
  });
}

export function getResponse(id: string): Promise<unknown> {
  return request(apiBase(), `/api/consultations/${enc(id)}/response`);
}
