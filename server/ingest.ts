/**
 * Ingest with group commit. Concurrent submissions to a consultation are queued; one flush builds their entries,
 * appends the whole batch to the Merkle log (protocol's MerkleLog, backed by the store's tree nodes), signs the
 * batch's checkpoint once, gives each opinion its receipt (v2: the inclusion proof to that checkpoint), and writes
 * everything in ONE store transaction (one fsync). Each submitter is answered only after that commit: an acknowledged
 * entry is durable.
 */
import type {
  Entry,
  Hex,
  NoteSigner,
  Receipt,
  ReceiptFields,
  Stance,
  StoredNode,
  TreeStore,
} from "../protocol/index.ts";
import {
  contentHash,
  decodeEntry,
  entryString,
  formatTime,
  leafHash,
  MerkleLog,
  ProtocolError,
  randomSalt,
  receiptV2,
  signCheckpoint,
  utf8Encode,
} from "../protocol/index.ts";
import type { Clock } from "./clock.ts";
import { ServiceError } from "./errors.ts";
import type { NewEntry, NodeId, Store, TreeNode, TreeStoreLike } from "./store/index.ts";
import { newModerationEntry, StoreConflictError } from "./store/index.ts";

export interface OpinionSubmission {
  kind: "opinion";
  draftVersion: number;
  section: string;
  stance: Stance;
  text: string;
  author: Hex;
  channel: "online" | "offline";
  /**
   * Offline opinions: when they were collected (ms). Null for online ones, whose entry carries the second their
   * batch commits.
   */
  collectedAt: number | null;
  subjectKey: string;
  idempotencyKey: string | null;
}

export interface ModerationSubmission {
  kind: "moderation";
  target: number;
  reason: string;
  by: Hex;
}

export type Submission = OpinionSubmission | ModerationSubmission;

export interface Accepted {
  index: number;
  leafHash: Hex;
  /** An opinion's receipt as stored (JSON), sent as it is: serialized once, not once more per reply; null otherwise. */
  receiptJson: string | null;
}

interface Pending {
  submission: Submission;
  resolve: (a: Accepted) => void;
  reject: (e: unknown) => void;
  /** Times its batch met a store conflict (it is then built again). */
  conflicts: number;
}

/** Conflicts an item survives before it is refused with 503 `busy`. */
const MAX_CONFLICT_RETRIES = 50;

/** A batch handed to the store and not yet settled. */
interface SentBatch {
  pending: Pending[];
  results: (Accepted | Error)[];
  batch: Batch;
  /** The store's commit of the batch. */
  commit: Promise<void>;
}

/** Answers each submitter from its slot. */
function answer(pending: readonly Pending[], results: readonly (Accepted | Error)[]): void {
  results.forEach((result, i) => {
    if (result instanceof Error) pending[i]!.reject(result);
    else pending[i]!.resolve(result);
  });
}

/** Collects the nodes a MerkleLog writes during one batch so they commit in the batch's transaction. */
class BufferedTreeStore {
  readonly base: TreeStoreLike;
  buffer: TreeNode[] = [];
  constructor(base: TreeStoreLike) {
    this.base = base;
  }
  getNodes(ids: readonly NodeId[]): Uint8Array[] | Promise<Uint8Array[]> {
    return this.base.getNodes(ids);
  }
  putNodes(nodes: readonly TreeNode[]): void {
    for (const n of nodes) this.buffer.push(n);
  }
}

interface LogState {
  log: MerkleLog | null;
  /** The consultation's closesAt in ms (read with the log). */
  closesAtMs: number;
  tree: BufferedTreeStore;
  queue: Pending[];
  flushing: boolean;
  scheduled: boolean;
}

export interface IngestOptions {
  store: Store;
  clock: Clock;
  /** The checkpoint key of a consultation's log (named after its origin): signs each batch's checkpoint. */
  checkpointKey: (consultationId: number) => NoteSigner;
  maxAnchorDelayMs: number;
  groupCommitMax: number;
  /** Called after each committed batch (metrics). */
  onCommit?: (consultationId: number, count: number, online: number, offline: number) => void;
}

export class Ingest {
  private readonly opts: IngestOptions;
  private readonly logs = new Map<number, LogState>();
  /** In-flight submissions by idempotency key, so a concurrent retry waits for the first. */
  private readonly inflight = new Map<string, Promise<Accepted>>();

  constructor(opts: IngestOptions) {
    this.opts = opts;
  }

