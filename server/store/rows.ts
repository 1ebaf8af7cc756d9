/**
 * Row mapping of the SQL core (sql.ts): a database row (snake_case columns) to the store's records. The dialects
 * differ only in how a few column types come back (SQLite: integers for booleans, JSON text for sections;
 * PostgreSQL: booleans, jsonb objects, bigint as strings), which the mappers accept both ways.
 */
import { type Receipt, withholdReceiptText } from "../../protocol/index.ts";
import type {
  AnchorIntent,
  Attachment,
  AttachmentFile,
  BacklogInfo,
  ConsultationRecord,
  DraftIntent,
  DraftOutcome,
  DraftRecord,
  EntryRecord,
  Hex,
  KeyIntent,
  NewConsultation,
  ResponseIntent,
  ResponseRecord,
} from "./types.ts";

export type Row = Record<string, unknown>;

const hexOrNull = (v: unknown): Hex | null => (v == null ? null : (String(v) as Hex));
const numOrNull = (v: unknown): number | null => (v == null ? null : Number(v));
// SQLite: 0/1; PostgreSQL: boolean; a row of before migration 7 has none (true, the default)
const boolOr = (v: unknown, otherwise: boolean): boolean =>
  v == null ? otherwise : v === true || Number(v) === 1;

// SQLite: JSON text; PostgreSQL: jsonb, already parsed by pg
const sectionsFrom = (v: unknown): DraftRecord["sections"] =>
  (typeof v === "string" ? JSON.parse(v) : v) as DraftRecord["sections"];
// null for a draft without attachments (and every row written before they existed, migration 6): the field is then
// absent from the record, as from a draft written without it
const attachmentsFrom = (v: unknown): { attachments?: Attachment[] } =>
  v == null ? {} : { attachments: (typeof v === "string" ? JSON.parse(v) : v) as Attachment[] };

/** The attachments column of a draft or draft intent: null when there are none. */
export const attachmentsColumn = (a: DraftRecord["attachments"]): string | null =>
  !a || a.length === 0 ? null : JSON.stringify(a);

