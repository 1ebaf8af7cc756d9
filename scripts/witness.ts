// `npm run witness -- --log <vkey> [--log <vkey> …] [--db <file>] [--port <n>] [--host <h>] [--name <witness name>]`:
// runs a C2SP tlog-witness (witness/app.ts). Its Ed25519 key comes from WITNESS_KEY_SEED (32 bytes hex, never on the
// command line); it prints its own vkey (what a trust root lists) and serves POST /add-checkpoint.
import { parseArgs } from "node:util";
import { witnessKey } from "../protocol/index.ts";
import { buildWitness } from "../witness/app.ts";

const USAGE = `WITNESS_KEY_SEED=<64 hex digits> npm run witness -- --log <log vkey> [--log …] [--db witness.sqlite]
    [--port 3002] [--host 127.0.0.1] [--name witness.example]
`;

async function main(): Promise<number> {
  let values: ReturnType<typeof parseArgs>["values"];
  try {
    ({ values } = parseArgs({
      options: {
        log: { type: "string", multiple: true },
        db: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        name: { type: "string" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const seed = process.env.WITNESS_KEY_SEED ?? "";
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(seed)) {
    process.stderr.write(`WITNESS_KEY_SEED: required, 32 random bytes as hex\n\n${USAGE}`);
    return 2;
  }
  const logs = (values.log as string[] | undefined) ?? [];
  if (logs.length === 0) {
    process.stderr.write(`--log <vkey>: at least one log to witness\n\n${USAGE}`);
    return 2;
  }
  const port = Number((values.port as string | undefined) ?? "3002");
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port: expected 0..65535\n`);
    return 2;
  }
  const key = witnessKey(
    (values.name as string | undefined) ?? "witness.localhost",
    Buffer.from(seed.replace(/^0x/, ""), "hex"),
  );
  const app = await buildWitness({
    database: (values.db as string | undefined) ?? "data/witness.sqlite",
    key,
    logs,
  });
  const url = await app.listen({ host: (values.host as string | undefined) ?? "127.0.0.1", port });
  process.stdout.write(`witness ${key.name} at ${url}\nvkey ${key.vkey}\n`);
  return 0;
}

const code = await main();
if (code !== 0) process.exitCode = code;
