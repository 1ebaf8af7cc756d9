// What the chain says about one consultation, as the auditor needs it: a plain typed object that any
// chain reader fills (the CLI's, the browser's), so that the audit itself never talks to a chain.
import type { ConsultationRecord } from "../chain/reader.ts";
import type { Hex } from "../protocol/index.ts";

/** One LogAnchored event. */
export interface AnchorEvent {
  readonly treeSize: number;
  readonly rootHash: Hex;
  /** The counted map's root anchored with this head; null on a registry that does not record it. */
  readonly countedRoot: Hex | null;
  readonly blockNumber: number;
  readonly txHash: Hex;
}

/** The TallyPublished event. */
export interface TallyEvent {
  readonly treeSize: number;
  readonly rootHash: Hex;
  readonly tallyHash: Hex;
  readonly tallyURI: string;
  readonly blockNumber: number;
  readonly txHash: Hex;
}

/** One ResponsePublished event. */
export interface ResponseEvent {
  readonly version: number;
  readonly responseHash: Hex;
  readonly responseURI: string;
  readonly blockNumber: number;
  readonly txHash: Hex;
}

/** What the chain says about one consultation: the registry record and its events, in order. */
export interface ChainFacts
  extends Pick<
    ConsultationRecord,
    "agency" | "draftHash" | "draftURI" | "draftVersion" | "opensAt" | "closesAt" | "head"
  > {
  readonly chainId: number;
  readonly contract: Hex;
  readonly consultation: string;
  /** The record's tallyHash (zero before the tally). */
  readonly recordTallyHash: Hex;
  /** LogAnchored events in chain order. */
  readonly anchors: readonly AnchorEvent[];
  readonly tally: TallyEvent | null;
  /**
   * ResponsePublished events in version order and the registry's latest (`response(id)`, null before the first);
   * both absent on a registry without responses (then nothing about a response is checkable).
   */
  readonly responses?: readonly ResponseEvent[];
  readonly latestResponse?: { readonly responseHash: Hex; readonly version: number } | null;
}
