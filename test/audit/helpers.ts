// Runs the auditor CLI as a child process (the way an auditor runs it) and rewrites exports.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run as runCommand } from "../support/process.ts";
import { ROOT } from "../support/stack.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the --json document, inspected field by field by the tests
  json: any;
}

export async function runAudit(args: readonly string[], opts: { json?: boolean } = {}): Promise<CliRun> {
  const json = opts.json ?? true;
  const argv = [join(ROOT, "scripts/audit.ts"), ...args, "--no-progress", ...(json ? ["--json"] : [])];
  const run = await runCommand(process.execPath, argv, { cwd: ROOT });
  let parsed: unknown = null;
  if (json) {
    try {
      parsed = JSON.parse(run.stdout);
    } catch {
      parsed = null;
    }
  }
  return { ...run, json: parsed };
}

/** The export's lines (small test exports only). */
export function readLines(path: string): string[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

export function writeLines(path: string, lines: readonly string[]): string {
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}
