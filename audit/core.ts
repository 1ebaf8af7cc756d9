// The audit itself: fed an export one line at a time, it recomputes every leaf hash from the leaf
// (protocol's strict decoder), rebuilds the RFC 9162 tree, and checks it against the chain's record:
// the root at every anchored size, each anchored step's consistency, contentHash where the text is
// public, moderation, the opinion window, the replaces chain, the tally, the draft hash, and the
// counted map (each author's latest opinion per section) against the countedRoot of every head.
// What grows with the consultation lives in an AuditState (audit/state.ts), so memory stays bounded.
// Every hash, proof, decode and tally comes from protocol/; nothing here re-implements them. Isomorphic:
// the CLI (scripts/audit/) and the browser's Web Worker (web/src/audit.worker.ts) both run it.
import {
  CHANNELS,
  CountedMap,
  consistencyProofNodes,
  type Draft,
  draftHash,
  type Hex,
  LEAF_RECORD_BYTES,
  MerkleLog,
  type NodeId,
  STANCES,
  type StoredNode,
  sectionCounts,
  TallyCounts,
  type TallyDocument,
  type TreeStore,
  tallyHash,
  verifyConsistency,
  writeLeafRecordBytes,
} from "../protocol/index.ts";
import { EXIT, exitCodeFor, type FailureKind } from "./codes.ts";
import type { ChainFacts } from "./facts.ts";
import {
  type CheckedBlock,
  type CheckedEntry,
  checkLine,
  LINE_MODERATION,
  LINE_OPINION,
  LINE_UNREADABLE,
  type LineContext,
  type LineResult,
  packResults,
  TEXT_PUBLIC,
  TEXT_WITHHELD,
} from "./line.ts";
import { checkResponse, type ResponseCheck } from "./response.ts";
import { type AuditState, memoryAuditState } from "./state.ts";

export type { AnchorEvent, ChainFacts, ResponseEvent, TallyEvent } from "./facts.ts";
export type { ResponseCheck } from "./response.ts";

export interface AuditOptions {
  /** Fail (not-final) unless the tally is published and every entry is anchored. */
  readonly final?: boolean;
  /** Examples kept per failure kind (default 20). */
  readonly maxExamples?: number;
  /** Where the per-key and per-leaf state lives (default: in memory). finish() closes it. */
  readonly state?: AuditState;
  /** The agency's response document, as served (its bytes are what the chain's responseHash covers). */
  readonly response?: Uint8Array;
}

export interface Failure {
  readonly kind: FailureKind;
  readonly code: number;
  count: number;
  readonly examples: string[];
}

export interface AnchorCheck {
  readonly treeSize: number;
  readonly chainRoot: Hex;
  readonly blockNumber: number;
  readonly txHash: Hex;
  /** Root of the export's first treeSize leaves; null when the export is shorter. */
  computedRoot: Hex | null;
  rootOk: boolean;
  /** Consistency with the previous anchored head: "first" for the first anchor. */
  consistency: "ok" | "failed" | "first" | "unchecked";
  /** The countedRoot anchored with this head (null: the registry records none). */
  readonly chainCountedRoot: Hex | null;
  /** The counted map's root recomputed from the export's first treeSize leaves; null when not computed. */
  computedCountedRoot: Hex | null;
  /** null: not checkable (no countedRoot on chain, or the export is shorter). */
  countedOk: boolean | null;
}

/** What the counted map check covered. */
export interface CountedCheck {
  /** Anchored heads whose countedRoot was compared with the recomputed map. */
  checked: number;
  /** Anchored heads without a countedRoot (a registry from before the counted map). */
  notCheckable: number;
  /** "counted: not checkable on this registry" when some head has no countedRoot: a note, not a failure. */
  note: string | null;
}

export interface WithheldText {
  readonly index: number;
  readonly moderation: { index: number; reason: string; by: Hex; at: string }[];
}

