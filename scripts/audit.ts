// `npm run audit -- --help`: the Gopy auditor CLI (scripts/audit/ holds its parts).
import { runCli } from "./audit/cli.ts";

process.exitCode = await runCli(process.argv.slice(2));
