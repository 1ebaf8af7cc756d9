/** Writer thread of SqliteStore({ writerThread: true }): runs the append transaction on its own connection. */
import { parentPort, workerData } from "node:worker_threads";
import { SqliteStore } from "./sqlite.ts";
import { StoreConflictError } from "./types.ts";

const store = new SqliteStore((workerData as { path: string }).path);

parentPort?.on("message", (m) => {
  try {
    store.appendEntriesSync(m.consultationId, m.expectedSize, m.entries, m.nodes);
    parentPort?.postMessage({ id: m.id });
  } catch (e) {
    parentPort?.postMessage({
      id: m.id,
      error: {
        conflict: e instanceof StoreConflictError,
        message: e instanceof Error ? e.message : String(e),
      },
    });
  }
});
