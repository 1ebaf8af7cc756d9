/**
 * The counted map of each consultation (protocol/map, docs/PROTOCOL.md "Counted map"), kept in the store: the anchorer
 * brings it to every head it prepares, so each anchored size has a recorded version, which the proofs are served from.
 * An update reads the log's entries after the map's latest version, applies their opinions (moderation leaves the
 * map alone) and records the new version with its rows; a crash before that leaves the previous version, and the
 * next update redoes the work. Callers serialize the updates of one consultation (the anchorer: its operator lock).
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import { CountedMap, type CountedUpdate, countedUpdate, decodeEntry, type Hex } from "../protocol/index.ts";
import type { CountedStoreLike, CountedVersion, Store } from "./store/index.ts";

/** Log entries applied per recorded version: bounds the updates an update holds in memory. */
const ENTRIES_PER_VERSION = 100_000;
/** Entries read from the store at a time. */
const ENTRY_PAGE = 5_000;
/** The longest an update runs before letting the event loop serve requests (SQLite reads are synchronous). */
const SLICE_MS = 10;

/**
 * The counted map's root once the first `treeSize` entries of the log are applied, updating the map (and recording
 * its version) if it is behind. Idempotent: a size already recorded is answered from its version.
 */
export async function countedRootAt(store: Store, consultationId: number, treeSize: number): Promise<Hex> {
  const recorded = await store.countedVersion(consultationId, treeSize);
  if (recorded) return recorded.root;
  let version: CountedVersion;
  do {
    version = await advance(store, consultationId, treeSize);
  } while (version.treeSize < treeSize);
  return version.root;
}

/** One recorded version from the latest towards `treeSize`, at most ENTRIES_PER_VERSION entries on. */
async function advance(store: Store, consultationId: number, treeSize: number): Promise<CountedVersion> {
  const session = await store.openCountedUpdate(consultationId);
  const { from } = session;
  if (from.treeSize >= treeSize) {
    throw new Error(
      `the counted map of consultation ${consultationId} is at ${from.treeSize}, past ${treeSize}, which it has no version of`,
    );
  }
  const to = Math.min(treeSize, from.treeSize + ENTRIES_PER_VERSION);
  const clock = new Slices();
  const updates: CountedUpdate[] = [];
  for (let at = from.treeSize; at < to; at += ENTRY_PAGE) {
    for (const e of await store.getEntries(consultationId, at, Math.min(to, at + ENTRY_PAGE))) {
      const update = countedUpdate(e.index, decodeEntry(e.leaf), e.leafHash);
      if (update) updates.push(update);
    }
    await clock.maybeYield();
  }
  const map = await CountedMap.open(yielding(session, clock), from.treeSize);
  const opened = await map.root();
  if (opened !== from.root) {
    throw new Error(
      `the counted map of consultation ${consultationId} at ${from.treeSize} has root ${opened}, its version says ${from.root}`,
    );
  }
  const root = await map.update(updates, to);
  await session.commit({ treeSize: to, root });
  return { treeSize: to, root };
}

/** Lets the event loop run once a slice of work is used up. */
class Slices {
  #since = performance.now();

  async maybeYield(): Promise<void> {
    if (performance.now() - this.#since < SLICE_MS) return;
    await yieldToEventLoop();
    this.#since = performance.now();
  }
}

/** The store's records, yielding to the event loop between reads once a slice is used up. */
function yielding(store: CountedStoreLike, slices: Slices): CountedStoreLike {
  return {
    getNodes: async (addresses, treeSize) => {
      await slices.maybeYield();
      return store.getNodes(addresses, treeSize);
    },
    putNodes: (nodes, treeSize) => store.putNodes(nodes, treeSize),
  };
}
