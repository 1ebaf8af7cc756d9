// Runs the per-line checks over a byte stream, in worker threads (or here with workers = 0), and
// yields the results in export order. The stream is cut into blocks of whole lines; nothing holds
// more than a few blocks at a time.
import { Worker } from "node:worker_threads";
import { checkBlock, type LineContext, type LineResult } from "./line.ts";

const BLOCK = 1 << 20;

/** Whole-line blocks of at least BLOCK bytes (the last may end without a newline). */
async function* blocks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = (upTo: number): Uint8Array => {
    const out = new Uint8Array(upTo);
    let at = 0;
    const rest: Uint8Array[] = [];
    for (const p of parts) {
      if (at >= upTo) {
        rest.push(p);
        continue;
      }
      const n = Math.min(p.length, upTo - at);
      out.set(p.subarray(0, n), at);
      at += n;
      if (n < p.length) rest.push(p.subarray(n));
    }
    parts = rest;
    size -= upTo;
    return out;
  };
  for await (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
    if (size < BLOCK) continue;
    const nl = chunk.lastIndexOf(10);
    if (nl < 0) continue;
    yield take(size - (chunk.length - nl - 1));
  }
  if (size > 0) yield take(size);
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
    () => new Worker(new URL("./worker.ts", import.meta.url), { workerData: ctx }),
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
          pool[s % workers]!.postMessage({ seq: s, bytes: block }, [block.buffer as ArrayBuffer]);
        }),
      );
      if (inFlight.length >= workers * 2) yield await inFlight.shift()!;
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
