// The staff routes the console calls (docs/SERVICE.md), through the client's one request function.
import type { ArticleResponse, Hex, TallyDocument } from "../../../protocol/index.ts";
import { type Consultation, request, type Section } from "../api.ts";
import { apiBase } from "../settings.ts";

const enc = encodeURIComponent;

/** An attachment as a draft names it (uploaded first: uploadAttachment); `bytes` as the service lists it. */
export interface AttachmentRef {
  title: string;
  mediaType: string;
  sha256: string;
  bytes?: number;
}

export interface DraftInput {
  title: string;
  summary: string;
  sections: Section[];
  attachments?: AttachmentRef[];
}

export interface DraftCreated {
  id: number;
  draftHash: Hex;
  draftVersion: number;
  txHash: Hex;
}

/** The consultation as the console shows it: `agencyName` when the service gives display names. */
export type StaffConsultation = Consultation;

export function openConsultation(
  body: DraftInput & { opensAt: number; closesAt: number; publicCounts: boolean },
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

/** POST /api/attachments: the file's bytes, content-addressed (its SHA-256 is what the draft names). */
export async function uploadAttachment(
  file: File,
): Promise<{ sha256: string; bytes: number; mediaType: string }> {
  return request(apiBase(), "/api/attachments", {
    method: "POST",
    auth: true,
    body: await file.arrayBuffer(),
    headers: { "content-type": file.type || "application/octet-stream" },
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

export interface Stats {
  publicCounts: boolean;
  indexedSize: number;
  treeSize: number;
  sections: Record<string, { agree: number; disagree: number; neutral: number; total: number }>;
  channels: { online: number; offline: number };
  hourly: { hour: number; online: number; offline: number }[];
}

/** GET …/stats (with the officer's token: an agency's own staff see counts it keeps hidden from the public). */
export function getStats(id: string): Promise<Stats> {
  return request(apiBase(), `/api/consultations/${enc(id)}/stats`, { auth: true });
}

export interface Campaign {
  campaign: number;
  count: number;
  stances: { agree: number; disagree: number; neutral: number };
  sample: { leafIndex: number; text: string };
}

/** GET …/sections/:section/campaigns: the article's campaigns (groups of 2 or more), largest first. */
export function getCampaigns(id: string, section: string, limit = 100): Promise<{ campaigns: Campaign[] }> {
  return request(
    apiBase(),
    `/api/consultations/${enc(id)}/sections/${enc(section)}/campaigns?limit=${limit}`,
    {
      auth: true,
    },
  );
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
  articles: Record<string, ArticleResponse>,
): Promise<{ version: number; responseHash: Hex; txHash: Hex }> {
  return request(apiBase(), `/api/consultations/${enc(id)}/response`, {
    method: "POST",
    auth: true,
    body: JSON.stringify({ articles }),
    timeoutMs: 120_000,
  });
}
