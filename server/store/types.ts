/**
 * The service's storage interface. Two implementations (SQLite through node:sqlite, PostgreSQL through pg) pass one
 * conformance suite (test/server/store.conformance.test.ts). SQL lives only under server/store/.
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
  tally: TallyRecord | null;
}

export interface TallyRecord {
  document: string;
  hash: Hex;
  txHash: Hex | null;
}

export interface DraftRecord {
  consultationId: number;
  version: number;
  hash: Hex;
  title: string;
  summary: string;
  sections: Section[];
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

/** An entry to append. */
export interface NewEntry {
  leaf: string;
  leafHash: Hex;
  kind: "opinion" | "moderation";
  /** Author pseudonym (opinions) — public in the entry anyway; indexed for `replaces`. */
  author: Hex | null;
  section: string | null;
  text: string | null;
  salt: Hex | null;
  createdAt: number;
  /** Private: keyed hash of the subject, for GET /api/me/opinions. */
  subjectKey: string | null;
  /** Private: keyed hash of (subject, consultation, Idempotency-Key). Unique. */
  idempotencyKey: string | null;
  /** Signed receipt (JSON) returned to the citizen. */
  receipt: string | null;
  /** For moderation entries: index whose text and salt are withheld. */
  withholdTarget: number | null;
}

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
  /** Unix seconds ("open" only). */
  opensAt: number | null;
  closesAt: number | null;
  txHash: Hex;
  rawTx: Hex;
  status: "pending" | "done" | "failed";
  createdAt: number;
}

export type NewDraftIntent = Omit<DraftIntent, "id" | "status">;

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

export interface Store {
  readonly kind: "sqlite" | "postgres";
  migrate(): Promise<void>;
  close(): Promise<void>;
  ping(): Promise<boolean>;

  createConsultation(
    c: Omit<ConsultationRecord, "treeSize" | "anchoredSize" | "tally">,
    draft: DraftRecord,
  ): Promise<void>;
  getConsultation(id: number): Promise<ConsultationRecord | null>;
  /** Newest first. */
  listConsultations(): Promise<ConsultationRecord[]>;
  addDraft(draft: DraftRecord): Promise<void>;
  /** The given version, or the current one. */
  getDraft(consultationId: number, version?: number): Promise<DraftRecord | null>;
  /** Every stored draft with that hash, by consultation then version (draft URIs on chain point at them). */
  findDraftsByHash(hash: Hex): Promise<DraftRecord[]>;

  /** Perfect-subtree hashes of one consultation's log (protocol's TreeStore). */
  treeStore(consultationId: number): TreeStoreLike;
  /**
   * Atomically (one transaction, one fsync): appends entries at indices expectedSize.., their tree nodes, receipts,
   * idempotency keys and withholdings, and sets the tree size. Throws StoreConflictError when the stored size is not
   * expectedSize, or when an idempotency key already exists (nothing is written then).
   */
  appendEntries(
    consultationId: number,
    expectedSize: number,
    entries: readonly NewEntry[],
    nodes: readonly TreeNode[],
  ): Promise<void>;
  /** Entries [start, end). */
  getEntries(consultationId: number, start: number, end: number): Promise<EntryRecord[]>;
  findLeaf(consultationId: number, leafHash: Hex): Promise<number | null>;
  /** Index of the author's latest opinion on that section, or null. */
  latestOpinion(consultationId: number, author: Hex, section: string): Promise<number | null>;
  /** Receipt stored under an idempotency key. */
  getIdempotent(idempotencyKey: string): Promise<string | null>;
  /** Receipts of one subject key, oldest first. */
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
  /** Latest mined "anchor" intent of a consultation. */
  lastAnchor(consultationId: number): Promise<AnchorIntent | null>;
  setTally(consultationId: number, tally: TallyRecord): Promise<void>;
  backlog(cutoff: number): Promise<BacklogInfo>;

  /**
   * Exclusive anchoring right across service instances (PostgreSQL advisory lock; SQLite: a single process).
   * Returns true while held; keep calling each round.
   */
  tryAnchorLock(): Promise<boolean>;
}
