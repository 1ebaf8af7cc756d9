// Runs the auditor CLI as a child process (the way an auditor runs it) and rewrites exports.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./fixtures/chain.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the --json document, inspected field by field by the tests
  json: any;
}

export function runAudit(args: readonly string[], opts: { json?: boolean } = {}): Promise<CliRun> {
  const json = opts.json ?? true;
  const argv = [join(ROOT, "scripts/audit.ts"), ...args, "--no-progress", ...(json ? ["--json"] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      let parsed: unknown = null;
      if (json) {
        try {
          parsed = JSON.parse(stdout);
        } catch {
          parsed = null;
        }
      }
      resolve({ code, stdout, stderr, json: parsed });
    });
  });
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
