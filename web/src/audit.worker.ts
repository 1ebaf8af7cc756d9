// Web Worker: streams the NDJSON export through the auditor (audit/, the same checks as the CLI) and
// posts progress; the page stays responsive. The page reads the chain facts and the draft and hands
// them over, so this worker talks to nothing but the export's URL.
import { Auditor, type AuditResult } from "../../audit/core.ts";
import type { ChainFacts } from "../../audit/facts.ts";
import { checkBlock } from "../../audit/line.ts";
import { lineBlocks } from "../../audit/stream.ts";
import type { Draft } from "../../protocol/index.ts";

export interface AuditRequest {
  url: string;
  facts: ChainFacts;
  draft: Draft;
  /** Fail unless the tally is published and every entry anchored. */
  final?: boolean;
  /** The agency's response document's bytes, as the service served them (checked against the chain). */
  response?: Uint8Array;
}

export type AuditMessage =
  | { type: "progress"; count: number; bytes: number }
  | { type: "done"; result: AuditResult; bytes: number }
  | { type: "error"; message: string; status?: number };

const post = (m: AuditMessage) => (self as unknown as Worker).postMessage(m);

self.addEventListener("message", (ev: MessageEvent<AuditRequest>) => {
  void run(ev.data).catch((e: unknown) =>
    post({ type: "error", message: e instanceof Error ? e.message : String(e) }),
  );
});

async function* body(res: Response, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    onBytes(value.byteLength);
    yield value;
  }
}

async function run(req: AuditRequest): Promise<void> {
  const started = performance.now();
  const auditor = new Auditor(req.facts, req.draft, {
    final: req.final === true,
    ...(req.response ? { response: req.response } : {}),
  });
  let res: Response;
  try {
    res = await fetch(req.url);
  } catch (e) {
    post({ type: "error", message: e instanceof Error ? e.message : String(e), status: 0 });
    return;
  }
  if (!res.ok || !res.body) {
    post({ type: "error", message: `${res.status} ${res.statusText}`, status: res.status });
    return;
  }
  let bytes = 0;
  let lastPost = 0;
  const ctx = auditor.lineContext;
  for await (const block of lineBlocks(body(res, (n) => (bytes += n)))) {
    await auditor.acceptBlock(checkBlock(block, ctx));
    const now = performance.now();
    if (now - lastPost > 100) {
      lastPost = now;
      post({ type: "progress", count: auditor.position, bytes });
    }
  }
  const result = await auditor.finish(started);
  post({ type: "progress", count: result.entries, bytes });
  post({ type: "done", result, bytes });
}
