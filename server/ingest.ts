/**
 * Ingest with group commit. Concurrent submissions to a consultation are queued; one flush builds their entries,
 * appends the whole batch to the Merkle log (protocol's MerkleLog, backed by the store's tree nodes), signs the
 * receipts, and writes everything in ONE store transaction (one fsync). Each submitter is answered only after that
 * commit: an acknowledged entry is durable.
 */
import { createHmac } from "node:crypto";
import {
  contentHash,
  type Entry,
  entryString,
  formatTime,
  type Hex,
  leafHash,
  MerkleLog,
  type Receipt,
  type ReceiptSigningKey,
  randomSalt,
  type Stance,
  signReceipt,
  utf8Encode,
} from "../protocol/index.ts";
import type { Clock } from "./clock.ts";
import { ServiceError } from "./errors.ts";
import {
  type NewEntry,
  type NodeId,
  type Store,
  StoreConflictError,
  type TreeNode,
  type TreeStoreLike,
} from "./store/index.ts";

export interface OpinionSubmission {
  kind: "opinion";
  draftVersion: number;
  section: string;
  stance: Stance;
  text: string;
  author: Hex;
  channel: "online" | "offline";
  /** ms; for offline opinions the time they were collected. */
  submittedAt: number;
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
  /** Present for opinions. */
  receipt: Receipt | null;
}

interface Pending {
  sub: Submission;
  resolve: (a: Accepted) => void;
  reject: (e: unknown) => void;
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
  tree: BufferedTreeStore;
  queue: Pending[];
  flushing: boolean;
  scheduled: boolean;
}

export interface IngestOptions {
  store: Store;
  clock: Clock;
  receiptKey: ReceiptSigningKey;
  maxAnchorDelayMs: number;
  groupCommitMax: number;
  /** Called after each committed batch (metrics). */
  onCommit?: (consultationId: number, count: number, online: number, offline: number) => void;
}

