/**
 * The service's storage interface: one SQL core (server/store/sql.ts) over two dialects (SQLite through node:sqlite,
 * PostgreSQL through pg) that pass one conformance suite (test/server/store.conformance.test.ts). SQL lives only under
 * server/store/.
 *
 * Both backends behave the same in every respect below:
 * - Integrity: foreign keys are declared and enforced (drafts, entries, nodes, intents and draft intents belong to a
 *   stored consultation; a receipt to a stored entry). A write that would leave an orphan fails and writes nothing.
 * - Receipts: every opinion entry is appended with its signed receipt and subject key, in the append transaction;
 *   a moderation entry has neither. There is no receipt row without its entry, nor an opinion without its receipt.
 * - Idempotency: an idempotency key is stored once, globally. appendEntries refuses the whole batch with
 *   StoreConflictError when one of its keys is already stored or repeats within the batch; the caller rebuilds the
 *   batch and replays the stored receipt (getIdempotent).
 * - The final head: once a consultation is closing (markClosing) or tallied, and for online opinions accepted at or
 *   after closesAt, appendEntries refuses the batch inside its transaction with ServiceError 409 `closed`.
 * - Withholding: the target's text and salt are cleared from its entry, and its stored receipt is redacted
 *   (protocol's withholdReceiptText: text "", salt zeroed; signature and signed fields kept), in the same transaction.
 */

export type Hex = `0x${string}`;

export interface Section {
  id: string;
  title: string;
  text: string;
}

export interface ConsultationRecord {
  /** Id in the registry contract. */
  id: number;
  /** Agency id (the `agency` claim of staff tokens). */
  agency: string;
  title: string;
  summary: string;
  /** Unix seconds. */
  opensAt: number;
  closesAt: number;
  /** Milliseconds. */
  createdAt: number;
  draftVersion: number;
  /** Entries in the log. */
  treeSize: number;
  /** Size of the last head known mined on chain. */
  anchoredSize: number;
  /** Milliseconds: when the close procedure started (markClosing); from then on nothing is appended. */
  closingAt: number | null;
  tally: TallyRecord | null;
  /** Whether live counts are public while the consultation is open (the agency's choice at opening). */
  publicCounts: boolean;
}

/** What createConsultation stores; the log, anchoring and closing state start empty. */
export type NewConsultation = Omit<
  ConsultationRecord,
  "treeSize" | "anchoredSize" | "closingAt" | "tally" | "publicCounts"
> & { publicCounts?: boolean };

export interface TallyRecord {
  document: string;
  hash: Hex;
  txHash: Hex | null;
}

/** A file published with a draft (protocol's DraftAttachment): its hash is part of the draft hash. */
export interface Attachment {
  title: string;
  mediaType: string;
  sha256: Hex;
  bytes: number;
}

/** An uploaded file, content-addressed (served only when a draft of the consultation lists it). */
export interface AttachmentFile {
  sha256: Hex;
  mediaType: string;
  content: Uint8Array;
  /** The agency whose staff uploaded it first. */
  agency: string;
  createdAt: number;
}

/** A published version of the agency's response: the exact document bytes whose hash is on chain. */
export interface ResponseRecord {
  consultationId: number;
  /** The registry's version (ResponsePublished). */
  version: number;
  hash: Hex;
  /** The canonical JSON, exactly as served. */
  document: string;
  txHash: Hex;
  createdAt: number;
}

/** A response publication written BEFORE its publishResponse transaction is broadcast (like every intent). */
export interface ResponseIntent {
  id: number;
  consultationId: number;
  agency: string;
  /** The version the document carries. */
  version: number;
  hash: Hex;
  document: string;
  txHash: Hex;
  rawTx: Hex;
  status: "pending" | "done" | "failed";
  createdAt: number;
}
export type NewResponseIntent = Omit<ResponseIntent, "id" | "status">;

export interface DraftRecord {
  consultationId: number;
  version: number;
  hash: Hex;
  title: string;
  summary: string;
  sections: Section[];
  /** Absent (or empty) when the draft has none; read back absent then. */
  attachments?: Attachment[];
  txHash: Hex | null;
  createdAt: number;
}

