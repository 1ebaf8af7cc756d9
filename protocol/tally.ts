// The tally: recomputable by anyone from the export and the draft alone. Each author's latest opinion
// on a section counts (a replaced one does not); a withheld text still counts, since moderation hides
// words, never votes.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, isHash, utf8Encode } from "./encoding.ts";
import { CHANNELS, type Channel, type Entry, SECTION_ID_PATTERN, STANCES, type Stance } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { canonicalJson } from "./jcs.ts";

export interface StanceCounts {
  agree: number;
  disagree: number;
  neutral: number;
}

export interface ChannelCounts {
  online: StanceCounts;
  offline: StanceCounts;
  total: StanceCounts;
}

/** The tally document, version 1; tallyHash is SHA-256 of its canonical JSON. */
export interface TallyDocument {
  readonly v: 1;
  readonly consultation: string;
  readonly treeSize: number;
  readonly rootHash: Hex;
  readonly sections: Record<string, ChannelCounts>;
  readonly totals: ChannelCounts;
}

const zeroStances = (): StanceCounts => ({ agree: 0, disagree: 0, neutral: 0 });
const zeroChannels = (): ChannelCounts => ({
  online: zeroStances(),
  offline: zeroStances(),
  total: zeroStances(),
});

interface CountedOpinion {
  readonly section: string;
  readonly stance: Stance;
  readonly channel: Channel;
}

/**
 * The stance counts of the opinions that count, kept as they change: add() an author's latest opinion on
 * a section, remove() the one it replaces. TallyBuilder keeps the latest opinions in memory; an auditor
 * of a large consultation keeps them elsewhere and feeds this the same changes.
 */
export class TallyCounts {
  readonly #consultation: string;
  /** A Map, not a plain object: a section id such as `constructor` must not find Object.prototype's. */
  readonly #sections = new Map<string, ChannelCounts>();
  readonly #totals = zeroChannels();

  constructor(consultation: string, sectionIds: readonly string[]) {
    if (
      !Array.isArray(sectionIds) ||
      sectionIds.some((id) => typeof id !== "string" || !SECTION_ID_PATTERN.test(id))
    ) {
      throw new ProtocolError("invalid_tally", "sectionIds must be a list of section ids");
    }
    this.#consultation = consultation;
    for (const id of sectionIds) this.#sections.set(id, zeroChannels());
  }

  /** Counts one more opinion; one on a section a later draft removed counts under its own section id. */
  add(section: string, stance: Stance, channel: Channel): void {
    this.#change(section, stance, channel, 1);
  }

  /** Stops counting an opinion add() counted (it was replaced). */
  remove(section: string, stance: Stance, channel: Channel): void {
    this.#change(section, stance, channel, -1);
  }

