/**
 * Reading thread of ReadingThread (server/reading-thread.ts): the ReadingIndexer on a SQLite connection of its own,
 * off the service's event loop. Messages: {poke}, and {id, op: "behind" | "settled" | "close"}, answered {id, error?}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ReadingIndexer } from "./reading.ts";
import { SqliteStore } from "./store/sqlite.ts";

const port = parentPort!;
const store = new SqliteStore((workerData as { path: string }).path);
const indexer = new ReadingIndexer({
  store,
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

port.on("message", (m: { poke?: number; id?: number; op?: string }) => {
  if (m.poke !== undefined) return indexer.poke(m.poke);
  const op = ops[m.op ?? ""];
  if (!op) return port.postMessage({ id: m.id, error: `unknown op ${m.op}` });
  op().then(
    () => port.postMessage({ id: m.id }),
    (e: unknown) => port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
