// Runs the per-line checks over a byte stream, in worker threads (or here with workers = 0), and
// yields the results in export order. The stream is cut into blocks of whole lines; nothing holds
// more than a few blocks at a time.
import { Worker } from "node:worker_threads";
import { checkBlock, type LineContext, type LineResult } from "./line.ts";

const BLOCK = 1 << 20;

/**
 * Whole-line blocks of at least BLOCK bytes, each as the list of chunk views it spans (the last block
 * may end without a newline). Nothing is copied here: postMessage copies the views to the worker,
 * which joins them.
 */
async function* blocks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array[]> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size < BLOCK) {
      parts.push(chunk);
      continue;
    }
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) {
      parts.push(chunk);
      continue;
    }
    parts.push(chunk.subarray(0, nl + 1));
    yield parts;
    const rest = chunk.subarray(nl + 1);
    parts = rest.length > 0 ? [rest] : [];
    size = rest.length;
  }
  if (size > 0) yield parts;
}

/** The checked lines of the stream, a block at a time, in order. */
export async function* checkedLines(
  chunks: AsyncIterable<Uint8Array>,
  ctx: LineContext,
  workers: number,
): AsyncGenerator<LineResult[]> {
  if (workers <= 0) {
    for await (const block of blocks(chunks)) yield checkBlock(block, ctx);
    return;
  }
  const pool = Array.from(
    { length: workers },
    () =>
      new Worker(new URL("./worker.ts", import.meta.url), {
        workerData: ctx,
        resourceLimits: { maxYoungGenerationSizeMb: 48 },
      }),
  );
  const waiting = new Map<number, { resolve: (r: LineResult[]) => void; reject: (e: unknown) => void }>();
  let failure: unknown = null;
  for (const w of pool) {
    w.on("message", (m: { seq: number; results: LineResult[] }) => {
      waiting.get(m.seq)?.resolve(m.results);
      waiting.delete(m.seq);
    });
    w.on("error", (e) => {
      failure = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  const inFlight: Promise<LineResult[]>[] = [];
  let seq = 0;
  try {
    for await (const block of blocks(chunks)) {
      if (failure) throw failure;
      const s = seq++;
      inFlight.push(
        new Promise<LineResult[]>((resolve, reject) => {
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
