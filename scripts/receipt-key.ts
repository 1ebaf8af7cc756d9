/**
 * `npm run receipt-key -- <show|add|retire> <key>`: a receipt-signing key in the registry, with the service's own
 * configuration (the same environment as `node server/main.ts`: RPC_URL, REGISTRY_ADDRESS, AGENCIES, the database).
 * `add` and `retire` take the service's intent pipeline (written to its database before the broadcast, settled like
 * every transaction of the service), sent by the first configured agency's operator key. The service adds its own key
 * at start-up; this is for retiring one after a rotation, or checking what the chain holds.
 *   <key>: the key's JWK `x` (base64url, as /api/keys lists it) or its 0x-hex bytes32 form.
 */
import Fastify from "fastify";
import { bytesToHex, type Hex, hexToBytes } from "../protocol/index.ts";
import { chainErrorMessage, ViemRegistry } from "../server/chain/registry.ts";
import { systemClock } from "../server/clock.ts";
import { ConfigError, loadConfig } from "../server/config.ts";
import { isAdded, ReceiptKeyRegistrar, receiptKeyBytes32 } from "../server/receipt-keys.ts";
import { openStore } from "../server/store/index.ts";

const USAGE = "usage: npm run receipt-key -- <show|add|retire> <JWK x (base64url) | 0x-hex 32 bytes>";

function fail(message: string, code = 1): never {
  process.stderr.write(`receipt-key: ${message}\n`);
  process.exit(code);
}

const [action, keyArg] = process.argv.slice(2);
if (!action || !keyArg || !["show", "add", "retire"].includes(action)) fail(USAGE, 64);
let publicKey: Hex;
try {
  publicKey = keyArg.startsWith("0x") ? bytesToHex(hexToBytes(keyArg, 32, "key")) : receiptKeyBytes32(keyArg);
} catch (e) {
  fail(`${(e as Error).message}\n${USAGE}`, 64);
}

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (e) {
  if (e instanceof ConfigError) fail(`configuration error: ${e.message}`, 78);
  throw e;
}
const { rpcUrl, registryAddress, agencies } = config.chain;
if (!rpcUrl || !registryAddress) fail("RPC_URL and REGISTRY_ADDRESS are required", 78);

const chain = new ViemRegistry({ rpcUrl, address: registryAddress, agencies });
const store = await openStore(config);
const { log } = Fastify({ logger: { level: config.logLevel } });
const registrar = new ReceiptKeyRegistrar({
  store,
  chain,
  clock: systemClock,
  log,
  txTimeoutMs: config.chain.txTimeoutSeconds * 1000,
  agencyId: Object.keys(agencies)[0] ?? null,
});
try {
  const record =
    action === "add"
      ? await registrar.add(publicKey)
      : action === "retire"
        ? await registrar.retire(publicKey)
        : await chain.receiptKey(publicKey);
  const state = !isAdded(record)
    ? action === "show"
      ? "never added"
      : "not added yet (its transaction is pending; run the command again later)"
    : record.retiredBlock === 0
      ? `added in block ${record.addedBlock} by ${record.addedBy}`
      : `added in block ${record.addedBlock} by ${record.addedBy}, retired in block ${record.retiredBlock}`;
  process.stdout.write(`${JSON.stringify({ publicKey, registry: registryAddress, ...record, state })}\n`);
} catch (e) {
  process.stderr.write(`receipt-key: ${chainErrorMessage(e)}\n`);
  process.exitCode = 1;
} finally {
  await store.close();
}
