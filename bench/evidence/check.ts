// After a crash or an outage: is every acknowledged opinion in the service's export, exactly once, and
// does the auditor CLI pass the log against the chain?
import { join } from "node:path";
import { run as runCommand } from "../../test/support/process.ts";
import { ROOT } from "../../test/support/stack.ts";

export interface Accounting {
  readonly exported: number;
  /** Acknowledged (201) opinions missing from the export, or at another index / with another leaf hash. */
  readonly lost: number;
  /** Opinions (by their unique text) present more than once in the export. */
  readonly duplicates: number;
}

export async function accountFor(
  base: string,
  id: number,
  receipts: readonly { leafIndex: number; leafHash: string; text: string }[],
): Promise<Accounting> {
  const res = await fetch(`${base}/api/consultations/${id}/export`);
  const lines = (await res.text()).split("\n").filter((l) => l !== "");
  const byIndex = new Map<number, string>();
  const texts = new Map<string, number>();
  for (const line of lines) {
    const o = JSON.parse(line) as { index: number; leafHash: string; text?: string };
    byIndex.set(o.index, o.leafHash);
    if (o.text !== undefined) texts.set(o.text, (texts.get(o.text) ?? 0) + 1);
  }
  let lost = 0;
  for (const r of receipts) if (byIndex.get(r.leafIndex) !== r.leafHash) lost++;
  let duplicates = 0;
  for (const n of texts.values()) if (n > 1) duplicates += n - 1;
  return { exported: lines.length, lost, duplicates };
}

/** Runs `node scripts/audit.ts --api ... --contract ... --rpc ... --json`; resolves to its exit code and failure kinds. */
export async function auditViaApi(
  base: string,
  id: number,
  rpc: string,
  contract: string,
): Promise<{ code: number | null; failures: string[]; unanchored: number | null }> {
  const run = await runCommand(process.execPath, [
    join(ROOT, "scripts/audit.ts"),
    "--api",
    base,
    "--consultation",
    String(id),
    "--contract",
    contract,
    "--rpc",
    rpc,
    "--json",
    "--no-progress",
  ]);
  try {
    const r = JSON.parse(run.stdout) as { failures?: { kind: string }[]; unanchored?: number };
    return {
      code: run.code,
      failures: (r.failures ?? []).map((f) => f.kind),
      unanchored: r.unanchored ?? null,
    };
  } catch {
    return { code: run.code, failures: ["unparseable output"], unanchored: null };
  }
}