  private state(consultationId: number): LogState {
    let state = this.logs.get(consultationId);
    if (!state) {
      state = {
        log: null,
        closesAtMs: 0,
        tree: new BufferedTreeStore(this.opts.store.treeStore(consultationId)),
        queue: [],
        flushing: false,
        scheduled: false,
      };
      this.logs.set(consultationId, state);
    }
    return state;
  }

  /** The consultation's log as committed (opened from the store on first use). */
  async log(consultationId: number): Promise<MerkleLog> {
    const state = this.state(consultationId);
    if (!state.log) {
      const c = await this.opts.store.getConsultation(consultationId);
      if (!c) throw new ServiceError(404, "not_found", `consultation ${consultationId} does not exist`);
      state.closesAtMs = c.closesAt * 1000;
      state.log = await MerkleLog.open(state.tree, c.treeSize);
    }
    return state.log;
  }

  /** Forget the cached log (another instance may have appended; it is reopened from the store). */
  invalidate(consultationId: number): void {
    const state = this.logs.get(consultationId);
    if (state && !state.flushing) state.log = null;
  }

  submit(consultationId: number, submission: Submission): Promise<Accepted> {
    const key = submission.kind === "opinion" ? submission.idempotencyKey : null;
    if (key !== null) {
      const running = this.inflight.get(key);
      if (running) return running;
    }
    const accepted = new Promise<Accepted>((resolve, reject) => {
      const state = this.state(consultationId);
      state.queue.push({ submission, resolve, reject, conflicts: 0 });
      this.schedule(consultationId, state);
    });
    if (key !== null) {
      this.inflight.set(key, accepted);
      const clear = () => this.inflight.delete(key);
      accepted.then(clear, clear);
    }
    return accepted;
  }

  private schedule(consultationId: number, state: LogState): void {
    if (state.scheduled || state.flushing) return;
    state.scheduled = true;
    // let every request already read from the sockets join this batch
    setImmediate(() => {
      state.scheduled = false;
      void this.flush(consultationId, state);
    });
  }

  /**
   * Commits the queue in batches, pipelined: while one batch is on its way to disk, the next is built on the log as
   * it will be after it and handed to the store, which commits it only after the first and only if the first
   * committed. Each submitter is still answered after its own batch's commit. A batch that did not commit takes
   * the batch built on it back to the queue, and both are built again on what is committed.
   */
  private async flush(consultationId: number, state: LogState): Promise<void> {
    if (state.flushing) return;
    state.flushing = true;
    let inFlight: SentBatch | null = null;
    try {
      while (state.queue.length > 0 || inFlight) {
        let sent: SentBatch | null = null;
        const next = state.queue.slice(0, this.opts.groupCommitMax);
        // a moderation entry reads the committed entries it targets: it waits for the batch on its way to disk
        if (next.length > 0 && !(inFlight && next.some((p) => p.submission.kind === "moderation"))) {
          state.queue.splice(0, next.length);
          sent = await this.send(consultationId, state, next, inFlight);
        }
        if (inFlight) {
          const { committed, retry } = await this.settle(consultationId, state, inFlight);
          if (!committed && sent) {
            // built on a batch that did not commit: the store refuses it without writing
            await sent.commit.catch(() => undefined);
            retry.push(...sent.pending);
            sent = null;
          }
          state.queue.unshift(...retry); // in their order, before anything submitted since
        }
        inFlight = sent;
      }
    } finally {
      state.flushing = false;
    }
  }

  /**
   * Builds one batch on the log as it stands in memory (`inFlight` included when there is one) and hands it to the
   * store. Items refused individually get a ServiceError in their slot; they and replayed receipts are answered at
   * once when nothing is left to write. Null when nothing was handed to the store.
   */
  private async send(
    consultationId: number,
    state: LogState,
    pending: Pending[],
    inFlight: SentBatch | null,
  ): Promise<SentBatch | null> {
    let batch: Batch;
    let results: (Accepted | Error)[];
    let nodes: TreeNode[];
    try {
      ({ batch, results, nodes } = await this.build(consultationId, state, pending, inFlight));
    } catch (e) {
      state.log = null; // the in-memory log may be ahead of what any batch will commit: reopen it
      state.tree.buffer = [];
      for (const item of pending) item.reject(e);
      return null;
    }
    if (batch.entries.length === 0) {
      answer(pending, results);
      return null;
    }
    const commit = this.opts.store.appendEntries(consultationId, batch.first, batch.entries, nodes, {
      afterPrevious: inFlight !== null,
    });
    commit.catch(() => undefined); // settled (and its failure handled) by settle()
    return { pending, results, commit, batch };
  }

