// `npm run bench [-- [name ...] [--option [value] ...]]`: runs every bench/*.bench.ts (or those whose file
// name contains one of the leading names) in turn, each in its own Node process so
// one benchmark's heap and JIT state do not colour the next. Each prints JSON lines
// {"metric","value","unit",...} on stdout; progress and notes go to stderr.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const benchDir = fileURLToPath(new URL("../bench/", import.meta.url));
const args = process.argv.slice(2);
// Leading words name benches; from the first option on, everything (values included, as in
// `audit --entries 200000`) goes to each bench.
const firstOption = args.findIndex((a) => a.startsWith("--"));
const only = firstOption < 0 ? args : args.slice(0, firstOption);
const passed = firstOption < 0 ? [] : args.slice(firstOption);
const files = readdirSync(benchDir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let failed = 0;
for (const file of files) {
  process.stderr.write(`# bench/${file}\n`);
  const run = spawnSync(process.execPath, [join(benchDir, file), ...passed], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`# bench/${file} exited with ${run.status ?? run.signal}\n`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
