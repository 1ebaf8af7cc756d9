// The audit: recompute every leaf, the root at every anchored size and the tally from the export,
// using protocol/ only. Pure (no fetch, no DOM): the Web Worker feeds it lines, tests feed it directly.
import {
  contentHash,
  decodeEntry,
  type Entry,
  type Hex,
  leafHash,
  MerkleLog,
  TallyBuilder,
  type TallyDocument,
  type TreeStore,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";

/**
 * MerkleLog keeps the right edge of the tree (its frontier) in memory and only needs the store for
 * roots and proofs of older sizes; the audit asks for the current size only, so nothing is kept and
 * memory stays O(log n) whatever the size of the consultation.
 */
const frontierOnly: TreeStore = {
  getNodes() {
    throw new Error("the audit keeps no old tree nodes");
  },
  putNodes() {},
};

export interface AuditProblem {
  index: number;
  kind: "order" | "json" | "leafHash" | "entry" | "consultation" | "contentHash";
  message: string;
}

export interface AuditReport {
  count: number;
  root: Hex;
  /** roots at the requested checkpoint sizes (the anchored heads), by size */
  rootsAt: Record<string, Hex>;
  problems: AuditProblem[];
  problemCount: number;
  textsChecked: number;
  withheld: number;
  tally: TallyDocument | null;
  tallyHash: Hex | null;
}

const MAX_PROBLEMS = 50;

export class Auditor {
  readonly #log = new MerkleLog(frontierOnly);
  readonly #consultation: string;
  readonly #checkpoints: number[];
  readonly #tallySize: number | null;
  readonly #tally: TallyBuilder | null;
  readonly #rootsAt: Record<string, Hex> = {};
  #pending: Hex[] = [];
  #count = 0;
  #problems: AuditProblem[] = [];
  #problemCount = 0;
  #texts = 0;
  #withheld = 0;

  /**
   * @param checkpoints sizes at which to record the root (the anchored heads read from the chain)
   * @param tallySize the size the published tally covers (the final anchored head), or null
   */
  constructor(
    consultation: string,
    sectionIds: readonly string[],
    checkpoints: readonly number[],
    tallySize: number | null,
  ) {
    this.#consultation = consultation;
    this.#tallySize = tallySize;
    const cps = new Set(checkpoints.filter((n) => Number.isSafeInteger(n) && n > 0));
    if (tallySize !== null && tallySize > 0) cps.add(tallySize);
    this.#checkpoints = [...cps].sort((a, b) => a - b);
    this.#tally = tallySize !== null ? new TallyBuilder(consultation, sectionIds) : null;
  }

  get count(): number {
    return this.#count;
  }

  #problem(p: AuditProblem): void {
    this.#problemCount += 1;
    if (this.#problems.length < MAX_PROBLEMS) this.#problems.push(p);
  }

  /** One parsed NDJSON line. Call flush() now and then (at least at every checkpoint: push does it). */
  async push(line: unknown): Promise<void> {
    const index = this.#count;
    const l = (line ?? {}) as {
      index?: unknown;
      leaf?: unknown;
      leafHash?: unknown;
      text?: unknown;
      salt?: unknown;
    };
    if (l.index !== index) {
      this.#problem({
        index,
        kind: "order",
        message: `expected line ${index}, got ${JSON.stringify(l.index)}`,
      });
    }
    let computed: Hex;
    if (typeof l.leaf !== "string") {
      this.#problem({ index, kind: "json", message: "line has no leaf" });
      computed = leafHash(new Uint8Array(0));
    } else {
      computed = leafHash(utf8Encode(l.leaf));
      if (computed !== l.leafHash)
        this.#problem({ index, kind: "leafHash", message: "the leaf does not hash to leafHash" });
      let entry: Entry | null = null;
      try {
        entry = decodeEntry(l.leaf);
      } catch (e) {
        this.#problem({ index, kind: "entry", message: e instanceof Error ? e.message : String(e) });
      }
      if (entry) {
        if (entry.consultation !== this.#consultation) {
          this.#problem({
            index,
            kind: "consultation",
            message: `entry of consultation ${entry.consultation}`,
          });
        }
        if (entry.type === "opinion") {
          if (typeof l.text === "string" && typeof l.salt === "string") {
            this.#texts += 1;
            let ok = false;
            try {
              ok = contentHash(l.salt as Hex, l.text) === entry.contentHash;
            } catch {
              ok = false;
            }
            if (!ok)
              this.#problem({
                index,
                kind: "contentHash",
                message: "text and salt do not match contentHash",
              });
          } else {
            this.#withheld += 1;
          }
        }
        if (this.#tally && this.#tallySize !== null && index < this.#tallySize) {
          try {
            this.#tally.add(index, entry);
          } catch (e) {
            this.#problem({ index, kind: "entry", message: e instanceof Error ? e.message : String(e) });
          }
        }
      }
    }
    this.#pending.push(computed);
    this.#count += 1;
    if (this.#checkpoints[0] === this.#count) {
      this.#checkpoints.shift();
      await this.flush();
      this.#rootsAt[String(this.#count)] = await this.#log.root();
    }
  }

  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    await this.#log.appendBatch(batch);
  }

  async finish(): Promise<AuditReport> {
    await this.flush();
    const root = await this.#log.root();
    let tally: TallyDocument | null = null;
    let th: Hex | null = null;
    if (this.#tally && this.#tallySize !== null) {
      const rootAt = this.#tallySize === 0 ? root : this.#rootsAt[String(this.#tallySize)];
      if (rootAt && this.#count >= this.#tallySize) {
        tally = this.#tally.finish(this.#tallySize, rootAt);
        th = tallyHash(tally);
      }
    }
    return {
      count: this.#count,
      root,
      rootsAt: { ...this.#rootsAt },
      problems: this.#problems,
      problemCount: this.#problemCount,
      textsChecked: this.#texts,
      withheld: this.#withheld,
      tally,
      tallyHash: th,
    };
  }
}
