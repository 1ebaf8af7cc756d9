// The service's public HTTP interface (issue 4). Every failure becomes an ApiError whose `kind`
// the pages turn into a plain-language message.
import type { DraftAttachment, Hex, Receipt, TallyDocument } from "../../protocol/index.ts";
import { currentSession } from "./auth.ts";
import { apiBase, proofBase } from "./settings.ts";

export type ApiErrorKind = "unreachable" | "http" | "format" | "auth";

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;
  readonly url: string;
  constructor(kind: ApiErrorKind, url: string, message: string, status = 0) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.url = url;
    this.status = status;
  }
}

export interface ConsultationSummary {
  id: string;
  agency: string;
  /** Display names (absent from an older service: the id is shown). */
  agencyName?: { vi: string; en: string };
  title: string;
  status: string;
  opensAt: number;
  closesAt: number;
}

export interface Section {
  id: string;
  title: string;
  text: string;
}

export interface ChainInfo {
  chainId: number;
  contract: string;
  rpcUrl?: string;
}

export interface Consultation extends ConsultationSummary {
  summary: string;
  draft: { version: number; hash: Hex; sections: Section[]; attachments?: DraftAttachment[] };
  chain: ChainInfo;
}

export interface ServiceHead {
  treeSize: number;
  rootHash: Hex;
  anchored: { treeSize: number; rootHash: Hex; txHash: Hex; blockNumber: number; anchoredAt: number } | null;
}

export interface ProofResponse {
  leafIndex: number;
  treeSize: number;
  rootHash: Hex;
  proof: Hex[];
}

/** One public opinion of GET …/sections/:section/opinions. */
export interface PublicOpinion {
  leafIndex: number;
  stance: "agree" | "disagree" | "neutral";
  channel: "online" | "offline";
  submittedAt: string;
  text: string | null;
  withheldReason: string | null;
  campaign: number | null;
}

export interface OpinionPage {
  opinions: PublicOpinion[];
  next: string | null;
}

export interface TallyResponse {
  document: TallyDocument;
  tallyHash: Hex;
  txHash: Hex;
}

export async function request<T>(
  base: string,
  path: string,
  init: RequestInit & { auth?: boolean; timeoutMs?: number } = {},
): Promise<T> {
  const url = `${base}${path}`;
  const headers = new Headers(init.headers);
  if (init.auth) {
    const session = currentSession();
    if (!session) throw new ApiError("auth", url, "not signed in", 401);
    headers.set("authorization", `Bearer ${session.accessToken}`);
  }
  if (init.body !== undefined && !headers.has("content-type"))
    headers.set("content-type", "application/json");
  let res: Response;
  try {
    res = await fetch(url, {
      ...init,
      headers,
      signal: init.signal ?? AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
  } catch (e) {
    throw new ApiError("unreachable", url, e instanceof Error ? e.message : String(e));
  }
  let body: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      if (!res.ok) throw new ApiError("http", url, `${res.status} ${res.statusText}`, res.status);
      throw new ApiError("format", url, "the answer is not JSON", res.status);
    }
  }
  if (!res.ok) {
    const msg =
      body && typeof body === "object" && "message" in body && typeof body.message === "string"
        ? body.message
        : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status === 401 ? "auth" : "http", url, msg, res.status);
  }
  return body as T;
}

const enc = encodeURIComponent;

// Ids are the registry's uint256 ids: JSON numbers from the service, decimal strings everywhere else
// (entries, receipts, tallies), so they are normalised here once.
export async function listConsultations(): Promise<{ consultations: ConsultationSummary[] }> {
  const r = await request<{ consultations: ConsultationSummary[] }>(apiBase(), "/api/consultations");
  const list = Array.isArray(r?.consultations) ? r.consultations : [];
  return { consultations: list.map((c) => ({ ...c, id: String(c.id) })) };
}

export async function getConsultation(id: string): Promise<Consultation> {
  const c = await request<Consultation>(apiBase(), `/api/consultations/${enc(id)}`);
  if (!c || typeof c !== "object" || !c.draft || !Array.isArray(c.draft.sections)) {
    throw new ApiError("format", `${apiBase()}/api/consultations/${id}`, "unexpected consultation format");
  }
  return { ...c, id: String(c.id) };
}

