/**
 * The service's receipt-signing key on chain: registered at start-up through the intent pipeline, once across
 * restarts and across instances sharing a database, an intent left by a crash before its broadcast settled at the
 * next start, and a retired key never added back.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { createPublicClient, type Hex, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { ViemRegistry } from "../../server/chain/registry.ts";
import { type Config, loadConfig } from "../../server/config.ts";
import { ReceiptKeyRegistrar, receiptKeyBytes32 } from "../../server/receipt-keys.ts";
import { openStore } from "../../server/store/index.ts";
import { waitFor } from "../support/http.ts";
import { run } from "../support/process.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { ROOT } from "../support/stack.ts";
import { dropSchema, type TestChain, testApp, testChain, testConfig, testEnv } from "./helpers.ts";

const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;

describe("receipt key on chain", function () {
  this.timeout(120_000);
  let chain: TestChain;
  const apps: FastifyInstance[] = [];
  const start = async (config: Config) => {
    const app = await testApp(config);
    apps.push(app);
    return app;
  };
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  before(async () => {
    chain = await testChain();
  });

  const pub = () => createPublicClient({ transport: http(chain.node.url) });
  const record = async (publicKey: Hex) => {
    const [addedBy, addedBlock, retiredBlock] = await pub().readContract({
      address: chain.registry,
      abi: consultationRegistryAbi,
      functionName: "receiptKey",
      args: [publicKey],
    });
    return { addedBy, addedBlock: Number(addedBlock), retiredBlock: Number(retiredBlock) };
  };
  const addedEvents = async (publicKey: Hex) =>
    pub().getContractEvents({
      address: chain.registry,
      abi: consultationRegistryAbi,
      eventName: "ReceiptKeyAdded",
      args: { publicKey },
      fromBlock: 0n,
      strict: true,
    });
  /** The key the service serves at /api/keys, as the registry's bytes32. */
  const servedKey = async (app: FastifyInstance): Promise<Hex> => {
    const keys = (await app.inject({ method: "GET", url: "/api/keys" })).json() as { keys: { x: string }[] };
    return receiptKeyBytes32(keys.keys[0]!.x);
  };
  const operatorAddress = async () =>
    new ViemRegistry({
      rpcUrl: chain.node.url,
      address: chain.registry,
      agencies: chain.agencies,
    }).operatorAddress(Object.keys(chain.agencies)[0]!);

  /** Transactions the service's operator key has sent so far. */
  const sent = async () =>
    pub().getTransactionCount({ address: await operatorAddress(), blockTag: "pending" });

  it("registers the key /api/keys serves, by an operator key, and not again after a restart", async () => {
    const config = testConfig(chain);
    const app = await start(config);
    const key = await servedKey(app);
    const added = await waitFor("the receipt key on chain", async () => {
      const r = await record(key);
      return r.addedBlock > 0 ? r : null;
    });
    expect(added.addedBy.toLowerCase()).to.equal((await operatorAddress()).toLowerCase());
    expect(added.retiredBlock).to.equal(0);
    await app.close();
    apps.splice(0);

    // the same service restarted (same database, same key): the chain already has it, nothing is sent
    const before = await sent();
    const again = await start(config);
    await again.gopy.anchorer!.round(true);
    const registrar = new ReceiptKeyRegistrar({
      store: again.gopy.store,
      chain: again.gopy.chain!,
      clock: again.gopy.clock,
      log: again.log,
      txTimeoutMs: 30_000,
      agencyId: Object.keys(chain.agencies)[0]!,
    });
    expect(await registrar.add(key)).to.deep.equal(added);
    expect(await sent()).to.equal(before);
    expect(await record(key)).to.deep.equal(added);
    expect(await addedEvents(key)).to.have.length(1);
    expect(await again.gopy.store.pendingKeyIntents()).to.deep.equal([]);
  });

  it("settles an intent a crash left between its write and its broadcast: the same bytes are sent", async () => {
    const config = testConfig(chain);
    const key = receiptKeyBytes32(randomBytes(32).toString("base64url"));
    // what the service writes before broadcasting: the signed bytes, never sent (the crash)
    const store = await openStore(config);
    const registry = new ViemRegistry({
      rpcUrl: chain.node.url,
      address: chain.registry,
      agencies: chain.agencies,
    });
    const agency = Object.keys(chain.agencies)[0]!;
    const signed = await registry.signAddReceiptKey(agency, key);
    await store.addKeyIntent({ kind: "add", publicKey: key, agency, ...signed, createdAt: Date.now() });
    await store.close();
    expect((await record(key)).addedBlock).to.equal(0);

    const app = await start(config);
    await waitFor("the crashed intent settled", async () =>
      (await record(key)).addedBlock > 0 ? true : null,
    );
    const events = await addedEvents(key);
    expect(events).to.have.length(1);
    expect(events[0]!.transactionHash).to.equal(signed.txHash);
    await waitFor("the intent resolved", async () =>
      (await app.gopy.store.pendingKeyIntents()).length === 0 ? true : null,
    );
  });

  it("retires a key with the documented command, and never adds a retired key back", async () => {
    const env = testEnv(chain);
    const config = loadConfig(env);
    const app = await start(config);
    const key = await servedKey(app);
    const x = ((await app.inject({ method: "GET", url: "/api/keys" })).json() as { keys: { x: string }[] })
      .keys[0]!.x;
    await waitFor("the receipt key on chain", async () => ((await record(key)).addedBlock > 0 ? true : null));
    await app.close();
    apps.splice(0);

    // npm run receipt-key -- retire <x>, with the service's environment
    const command = (...args: string[]) =>
      run(process.execPath, [join(ROOT, "scripts/receipt-key.ts"), ...args], {
        env: { ...process.env, ...env },
      });
    const retiring = await command("retire", x);
    expect(retiring.code, retiring.stderr).to.equal(0);
    const retired = await record(key);
    expect(retired.retiredBlock).to.be.greaterThan(0);
    expect(JSON.parse(retiring.stdout)).to.include({ publicKey: key, retiredBlock: retired.retiredBlock });
    // retiring twice changes nothing; a key never added cannot be retired; a malformed key is refused
    expect((await command("retire", key)).code).to.equal(0);
    expect(await record(key)).to.deep.equal(retired);
    const never = await command("retire", `0x${"ab".repeat(32)}`);
    expect(never.code).to.equal(1);
    expect(never.stderr).to.match(/never added to the registry/);
    const malformed = await command("show", "0x1234");
    expect(malformed.code).to.equal(64);
    expect(malformed.stderr).to.match(/key/);
    expect(JSON.parse((await command("show", x)).stdout).state).to.match(/retired in block/);

    const again = await start(config);
    await again.gopy.anchorer!.round(true);
    expect(await record(key)).to.deep.equal(retired);
    expect(await addedEvents(key)).to.have.length(1);
  });

  describe("two instances on one PostgreSQL database", () => {
    if (!pgUrl) {
      missing("PostgreSQL", POSTGRES_HOW);
      return;
    }
    const schema = `gopy_keys_${process.pid}_${Date.now() % 1_000_000}`;
    after(() => dropSchema(pgUrl, schema));

    it("starting together, they add the key once", async () => {
      const config = loadConfig(testEnv(chain, { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema }));
      // the schema is migrated once, then both start at the same time
      await (await openStore(config)).close();
      const before = await sent();
      const [a, b] = await Promise.all([start(config), start(config)]);
      const key = await servedKey(a!);
      expect(await servedKey(b!)).to.equal(key);
      await waitFor("the receipt key on chain", async () =>
        (await record(key)).addedBlock > 0 ? true : null,
      );
      await Promise.all([a!.gopy.anchorer!.round(true), b!.gopy.anchorer!.round(true)]);
      expect(await addedEvents(key)).to.have.length(1);
      // one transaction: the second instance found the first one's intent (or the key) under the operator lock
      expect(await sent()).to.equal(before + 1);
      expect(await a!.gopy.store.pendingKeyIntents()).to.deep.equal([]);
    });
  });
});