const bytesFrom = (v: unknown): Uint8Array => {
  const b = v as Uint8Array;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

export function attachmentFileFrom(r: Row): AttachmentFile {
  return {
    sha256: String(r.sha256) as Hex,
    mediaType: String(r.media_type),
    content: bytesFrom(r.content),
    agency: String(r.agency),
    createdAt: Number(r.created_at),
  };
}

export function responseFrom(r: Row): ResponseRecord {
  return {
    consultationId: Number(r.consultation_id),
    version: Number(r.version),
    hash: String(r.hash) as Hex,
    document: String(r.document),
    txHash: String(r.tx_hash) as Hex,
    createdAt: Number(r.created_at),
  };
}

export function responseIntentFrom(r: Row): ResponseIntent {
  return {
    id: Number(r.id),
    consultationId: Number(r.consultation_id),
    agency: String(r.agency),
    version: Number(r.version),
    hash: String(r.hash) as Hex,
    document: String(r.document),
    txHash: String(r.tx_hash) as Hex,
    rawTx: String(r.raw_tx) as Hex,
    status: String(r.status) as ResponseIntent["status"],
    createdAt: Number(r.created_at),
  };
}

export function consultationFrom(r: Row): ConsultationRecord {
  return {
    id: Number(r.id),
    agency: String(r.agency),
    title: String(r.title),
    summary: String(r.summary),
    opensAt: Number(r.opens_at),
    closesAt: Number(r.closes_at),
    createdAt: Number(r.created_at),
    draftVersion: Number(r.draft_version),
    treeSize: Number(r.tree_size),
    anchoredSize: Number(r.anchored_size),
    closingAt: numOrNull(r.closing_at),
    publicCounts: boolOr(r.public_counts, true),
    tally:
      r.tally_document == null
        ? null
        : {
            document: String(r.tally_document),
            hash: String(r.tally_hash) as Hex,
            txHash: hexOrNull(r.tally_tx),
          },
  };
}

export function draftFrom(r: Row): DraftRecord {
  return {
    consultationId: Number(r.consultation_id),
    version: Number(r.version),
    hash: String(r.hash) as Hex,
    title: String(r.title),
    summary: String(r.summary),
    sections: sectionsFrom(r.sections),
    ...attachmentsFrom(r.attachments),
    txHash: hexOrNull(r.tx_hash),
    createdAt: Number(r.created_at),
  };
}

export function entryFrom(r: Row): EntryRecord {
  return {
    index: Number(r.idx),
    leaf: String(r.leaf),
    leafHash: String(r.leaf_hash) as Hex,
    text: r.text == null ? null : String(r.text),
    salt: hexOrNull(r.salt),
    // SQLite: 0/1; PostgreSQL: boolean
    withheld: r.withheld === true || Number(r.withheld) === 1,
    createdAt: Number(r.created_at),
  };
}

export function intentFrom(r: Row): AnchorIntent {
  return {
    id: Number(r.id),
    consultationId: Number(r.consultation_id),
    kind: String(r.kind) as AnchorIntent["kind"],
    treeSize: Number(r.tree_size),
    rootHash: String(r.root_hash) as Hex,
    txHash: String(r.tx_hash) as Hex,
    rawTx: String(r.raw_tx) as Hex,
    status: String(r.status) as AnchorIntent["status"],
    blockNumber: numOrNull(r.block_number),
    anchoredAt: numOrNull(r.anchored_at),
    gasUsed: numOrNull(r.gas_used),
    createdAt: Number(r.created_at),
  };
}

export function keyIntentFrom(r: Row): KeyIntent {
  return {
    id: Number(r.id),
    kind: String(r.kind) as KeyIntent["kind"],
    publicKey: String(r.public_key) as Hex,
    agency: String(r.agency),
    txHash: String(r.tx_hash) as Hex,
    rawTx: String(r.raw_tx) as Hex,
    status: String(r.status) as KeyIntent["status"],
    createdAt: Number(r.created_at),
  };
}

/**
 * The backlog over all consultations from one row per consultation behind (SqlStore.backlog: `tree_size`,
 * `anchored_size`, `oldest`, `first_recent`).
 */
export function backlogFrom(rows: readonly Row[]): BacklogInfo {
  let backlog = 0;
  let overdue = 0;
  let oldestPending: number | null = null;
  for (const r of rows) {
    backlog += Number(r.tree_size) - Number(r.anchored_size);
    const recent = r.first_recent == null ? Number(r.tree_size) : Number(r.first_recent);
    overdue += recent - Number(r.anchored_size);
    const oldest = numOrNull(r.oldest);
    if (oldest !== null && (oldestPending === null || oldest < oldestPending)) oldestPending = oldest;
  }
  return { backlog, overdue, oldestPending };
}

export function draftIntentFrom(r: Row): DraftIntent {
  return {
    id: Number(r.id),
    kind: String(r.kind) as DraftIntent["kind"],
    consultationId: numOrNull(r.consultation_id),
    agency: String(r.agency),
    hash: String(r.draft_hash) as Hex,
    title: String(r.title),
    summary: String(r.summary),
    sections: sectionsFrom(r.sections),
    ...attachmentsFrom(r.attachments),
    opensAt: numOrNull(r.opens_at),
    closesAt: numOrNull(r.closes_at),
    txHash: String(r.tx_hash) as Hex,
    rawTx: String(r.raw_tx) as Hex,
    status: String(r.status) as DraftIntent["status"],
    createdAt: Number(r.created_at),
    publicCounts: boolOr(r.public_counts, true),
  };
}

/** The records a mined draft intent makes: the consultation (for "open") and the draft version. */
export function recordsOfDraftIntent(
  i: DraftIntent,
  o: DraftOutcome,
): {
  consultation: NewConsultation | null;
  draft: DraftRecord;
} {
  const draft: DraftRecord = {
    consultationId: o.consultationId,
    version: o.version,
    hash: i.hash,
    title: i.title,
    summary: i.summary,
    sections: i.sections,
    ...(i.attachments?.length ? { attachments: i.attachments } : {}),
    txHash: i.txHash,
    createdAt: o.at,
  };
  if (i.kind === "revise") return { consultation: null, draft };
  if (i.opensAt === null || i.closesAt === null) throw new Error(`draft intent ${i.id} has no schedule`);
  return {
    consultation: {
      id: o.consultationId,
      agency: i.agency,
      title: i.title,
      summary: i.summary,
      opensAt: i.opensAt,
      closesAt: i.closesAt,
      createdAt: o.at,
      draftVersion: o.version,
      publicCounts: i.publicCounts,
    },
    draft,
  };
}

/** A stored receipt (JSON) as kept once its text is withheld: protocol's withholdReceiptText. */
export function withheldReceiptJson(json: string): string {
  return JSON.stringify(withholdReceiptText(JSON.parse(json) as Receipt));
}
