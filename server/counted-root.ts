/**
 * The counted map's root of a consultation's log at a tree size (docs/PROTOCOL.md: for every (author, section),
 * the author's latest opinion on it), anchored with the log head of that size. Rebuilt here from the log's entries
 * [0, treeSize) with protocol/map over its in-memory store: only opinions enter the map, a later opinion of the same
 * author on the same section replaces the earlier one, moderation changes nothing. The anchorer is its one caller,
 * so a store-backed map that keeps the map between heads replaces this function alone.
 */
import { CountedMap, type CountedUpdate, countedUpdate, decodeEntry, type Hex } from "../protocol/index.ts";
import type { Store } from "./store/index.ts";

/** Entries read per store call while rebuilding. */
const ENTRY_BATCH = 5000;

export async function countedRootAt(store: Store, consultationId: number, treeSize: number): Promise<Hex> {
  const updates: CountedUpdate[] = [];
  for (let at = 0; at < treeSize; at += ENTRY_BATCH) {
    for (const e of await store.getEntries(consultationId, at, Math.min(treeSize, at + ENTRY_BATCH))) {
      const update = countedUpdate(e.index, decodeEntry(e.leaf), e.leafHash);
      if (update) updates.push(update);
    }
  }
  return new CountedMap().update(updates, treeSize);
}
