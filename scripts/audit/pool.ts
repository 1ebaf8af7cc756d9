// Runs the per-line checks over a byte stream, in worker threads (or here with workers = 0), and
// yields the checked blocks in export order (their buffers transferred back, not copied). The stream is cut into blocks of whole lines (audit/stream.ts);
// nothing holds more than a few blocks at a time.
import { Worker } from "node:worker_threads";
import { type CheckedBlock, checkBlock, type LineContext } from "../../audit/line.ts";
import { lineBlocks } from "../../audit/stream.ts";

/** The checked lines of the stream, a block at a time, in order. */
export async function* checkedLines(
  chunks: AsyncIterable<Uint8Array>,
  ctx: LineContext,
  workers: number,
): AsyncGenerator<CheckedBlock> {
  if (workers <= 0) {
    for await (const block of lineBlocks(chunks)) yield checkBlock(block, ctx);
    return;
  }
  const pool = Array.from(
    { length: workers },
    () =>
      new Worker(new URL("./worker.ts", import.meta.url), {
        workerData: ctx,
        resourceLimits: { maxYoungGenerationSizeMb: 16 },
      }),
  );
  const waiting = new Map<number, { resolve: (r: CheckedBlock) => void; reject: (e: unknown) => void }>();
  let failure: unknown = null;
  for (const w of pool) {
    w.on("message", (m: { seq: number; block: CheckedBlock }) => {
      waiting.get(m.seq)?.resolve(m.block);
      waiting.delete(m.seq);
    });
    w.on("error", (e) => {
      failure = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  const inFlight: Promise<CheckedBlock>[] = [];
  let seq = 0;
  try {
    for await (const block of lineBlocks(chunks)) {
      if (failure) throw failure;
      const s = seq++;
      inFlight.push(
        new Promise<CheckedBlock>((resolve, reject) => {
          waiting.set(s, { resolve, reject });
          pool[s % workers]!.postMessage({ seq: s, parts: block });
        }),
      );
      if (inFlight.length >= workers * 2) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