export interface EntryRecord {
  index: number;
  /** The exact canonical entry string. */
  leaf: string;
  leafHash: Hex;
  text: string | null;
  salt: Hex | null;
  withheld: boolean;
  /** Milliseconds, when the service accepted it. */
  createdAt: number;
}

interface NewEntryFields {
  leaf: string;
  leafHash: Hex;
  /**
   * Milliseconds, when the service accepted it (the batch's time). An online opinion is refused when this is at or
   * after the consultation's closesAt.
   */
  createdAt: number;
}

/** An opinion to append, with the receipt signed for it. */
export interface NewOpinionEntry extends NewEntryFields {
  kind: "opinion";
  channel: "online" | "offline";
  /** Author pseudonym: public in the entry anyway; indexed for `replaces`. */
  author: Hex;
  section: string;
  /** null when the opinion is withheld in its own batch. */
  text: string | null;
  salt: Hex | null;
  /** Private: keyed hash of the subject (the citizen, or the importing officer), for GET /api/me/opinions. */
  subjectKey: string;
  /** Private: keyed hash of (subject, consultation, Idempotency-Key), or of an import line. Unique. */
  idempotencyKey: string | null;
  /** Signed receipt (JSON) returned to the citizen. */
  receipt: string;
  withholdTarget: null;
}

/** A moderation entry to append: withholds the text and salt of the opinion at withholdTarget. */
export interface NewModerationEntry extends NewEntryFields {
  kind: "moderation";
  channel: null;
  author: null;
  section: null;
  text: null;
  salt: null;
  subjectKey: null;
  idempotencyKey: null;
  receipt: null;
  withholdTarget: number;
}

/** The moderation entry to append for `leaf` (its columns other than the target are null by definition). */
export function newModerationEntry(
  leaf: string,
  leafHash: Hex,
  withholdTarget: number,
  createdAt: number,
): NewModerationEntry {
  const none = { channel: null, author: null, section: null, text: null, salt: null } as const;
  return {
    leaf,
    leafHash,
    kind: "moderation",
    ...none,
    createdAt,
    subjectKey: null,
    idempotencyKey: null,
    receipt: null,
    withholdTarget,
  };
}

/** An entry to append. */
export type NewEntry = NewOpinionEntry | NewModerationEntry;

export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

export interface NodeId {
  level: number;
  index: number;
}

/** Structurally identical to protocol's TreeStore. */
export interface TreeStoreLike {
  getNodes(ids: readonly NodeId[]): Uint8Array[] | Promise<Uint8Array[]>;
  putNodes(nodes: readonly TreeNode[]): void | Promise<void>;
}

/** A subtree of a counted map: the keys whose first `depth` bits are `path` (protocol's CountedAddress). */
export interface CountedAddress {
  readonly depth: number;
  readonly path: Uint8Array;
}

/** A subtree's record (protocol's CountedNode). */
export interface CountedNode extends CountedAddress {
  readonly record: Uint8Array;
}

/** Structurally identical to protocol's CountedStore. */
export interface CountedStoreLike {
  getNodes(
    addresses: readonly CountedAddress[],
    treeSize: number,
  ): readonly (Uint8Array | null)[] | Promise<readonly (Uint8Array | null)[]>;
  putNodes(nodes: readonly CountedNode[], treeSize: number): void | Promise<void>;
}

/** A recorded version of a consultation's counted map: its root once the log's first `treeSize` entries applied. */
export interface CountedVersion {
  treeSize: number;
  root: Hex;
}

/**
 * One update of a counted map, from the version it was opened at. putNodes keeps copies of the rows, writing them in
 * transactions of a bounded number of rows as they pile up; commit writes the rest and records the version in one
 * transaction. Until commit the rows are not part of any version (readers only read recorded versions), and the next
 * openCountedUpdate deletes them, so a crash anywhere leaves the map at its previous version.
 */
export interface CountedUpdateSession extends CountedStoreLike {
  /** The latest recorded version when the update was opened (treeSize 0, root ZERO for an empty map). */
  readonly from: CountedVersion;
  /** Writes the remaining rows and records `version`; StoreConflictError when another version was recorded since. */
  commit(version: CountedVersion): Promise<void>;
}