export interface AuditResult {
  readonly ok: boolean;
  readonly exitCode: number;
  readonly consultation: string;
  readonly chain: { chainId: number; contract: Hex };
  readonly entries: number;
  readonly opinions: number;
  readonly moderations: number;
  readonly window: { opensAt: number; closesAt: number };
  readonly anchors: AnchorCheck[];
  /** Entries after the last anchored head (pending when the tally is not published). */
  readonly unanchored: number;
  readonly contentHashes: { checked: number; withheld: number };
  readonly withheld: WithheldText[];
  readonly draft: { chainHash: Hex; computedHash: Hex | null; version: number; ok: boolean };
  readonly counted: CountedCheck;
  readonly tally: {
    published: boolean;
    treeSize: number | null;
    chainTallyHash: Hex | null;
    computedTallyHash: Hex | null;
    ok: boolean | null;
    document: TallyDocument | null;
    /** When the tally fails and the published document (tallyURI) is readable: what differs. */
    differences?: string[];
  };
  readonly response: ResponseCheck;
  readonly failures: Failure[];
  seconds: number;
}

const BATCH = 8192;
/** Opinions buffered for the counted map before it is updated (also at every anchored head). */
const COUNTED_BATCH = 1 << 16;
// Per-leaf flags (one byte a leaf): what later moderation entries need to know about a target.
const F_OPINION = 1;
const F_WITHHELD = 2;
const F_PUBLIC = 4;
const F_MODERATED = 8;
export const COUNTED_NOT_CHECKABLE = "counted: not checkable on this registry";

/**
 * The tree nodes the audit's consistency checks read, and nothing else: MerkleLog keeps its frontier
 * itself, so the tree costs O(log n) memory plus a few hashes per anchored step, whatever the size.
 */
class RetainingTreeStore implements TreeStore {
  readonly #wanted = new Map<number, Set<number>>();
  readonly #kept = new Map<string, Uint8Array>();

  constructor(ids: Iterable<NodeId>) {
    for (const { level, index } of ids) {
      let set = this.#wanted.get(level);
      if (!set) {
        set = new Set();
        this.#wanted.set(level, set);
      }
      set.add(index);
    }
  }

  getNodes(ids: readonly NodeId[]): Uint8Array[] {
    return ids.map(({ level, index }) => {
      const hash = this.#kept.get(`${level}/${index}`);
      if (!hash) throw new Error(`the audit kept no tree node at level ${level}, index ${index}`);
      return hash;
    });
  }

  putNodes(nodes: readonly StoredNode[]): void {
    for (const { level, index, hash } of nodes) {
      if (this.#wanted.get(level)?.has(index)) this.#kept.set(`${level}/${index}`, hash);
    }
  }
}

/** Streams an export through the checks. Call push() per line, flush() when it returns true, then finish(). */
export class Auditor {
  readonly #facts: ChainFacts;
  readonly #draft: Draft;
  readonly #options: AuditOptions;
  readonly #maxExamples: number;
  readonly #log: MerkleLog;
  readonly #failures = new Map<FailureKind, Failure>();
  readonly #state: AuditState;
  readonly #counts: TallyCounts;
  /** Section ids by number (a key's tally mark holds its section's number). */
  readonly #sectionNames: string[] = [];
  readonly #sectionNumbers = new Map<string, number>();
  /** The draft's sections come first in #sectionNames (the line context's list). */
  #draftSections = 0;
  readonly #counted: CountedMap;
  #countedPending = new Uint8Array(COUNTED_BATCH * LEAF_RECORD_BYTES);
  #countedPendingCount = 0;
  readonly #draftComputed: Hex | null;
  /** Sizes at which the root is checked: anchored sizes and the tally's size, ascending. */
  readonly #checkpoints: number[];
  #nextCheckpoint = 0;
  readonly #anchors: AnchorCheck[];
  /** Leaf hashes read but not yet appended to the tree, 32 bytes each. */
  readonly #pending = new Uint8Array(BATCH * 32);
  #pendingCount = 0;
  #position = 0;
  #line = 0;
  #opinions = 0;
  #moderations = 0;
  #checkedContent = 0;
  #tallyBroken: string | null = null;
  #tallyDoc: TallyDocument | null = null;
  readonly #withheld: number[] = [];
  readonly #moderationsOf = new Map<number, WithheldText["moderation"]>();
  readonly #openMs: number;
  readonly #closeMs: number;