  /**
   * Waits for a sent batch's commit and answers its submitters. On a failure the in-memory log is dropped (it is
   * reopened from the store); on a conflict (another instance appended, a key was reused concurrently) the batch's
   * items are returned to be built again, up to MAX_CONFLICT_RETRIES times each.
   */
  private async settle(
    consultationId: number,
    state: LogState,
    sent: SentBatch,
  ): Promise<{ committed: boolean; retry: Pending[] }> {
    try {
      await sent.commit;
    } catch (e) {
      state.log = null;
      state.tree.buffer = [];
      if (!(e instanceof StoreConflictError)) {
        for (const item of sent.pending) item.reject(e);
        return { committed: false, retry: [] };
      }
      const retry: Pending[] = [];
      for (const item of sent.pending) {
        if (++item.conflicts <= MAX_CONFLICT_RETRIES) retry.push(item);
        else item.reject(new ServiceError(503, "busy", "the log is busy; retry shortly"));
      }
      return { committed: false, retry };
    }
    const { batch } = sent;
    this.opts.onCommit?.(consultationId, batch.entries.length, batch.online, batch.offline);
    answer(sent.pending, sent.results);
    return { committed: true, retry: [] };
  }

  /** One batch's entries, appended to the in-memory log, with their receipts and the tree nodes to store. */
  private async build(
    consultationId: number,
    state: LogState,
    pending: Pending[],
    inFlight: SentBatch | null,
  ): Promise<{ batch: Batch; results: (Accepted | Error)[]; nodes: TreeNode[] }> {
    const { store, clock } = this.opts;
    const log = await this.log(consultationId);
    const { latest, stored } = await prefetch(store, consultationId, pending);
    // what the batch on its way to disk wrote last, for the (author, section) pairs it shares with this one
    if (inFlight) {
      for (const [pair, index] of inFlight.batch.appended) if (latest.has(pair)) latest.set(pair, index);
    }
    const now = clock.now();
    const batch: Batch = {
      consultationId,
      consultation: String(consultationId),
      closesAtMs: state.closesAtMs,
      first: log.size,
      now,
      publishedAt: formatTime(floorToSecond(now)),
      issuedAt: formatTime(now),
      anchorDeadline: formatTime(now + this.opts.maxAnchorDelayMs),
      latest,
      appended: new Map(),
      stored,
      withheld: new Set(),
      replies: new Map(),
      issuing: [],
      entries: [],
      leaves: [],
      online: 0,
      offline: 0,
    };
    const results: (Accepted | Error)[] = [];
    for (const { submission } of pending) {
      results.push(
        submission.kind === "opinion"
          ? await this.buildOpinion(batch, submission)
          : await this.buildModeration(batch, submission),
      );
    }
    if (batch.entries.length === 0) return { batch, results, nodes: [] };
    const frontier = log.frontierNodes();
    state.tree.buffer = [];
    await log.appendBatch(batch.leaves);
    const nodes = state.tree.buffer;
    state.tree.buffer = [];
    await this.issueReceipts(consultationId, batch, frontier, nodes, await log.root());
    return { batch, results, nodes };
  }

  /**
   * Signs the batch's checkpoint once and completes each new opinion's receipt with its inclusion proof to it, from
   * memory: the old frontier and the batch's new nodes hold every node those proofs read (no store read here).
   */
  private async issueReceipts(
    consultationId: number,
    batch: Batch,
    frontier: readonly StoredNode[],
    nodes: readonly StoredNode[],
    rootHash: Hex,
  ): Promise<void> {
    if (batch.issuing.length === 0) return;
    const size = nextIndex(batch);
    const key = this.opts.checkpointKey(consultationId);
    const checkpoint = signCheckpoint({ origin: key.name, size, rootHash, extensions: [] }, [key]);
    const tree = await MerkleLog.open(new NodeMap([...frontier, ...nodes]), size);
    for (const { fields, accepted } of batch.issuing) {
      const receipt = receiptV2(fields, {
        proof: await tree.inclusionProof(fields.leafIndex, size),
        checkpoint,
      });
      accepted.receiptJson = JSON.stringify(receipt);
      batch.entries[fields.leafIndex - batch.first]!.receipt = accepted.receiptJson;
    }
  }