export function getServiceHead(id: string): Promise<ServiceHead> {
  return request(apiBase(), `/api/consultations/${enc(id)}/log/head`);
}

export function getProof(id: string, leafHash: Hex, treeSize: number): Promise<ProofResponse> {
  return request(
    proofBase(),
    `/api/consultations/${enc(id)}/log/proof?leafHash=${enc(leafHash)}&treeSize=${treeSize}`,
  );
}

/** The counted-map proof for (author, section) at an anchored tree size, from the service or the mirror. */
export function getCountedProof(
  id: string,
  author: Hex,
  section: string,
  treeSize: number,
): Promise<unknown> {
  return request(
    proofBase(),
    `/api/consultations/${enc(id)}/counted/proof?author=${enc(author)}&section=${enc(section)}&treeSize=${treeSize}`,
  );
}

export function getTally(id: string): Promise<TallyResponse> {
  return request(apiBase(), `/api/consultations/${enc(id)}/tally`);
}

export function getKeys(): Promise<{ keys: unknown[] }> {
  return request(apiBase(), "/api/keys");
}

/** Who the service takes the signed-in user for: the role and agency its claim mapping gives. */
export function me(): Promise<{ sub: string; role: "citizen" | "agency" | "admin"; agency: string | null }> {
  return request(apiBase(), "/api/me", { auth: true });
}

export function submitOpinion(
  id: string,
  body: { section: string; stance: string; text: string },
  idempotencyKey: string,
): Promise<Receipt> {
  return request(apiBase(), `/api/consultations/${enc(id)}/opinions`, {
    method: "POST",
    auth: true,
    body: JSON.stringify(body),
    headers: { "idempotency-key": idempotencyKey },
  });
}

export function myOpinions(): Promise<unknown> {
  return request(apiBase(), "/api/me/opinions", { auth: true });
}

/** Where an attachment of a consultation's draft is served. */
export function attachmentUrl(id: string, sha256: Hex): string {
  return `${apiBase()}/api/consultations/${enc(id)}/attachments/${enc(sha256)}`;
}

/**
 * Raw bytes from the service (a response document, an attachment): exactly as served, since their hash is what is
 * checked. null on 404 (nothing published).
 */
export async function getBytes(url: string, timeoutMs = 30_000): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new ApiError("unreachable", url, e instanceof Error ? e.message : String(e));
  }
  if (res.status === 404) return null;
  if (!res.ok) throw new ApiError("http", url, `${res.status} ${res.statusText}`, res.status);
  return new Uint8Array(await res.arrayBuffer());
}

/** The agency's latest response document, as bytes (null before the first). */
export function getResponseBytes(id: string): Promise<Uint8Array | null> {
  return getBytes(`${apiBase()}/api/consultations/${enc(id)}/response`);
}

export function exportUrl(id: string): string {
  return `${apiBase()}/api/consultations/${enc(id)}/export`;
}

/** One page of a section's public opinions, newest first (`cursor`: the previous page's `next`). */
export function listOpinions(
  id: string,
  section: string,
  query: {
    cursor?: string | null;
    stance?: string;
    q?: string;
    channel?: string;
    campaign?: number | null;
    limit?: number;
  },
): Promise<OpinionPage> {
  const params = new URLSearchParams();
  if (query.cursor) params.set("cursor", query.cursor);
  if (query.stance) params.set("stance", query.stance);
  if (query.q) params.set("q", query.q);
  if (query.channel) params.set("channel", query.channel);
  if (query.campaign !== undefined && query.campaign !== null) params.set("campaign", String(query.campaign));
  params.set("limit", String(query.limit ?? 20));
  return request(
    apiBase(),
    `/api/consultations/${encodeURIComponent(id)}/sections/${encodeURIComponent(section)}/opinions?${params}`,
  );
}

/** One withholding in the public moderation log (GET /api/consultations/:id/moderation). */
export interface ModerationLogEntry {
  index: number;
  leafHash: string;
  target: number;
  action: string;
  reason: string;
  by: string;
  at: string;
}

export function getModerationLog(
  id: string,
  after: string | null,
): Promise<{ moderation: ModerationLogEntry[]; next: string | null }> {
  const params = new URLSearchParams({ limit: "50" });
  if (after !== null) params.set("after", after);
  return request(apiBase(), `/api/consultations/${encodeURIComponent(id)}/moderation?${params}`);
}