  constructor(facts: ChainFacts, draft: Draft, options: AuditOptions = {}) {
    this.#facts = facts;
    this.#draft = draft;
    this.#options = options;
    this.#maxExamples = options.maxExamples ?? 20;
    this.#state = options.state ?? memoryAuditState();
    this.#openMs = facts.opensAt * 1000;
    this.#closeMs = facts.closesAt * 1000;
    let computed: Hex | null = null;
    try {
      computed = draftHash(draft);
    } catch (error) {
      this.fail("draft", `the draft is malformed: ${(error as Error).message}`);
    }
    this.#draftComputed = computed;
    if (computed !== null && computed !== facts.draftHash) {
      this.fail("draft", `draftHash of the draft is ${computed}, the chain holds ${facts.draftHash}`);
    }
    const sectionIds = Array.isArray(draft.sections) ? draft.sections.map((s) => s.id) : [];
    this.#counts = new TallyCounts(facts.consultation, sectionIds);
    for (const id of sectionIds) this.#sectionNumber(id);
    this.#draftSections = this.#sectionNames.length;
    this.#anchors = facts.anchors.map((a) => ({
      treeSize: a.treeSize,
      chainRoot: a.rootHash,
      blockNumber: a.blockNumber,
      txHash: a.txHash,
      computedRoot: null,
      rootOk: false,
      consistency: "unchecked",
      chainCountedRoot: a.countedRoot,
      computedCountedRoot: null,
      countedOk: null,
    }));
    // Computed even where the registry holds no countedRoot: the result then states the map's roots for
    // anyone to compare, and the audit costs the same whatever the registry.
    this.#counted = new CountedMap(this.#state.counted);
    const sizes = new Set(facts.anchors.map((a) => a.treeSize));
    if (facts.tally) sizes.add(facts.tally.treeSize);
    sizes.delete(0);
    this.#checkpoints = [...sizes].sort((a, b) => a - b);
    // Each anchored step's consistency proof is built from the export's tree: keep the nodes it reads.
    const wanted: NodeId[] = [];
    for (let i = 1; i < facts.anchors.length; i++) {
      wanted.push(...consistencyProofNodes(facts.anchors[i - 1]!.treeSize, facts.anchors[i]!.treeSize));
    }
    this.#log = new MerkleLog(new RetainingTreeStore(wanted));
    this.#checkChainRecord();
  }

  /** Records a failure of `kind`, keeping the first few messages. */
  fail(kind: FailureKind, message: string): void {
    let f = this.#failures.get(kind);
    if (!f) {
      f = { kind, code: EXIT[kind], count: 0, examples: [] };
      this.#failures.set(kind, f);
    }
    f.count++;
    if (f.examples.length < this.#maxExamples) f.examples.push(message);
  }

  /** Number of leaves read so far. */
  get position(): number {
    return this.#position;
  }

  /** The checkpoint (anchored size) the audit is heading to, for progress bars. */
  get expectedSize(): number {
    return this.#checkpoints[this.#checkpoints.length - 1] ?? 0;
  }

  /** Checks the chain's own record against its events (they cannot disagree on a sound registry). */
  #checkChainRecord(): void {
    const { anchors, head, tally, recordTallyHash } = this.#facts;
    let previous = 0;
    for (const a of anchors) {
      if (a.treeSize <= previous) {
        this.fail("root-mismatch", `LogAnchored sizes do not increase: ${previous} then ${a.treeSize}`);
      }
      previous = a.treeSize;
    }
    const last = anchors[anchors.length - 1];
    if (last === undefined) {
      if (head.treeSize !== 0)
        this.fail("root-mismatch", `logHead is ${head.treeSize} but no LogAnchored event exists`);
    } else if (last.treeSize !== head.treeSize || last.rootHash !== head.rootHash) {
      this.fail(
        "root-mismatch",
        `logHead (${head.treeSize}, ${head.rootHash}) is not the last LogAnchored head (${last.treeSize}, ${last.rootHash})`,
      );
    }
    if (tally) {
      if (tally.tallyHash !== recordTallyHash) {
        this.fail("tally", `TallyPublished says ${tally.tallyHash}, the record holds ${recordTallyHash}`);
      }
      const at = anchors.find((a) => a.treeSize === tally.treeSize);
      if (!at || at.rootHash !== tally.rootHash || tally.treeSize !== head.treeSize) {
        this.fail(
          "root-mismatch",
          `TallyPublished head (${tally.treeSize}, ${tally.rootHash}) is not the last anchored head`,
        );
      }
    }
  }

  /** The per-line context the line checks (here or in worker threads) need. */
  get lineContext(): LineContext {
    return {
      consultation: this.#facts.consultation,
      draftVersion: this.#facts.draftVersion,
      openMs: this.#openMs,
      closeMs: this.#closeMs,
      sections: this.#sectionNames.slice(0, this.#draftSections),
    };
  }

  /** Checks one export line (without its newline) here, then accepts it. */
  async push(raw: string): Promise<void> {
    const ctx = this.lineContext;
    await this.acceptBlock(packResults([checkLine(raw, ctx)], ctx));
  }

  /**
   * The sequential half of the checks, for a block of lines checked by checkBlock (here, in a worker
   * thread or in a Web Worker), in export order.
   */
  async acceptBlock(block: CheckedBlock): Promise<void> {
    const { extras } = block;
    let next = 0;
    for (let i = 0; i < block.count; i++) {
      let extra: LineResult | null = null;
      if (next < extras.length && extras[next]![0] === i) extra = extras[next++]![1];
      if (this.#accept(block, i, extra)) await this.flush();
    }
  }

  /** One line of a block; true when flush() must be awaited before the next (a batch is full or an anchored size is reached). */
  #accept(block: CheckedBlock, i: number, extra: LineResult | null): boolean {
    const lineNo = ++this.#line;
    const code = block.codes[i]!;
    const kind = code & 3;
    if (kind === LINE_UNREADABLE) {
      for (const [k, message] of extra?.problems ?? []) this.fail(k, `line ${lineNo}: ${message}`);
      this.#breakTally(`line ${lineNo} is unreadable`);
      return false;
    }
    const at = this.#position;
    const index = block.numbers[2 * i]!;
    if (index !== at) {
      this.fail(
        "export-format",
        `line ${lineNo}: index ${JSON.stringify(extra !== null ? extra.index : index)} where leaf ${at} was expected (a line dropped, duplicated or moved)`,
      );
    }
    if (extra?.problems) for (const [k, message] of extra.problems) this.fail(k, `leaf ${at}: ${message}`);
    this.#pending.set(block.hashes.subarray(64 * i, 64 * i + 32), 32 * this.#pendingCount++);
    this.#position = at + 1;
    const flagsStore = this.#state.flags;
    if (kind === LINE_OPINION) {
      this.#opinions++;
      let flags = F_OPINION;
      const text = (code >> 5) & 3;
      this.#opinion(at, block, i, code, extra);
      if (text === TEXT_WITHHELD) {
        flags |= F_WITHHELD;
        this.#withheld.push(at);
      } else if (text === TEXT_PUBLIC) {
        flags |= F_PUBLIC;
        this.#checkedContent++;
      }
      flagsStore.set(at, flags);
    } else if (kind === LINE_MODERATION) {
      const entry = extra!.entry as CheckedEntry & { type: "moderation" };
      this.#moderations++;
      const target = entry.target;
      const flags = target < at ? flagsStore.get(target) : 0;
      if (target >= at || (flags & F_OPINION) === 0) {
        this.fail("moderation", `leaf ${at}: moderation targets ${target}, which is not an earlier opinion`);
      } else {
        flagsStore.set(target, flags | F_MODERATED);
        if (flags & F_PUBLIC)
          this.fail("moderation", `leaf ${target}: withheld by moderation ${at} but its text is public`);
        let list = this.#moderationsOf.get(target);
        if (!list) {
          list = [];
          this.#moderationsOf.set(target, list);
        }
        list.push({ index: at, reason: entry.reason, by: entry.by, at: entry.at });
      }
    } else {
      this.#breakTally(`leaf ${at} is not a valid entry of this consultation`);
    }
    return (
      this.#pendingCount >= BATCH ||
      this.#countedPendingCount >= COUNTED_BATCH ||
      this.#position === this.#checkpoints[this.#nextCheckpoint]
    );
  }

  #sectionNumber(id: string): number {
    let section = this.#sectionNumbers.get(id);
    if (section === undefined) {
      section = this.#sectionNames.length;
      this.#sectionNames.push(id);
      this.#sectionNumbers.set(id, section);
    }
    return section;
  }

  /** The replaces chain, the tally and the counted map, for the opinion at leaf `at` (line i of block). */
  #opinion(at: number, block: CheckedBlock, i: number, code: number, extra: LineResult | null): void {
    const position = code >>> 8;
    const section =
      position > 0
        ? position - 1
        : this.#sectionNumber((extra!.entry as CheckedEntry & { type: "opinion" }).section);
    const stance = (code >> 2) & 3;
    const channel = (code >> 4) & 1;
    const replaces = block.numbers[2 * i + 1]!;
    const latest = this.#state.latest;
    const previous = latest.swap(block.hashes, 64 * i + 32, at, section * 6 + stance * 2 + channel);
    const sectionId = this.#sectionNames[section]!;
    if (replaces !== previous) {
      this.fail(
        "replaces",
        previous < 0
          ? `leaf ${at}: replaces ${replaces} but the author has no earlier opinion on ${sectionId}`
          : `leaf ${at}: the author's opinion ${previous} on ${sectionId} is still live (replaces is ${replaces < 0 ? null : replaces})`,
      );
    }
    // The opinion that counts is the author's latest on the section: the one it follows stops counting.
    if (previous >= 0) {
      const mark = latest.previousMark;
      this.#counts.remove(
        this.#sectionNames[Math.floor(mark / 6)]!,
        STANCES[(mark % 6) >> 1]!,
        CHANNELS[mark & 1]!,
      );
    }
    this.#counts.add(sectionId, STANCES[stance]!, CHANNELS[channel]!);
    if ((this.#countedPendingCount + 1) * LEAF_RECORD_BYTES > this.#countedPending.length) {
      const grown = new Uint8Array(this.#countedPending.length * 2);
      grown.set(this.#countedPending);
      this.#countedPending = grown;
    }
    writeLeafRecordBytes(
      this.#countedPending,
      this.#countedPendingCount++ * LEAF_RECORD_BYTES,
      block.hashes.subarray(64 * i + 32, 64 * i + 64),
      at,
      block.hashes.subarray(64 * i, 64 * i + 32),
    );
  }

  #breakTally(reason: string): void {
    this.#tallyBroken ??= reason;
  }

  /** Appends the pending leaf hashes and checks the root when an anchored size is reached. */
  async flush(): Promise<void> {
    if (this.#pendingCount > 0) {
      const count = this.#pendingCount;
      this.#pendingCount = 0;
      await this.#log.appendPacked(this.#pending.subarray(0, 32 * count));
    }
    if (this.#countedPendingCount >= COUNTED_BATCH) await this.#updateCounted();
    const size = this.#log.size;
    while (
      this.#nextCheckpoint < this.#checkpoints.length &&
      this.#checkpoints[this.#nextCheckpoint]! <= size
    ) {
      const checkpoint = this.#checkpoints[this.#nextCheckpoint]!;
      this.#nextCheckpoint++;
      await this.#checkAt(checkpoint);
    }
  }

  /** Applies the buffered opinions to the counted map, bringing it to the current log size. */
  async #updateCounted(): Promise<Hex> {
    const packed = this.#countedPending.subarray(0, this.#countedPendingCount * LEAF_RECORD_BYTES);
    this.#countedPendingCount = 0;
    return this.#counted.updateRecords(packed, this.#log.size);
  }

  async #checkAt(size: number): Promise<void> {
    const root = await this.#log.root(size);
    let countedRoot: Hex | null = null;
    for (let i = 0; i < this.#anchors.length; i++) {
      const a = this.#anchors[i]!;
      if (a.treeSize !== size) continue;
      a.computedRoot = root;
      a.rootOk = root === a.chainRoot;
      if (!a.rootOk) {
        this.fail(
          "root-mismatch",
          `anchored head at size ${size} (block ${a.blockNumber}) has root ${a.chainRoot}; the export gives ${root}`,
        );
      }
      countedRoot ??= await this.#updateCounted();
      a.computedCountedRoot = countedRoot;
      if (a.chainCountedRoot !== null) {
        a.countedOk = countedRoot === a.chainCountedRoot;
        if (!a.countedOk) {
          this.fail(
            "counted",
            `anchored head at size ${size} (block ${a.blockNumber}) has countedRoot ${a.chainCountedRoot}; the export's map gives ${countedRoot}`,
          );
        }
      }
      const previous = i > 0 ? this.#anchors[i - 1] : undefined;
      if (previous === undefined) {
        a.consistency = "first";
      } else if (previous.treeSize >= size) {
        a.consistency = "failed"; // sizes that do not increase: #checkChainRecord said so
      } else {
        // For the record: the consistency proof between the two anchored heads, built from the
        // export's tree, must verify against the two roots the chain holds.
        const proof = await this.#log.consistencyProof(previous.treeSize, size);
        const ok = verifyConsistency(previous.treeSize, size, proof, previous.chainRoot, a.chainRoot);
        a.consistency = ok ? "ok" : "failed";
        if (!ok) {
          this.fail(
            "root-mismatch",
            `anchored step ${previous.treeSize} -> ${size}: the export's consistency proof does not join the chain's two roots`,
          );
        }
      }
    }
    const tally = this.#facts.tally;
    if (tally && tally.treeSize === size) this.#tallyDoc = this.#computeTally(size, root);
  }

  #computeTally(size: number, root: Hex): TallyDocument | null {
    if (this.#tallyBroken !== null) return null;
    return this.#counts.document(size, root);
  }

  /** Ends the audit: flushes, checks lengths, moderation, tally and draft, and returns the result. */
  async finish(startedAt: number): Promise<AuditResult> {
    try {
      return await this.#finish(startedAt);
    } finally {
      this.#state.close();
    }
  }

  async #finish(startedAt: number): Promise<AuditResult> {
    await this.flush();
    const facts = this.#facts;
    const size = this.#position;
    const lastAnchor = facts.anchors[facts.anchors.length - 1];
    const anchoredSize = lastAnchor?.treeSize ?? 0;
    if (size < anchoredSize) {
      this.fail(
        "export-length",
        `the export has ${size} entries but the chain anchored ${anchoredSize}: ${anchoredSize - size} missing`,
      );
    }
    if (facts.tally && size > facts.tally.treeSize) {
      this.fail(
        "export-length",
        `the export has ${size} entries but the published tally froze the log at ${facts.tally.treeSize}`,
      );
    }
    for (const index of this.#withheld) {
      if ((this.#state.flags.get(index) & F_MODERATED) === 0) {
        this.fail("moderation", `leaf ${index}: its text is withheld but no moderation entry targets it`);
      }
    }
    const withheld: WithheldText[] = this.#withheld.map((index) => ({
      index,
      moderation: this.#moderationsOf.get(index) ?? [],
    }));

    // Tally: the published one is checked at its size; before publication, the tally of the whole
    // export is shown for information.
    let document: TallyDocument | null = this.#tallyDoc;
    let computedTallyHash: Hex | null = null;
    let tallyOk: boolean | null = null;
    if (facts.tally) {
      if (document === null) {
        this.fail(
          "tally",
          this.#tallyBroken !== null
            ? `the tally cannot be recomputed: ${this.#tallyBroken}`
            : `the export does not reach the tally's size ${facts.tally.treeSize}`,
        );
        tallyOk = false;
      } else {
        computedTallyHash = tallyHash(document);
        tallyOk = computedTallyHash === facts.tally.tallyHash;
        if (!tallyOk) {
          this.fail(
            "tally",
            `the tally of the export hashes to ${computedTallyHash}; TallyPublished says ${facts.tally.tallyHash}`,
          );
        }
      }
    } else if (this.#tallyBroken === null && size > 0) {
      document = this.#counts.document(size, await this.#log.root(size));
      computedTallyHash = tallyHash(document);
    }

    const response = checkResponse(facts, this.#draft, this.#options.response, (kind, message) =>
      this.fail(kind, message),
    );

    const unanchored = Math.max(0, size - anchoredSize);
    if (this.#options.final) {
      if (!facts.tally) this.fail("not-final", "no tally is published on chain");
      if (unanchored > 0) this.fail("not-final", `${unanchored} entries are not anchored`);
    }

    const notCheckable = this.#anchors.filter((a) => a.chainCountedRoot === null).length;
    const counted: CountedCheck = {
      checked: this.#anchors.filter((a) => a.countedOk !== null).length,
      notCheckable,
      note: notCheckable > 0 ? COUNTED_NOT_CHECKABLE : null,
    };
    const failures = [...this.#failures.values()].sort((a, b) => a.code - b.code);
    const exitCode = exitCodeFor(failures.map((f) => f.kind));
    return {
      ok: exitCode === 0,
      exitCode,
      consultation: facts.consultation,
      chain: { chainId: facts.chainId, contract: facts.contract },
      entries: size,
      opinions: this.#opinions,
      moderations: this.#moderations,
      window: { opensAt: facts.opensAt, closesAt: facts.closesAt },
      anchors: this.#anchors,
      unanchored,
      contentHashes: { checked: this.#checkedContent, withheld: this.#withheld.length },
      withheld,
      draft: {
        chainHash: facts.draftHash,
        computedHash: this.#draftComputed,
        version: facts.draftVersion,
        ok: this.#draftComputed === facts.draftHash,
      },
      counted,
      tally: {
        published: facts.tally !== null,
        treeSize: facts.tally?.treeSize ?? null,
        chainTallyHash: facts.tally?.tallyHash ?? null,
        computedTallyHash,
        ok: tallyOk,
        document,
      },
      response,
      failures,
      seconds: (performance.now() - startedAt) / 1000,
    };
  }
}