/** Keyed hash of a subject or of an idempotency key: what the database stores instead of the identity. */
export function keyedHash(secret: Uint8Array, purpose: string, ...parts: string[]): string {
  const h = createHmac("sha256", secret).update(purpose);
  for (const p of parts) h.update("\u0000").update(p);
  return h.digest("base64url");
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
    let s = this.logs.get(consultationId);
    if (!s) {
      s = {
        log: null,
        tree: new BufferedTreeStore(this.opts.store.treeStore(consultationId)),
        queue: [],
        flushing: false,
        scheduled: false,
      };
      this.logs.set(consultationId, s);
    }
    return s;
  }

  /** The consultation's log as committed (opened from the store on first use). */
  async log(consultationId: number): Promise<MerkleLog> {
    const s = this.state(consultationId);
    if (!s.log) {
      const c = await this.opts.store.getConsultation(consultationId);
      if (!c) throw new ServiceError(404, "not_found", `consultation ${consultationId} does not exist`);
      s.log = await MerkleLog.open(s.tree, c.treeSize);
    }
    return s.log;
  }

  /** Forget the cached log (another instance may have appended; it is reopened from the store). */
  invalidate(consultationId: number): void {
    const s = this.logs.get(consultationId);
    if (s && !s.flushing) s.log = null;
  }

  submit(consultationId: number, sub: Submission): Promise<Accepted> {
    const key = sub.kind === "opinion" ? sub.idempotencyKey : null;
    if (key !== null) {
      const running = this.inflight.get(key);
      if (running) return running;
    }
    const p = new Promise<Accepted>((resolve, reject) => {
      const s = this.state(consultationId);
      s.queue.push({ sub, resolve, reject });
      this.schedule(consultationId, s);
    });
    if (key !== null) {
      this.inflight.set(key, p);
      const clear = () => this.inflight.delete(key);
      p.then(clear, clear);
    }
    return p;
  }

  private schedule(consultationId: number, s: LogState): void {
    if (s.scheduled || s.flushing) return;
    s.scheduled = true;
    // let every request already read from the sockets join this batch
    setImmediate(() => {
      s.scheduled = false;
      void this.flush(consultationId, s);
    });
  }

  private async flush(consultationId: number, s: LogState): Promise<void> {
    if (s.flushing) return;
    s.flushing = true;
    try {
      while (s.queue.length > 0) {
        const batch = s.queue.splice(0, this.opts.groupCommitMax);
        await this.commitBatch(consultationId, s, batch);
      }
    } finally {
      s.flushing = false;
    }
  }

  private async commitBatch(consultationId: number, s: LogState, batch: Pending[]): Promise<void> {
    let attempt = 0;
    for (;;) {
      try {
        const accepted = await this.tryBatch(consultationId, s, batch);
        for (let i = 0; i < batch.length; i++) {
          const a = accepted[i];
          if (a instanceof Error) batch[i]!.reject(a);
          else batch[i]!.resolve(a!);
        }
        return;
      } catch (e) {
        s.log = null; // the in-memory log may be ahead of the store: reopen it
        s.tree.buffer = [];
        if (e instanceof StoreConflictError && attempt < 50) {
          attempt++;
          continue; // another instance appended, or a key was reused concurrently: rebuild the batch
        }
        const err =
          e instanceof StoreConflictError
            ? new ServiceError(503, "busy", "the log is busy; retry shortly")
            : e;
        for (const p of batch) p.reject(err);
        return;
      }
    }
  }

  /** Builds, appends and commits one batch. Items refused individually get a ServiceError in their slot. */
  private async tryBatch(
    consultationId: number,
    s: LogState,
    batch: Pending[],
  ): Promise<(Accepted | Error)[]> {
    const { store, clock, receiptKey } = this.opts;
    const log = await this.log(consultationId);
    const first = log.size;
    const now = clock.now();
    const cid = String(consultationId);
    const deadline = formatTime(now + this.opts.maxAnchorDelayMs);
    const issuedAt = formatTime(now);

    // replaced opinions: latest (author, section) in the store, then within the batch
    const latest = new Map<string, number | null>();
    const withheldInBatch = new Set<number>();
    const results: (Accepted | Error)[] = [];
    const entries: NewEntry[] = [];
    const leaves: Hex[] = [];
    const usedKeys = new Map<string, Accepted>();
    let online = 0;
    let offline = 0;
    for (const p of batch) {
      const sub = p.sub;
      const index = first + entries.length;
      if (sub.kind === "opinion") {
        if (sub.idempotencyKey !== null) {
          // a retry (even one racing the first request): the same receipt, never a second entry
          const sameBatch = usedKeys.get(sub.idempotencyKey);
          if (sameBatch !== undefined) {
            results.push(sameBatch);
            continue;
          }
          const prior = await store.getIdempotent(sub.idempotencyKey);
          if (prior !== null) {
            const receipt = JSON.parse(prior) as Receipt;
            results.push({ index: receipt.leafIndex, leafHash: receipt.leafHash, receipt });
            continue;
          }
        }
        const lk = `${sub.author}\u0000${sub.section}`;
        let replaces = latest.get(lk);
        if (replaces === undefined)
          replaces = await store.latestOpinion(consultationId, sub.author, sub.section);
        const salt = randomSalt();
        const entry: Entry = {
          v: 1,
          type: "opinion",
          consultation: cid,
          draftVersion: sub.draftVersion,
          section: sub.section,
          stance: sub.stance,
          contentHash: contentHash(salt, sub.text),
          author: sub.author,
          channel: sub.channel,
          submittedAt: formatTime(sub.submittedAt),
          replaces,
        };
        const leaf = entryString(entry);
        const lh = leafHash(utf8Encode(leaf));
        const receipt = signReceipt(
          {
            consultation: cid,
            leafIndex: index,
            leafHash: lh,
            entry: leaf,
            text: sub.text,
            salt,
            issuedAt,
            anchorDeadline: deadline,
          },
          receiptKey,
        );
        latest.set(lk, index);
        if (sub.channel === "online") online++;
        else offline++;
        if (sub.idempotencyKey !== null) usedKeys.set(sub.idempotencyKey, { index, leafHash: lh, receipt });
        entries.push({
          leaf,
          leafHash: lh,
          kind: "opinion",
          channel: sub.channel,
          author: sub.author,
          section: sub.section,
          text: sub.text,
          salt,
          createdAt: now,
          subjectKey: sub.subjectKey,
          idempotencyKey: sub.idempotencyKey,
          receipt: JSON.stringify(receipt),
          withholdTarget: null,
        });
        leaves.push(lh);
        results.push({ index, leafHash: lh, receipt });
      } else {
        if (sub.target >= index) {
          results.push(new ServiceError(404, "not_found", `entry ${sub.target} does not exist`));
          continue;
        }
        const [target] =
          sub.target < first ? await store.getEntries(consultationId, sub.target, sub.target + 1) : [];
        const targetIsOpinion =
          sub.target >= first
            ? entries[sub.target - first]?.kind === "opinion"
            : target?.leaf.includes('"type":"opinion"');
        if (!targetIsOpinion) {
          results.push(new ServiceError(409, "not_an_opinion", `entry ${sub.target} is not an opinion`));
          continue;
        }
        if (target?.withheld || withheldInBatch.has(sub.target)) {
          results.push(new ServiceError(409, "already_withheld", `entry ${sub.target} is already withheld`));
          continue;
        }
        withheldInBatch.add(sub.target);
        const entry: Entry = {
          v: 1,
          type: "moderation",
          consultation: cid,
          target: sub.target,
          action: "withhold-text",
          reason: sub.reason,
          by: sub.by,
          at: issuedAt,
        };
        const leaf = entryString(entry);
        const lh = leafHash(utf8Encode(leaf));
        const inBatch = sub.target >= first ? entries[sub.target - first] : undefined;
        if (inBatch) {
          inBatch.text = null;
          inBatch.salt = null;
        }
        entries.push({
          leaf,
          leafHash: lh,
          kind: "moderation",
          channel: null,
          author: null,
          section: null,
          text: null,
          salt: null,
          createdAt: now,
          subjectKey: null,
          idempotencyKey: null,
          receipt: null,
          withholdTarget: sub.target,
        });
        leaves.push(lh);
        results.push({ index, leafHash: lh, receipt: null });
      }
    }
    if (entries.length === 0) return results;
    s.tree.buffer = [];
    await log.appendBatch(leaves);
    const nodes = s.tree.buffer;
    s.tree.buffer = [];
    await store.appendEntries(consultationId, first, entries, nodes);
    this.opts.onCommit?.(consultationId, entries.length, online, offline);
    return results;
  }
}