export type IntentStatus = "pending" | "mined" | "failed";

export interface AnchorIntent {
  id: number;
  consultationId: number;
  /** "anchor" (anchorLog) or "tally" (publishTally). */
  kind: "anchor" | "tally";
  treeSize: number;
  rootHash: Hex;
  txHash: Hex;
  /** Signed raw transaction, so a dropped one can be sent again as is. */
  rawTx: Hex;
  status: IntentStatus;
  blockNumber: number | null;
  /** Unix seconds of the block. */
  anchoredAt: number | null;
  gasUsed: number | null;
  createdAt: number;
}

export type NewIntent = Omit<AnchorIntent, "id" | "status" | "blockNumber" | "anchoredAt" | "gasUsed">;

/**
 * A consultation opening (openConsultation) or a new draft version (reviseDraft) written BEFORE its transaction is
 * broadcast, so a crash between the broadcast and the database write leaves nothing on chain the service does not
 * know: at start-up (and every anchoring round) pending intents are reconciled with the chain.
 */
export interface DraftIntent {
  id: number;
  kind: "open" | "revise";
  /** The consultation revised; null for "open" (the chain assigns the id, read from the ConsultationOpened event). */
  consultationId: number | null;
  agency: string;
  hash: Hex;
  title: string;
  summary: string;
  sections: DraftRecord["sections"];
  attachments?: DraftRecord["attachments"];
  /** Unix seconds ("open" only). */
  opensAt: number | null;
  closesAt: number | null;
  txHash: Hex;
  rawTx: Hex;
  status: "pending" | "done" | "failed";
  createdAt: number;
  /** "open": whether live counts are public while open (default true). */
  publicCounts: boolean;
}

export type NewDraftIntent = Omit<DraftIntent, "id" | "status" | "publicCounts"> & { publicCounts?: boolean };

/**
 * A receipt-signing key to add to the registry (addReceiptKey) or retire from it (retireReceiptKey), written BEFORE
 * its transaction is broadcast, like every intent, and settled with the chain at start-up and every anchoring round.
 */
export interface KeyIntent {
  id: number;
  kind: "add" | "retire";
  /** The Ed25519 public key, as the registry's bytes32 (0x-hex). */
  publicKey: Hex;
  /** The agency whose operator key sends it. */
  agency: string;
  txHash: Hex;
  rawTx: Hex;
  status: IntentStatus;
  createdAt: number;
}

export type NewKeyIntent = Omit<KeyIntent, "id" | "status">;

/** What the chain says about a mined draft intent: the consultation id and the draft version of its event. */
export interface DraftOutcome {
  consultationId: number;
  version: number;
  /** Time (ms) the records are stamped with. */
  at: number;
}

export class StoreConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConflictError";
  }
}

export interface BacklogInfo {
  /** Entries not yet covered by a mined anchor, over all consultations. */
  backlog: number;
  /** Of those, entries accepted before `cutoff`. */
  overdue: number;
  /** Creation time (ms) of the oldest unanchored entry, or null. */
  oldestPending: number | null;
}

/** A C2SP checkpoint the service published for one tree size of a consultation's log. */
export interface CheckpointRecord {
  consultationId: number;
  treeSize: number;
  rootHash: Hex;
  /** The signed note, exactly as served at /logs/<id>/checkpoint. */
  note: string;
  /** When it was signed (ms). */
  createdAt: number;
}

/** How far the counted maps are behind, over all consultations (for /api/health). */
export interface CountedLag {
  /** Log entries not yet in their consultation's latest counted map version. */
  entries: number;
  /** Consultations whose latest anchored head has no counted map version (so no proof of being counted). */
  unmappedHeads: number;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  migrate(): Promise<void>;
  close(): Promise<void>;
  ping(): Promise<boolean>;
  /**
   * Statements this store has sent to its database since it opened, each BEGIN, COMMIT and ROLLBACK included
   * (SQLite: statements executed, the writer thread's too): the cost of a code path in database round trips.
   */
  roundTrips(): number;