  #change(section: string, stance: Stance, channel: Channel, by: 1 | -1): void {
    if (!STANCES.includes(stance) || !CHANNELS.includes(channel)) {
      throw new ProtocolError("invalid_tally", "unknown stance or channel");
    }
    let counts = this.#sections.get(section);
    if (counts === undefined) {
      counts = zeroChannels();
      this.#sections.set(section, counts);
    }
    counts[channel][stance] += by;
    counts.total[stance] += by;
    this.#totals[channel][stance] += by;
    this.#totals.total[stance] += by;
  }

  /** The tally document of the counts now, for the tree of `treeSize` leaves with `rootHash`. */
  document(treeSize: number, rootHash: Hex): TallyDocument {
    if (!isHash(rootHash)) throw new ProtocolError("invalid_tally", "rootHash must be a 32-byte 0x-hex hash");
    const copy = (c: ChannelCounts): ChannelCounts => ({
      online: { ...c.online },
      offline: { ...c.offline },
      total: { ...c.total },
    });
    return {
      v: 1,
      consultation: this.#consultation,
      treeSize,
      rootHash,
      // fromEntries defines own properties, whatever the id (canonicalJson sorts them).
      sections: Object.fromEntries([...this.#sections].map(([id, c]) => [id, copy(c)])),
      totals: copy(this.#totals),
    };
  }
}

/**
 * Builds a tally from a log's entries, fed in log order from index 0. Memory grows with the number
 * of distinct (author, section) pairs, not with the log.
 */
export class TallyBuilder {
  readonly #consultation: string;
  readonly #counts: TallyCounts;
  readonly #latest = new Map<string, CountedOpinion>();
  #count = 0;

  constructor(consultation: string, sectionIds: readonly string[]) {
    this.#counts = new TallyCounts(consultation, sectionIds);
    this.#consultation = consultation;
  }

  /** Number of entries added so far. */
  get size(): number {
    return this.#count;
  }

  /** Adds the entry at `index`, which must be the next one in log order. */
  add(index: number, entry: Entry): void {
    if (index !== this.#count) {
      throw new ProtocolError(
        "invalid_tally",
        `entries must be added in log order: expected index ${this.#count}, got ${index}`,
      );
    }
    if (
      typeof entry !== "object" ||
      entry === null ||
      (entry.type !== "opinion" && entry.type !== "moderation")
    ) {
      throw new ProtocolError("invalid_tally", `entry ${index} is not a decoded opinion or moderation entry`);
    }
    if (entry.type === "opinion" && (!STANCES.includes(entry.stance) || !CHANNELS.includes(entry.channel))) {
      throw new ProtocolError("invalid_tally", `entry ${index} has an unknown stance or channel`);
    }
    if (entry.consultation !== this.#consultation) {
      throw new ProtocolError(
        "invalid_tally",
        `entry ${index} belongs to consultation ${entry.consultation}, not ${this.#consultation}`,
      );
    }
    this.#count++;
    if (entry.type !== "opinion") return;
    // Pseudonyms are fixed-length hex, so this key cannot collide across (author, section) pairs.
    const key = `${entry.author}/${entry.section}`;
    const replaced = this.#latest.get(key);
    if (replaced !== undefined) this.#counts.remove(replaced.section, replaced.stance, replaced.channel);
    this.#latest.set(key, { section: entry.section, stance: entry.stance, channel: entry.channel });
    this.#counts.add(entry.section, entry.stance, entry.channel);
  }

  /** The tally of the entries added, which must be the whole tree of `treeSize` leaves with `rootHash`. */
  finish(treeSize: number, rootHash: Hex): TallyDocument {
    if (treeSize !== this.#count) {
      throw new ProtocolError(
        "invalid_tally",
        `the tally covers ${this.#count} entries but the tree has ${treeSize}`,
      );
    }
    return this.#counts.document(treeSize, rootHash);
  }
}

/** The counts of section `id` in a tally document, or undefined: own members only, whatever the id. */
export function sectionCounts(doc: Pick<TallyDocument, "sections">, id: string): ChannelCounts | undefined {
  return Object.hasOwn(doc.sections, id) ? doc.sections[id] : undefined;
}

/** The tally of a whole log given as (index, entry) pairs in log order. */
export function computeTally(
  consultation: string,
  sectionIds: readonly string[],
  entries: Iterable<{ readonly index: number; readonly entry: Entry }>,
  treeSize: number,
  rootHash: Hex,
): TallyDocument {
  const builder = new TallyBuilder(consultation, sectionIds);
  for (const { index, entry } of entries) builder.add(index, entry);
  return builder.finish(treeSize, rootHash);
}

/** The tally document's canonical JSON. */
export function tallyString(doc: TallyDocument): string {
  const d = doc as Partial<TallyDocument> | null;
  if (
    typeof d !== "object" ||
    d === null ||
    d.v !== 1 ||
    typeof d.sections !== "object" ||
    typeof d.totals !== "object"
  ) {
    throw new ProtocolError(
      "invalid_tally",
      "a tally document is an object {v:1, consultation, treeSize, rootHash, sections, totals}",
    );
  }
  return canonicalJson(doc);
}

/** tallyHash = SHA-256 of the UTF-8 canonical JSON of the tally document. */
export function tallyHash(doc: TallyDocument): Hex {
  return bytesToHex(sha256(utf8Encode(tallyString(doc))));
}
