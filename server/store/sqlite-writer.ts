/** Writer thread of SqliteStore({ writerThread: true }): runs the append transaction on its own connection. */
import { parentPort, workerData } from "node:worker_threads";
import { SqliteStore, writerErrorOf } from "./sqlite.ts";

const store = new SqliteStore((workerData as { path: string }).path);

parentPort?.on("message", (m) => {
  store.appendEntries(m.consultationId, m.expectedSize, m.entries, m.nodes, m.options).then(
    () => parentPort?.postMessage({ id: m.id, roundTrips: store.roundTrips() }),
    (e: unknown) =>
      parentPort?.postMessage({ id: m.id, error: writerErrorOf(e), roundTrips: store.roundTrips() }),
  );
});
