/**
 * Crash safety: the service runs as a child process and is SIGKILLed during ingest and during anchoring, several
 * times. After restarts, no acknowledged opinion is missing, none is duplicated, and the log matches the chain.
 */
import { expect } from "chai";
import { createPublicClient, type Hex, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { MerkleLog, type Receipt } from "../../protocol/index.ts";
import type { Store } from "../../server/store/index.ts";
import { testRandom } from "../support/random.ts";
import type { ChildRig, Service } from "./helpers.ts";
import { kill, rpc, startChildRig, startService, storeBackends } from "./helpers.ts";
import { DRAFT } from "./requests.ts";

const random = testRandom("crash");

const backends = storeBackends((backend) => `crash safety (SIGKILL of the service process, ${backend})`);

for (const backend of backends) {
  describe(`crash safety (SIGKILL of the service process, ${backend})`, function () {
    this.timeout(300_000);
    let rig: ChildRig;
    let id: number;
    let svc: Service | null = null;
    const openStore = (): Store => rig.openStore();

    before(async () => {
      rig = await startChildRig(backend, "crash", { RATE_LIMIT_MAX: "100000" });
    });
    after(async () => {
      if (svc) await kill(svc);
      await rig?.close();
    });

    const token = async (base: string, sub: string, role = "citizen", agency?: string) => {
      const r = await fetch(`${base}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(agency ? { sub, role, agency } : { sub, role }),
      });
      return ((await r.json()) as { token: string }).token;
    };

    /** key -> acknowledged receipt */
    const acknowledged = new Map<string, Receipt>();
    const unacknowledged = new Map<string, { sub: string; section: string }>();

    async function post(base: string, sub: string, key: string, section: string): Promise<boolean> {
      try {
        const t = await token(base, sub);
        const r = await fetch(`${base}/api/consultations/${id}/opinions`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${t}`,
            "content-type": "application/json",
            "idempotency-key": key,
          },
          body: JSON.stringify({ section, stance: "agree", text: `crash ${key}` }),
        });
        if (r.status !== 201) return false;
        acknowledged.set(key, (await r.json()) as Receipt);
        unacknowledged.delete(key);
        return true;
      } catch {
        return false;
      }
    }

    it("loses and duplicates nothing acknowledged across SIGKILLs during ingest", async () => {
      svc = await startService(rig.env);
      const agency = await token(svc.base, "officer", "agency", "bo-tu-phap");
      const now = Math.floor(Date.now() / 1000);
      const open = await fetch(`${svc.base}/api/consultations`, {
        method: "POST",
        headers: { authorization: `Bearer ${agency}`, "content-type": "application/json" },
        body: JSON.stringify({ ...DRAFT, opensAt: now, closesAt: now + 3600 }),
      });
      expect(open.status).to.equal(201);
      id = ((await open.json()) as { id: number }).id;

      let n = 0;
      for (let round = 0; round < 3; round++) {
        const base = svc.base;
        let stop = false;
        const workers = Array.from({ length: 20 }, async (_, w) => {
          while (!stop) {
            const key = `k-${round}-${w}-${n++}`;
            const sub = `crash-${w}-${round}`;
            unacknowledged.set(key, { sub, section: DRAFT.sections[n % 3]!.id });
            if (!(await post(base, sub, key, DRAFT.sections[n % 3]!.id))) break;
          }
        });
        await new Promise((r) => setTimeout(r, 400 + random() * 600));
        await kill(svc);
        stop = true;
        await Promise.all(workers);
        svc = await startService(rig.env);
        // retry whatever was not acknowledged, with the same idempotency keys
        for (const [key, v] of [...unacknowledged]) await post(svc.base, v.sub, key, v.section);
      }
      expect(acknowledged.size).to.be.greaterThan(20);
      expect(unacknowledged.size).to.equal(0);

      // every acknowledged receipt is in the log at its index, exactly once
      const head = (await (await fetch(`${svc.base}/api/consultations/${id}/log/head`)).json()) as {
        treeSize: number;
      };
      const leaves: { index: number; leaf: string; leafHash: string }[] = [];
      for (let at = 0; at < head.treeSize; at += 1000) {
        const r = await fetch(`${svc.base}/api/consultations/${id}/log/entries?start=${at}&end=${at + 1000}`);
        leaves.push(...((await r.json()) as { entries: typeof leaves }).entries);
      }
      expect(leaves.length).to.equal(head.treeSize);
      for (const rc of acknowledged.values()) {
        expect(leaves[rc.leafIndex]?.leafHash).to.equal(rc.leafHash);
        expect(leaves[rc.leafIndex]?.leaf).to.equal(rc.entry);
      }
      const texts = new Map<string, number>();
      for (const l of leaves) texts.set(l.leafHash, (texts.get(l.leafHash) ?? 0) + 1);
      expect([...texts.values()].every((c) => c === 1)).to.equal(true);
      // entries that were committed but never acknowledged (killed before the reply) may exist; keys never repeat:
      const receipts = new Set([...acknowledged.values()].map((r) => r.leafIndex));
      expect(receipts.size).to.equal(acknowledged.size);
    });

    it("reconciles anchoring after SIGKILLs mid-transaction (mined while down; dropped and re-sent)", async () => {
      const pub = createPublicClient({ transport: http(rig.node.url) });
      const chainHead = async () => {
        const [treeSize, rootHash] = await pub.readContract({
          address: rig.registry,
          abi: consultationRegistryAbi,
          functionName: "logHead",
          args: [BigInt(id)],
        });
        return { treeSize: Number(treeSize), rootHash };
      };
      const pendingIntent = async () => {
        const s = openStore();
        try {
          return (await s.pendingIntents(id))[0] ?? null;
        } finally {
          await s.close();
        }
      };
      const waitPending = async () => {
        for (let i = 0; i < 300; i++) {
          const p = await pendingIntent();
          if (p) return p;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error("no pending anchoring intent");
      };

      for (const mode of ["mined-while-down", "dropped"] as const) {
        await rpc(rig.node.url, "evm_setAutomine", [false]);
        // new entries so there is something to anchor
        for (let i = 0; i < 5; i++) await post(svc!.base, `anchor-${mode}-${i}`, `a-${mode}-${i}`, "dieu-1");
        const intent = await waitPending();
        await kill(svc!);
        if (mode === "mined-while-down") {
          await rpc(rig.node.url, "evm_mine");
        } else {
          const dropped = await rpc(rig.node.url, "hardhat_dropTransaction", [intent.txHash]);
          expect(dropped).to.equal(true);
        }
        await rpc(rig.node.url, "evm_setAutomine", [true]);
        const before = await chainHead();
        if (mode === "dropped") expect(before.treeSize).to.be.lessThan(intent.treeSize);
        svc = await startService(rig.env);
        // the intent is resolved: mined (recorded) or re-sent (same bytes) and mined
        for (let i = 0; i < 300; i++) {
          const s = openStore();
          const last = await s.lastAnchor(id);
          await s.close();
          if (last && last.treeSize >= intent.treeSize) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const s = openStore();
        const last = await s.lastAnchor(id);
        await s.close();
        expect(last?.treeSize).to.be.at.least(intent.treeSize);
        // the transaction signed before the crash is the one that landed (mined while down, or re-sent as is)
        expect((await pub.getTransactionReceipt({ hash: intent.txHash })).status).to.equal("success");
      }

      // finally the log matches the chain
      let head: { treeSize: number; rootHash: Hex } = await chainHead();
      const logHead = async () =>
        (await (await fetch(`${svc!.base}/api/consultations/${id}/log/head`)).json()) as {
          treeSize: number;
          rootHash: Hex;
        };
      for (let i = 0; i < 300; i++) {
        head = await chainHead();
        if (head.treeSize === (await logHead()).treeSize) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const mine = await logHead();
      expect(head).to.deep.equal({ treeSize: mine.treeSize, rootHash: mine.rootHash });
      const s = openStore();
      const log = await MerkleLog.open(s.treeStore(id), mine.treeSize);
      expect(await log.root()).to.equal(head.rootHash);
      expect(await s.pendingIntents()).to.deep.equal([]);
      await s.close();
    });
  });
}
