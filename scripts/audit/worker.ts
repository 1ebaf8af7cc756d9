// Worker thread: runs the per-line checks (checkLine) over a block of whole export lines.
import { parentPort, workerData } from "node:worker_threads";
import { checkBlock, type LineContext, transferables } from "../../audit/line.ts";

const ctx = workerData as LineContext;

parentPort?.on("message", (job: { seq: number; parts: Uint8Array[] }) => {
  const block = checkBlock(job.parts, ctx);
  parentPort?.postMessage({ seq: job.seq, block }, transferables(block));
});