  /**
   * An opinion entry and its receipt's fields (its proof is added once the batch is appended); a retry with a known
   * idempotency key gets the first receipt.
   */
  private async buildOpinion(batch: Batch, sub: OpinionSubmission): Promise<Accepted | Error> {
    if (sub.idempotencyKey !== null) {
      // a retry (even one racing the first request): the same receipt, never a second entry
      const sameBatch = batch.replies.get(sub.idempotencyKey);
      if (sameBatch !== undefined) return sameBatch;
      const prior = batch.stored.get(sub.idempotencyKey);
      if (prior !== undefined) {
        const receipt = JSON.parse(prior) as Receipt;
        return { index: receipt.leafIndex, leafHash: receipt.leafHash, receiptJson: prior };
      }
    }
    if (sub.channel === "online" && batch.now >= batch.closesAtMs) {
      // the route saw the consultation open, but this batch commits after closing: its time would be outside the
      // window every auditor checks
      return new ServiceError(409, "closed", "the consultation is closed");
    }
    const authorSection = authorSectionOf(sub);
    const replaces = batch.latest.get(authorSection) ?? null;
    const salt = randomSalt();
    const index = nextIndex(batch);
    const { leaf, hash } = encodeLeaf({
      v: 1,
      type: "opinion",
      consultation: batch.consultation,
      draftVersion: sub.draftVersion,
      section: sub.section,
      stance: sub.stance,
      contentHash: contentHash(salt, sub.text),
      author: sub.author,
      channel: sub.channel,
      submittedAt: sub.collectedAt === null ? batch.publishedAt : formatTime(floorToSecond(sub.collectedAt)),
      replaces,
    });
    const fields: ReceiptFields = {
      consultation: batch.consultation,
      leafIndex: index,
      leafHash: hash,
      entry: leaf,
      text: sub.text,
      salt,
      issuedAt: batch.issuedAt,
      anchorDeadline: batch.anchorDeadline,
    };
    push(batch, {
      leaf,
      leafHash: hash,
      kind: "opinion",
      channel: sub.channel,
      author: sub.author,
      section: sub.section,
      text: sub.text,
      salt,
      createdAt: batch.now,
      subjectKey: sub.subjectKey,
      idempotencyKey: sub.idempotencyKey,
      receipt: "", // set by issueReceipts, before the batch commits
      withholdTarget: null,
    });
    batch.latest.set(authorSection, index);
    batch.appended.set(authorSection, index);
    if (sub.channel === "online") batch.online++;
    else batch.offline++;
    const accepted: Accepted = { index, leafHash: hash, receiptJson: null };
    batch.issuing.push({ fields, accepted });
    if (sub.idempotencyKey !== null) batch.replies.set(sub.idempotencyKey, accepted);
    return accepted;
  }

  /** A moderation entry withholding an earlier opinion's text (committed or earlier in this batch). */
  private async buildModeration(batch: Batch, sub: ModerationSubmission): Promise<Accepted | Error> {
    const { store } = this.opts;
    if (sub.target >= nextIndex(batch))
      return new ServiceError(404, "not_found", `entry ${sub.target} does not exist`);
    const inBatch = sub.target >= batch.first ? batch.entries[sub.target - batch.first]! : null;
    let isOpinion: boolean;
    let withheld: boolean;
    if (inBatch) {
      isOpinion = inBatch.kind === "opinion";
      withheld = batch.withheld.has(sub.target);
    } else {
      const [stored] = await store.getEntries(batch.consultationId, sub.target, sub.target + 1);
      if (!stored) return new ServiceError(404, "not_found", `entry ${sub.target} does not exist`);
      isOpinion = decodeEntry(stored.leaf).type === "opinion";
      withheld = stored.withheld || batch.withheld.has(sub.target);
    }
    if (!isOpinion) return new ServiceError(409, "not_an_opinion", `entry ${sub.target} is not an opinion`);
    if (withheld) return new ServiceError(409, "already_withheld", `entry ${sub.target} is already withheld`);
    batch.withheld.add(sub.target);
    if (inBatch) {
      inBatch.text = null;
      inBatch.salt = null;
    }
    const { leaf, hash } = encodeLeaf({
      v: 1,
      type: "moderation",
      consultation: batch.consultation,
      target: sub.target,
      action: "withhold-text",
      reason: sub.reason,
      by: sub.by,
      at: batch.publishedAt,
    });
    const index = nextIndex(batch);
    push(batch, newModerationEntry(leaf, hash, sub.target, batch.now));
    return { index, leafHash: hash, receiptJson: null };
  }
}

