/**
 * No orphan consultations: the service is SIGKILLed after it broadcast openConsultation / reviseDraft and before it
 * stored the result (the chain does not mine while the service waits). Whether the transaction is mined while the
 * service is down or dropped from the pool, after a restart the chain and the database agree: the consultation (or
 * draft version) the chain has is served, with the id and version the chain assigned, and nothing is opened twice.
 */
import { expect } from "chai";
import type { Hex } from "viem";
import { createPublicClient, createWalletClient, http, parseEventLogs, parseTransaction } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { hardhat } from "viem/chains";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { draftHash } from "../../protocol/index.ts";
import type { DraftIntent, Store } from "../../server/store/index.ts";
import type { ChildRig, Service } from "./helpers.ts";
import { kill, rpc, startChildRig, startService, storeBackends } from "./helpers.ts";
import { DRAFT } from "./requests.ts";

const backends = storeBackends(
  (backend) => `no orphan consultations (SIGKILL between broadcast and store write, ${backend})`,
);

for (const backend of backends) {
  describe(`no orphan consultations (SIGKILL between broadcast and store write, ${backend})`, function () {
    this.timeout(180_000);
    let rig: ChildRig;
    let svc: Service | null = null;
    const openStore = (): Store => rig.openStore();
    const withStore = async <T>(fn: (s: Store) => Promise<T>): Promise<T> => {
      const s = openStore();
      try {
        await s.migrate();
        return await fn(s);
      } finally {
        await s.close();
      }
    };

    before(async () => {
      rig = await startChildRig(backend, "orphan");
    });
    afterEach(async () => {
      await rpc(rig.node.url, "evm_setAutomine", [true]).catch(() => {});
    });
    after(async () => {
      if (svc) await kill(svc);
      await rig?.close();
    });

    const pub = () => createPublicClient({ transport: http(rig.node.url) });
    const count = async () =>
      Number(
        await pub().readContract({
          address: rig.registry,
          abi: consultationRegistryAbi,
          functionName: "consultationCount",
        }),
      );
    const agencyToken = async (base: string) => {
      const r = await fetch(`${base}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: "can-bo-orphan", role: "agency", agency: "bo-tu-phap" }),
      });
      return ((await r.json()) as { token: string }).token;
    };

    /**
     * Sends the request with mining off, waits for the service's intent, SIGKILLs the service (the request never
     * completes), then mines the block or drops the transaction.
     */
    async function crashAfterBroadcast(
      send: (base: string, token: string) => Promise<Response>,
      then: "mine" | "drop",
    ): Promise<DraftIntent> {
      svc = await startService(rig.env);
      const token = await agencyToken(svc.base);
      await rpc(rig.node.url, "evm_setAutomine", [false]);
      const answered = send(svc.base, token).then(
        (r) => r.status,
        () => null,
      );
      let intent: DraftIntent | undefined;
      for (let i = 0; i < 300 && !intent; i++) {
        intent = (await withStore((s) => s.pendingDraftIntents()))[0];
        if (!intent) await new Promise((r) => setTimeout(r, 100));
      }
      if (!intent) throw new Error("no pending draft intent");
      // broadcast happens right after the intent is written: wait until the node has it
      for (let i = 0; i < 100; i++) {
        const known = await rpc(rig.node.url, "eth_getTransactionByHash", [intent.txHash]);
        if (known) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await kill(svc);
      expect(await answered).to.equal(null); // the request died with the service: never acknowledged
      if (then === "mine") await rpc(rig.node.url, "evm_mine");
      else expect(await rpc(rig.node.url, "hardhat_dropTransaction", [intent.txHash])).to.equal(true);
      await rpc(rig.node.url, "evm_setAutomine", [true]);
      return intent;
    }

    async function waitFor<T>(fn: () => Promise<T | null>): Promise<T> {
      for (let i = 0; i < 300; i++) {
        const v = await fn();
        if (v !== null) return v;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("timed out");
    }

    const detail = (base: string, id: number) =>
      waitFor(async () => {
        const r = await fetch(`${base}/api/consultations/${id}`);
        return r.status === 200
          ? ((await r.json()) as {
              id: number;
              agency: string;
              title: string;
              draft: { version: number; hash: Hex };
            })
          : null;
      });

    const openBody = (title: string) => {
      const now = Math.floor(Date.now() / 1000);
      return JSON.stringify({ ...DRAFT, title, opensAt: now, closesAt: now + 3600 });
    };
    const open = (title: string) => (base: string, token: string) =>
      fetch(`${base}/api/consultations`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: openBody(title),
      });

    it("stores a consultation whose opening was mined while the service was down", async () => {
      const before = await count();
      const intent = await crashAfterBroadcast(open("Mined while down"), "mine");
      expect(await count()).to.equal(before + 1);
      const receipt = await pub().getTransactionReceipt({ hash: intent.txHash });
      const [ev] = parseEventLogs({
        abi: consultationRegistryAbi,
        eventName: "ConsultationOpened",
        logs: receipt.logs,
      });
      const id = Number(ev!.args.id);
      // the gap this closes: on chain, not in the database
      expect(await withStore((s) => s.getConsultation(id))).to.equal(null);

      svc = await startService(rig.env);
      const c = await detail(svc.base, id);
      expect(c.title).to.equal("Mined while down");
      expect(c.agency).to.equal("bo-tu-phap");
      expect(c.draft.version).to.equal(1);
      expect(c.draft.hash).to.equal(ev!.args.draftHash);
      expect(c.draft.hash).to.equal(draftHash({ ...DRAFT, title: "Mined while down" }));
      expect(await withStore((s) => s.pendingDraftIntents())).to.deep.equal([]);
      await kill(svc);
    });

    it("re-sends an opening dropped from the pool while the service was down, and opens it once", async () => {
      const before = await count();
      const intent = await crashAfterBroadcast(open("Dropped while down"), "drop");
      expect(await count()).to.equal(before);
      svc = await startService(rig.env);
      const id = before + 1;
      const c = await detail(svc.base, id);
      expect(c.title).to.equal("Dropped while down");
      const d = await withStore((s) => s.getDraft(id));
      expect(d?.txHash).to.equal(intent.txHash); // the very bytes signed before the crash
      expect(await count()).to.equal(before + 1);
      expect(await withStore((s) => s.pendingDraftIntents())).to.deep.equal([]);
      await kill(svc);
    });

    it("stores a draft revision mined while the service was down", async () => {
      const id = await count(); // the consultation of the previous test
      const revised = { ...DRAFT, title: "Revised while down" };
      await crashAfterBroadcast(
        (base, token) =>
          fetch(`${base}/api/consultations/${id}/draft`, {
            method: "PUT",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify(revised),
          }),
        "mine",
      );
      expect((await withStore((s) => s.getDraft(id)))?.version).to.equal(1);
      svc = await startService(rig.env);
      const c = await waitFor(async () => {
        const r = (await detail(svc!.base, id)) ?? null;
        return r && r.draft.version === 2 ? r : null;
      });
      expect(c.title).to.equal("Revised while down");
      expect(c.draft.hash).to.equal(draftHash(revised));
      const onChain = await pub().readContract({
        address: rig.registry,
        abi: consultationRegistryAbi,
        functionName: "consultation",
        args: [BigInt(id)],
      });
      expect(onChain.draftHash).to.equal(c.draft.hash);
      await kill(svc);
    });

    /** Resolves once the service's output mentions `text` (what it logs about a transaction, say). */
    const said = (service: Service, text: string) =>
      new Promise<void>((resolve) => {
        let out = "";
        const listen = (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes(text)) {
            service.child.stdout?.off("data", listen);
            service.child.stderr?.off("data", listen);
            resolve();
          }
        };
        service.child.stdout?.on("data", listen);
        service.child.stderr?.on("data", listen);
      });

    it("keeps a dropped opening pending while the node refuses it (operator out of funds), then opens it once", async () => {
      const before = await count();
      const intent = await crashAfterBroadcast(open("Refused for a while"), "drop");
      const operator = privateKeyToAccount(rig.operatorKey).address;
      const balance = await rpc(rig.node.url, "eth_getBalance", [operator, "latest"]);
      await rpc(rig.node.url, "hardhat_setBalance", [operator, "0x0"]);
      try {
        svc = await startService(rig.env);
        // reconciliation re-sends the very bytes, and the node refuses them: not a verdict on the transaction
        await said(svc, intent.txHash);
        const pending = await withStore((s) => s.pendingDraftIntents());
        expect(pending.map((i) => i.txHash)).to.deep.equal([intent.txHash]);
      } finally {
        await rpc(rig.node.url, "hardhat_setBalance", [operator, balance]);
      }
      const c = await detail(svc.base, before + 1);
      expect(c.title).to.equal("Refused for a while");
      expect((await withStore((s) => s.getDraft(before + 1)))?.txHash).to.equal(intent.txHash);
      expect(await count()).to.equal(before + 1);
      await kill(svc);
    });

    it("fails a dropped opening whose nonce another transaction took, and opens nothing", async () => {
      const before = await count();
      const intent = await crashAfterBroadcast(open("Nonce taken"), "drop");
      // the operator key sends something else with that nonce (mined at once)
      const account = privateKeyToAccount(rig.operatorKey);
      const wallet = createWalletClient({ account, chain: hardhat, transport: http(rig.node.url) });
      await wallet.sendTransaction({
        to: account.address,
        value: 0n,
        nonce: parseTransaction(intent.rawTx).nonce,
      });
      svc = await startService(rig.env);
      await waitFor(async () =>
        (await withStore((s) => s.pendingDraftIntents())).length === 0 ? true : null,
      );
      expect(await count()).to.equal(before);
      const list = (await (await fetch(`${svc.base}/api/consultations`)).json()) as {
        consultations: { title: string }[];
      };
      expect(list.consultations.map((c) => c.title)).to.not.include("Nonce taken");
      // the next opening signs afresh and succeeds
      const next = await open("After the taken nonce")(svc.base, await agencyToken(svc.base));
      expect(next.status).to.equal(201);
      expect(await count()).to.equal(before + 1);
      await kill(svc);
    });
  });
}
