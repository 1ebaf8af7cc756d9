// Writes contracts/ConsultationRegistry.abi.ts (`consultationRegistryAbi`, `as const` for viem) from the
// compiled Hardhat artifact. Run after `npx hardhat compile`:
//   node contracts/export-abi.ts
// test/contracts/abi.test.ts fails when the committed file drifts from the artifact.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ARTIFACT = path.join(
  root,
  "artifacts/contracts/ConsultationRegistry.sol/ConsultationRegistry.json",
);
export const ABI_FILE = path.join(root, "contracts/ConsultationRegistry.abi.ts");

export function abiSource(abi: unknown): string {
  return [
    "// Generated from the compiled artifact by contracts/export-abi.ts: do not edit by hand.",
    "// test/contracts/abi.test.ts fails when it drifts from contracts/ConsultationRegistry.sol.",
    // one ABI item per line: a reviewer's diff shows which function or event changed
    "export const consultationRegistryAbi = [",
    ...(abi as unknown[]).map((item) => `  ${JSON.stringify(item)},`),
    "] as const;",
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { abi } = JSON.parse(readFileSync(ARTIFACT, "utf8")) as { abi: unknown };
  writeFileSync(ABI_FILE, abiSource(abi));
  console.log(`wrote ${path.relative(root, ABI_FILE)}`);
}
