// Web Worker: streams the NDJSON export and feeds the Auditor, posting progress; the page stays responsive.
import { Auditor, type AuditReport } from "./audit-core.ts";

export interface AuditRequest {
  url: string;
  consultation: string;
  sectionIds: string[];
  checkpoints: number[];
  tallySize: number | null;
}

export type AuditMessage =
  | { type: "progress"; count: number; bytes: number }
  | { type: "done"; report: AuditReport; bytes: number }
  | { type: "error"; message: string; status?: number };

const post = (m: AuditMessage) => (self as unknown as Worker).postMessage(m);

self.addEventListener("message", (ev: MessageEvent<AuditRequest>) => {
  void run(ev.data).catch((e: unknown) =>
    post({ type: "error", message: e instanceof Error ? e.message : String(e) }),
  );
});

async function run(req: AuditRequest): Promise<void> {
  const auditor = new Auditor(req.consultation, req.sectionIds, req.checkpoints, req.tallySize);
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
  const reader = res.body.getReader();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let buffer = "";
  let bytes = 0;
  let lastPost = 0;
  const handle = async (line: string) => {
    if (line.trim() === "") return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = { index: -1 };
    }
    await auditor.push(parsed);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) await handle(line);
    await auditor.flush();
    const now = performance.now();
    if (now - lastPost > 100) {
      lastPost = now;
      post({ type: "progress", count: auditor.count, bytes });
    }
  }
  buffer += decoder.decode();
  await handle(buffer);
  post({ type: "progress", count: auditor.count, bytes });
  post({ type: "done", report: await auditor.finish(), bytes });
}
