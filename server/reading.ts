/**
 * The reading index: what the public listing of an article's opinions, the campaigns and the dashboard's stats are
 * served from (docs/SERVICE.md "Public reading"). A view derived from the log, built in the background after each
 * group commit (never on the ingest path) in steps of one transaction each: an opinion becomes a reading, a later
 * opinion of the same author on the section removes the one it replaces, a moderation entry clears its target's
 * text and records the reason. Near-identical texts are grouped into campaigns by SimHash (docs/PROTOCOL.md,
 * "Campaigns"). Nothing here changes the log, the receipts or the tally.
 */
import { createHmac } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { decodeEntry } from "../protocol/index.ts";
import { ServiceError } from "./errors.ts";
import type {
  CampaignCandidate,
  NewReading,
  ReadingFilter,
  ReadingRecord,
  ReadingWrite,
  Store,
} from "./store/index.ts";

// ---------- folding and words ----------

/**
 * Search form of a text: NFD, combining marks removed, đ → d, lower case; words are runs of letters and digits.
 * So "Điều chỉnh" and "dieu chinh" fold to the same words.
 */
export function foldWords(text: string): string[] {
  return text
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .replace(/[đĐ]/g, "d")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

// ---------- SimHash ----------

/** Texts of fewer words are never grouped: a few words ("Tôi đồng ý") are alike without being a campaign. */
export const CAMPAIGN_MIN_WORDS = 6;
/** Two SimHashes at most this many bits apart (of 64) are one campaign (docs/PROTOCOL.md, "Campaigns"). */
export const CAMPAIGN_MAX_DISTANCE = 3;

/** FNV-1a (32-bit) of a string with a chosen offset basis: two bases give the two halves of a 64-bit hash. */
function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // a final avalanche: FNV's low bits alone mix poorly for short inputs
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * 64-bit SimHash (16 hex digits) of folded words over their 3-word shingles, or null under CAMPAIGN_MIN_WORDS.
 * Each shingle's 64-bit hash votes +1/-1 per bit; the sign of each bit's sum is that bit.
 */
export function simhash(words: readonly string[]): string | null {
  if (words.length < CAMPAIGN_MIN_WORDS) return null;
  const votes = new Int32Array(64);
  for (let i = 0; i + 3 <= words.length; i++) {
    const shingle = `${words[i]} ${words[i + 1]} ${words[i + 2]}`;
    const halves = [fnv1a(shingle, 0x811c9dc5), fnv1a(shingle, 0x050c5d1f)];
    for (let half = 0; half < 2; half++) {
      const h = halves[half]!;
      for (let bit = 0; bit < 32; bit++) votes[half * 32 + bit]! += (h >>> (31 - bit)) & 1 ? 1 : -1;
    }
  }
  let hex = "";
  for (let nibble = 0; nibble < 16; nibble++) {
    let v = 0;
    for (let b = 0; b < 4; b++) v = (v << 1) | (votes[nibble * 4 + b]! > 0 ? 1 : 0);
    hex += v.toString(16);
  }
  return hex;
}

const popcount32 = (x: number): number => {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
};

/** Bits in which two SimHashes (16 hex digits) differ. */
export function hammingDistance(a: string, b: string): number {
  const hi = Number.parseInt(a.slice(0, 8), 16) ^ Number.parseInt(b.slice(0, 8), 16);
  const lo = Number.parseInt(a.slice(8), 16) ^ Number.parseInt(b.slice(8), 16);
  return popcount32(hi) + popcount32(lo);
}

/** The four 16-bit bands of a SimHash, each tagged with its position (`position << 16 | value`). */
export function simhashBands(hash: string): number[] {
  return [0, 1, 2, 3].map((k) => (k << 16) | Number.parseInt(hash.slice(k * 4, k * 4 + 4), 16));
}

// ---------- one step ----------

/** An opinion as the reading index needs it (decoded from the log, or made up by the bench). */
export interface ReadableOpinion {
  index: number;
  section: string;
  stance: string;
  channel: string;
  submittedAt: string;
  /** null when withheld. */
  text: string | null;
  replaces: number | null;
}

/** Candidates read per band from the store (newest first): a big campaign fills them with its own members. */
const CANDIDATES_PER_BAND = 16;

/** Builds one step of the reading index (entries [from, to)) as the store applies it. */
export class ReadingStep {
  readonly #store: Store;
  readonly #consultationId: number;
  readonly #from: number;
  readonly #inserts = new Map<number, NewReading>();
  readonly #byBand = new Map<string, NewReading[]>();
  readonly #removes: number[] = [];
  readonly #withholds: { index: number; reason: string }[] = [];
  readonly #campaignStarts = new Set<number>();
  readonly #arrivedOnly: { submittedAt: string; channel: string }[] = [];
  readonly #fetched = new Map<string, CampaignCandidate[]>();
  readonly #hashes = new Map<number, string | null>();
  readonly #removed = new Set<number>();

  constructor(store: Store, consultationId: number, from: number) {
    this.#store = store;
    this.#consultationId = consultationId;
    this.#from = from;
  }

  /**
   * Reads the earlier readings sharing a band with any of these opinions' texts, in a few statements: what
   * `opinion` then compares with (an opinion's nearest earlier text is in the step or among these).
   */
  async prefetch(opinions: readonly ReadableOpinion[]): Promise<void> {
    const wanted = new Map<string, Set<number>>();
    for (const o of opinions) {
      const hash = this.#hashOf(o);
      if (hash === null) continue;
      const bands = wanted.get(o.section) ?? new Set<number>();
      for (const band of simhashBands(hash)) bands.add(band);
      wanted.set(o.section, bands);
    }
    for (const [section, bands] of wanted) {
      const found = await this.#store.campaignCandidates(
        this.#consultationId,
        section,
        [...bands],
        CANDIDATES_PER_BAND,
      );
      for (const c of found) {
        const key = `${section}\u0000${c.band}`;
        const list = this.#fetched.get(key) ?? [];
        list.push(c);
        this.#fetched.set(key, list);
      }
    }
  }

  #hashOf(o: ReadableOpinion): string | null {
    let h = this.#hashes.get(o.index);
    if (h === undefined) {
      h = o.text === null ? null : simhash(foldWords(o.text));
      this.#hashes.set(o.index, h);
    }
    return h;
  }

  /** Adds an opinion (after `prefetch` of it and the step's others). */
  opinion(o: ReadableOpinion): void {
    if (o.replaces !== null) {
      const earlier = this.#inserts.get(o.replaces);
      if (earlier) {
        this.#inserts.delete(o.replaces);
        this.#arrivedOnly.push({ submittedAt: earlier.submittedAt, channel: earlier.channel });
      } else if (o.replaces < this.#from) {
        this.#removes.push(o.replaces);
        this.#removed.add(o.replaces);
      }
    }
    const words = o.text === null ? [] : foldWords(o.text);
    const hash = this.#hashOf(o);
    const reading: NewReading = {
      index: o.index,
      section: o.section,
      stance: o.stance,
      channel: o.channel,
      submittedAt: o.submittedAt,
      text: o.text,
      withheldReason: null,
      folded: words.join(" "),
      simhash: hash,
      campaign: hash === null ? null : this.#campaignOf(o.section, hash),
    };
    this.#inserts.set(o.index, reading);
    if (hash !== null) {
      for (const band of simhashBands(hash)) {
        const key = `${o.section}\u0000${band}`;
        const list = this.#byBand.get(key) ?? [];
        list.push(reading);
        this.#byBand.set(key, list);
      }
    }
  }

  withhold(target: number, reason: string): void {
    const reading = this.#inserts.get(target);
    if (reading) {
      reading.text = null;
      reading.withheldReason = reason;
      reading.folded = "";
    } else if (target < this.#from) this.#withholds.push({ index: target, reason });
  }

  /** The campaign a new text joins: that of the nearest earlier text within CAMPAIGN_MAX_DISTANCE, if any. */
  #campaignOf(section: string, hash: string): number | null {
    const bands = simhashBands(hash);
    let found: { index: number; campaign: number | null; inBatch: NewReading | null } | null = null;
    for (const band of bands) {
      for (const r of this.#byBand.get(`${section}\u0000${band}`) ?? []) {
        if (this.#inserts.get(r.index) !== r) continue; // replaced within the step
        if (hammingDistance(r.simhash!, hash) <= CAMPAIGN_MAX_DISTANCE) {
          found = { index: r.index, campaign: r.campaign, inBatch: r };
          break;
        }
      }
      if (found) break;
    }
    if (!found) {
      for (const band of bands) {
        const near = (this.#fetched.get(`${section}\u0000${band}`) ?? []).find(
          (c) => !this.#removed.has(c.index) && hammingDistance(c.simhash, hash) <= CAMPAIGN_MAX_DISTANCE,
        );
        if (near) {
          // a campaign started by an earlier opinion of this step keeps its id
          const campaign = near.campaign ?? (this.#campaignStarts.has(near.index) ? near.index : null);
          found = { index: near.index, campaign, inBatch: null };
          break;
        }
      }
    }
    if (!found) return null;
    if (found.campaign !== null) return found.campaign;
    // the earlier text stood alone: it becomes the campaign's first member, whose index is the campaign's id
    if (found.inBatch) found.inBatch.campaign = found.index;
    else this.#campaignStarts.add(found.index);
    return found.index;
  }

  write(to: number): ReadingWrite {
    return {
      from: this.#from,
      to,
      inserts: [...this.#inserts.values()],
      withholds: this.#withholds,
      removes: this.#removes,
      campaignStarts: [...this.#campaignStarts],
      arrivedOnly: this.#arrivedOnly,
    };
  }
}

// ---------- the background indexer ----------

/**
 * Log entries per step (one transaction, ~4,000 term postings), unless the indexer is given its own. SQLite's
 * reading thread takes 50 (server/reading-worker.ts): a step holds the file's one write lock, and a group commit
 * waiting behind it waits for all of it.
 */
const STEP_ENTRIES = 250;
/** How long without a new commit the indexer waits before it runs: the commits of a busy moment go together. */
const QUIET_MS = 200;
/**
 * The most it waits for such a moment after the first commit it has not indexed. The index is derived, and on SQLite
 * its step takes the file's one write lock: under a burst of opinions the appends go first and the public listing
 * lags by up to this much; under longer load it runs every MAX_LAG_MS, catching up in full steps.
 */
const MAX_LAG_MS = 10_000;

export interface ReadingIndexerOptions {
  store: Store;
  log: { warn(o: object, msg: string): void };
  /** Log entries per step (default STEP_ENTRIES). */
  stepEntries?: number;
  /** A run starts this long after the last commit (default QUIET_MS)… */
  quietMs?: number;
  /** …or this long after the first commit not yet indexed, whichever is first (default MAX_LAG_MS). */
  maxLagMs?: number;
}

/** Keeps each consultation's reading index up to its log, one consultation at a time per instance. */
export class ReadingIndexer {
  readonly #store: Store;
  readonly #log: ReadingIndexerOptions["log"];
  readonly #running = new Map<number, Promise<void>>();
  /** When each consultation last committed (`committed`), and since when its index has been behind (any poke). */
  readonly #lastCommitAt = new Map<number, number>();
  readonly #behindSince = new Map<number, number>();
  readonly #closing = new AbortController();
  readonly #stepEntries: number;
  readonly #quietMs: number;
  readonly #maxLagMs: number;

  constructor(options: ReadingIndexerOptions) {
    this.#store = options.store;
    this.#log = options.log;
    this.#stepEntries = options.stepEntries ?? STEP_ENTRIES;
    this.#quietMs = options.quietMs ?? QUIET_MS;
    this.#maxLagMs = options.maxLagMs ?? MAX_LAG_MS;
  }

  /**
   * A group commit of the consultation: its index is brought up to its log once a quiet moment passes without
   * another commit, or the lag bound after the first commit it has not indexed, whichever comes first.
   */
  committed(consultationId: number): void {
    this.#lastCommitAt.set(consultationId, Date.now());
    this.poke(consultationId);
  }

  /**
   * The index may be behind (a reader asked, the service started, another instance appended): brought up to the log
   * at the next quiet moment, or at once when no commit of this instance is recent. A reader's poke never delays it.
   */
  poke(consultationId: number): void {
    if (this.#closing.signal.aborted) return;
    if (!this.#behindSince.has(consultationId)) this.#behindSince.set(consultationId, Date.now());
    if (this.#running.has(consultationId)) return; // the run goes on to what this announced
    const run = (async () => {
      try {
        while (this.#behindSince.has(consultationId) && !this.#closing.signal.aborted) {
          await this.#quietOrDue(consultationId);
          this.#behindSince.delete(consultationId); // what commits from now on is the next round's
          await this.catchUp(consultationId);
        }
      } catch (e) {
        if (!this.#closing.signal.aborted)
          this.#log.warn({ err: String(e), consultation: consultationId }, "reading index step failed");
      } finally {
        this.#running.delete(consultationId);
      }
    })();
    this.#running.set(consultationId, run);
  }

  /** Resolves at the first quiet moment after a consultation's commits, or when its lag reaches the bound. */
  async #quietOrDue(consultationId: number): Promise<void> {
    for (;;) {
      const at = Math.min(
        (this.#lastCommitAt.get(consultationId) ?? 0) + this.#quietMs,
        this.#behindSince.get(consultationId)! + this.#maxLagMs,
      );
      const wait = at - Date.now();
      if (wait <= 0) return;
      await sleep(wait, undefined, { signal: this.#closing.signal });
    }
  }

  /** Pokes every consultation whose index is behind (at start: entries committed while no indexer ran). */
  async pokeBehind(): Promise<void> {
    for (const id of await this.#store.readingBehind()) this.poke(id);
  }

  /** Resolves when no run is under way (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running.values());
  }

  async close(): Promise<void> {
    this.#closing.abort(); // a run waiting for a quiet moment ends; one under way finishes its step
    await this.settled();
  }

  /** Applies steps until the index covers the log as committed now. */
  async catchUp(consultationId: number): Promise<void> {
    const consultation = await this.#store.getConsultation(consultationId);
    if (!consultation) return;
    let from = await this.#store.readingProgress(consultationId);
    while (from < consultation.treeSize && !this.#closing.signal.aborted) {
      const to = Math.min(consultation.treeSize, from + this.#stepEntries);
      const step = new ReadingStep(this.#store, consultationId, from);
      const items: (ReadableOpinion | { target: number; reason: string })[] = [];
      for (const e of await this.#store.getEntries(consultationId, from, to)) {
        const entry = decodeEntry(e.leaf);
        if (entry.type === "opinion") {
          items.push({
            index: e.index,
            section: entry.section,
            stance: entry.stance,
            channel: entry.channel,
            submittedAt: entry.submittedAt,
            text: e.withheld ? null : (e.text ?? ""),
            replaces: entry.replaces,
          });
        } else items.push({ target: entry.target, reason: entry.reason });
      }
      await step.prefetch(items.filter((i): i is ReadableOpinion => "index" in i));
      for (const item of items) {
        if ("index" in item) step.opinion(item);
        else step.withhold(item.target, item.reason);
      }
      // false: another instance applied this step; continue from where it is
      const applied = await this.#store.writeReadings(consultationId, step.write(to));
      from = applied ? to : await this.#store.readingProgress(consultationId);
    }
  }
}

// ---------- cursors ----------

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 20;

/** The listing a cursor belongs to: a cursor of another consultation, section or filter is not accepted. */
function cursorMac(
  secret: Uint8Array,
  consultationId: number,
  section: string,
  filter: ReadingFilter,
  before: number,
) {
  const what = JSON.stringify([
    consultationId,
    section,
    filter.stance ?? null,
    filter.channel ?? null,
    filter.campaign ?? null,
    filter.words ?? [],
    before,
  ]);
  return createHmac("sha256", secret).update(`gopy reading cursor\u0000${what}`).digest().subarray(0, 12);
}

/** `<leaf index in base 36>.<base64url of a 96-bit HMAC over the listing and the index>`. */
export function encodeCursor(
  secret: Uint8Array,
  consultationId: number,
  section: string,
  filter: ReadingFilter,
  before: number,
): string {
  return `${before.toString(36)}.${cursorMac(secret, consultationId, section, filter, before).toString("base64url")}`;
}

const CURSOR = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{16})$/;

/** The leaf index a cursor of this listing continues below; 400 `bad_cursor` for anything else. */
export function decodeCursor(
  secret: Uint8Array,
  consultationId: number,
  section: string,
  filter: ReadingFilter,
  cursor: string,
): number {
  const m = CURSOR.exec(cursor);
  const before = m ? Number.parseInt(m[1]!, 36) : Number.NaN;
  if (m && Number.isSafeInteger(before) && before.toString(36) === m[1]) {
    const expected = cursorMac(secret, consultationId, section, filter, before).toString("base64url");
    if (expected === m[2]) return before;
  }
  throw new ServiceError(400, "bad_cursor", "cursor is not one this listing issued");
}

/**
 * One page of a section's public listing, as the route serves it: up to `limit` readings below the cursor and the
 * cursor of the next page (null at the end). A text search that stopped at its scan budget gives a short page whose
 * cursor goes on from where it stopped.
 */
export async function readingPage(
  store: Store,
  secret: Uint8Array,
  consultationId: number,
  section: string,
  filter: ReadingFilter,
  cursor: string | undefined,
  limit: number,
): Promise<{ readings: ReadingRecord[]; next: string | null }> {
  const before = cursor === undefined ? null : decodeCursor(secret, consultationId, section, filter, cursor);
  // one more than asked: whether a next page exists, without a count
  const { readings, resumeBefore } = await store.listReadings(
    consultationId,
    section,
    filter,
    before,
    limit + 1,
  );
  const page = readings.slice(0, limit);
  const last = page.at(-1);
  const nextBefore = readings.length > limit && last ? last.index : resumeBefore;
  return {
    readings: page,
    next: nextBefore === null ? null : encodeCursor(secret, consultationId, section, filter, nextBefore),
  };
}
