// Cuts an export's byte stream into blocks of whole lines, the unit the per-line checks run on (in this
// thread, worker threads or a Web Worker). Isomorphic: a file stream, an HTTP body or a fetch() reader
// all give Uint8Array chunks.

/** Bytes per block: big enough that handing a block to a worker costs little next to checking it. */
export const BLOCK_BYTES = 1 << 20;

/**
 * Whole-line blocks of at least BLOCK_BYTES bytes (the last may be shorter and end without a newline),
 * each as the list of chunk views it spans. Nothing is copied here: a worker joins the views.
 */
export async function* lineBlocks(
  chunks: AsyncIterable<Uint8Array>,
  blockBytes = BLOCK_BYTES,
): AsyncGenerator<Uint8Array[]> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    size += chunk.length;
    if (size < blockBytes) {
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