  /** The consultation and its first draft, in one transaction. */
  createConsultation(c: NewConsultation, draft: DraftRecord): Promise<void>;
  getConsultation(id: number): Promise<ConsultationRecord | null>;
  /** Newest first. */
  listConsultations(): Promise<ConsultationRecord[]>;
  /** A new draft version of a stored consultation, which it becomes the current draft of. */
  addDraft(draft: DraftRecord): Promise<void>;
  /** The given version, or the current one. */
  getDraft(consultationId: number, version?: number): Promise<DraftRecord | null>;
  /** Every stored draft with that hash, by consultation then version (draft URIs on chain point at them). */
  findDraftsByHash(hash: Hex): Promise<DraftRecord[]>;

  /** Perfect-subtree hashes of one consultation's log (protocol's TreeStore). */
  treeStore(consultationId: number): TreeStoreLike;
  /** Read-only access to the records of one consultation's counted map (putNodes refuses: see openCountedUpdate). */
  countedStore(consultationId: number): CountedStoreLike;
  /**
   * Opens an update of one consultation's counted map from its latest version, first deleting the rows of an update
   * that never recorded its version. The caller serializes updates of one map (the anchorer: the operator lock).
   */
  openCountedUpdate(consultationId: number): Promise<CountedUpdateSession>;
  countedLag(): Promise<CountedLag>;
  /** The counted map's version at exactly `treeSize`, or (no size) its latest; null when none is recorded. */
  countedVersion(consultationId: number, treeSize?: number): Promise<CountedVersion | null>;
  /**
   * Atomically (one transaction, one fsync): appends entries at indices expectedSize.., their tree nodes, receipts,
   * idempotency keys and withholdings (entry text and salt cleared, receipt redacted), and sets the tree size.
   * Nothing is written when it throws: StoreConflictError when the consultation is missing, the stored size is not
   * expectedSize, or an idempotency key is already stored or repeated; ServiceError 409 `closed` when the
   * consultation is closing or tallied, or an online opinion's createdAt is at or after closesAt.
   *
   * `afterPrevious`: the batch was built on this store object's previous append to the consultation before that
   * one committed (group commit pipelined). It runs after that append and, unless that one committed, writes
   * nothing and throws StoreConflictError: a size check alone could pass on a tree another writer grew by as many
   * entries.
   */
  appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
    options?: AppendOptions,
  ): Promise<void>;
  /** Entries [start, end). */
  getEntries(consultationId: number, start: number, end: number): Promise<EntryRecord[]>;
  /** Up to `limit` moderation entries with an index above `after` (-1: from the start), in log order. */
  listModerations(consultationId: number, after: number, limit: number): Promise<EntryRecord[]>;
  findLeaf(consultationId: number, leafHash: Hex): Promise<number | null>;
  /** Index of the author's latest opinion on that section, or null. */
  latestOpinion(consultationId: number, author: Hex, section: string): Promise<number | null>;
  /**
   * Marks the consultation closing (once: a later call keeps the first time) under the append lock, so an append
   * racing it either committed before (and is in the returned treeSize) or is refused after. Returns the
   * consultation as marked, or null when it does not exist.
   */
  markClosing(consultationId: number, at: number): Promise<ConsultationRecord | null>;
  /** latestOpinion of each (author, section), in the order asked, in one statement (a batch's prefetch). */
  latestOpinions(
    consultationId: number,
    of: readonly { author: Hex; section: string }[],
  ): Promise<(number | null)[]>;
  /** Receipt stored under an idempotency key (redacted when its text was withheld). */
  getIdempotent(idempotencyKey: string): Promise<string | null>;
  /** getIdempotent of each key, in the order asked (null: none stored), in one statement (a batch's prefetch). */
  idempotentReceipts(idempotencyKeys: readonly string[]): Promise<(string | null)[]>;
  /** Receipts of one subject key, in log order per consultation (redacted when their text was withheld). */
  receiptsFor(subjectKey: string): Promise<string[]>;

  addDraftIntent(intent: NewDraftIntent): Promise<number>;
  /** Pending draft intents, oldest first. */
  pendingDraftIntents(): Promise<DraftIntent[]>;
  /**
   * In one transaction: stores what a mined draft intent made (the consultation and its first draft, or the new
   * draft version) and marks it done. Idempotent: returns false, writing nothing, when it is already done. A failed
   * intent is completed too (the chain is the truth: it was mined after all).
   */
  completeDraftIntent(id: number, outcome: DraftOutcome): Promise<boolean>;
  failDraftIntent(id: number): Promise<void>;

  addIntent(intent: NewIntent): Promise<number>;
  /** Pending intents, oldest first. */
  pendingIntents(consultationId?: number): Promise<AnchorIntent[]>;
  resolveIntent(
    id: number,
    outcome:
      | { status: "mined"; blockNumber: number; anchoredAt: number; gasUsed: number }
      | { status: "failed" },
  ): Promise<void>;
  addKeyIntent(intent: NewKeyIntent): Promise<number>;
  /** Pending receipt-key intents, oldest first. */
  pendingKeyIntents(): Promise<KeyIntent[]>;
  /** Marks a pending receipt-key intent mined or failed (a settled one stays as it is). */
  resolveKeyIntent(id: number, status: "mined" | "failed"): Promise<void>;
  /** Latest mined "anchor" intent of a consultation. */
  lastAnchor(consultationId: number): Promise<AnchorIntent | null>;
  /** The mined "anchor" intent of a consultation's head of size `treeSize`, or null when that size was never anchored. */
  anchorAt(consultationId: number, treeSize: number): Promise<AnchorIntent | null>;
  setTally(consultationId: number, tally: TallyRecord): Promise<void>;
  /** Stores an uploaded file under its SHA-256; a file already stored is kept as it is (same bytes, same hash). */
  putAttachment(file: AttachmentFile): Promise<void>;
  /** The stored file with that SHA-256, or null. */
  getAttachment(sha256: Hex): Promise<AttachmentFile | null>;
  /** The size in bytes of the stored file with that SHA-256, or null (without reading the file). */
  attachmentSize(sha256: Hex): Promise<number | null>;
  /** Every draft version of a consultation, oldest first. */
  listDrafts(consultationId: number): Promise<DraftRecord[]>;
  addResponseIntent(intent: NewResponseIntent): Promise<number>;
  /** Pending response intents (of one consultation, or all), oldest first. */
  pendingResponseIntents(consultationId?: number): Promise<ResponseIntent[]>;
  /**
   * In one transaction: stores the response of a mined intent under the registry's `version` and marks the intent
   * done. Idempotent: returns false, writing nothing, when it is already done. A failed intent is completed too (it
   * was mined after all).
   */
  completeResponseIntent(id: number, outcome: { version: number; at: number }): Promise<boolean>;
  failResponseIntent(id: number): Promise<void>;
  /** The given version of a consultation's response, or its latest; null when none. */
  getResponse(consultationId: number, version?: number): Promise<ResponseRecord | null>;
  /** Records a published checkpoint; one of that size already recorded is kept as it is (returns false). */
  addCheckpoint(checkpoint: CheckpointRecord): Promise<boolean>;
  /** The checkpoint of the largest size, or null when none was published. */
  latestCheckpoint(consultationId: number): Promise<CheckpointRecord | null>;
  /** True when a checkpoint was published for some size in [from, to). */
  hasCheckpointBetween(consultationId: number, from: number, to: number): Promise<boolean>;
  backlog(cutoff: number): Promise<BacklogInfo>;

  /**
   * Exclusive anchoring right across service instances (PostgreSQL advisory lock; SQLite: a single process).
   * Returns true while held; keep calling each round.
   */
  tryAnchorLock(): Promise<boolean>;
  /**
   * Runs fn exclusively, for that key, across every service instance sharing this database (and schema): callers
   * of one key run one after the other, in call order within an instance. PostgreSQL: an in-process queue, then a
   * session advisory lock on a dedicated pooled connection held for fn's duration (the lock is released when fn
   * settles, or when that connection dies). SQLite: one process serves a file, so the in-process queue alone.
   */
  withOperatorLock<T>(key: string, fn: () => Promise<T>): Promise<T>;

  /** Log entries the reading index covers (0 when it has none). */
  readingProgress(consultationId: number): Promise<number>;
  /** Consultations whose reading index is behind their log. */
  readingBehind(): Promise<number[]>;
  /**
   * Applies one step of the reading index in one transaction, if the index is still at `w.from` (false, writing
   * nothing, when another indexer moved it).
   */
  writeReadings(consultationId: number, w: ReadingWrite): Promise<boolean>;
  /** Earlier readings of the section whose SimHash has one of these bands: per band the newest `limit`. */
  campaignCandidates(
    consultationId: number,
    section: string,
    bands: readonly number[],
    limit: number,
  ): Promise<CampaignCandidate[]>;
  /**
   * The section's readings below `before` (null: from the newest) matching the filter, newest first: up to `limit`,
   * fewer when a text search stopped at its scan budget (then `resumeBefore` says where to go on from).
   */
  listReadings(
    consultationId: number,
    section: string,
    filter: ReadingFilter,
    before: number | null,
    limit: number,
  ): Promise<ReadingPage>;
  /** The section's campaigns, largest first. */
  campaigns(consultationId: number, section: string, limit: number): Promise<CampaignSummary[]>;
  readingStats(consultationId: number): Promise<ReadingStats>;
  /** Campaign ids of the grouped readings among entries [start, end), by leaf index. */
  readingCampaigns(consultationId: number, start: number, end: number): Promise<Map<number, number>>;
}

