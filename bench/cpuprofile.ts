/**
 * Self time of a V8 .cpuprofile (what `--cpu-prof` or the inspector's Profiler writes), aggregated by function and by
 * file or package, as a share of busy time (everything but "(idle)"). The ingest bench prints its top entries;
 * `node bench/cpuprofile.ts <file.cpuprofile> [top]` prints them for any profile.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  /** Function (or file/package) and where it is. */
  name: string;
  ms: number;
  /** Share of busy time, in percent. */
  pct: number;
}

export interface ProfileSummary {
  busyMs: number;
  idleMs: number;
  byFunction: SelfTime[];
  byFile: SelfTime[];
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Where a frame's code lives: the npm package, the repository's file, the Node module, or "(native)". */
export function fileOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith("node:")) return url;
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  return path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
}

function ranked(totals: Map<string, number>, busyMs: number): SelfTime[] {
  return [...totals]
    .map(([name, ms]) => ({ name, ms: Number(ms.toFixed(1)), pct: Number(((100 * ms) / busyMs).toFixed(1)) }))
    .sort((a, b) => b.ms - a.ms);
}

const where = (frame: CallFrame) => `${fileOf(frame)}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;

/**
 * Self time per function and per file, each sample's time being the interval up to the next sample. A native
 * function (node:sqlite's run, crypto's sign…) is named with its JavaScript caller: "run (native) ← insertMany …",
 * and counted under "(native) ← <the caller's file>".
 */
export function summarize(profile: CpuProfile): ProfileSummary {
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const callerOf = (id: number): CallFrame | null => {
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const f = frames.get(p)!;
      if (f.url !== "") return f;
    }
    return null;
  };
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    const frame = frames.get(id);
    if (!frame) continue;
    totalUs += us;
    if (frame.functionName === "(idle)") {
      idleUs += us;
      continue;
    }
    let file = fileOf(frame);
    let fn = `${frame.functionName || "(anonymous)"} ${where(frame)}`;
    const caller = file === "(native)" ? callerOf(id) : null;
    if (caller) {
      file = `(native) ← ${fileOf(caller)}`;
      fn = `${fn} ← ${caller.functionName || "(anonymous)"} ${where(caller)}`;
    }
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  const busyMs = (totalUs - idleUs) / 1000;
  return {
    busyMs: Math.round(busyMs),
    idleMs: Math.round(idleUs / 1000),
    byFunction: ranked(byFunction, busyMs),
    byFile: ranked(byFile, busyMs),
  };
}

/** The summary's top entries as text lines. */
export function formatTop(summary: ProfileSummary, top = 15): string {
  const rows = (title: string, list: SelfTime[]) => [
    `${title}:`,
    ...list
      .slice(0, top)
      .map((e) => `  ${e.pct.toFixed(1).padStart(5)} %  ${e.ms.toFixed(0).padStart(7)} ms  ${e.name}`),
  ];
  return [
    `busy ${summary.busyMs} ms, idle ${summary.idleMs} ms (shares are of busy time, self time)`,
    ...rows("by file or package", summary.byFile),
    ...rows("by function", summary.byFunction),
  ].join("\n");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node bench/cpuprofile.ts <file.cpuprofile> [top]\n");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  process.stdout.write(`${formatTop(summarize(profile), Number(process.argv[3] ?? 15))}\n`);
}
