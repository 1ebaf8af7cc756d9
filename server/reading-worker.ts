/**
 * Reading thread of ReadingThread (server/reading-thread.ts): the ReadingIndexer on a SQLite connection of its own,
 * off the service's event loop. Messages: {committed}, {poke}, and {id, op: "behind" | "settled" | "close"}, answered {id, error?}.
 */
import { readlinkSync } from "node:fs";
import { constants, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { ReadingIndexer } from "./reading.ts";
import { SqliteStore } from "./store/sqlite.ts";

/**
 * This thread at the lowest CPU priority (Linux: a thread's id is a pid to setpriority): the index is derived, so
 * when the cores are busy the requests and the commits come first and the index catches up when they are not.
 * Under a burst on two cores it used to take a core from the event loop (about 300 µs per opinion indexed).
 * Elsewhere, or when refused, the thread keeps its priority.
 */
function yieldCpuToRequests(): void {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
  } catch {
    // not Linux, or not allowed: a normal priority
  }
}
yieldCpuToRequests();

const port = parentPort!;
const store = new SqliteStore((workerData as { path: string }).path);
/** Entries per step here: a step holds the SQLite file's write lock, which the group commit waits for. */
const SQLITE_STEP_ENTRIES = 50;

const indexer = new ReadingIndexer({
  store,
  stepEntries: SQLITE_STEP_ENTRIES,
  log: { warn: (details, message) => port.postMessage({ warn: { details, message } }) },
});

const ops: Record<string, () => Promise<void>> = {
  behind: () => indexer.pokeBehind(),
  settled: () => indexer.settled(),
  close: async () => {
    await indexer.close();
    await store.close();
  },
};

port.on("message", (m: { committed?: number; poke?: number; id?: number; op?: string }) => {
  if (m.committed !== undefined) return indexer.committed(m.committed);
  if (m.poke !== undefined) return indexer.poke(m.poke);
  const op = ops[m.op ?? ""];
  if (!op) return port.postMessage({ id: m.id, error: `unknown op ${m.op}` });
  op().then(
    () => port.postMessage({ id: m.id }),
    (e: unknown) => port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