/** Filters of the public listing of one section's opinions (the reading index, migration 7). */
export interface ReadingFilter {
  stance?: string;
  channel?: string;
  campaign?: number;
  /** Folded words (server/reading.ts), all of which must occur; empty or absent: no text search. */
  words?: readonly string[];
}

/** One opinion of the reading index, as listed. */
/** A page of readings; `resumeBefore` is set when the search stopped at its budget with more readings to look at. */
export interface ReadingPage {
  readings: ReadingRecord[];
  resumeBefore: number | null;
}

export interface ReadingRecord {
  index: number;
  section: string;
  stance: string;
  channel: string;
  /** The entry's RFC 3339 time. */
  submittedAt: string;
  /** null when withheld. */
  text: string | null;
  withheldReason: string | null;
  campaign: number | null;
}

/** A reading to insert, with what the search and the campaign grouping need. */
export interface NewReading extends ReadingRecord {
  /** server/reading.ts's fold of the text: the searched words. */
  folded: string;
  /** 64-bit SimHash as 16 hex digits, and its four 16-bit bands; null when the text is too short to group. */
  simhash: string | null;
}

/** One step of the reading index: log entries [from, to) applied in one transaction. */
export interface ReadingWrite {
  from: number;
  to: number;
  inserts: readonly NewReading[];
  /** Earlier readings whose text a moderation entry of [from, to) withholds. */
  withholds: readonly { index: number; reason: string }[];
  /** Earlier readings replaced by a later opinion of their author (they leave the listing and the counts). */
  removes: readonly number[];
  /** Earlier readings that become the first member of a campaign (its id is their index). */
  campaignStarts: readonly number[];
  /** Opinions of [from, to) replaced within it (never inserted): they still count in the hourly arrivals. */
  arrivedOnly: readonly { submittedAt: string; channel: string }[];
}

/** Store.appendEntries's options. */
export interface AppendOptions {
  /** Built on this store object's previous append to the consultation, before that one committed. */
  afterPrevious?: boolean;
}

/** An earlier reading sharing a SimHash band (campaign grouping). */
export interface CampaignCandidate {
  /** The band it was found by. */
  band: number;
  index: number;
  simhash: string;
  campaign: number | null;
}

export interface CampaignSummary {
  campaign: number;
  count: number;
  stances: Record<"agree" | "disagree" | "neutral", number>;
  sample: { leafIndex: number; text: string } | null;
}

export interface ReadingStats {
  indexedSize: number;
  sections: Record<string, Record<"agree" | "disagree" | "neutral", number> & { total: number }>;
  channels: Record<"online" | "offline", number>;
  /** Opinions that arrived per hour (Unix seconds of the hour's start), replaced ones included. */
  hourly: { hour: number; online: number; offline: number }[];
}