/**
 * Entries publish times to the second: a millisecond time would let anyone watching the network match a request to
 * its leaf. Opening and closing times are whole seconds, so a time inside [opensAt, closesAt) stays inside.
 */
const floorToSecond = (ms: number): number => ms - (ms % 1000);

/**
 * What a batch's opinions need of the store, for the whole batch at once (two statements, not two per opinion): the
 * latest committed opinion of each of their (author, section), and the receipts already stored under their
 * idempotency keys. Read on every attempt, so a batch rebuilt after a conflict sees what the other writer wrote.
 */
async function prefetch(
  store: Store,
  consultationId: number,
  pending: readonly Pending[],
): Promise<Pick<Batch, "latest" | "stored">> {
  const pairs = new Map<string, { author: Hex; section: string }>();
  const keys = new Set<string>();
  for (const { submission: sub } of pending) {
    if (sub.kind !== "opinion") continue;
    pairs.set(authorSectionOf(sub), { author: sub.author, section: sub.section });
    if (sub.idempotencyKey !== null) keys.add(sub.idempotencyKey);
  }
  const [latestOf, receipts] = await Promise.all([
    store.latestOpinions(consultationId, [...pairs.values()]),
    store.idempotentReceipts([...keys]),
  ]);
  const latest = new Map([...pairs.keys()].map((k, i) => [k, latestOf[i] ?? null]));
  const stored = new Map<string, string>();
  [...keys].forEach((k, i) => {
    const receipt = receipts[i];
    if (receipt != null) stored.set(k, receipt);
  });
  return { latest, stored };
}

/** The entries of one batch being built, and what its items need to know of each other. */
interface Batch {
  consultationId: number;
  /** The consultation id as entries write it. */
  consultation: string;
  closesAtMs: number;
  /** Log size before the batch: the index of its first entry. */
  first: number;
  /** When the batch is built (ms): stored privately as each entry's createdAt. */
  now: number;
  /** The batch's second, the time its online opinions and moderation entries publish. */
  publishedAt: string;
  issuedAt: string;
  anchorDeadline: string;
  /**
   * Latest opinion index per author and section (authorSectionOf), for `replaces`: every pair of the batch, as
   * committed when the batch was built, then as added in this batch.
   */
  latest: Map<string, number | null>;
  /** The latest opinion index this batch itself appended per author and section (a subset of `latest`). */
  appended: Map<string, number>;
  /** Receipts already stored under the batch's idempotency keys (the keys not stored are absent). */
  stored: Map<string, string>;
  /** Targets withheld by this batch. */
  withheld: Set<number>;
  /** Accepted opinions by idempotency key: a retry inside the batch gets the same reply. */
  replies: Map<string, Accepted>;
  /** The batch's new opinions: their receipts are completed once the batch is appended. */
  issuing: { fields: ReceiptFields; accepted: Accepted }[];
  entries: NewEntry[];
  leaves: Hex[];
  online: number;
  offline: number;
}

/** The key of Batch.latest. */
const authorSectionOf = (sub: OpinionSubmission): string => `${sub.author}\u0000${sub.section}`;

const nextIndex = (batch: Batch): number => batch.first + batch.entries.length;

function push(batch: Batch, entry: NewEntry): void {
  batch.entries.push(entry);
  batch.leaves.push(entry.leafHash);
}

/** A TreeStore of the nodes a batch's proofs read, held in memory: a missing node is a bug, never a store read. */
class NodeMap implements TreeStore {
  readonly #nodes = new Map<string, Uint8Array>();
  constructor(nodes: readonly StoredNode[]) {
    for (const n of nodes) this.#nodes.set(`${n.level}/${n.index}`, n.hash);
  }
  getNodes(ids: readonly { level: number; index: number }[]): Uint8Array[] {
    return ids.map(({ level, index }) => {
      const hash = this.#nodes.get(`${level}/${index}`);
      if (hash === undefined)
        throw new ProtocolError("invalid_argument", `node ${level}/${index} is not in the batch's frontier`);
      return hash;
    });
  }
  putNodes(): void {
    throw new ProtocolError("invalid_argument", "the batch's node map is read-only");
  }
}

function encodeLeaf(entry: Entry): { leaf: string; hash: Hex } {
  const leaf = entryString(entry);
  return { leaf, hash: leafHash(utf8Encode(leaf)) };
}
