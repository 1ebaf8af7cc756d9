// Worker thread: runs the per-line checks (checkLine) over a block of whole export lines.
import { parentPort, workerData } from "node:worker_threads";
import { checkBlock, type LineContext } from "../../audit/line.ts";

const ctx = workerData as LineContext;

parentPort?.on("message", (job: { seq: number; parts: Uint8Array[] }) => {
  parentPort?.postMessage({ seq: job.seq, results: checkBlock(job.parts, ctx) });
});