/**
 * The counts in which a published tally document differs from the recomputed one (for a human reading
 * a tally failure; the verdict itself is the tallyHash comparison).
 */
export function tallyDifferences(published: unknown, computed: TallyDocument): string[] {
  const out: string[] = [];
  const p = published as Partial<TallyDocument> | null;
  if (typeof p !== "object" || p === null) return ["the published tally document is not a JSON object"];
  for (const key of ["v", "consultation", "treeSize", "rootHash"] as const) {
    if (p[key] !== computed[key]) {
      out.push(`${key}: published ${JSON.stringify(p[key])}, recomputed ${JSON.stringify(computed[key])}`);
    }
  }
  const rows: [string, unknown, TallyDocument["totals"]][] = [["totals", p.totals, computed.totals]];
  const publishedSections = typeof p.sections === "object" && p.sections !== null ? p.sections : {};
  const sections = new Set([...Object.keys(computed.sections), ...Object.keys(publishedSections)]);
  for (const id of sections) {
    rows.push([
      `section ${id}`,
      sectionCounts({ sections: publishedSections }, id),
      sectionCounts(computed, id) ?? zeroCounts(),
    ]);
  }
  for (const [name, pub, mine] of rows) {
    for (const channel of ["online", "offline", "total"] as const) {
      for (const stance of ["agree", "disagree", "neutral"] as const) {
        const a = (pub as TallyDocument["totals"] | undefined)?.[channel]?.[stance];
        const b = mine[channel][stance];
        if (a !== b) out.push(`${name} ${channel} ${stance}: published ${a ?? "nothing"}, recomputed ${b}`);
      }
    }
  }
  return out;
}

function zeroCounts(): TallyDocument["totals"] {
  const z = () => ({ agree: 0, disagree: 0, neutral: 0 });
  return { online: z(), offline: z(), total: z() };
}
