/**
 * End to end over real HTTP on a real local Hardhat node: many citizens give opinions (some replace one), everything
 * anchors, every receipt's inclusion proof verifies against the head read from the contract, every anchored counted
 * root is the counted map of its head; closing publishes the tally on chain.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { createPublicClient, http } from "viem";
import { RegistryReader } from "../../chain/reader.ts";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import {
  bytesToHex,
  type Receipt,
  type TallyDocument,
  tallyHash,
  verifyInclusion,
} from "../../protocol/index.ts";
import { advanceChainTime, devAddress, devKey } from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { type RefLeaf, refHash, refKey } from "../protocol/counted-reference.ts";
import { waitFor } from "../support/http.ts";
import type { TestChain } from "./helpers.ts";
import { devToken, startTestChain, testApp, testChain, testConfig } from "./helpers.ts";
import { callJson, DRAFT, postConsultation } from "./requests.ts";

describe("end to end on a local Hardhat node (HTTP)", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let app: FastifyInstance;
  let base: string;
  // Closing time comes by moving the service's clock and the chain's together (this file's own chain).
  const clock = new OffsetClock();

  before(async () => {
    chain = await startTestChain();
    app = await testApp(testConfig(chain, { ANCHOR_INTERVAL: "300ms", RATE_LIMIT_MAX: "100" }), { clock });
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await app?.close();
    await chain?.node.stop();
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    callJson(base, method, path, token, body);

  it("anchors every opinion; each receipt verifies against the contract's head; the tally lands on chain", async () => {
    const agency = await devToken(app, "officer-e2e", "agency", "bo-tu-phap");
    const now = Math.floor(clock.now() / 1000);
    const closesAt = now + 3600;
    const open = await call("POST", "/api/consultations", agency, { ...DRAFT, opensAt: now - 100, closesAt });
    expect(open.status, JSON.stringify(open.body)).to.equal(201);
    const id = open.body.id as number;

    const citizens = 80;
    const tokens = await Promise.all(
      Array.from({ length: citizens }, (_, i) => devToken(app, `e2e-citizen-${i}`)),
    );
    const stances = ["agree", "disagree", "neutral"] as const;
    const receipts: Receipt[] = [];
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(
        tokens.map((t, i) =>
          call("POST", `/api/consultations/${id}/opinions`, t, {
            section: DRAFT.sections[(i + round) % 3]!.id,
            stance: stances[(i * 7 + round) % 3],
            text: `Ý kiến số ${round}-${i} 🇻🇳`,
          }),
        ),
      );
      for (const r of rs) {
        expect(r.status, JSON.stringify(r.body)).to.equal(201);
        receipts.push(r.body as Receipt);
      }
    }
    // ten citizens change their mind on their first section: the later opinion replaces the earlier one
    for (let i = 0; i < 10; i++) {
      const r = await call("POST", `/api/consultations/${id}/opinions`, tokens[i], {
        section: DRAFT.sections[i % 3]!.id,
        stance: "neutral",
        text: `Tôi đổi ý ${i}`,
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      receipts.push(r.body as Receipt);
    }
    const indices = new Set(receipts.map((r) => r.leafIndex));
    expect(indices.size).to.equal(receipts.length);

    const pub = createPublicClient({ transport: http(chain.node.url) });
    const readHead = async () => {
      const [treeSize, rootHash] = await pub.readContract({
        address: chain.registry,
        abi: consultationRegistryAbi,
        functionName: "logHead",
        args: [BigInt(id)],
      });
      return { treeSize: Number(treeSize), rootHash };
    };
    const head = await waitFor("everything anchored", async () => {
      const h = await readHead();
      return h.treeSize === receipts.length ? h : null;
    });
    // every anchored head carries the counted map of its entries: the latest opinion per (author, section),
    // computed here by the naive reference from the receipts alone
    const countedRootOf = (size: number) => {
      const latest = new Map<string, RefLeaf>();
      for (const r of [...receipts].sort((a, b) => a.leafIndex - b.leafIndex)) {
        if (r.leafIndex >= size) continue;
        const entry = JSON.parse(r.entry) as { author: string; section: string };
        const key = refKey(entry.author, entry.section);
        latest.set(bytesToHex(key), {
          key,
          leafIndex: r.leafIndex,
          leafHash: Buffer.from(r.leafHash.slice(2), "hex"),
        });
      }
      return bytesToHex(refHash([...latest.values()]));
    };
    const anchored = await new RegistryReader({
      registry: chain.registry,
      rpcUrls: [chain.node.url],
    }).anchors(id);
    expect(anchored.length).to.be.greaterThan(0);
    for (const head of anchored) {
      expect(head.countedRoot, `counted root at ${head.treeSize}`).to.equal(countedRootOf(head.treeSize));
    }
    const countedOnChain = await pub.readContract({
      address: chain.registry,
      abi: consultationRegistryAbi,
      functionName: "countedRoot",
      args: [BigInt(id)],
    });
    expect(countedOnChain).to.equal(countedRootOf(receipts.length));
    // the replacements changed the map: it is not the map of every entry taken as its own key
    expect(countedOnChain).to.not.equal(
      bytesToHex(
        refHash(
          receipts.map((r) => ({
            key: Buffer.from(r.leafHash.slice(2), "hex"),
            leafIndex: r.leafIndex,
            leafHash: Buffer.from(r.leafHash.slice(2), "hex"),
          })),
        ),
      ),
    );

    const svcHead = await call("GET", `/api/consultations/${id}/log/head`);
    expect(svcHead.body.rootHash).to.equal(head.rootHash);
    expect(svcHead.body.anchored).to.include({ treeSize: head.treeSize, rootHash: head.rootHash });

    for (const r of receipts) {
      const p = await call(
        "GET",
        `/api/consultations/${id}/log/proof?leafHash=${r.leafHash}&treeSize=${head.treeSize}`,
      );
      expect(p.status).to.equal(200);
      expect(p.body.leafIndex).to.equal(r.leafIndex);
      expect(verifyInclusion(r.leafHash, r.leafIndex, head.treeSize, p.body.proof, head.rootHash)).to.equal(
        true,
      );
    }
    // and the contract agrees, for a sample
    for (const r of receipts.slice(0, 5)) {
      const p = await call(
        "GET",
        `/api/consultations/${id}/log/proof?leafHash=${r.leafHash}&treeSize=${head.treeSize}`,
      );
      const ok = await pub.readContract({
        address: chain.registry,
        abi: consultationRegistryAbi,
        functionName: "verifyInclusion",
        args: [BigInt(id), r.leafHash, BigInt(r.leafIndex), p.body.proof],
      });
      expect(ok).to.equal(true);
    }
    const health = await call("GET", "/api/health");
    expect(health.body).to.include({ ok: true, overdue: 0 });

    // close after closesAt: final head anchored, tally published on chain
    // Tokens are dated by the provider's clock and checked against the service's: valid for 12 h, an hour on is fine.
    const other = await devToken(app, "officer-b", "agency", "bo-y-te");
    const early = await call("POST", `/api/consultations/${id}/close`, agency);
    expect(early.status, JSON.stringify(early.body)).to.equal(409);
    await advanceChainTime(chain.node.url, 3601);
    clock.offset += 3601_000;
    const late = await call("POST", `/api/consultations/${id}/opinions`, tokens[0], {
      section: "dieu-1",
      stance: "agree",
    });
    expect(late.status).to.equal(409);
    expect((await call("POST", `/api/consultations/${id}/close`, other)).status).to.equal(403);
    const citizenClose = await call("POST", `/api/consultations/${id}/close`, tokens[0]);
    expect(citizenClose.status).to.equal(403);
    const closed = await call("POST", `/api/consultations/${id}/close`, agency);
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200);
    const doc = closed.body.document as TallyDocument;
    expect(closed.body.tallyHash).to.equal(tallyHash(doc));
    expect(doc.treeSize).to.equal(receipts.length);
    const latestPerAuthorSection = 3 * citizens; // each citizen gave one opinion per section
    const total = doc.totals.total;
    expect(total.agree + total.disagree + total.neutral).to.equal(latestPerAuthorSection);
    const onChain = await pub.readContract({
      address: chain.registry,
      abi: consultationRegistryAbi,
      functionName: "consultation",
      args: [BigInt(id)],
    });
    expect(onChain.tallyHash).to.equal(closed.body.tallyHash);
    expect(onChain.tallyURI).to.match(new RegExp(`/api/consultations/${id}/tally$`));
    const tally = await call("GET", `/api/consultations/${id}/tally`);
    expect(tally.body).to.deep.equal(closed.body);
    const again = await call("POST", `/api/consultations/${id}/close`, agency);
    expect(again.body).to.deep.equal(closed.body);
    const list = await call("GET", "/api/consultations");
    expect(list.body.consultations.find((c: { id: number }) => c.id === id).status).to.equal("tallied");
  });
});

describe("a call the registry refuses (HTTP)", function () {
  this.timeout(60_000);
  let app: FastifyInstance;

  before(async () => {
    const chain = await testChain();
    // an agency configured in the service whose key the registry never made an operator of it
    const agencies = {
      ...chain.agencies,
      "bo-khong-dang-ky": { address: devAddress(5), operatorKey: devKey(6) },
    };
    app = await testApp(testConfig(chain, { AGENCIES: JSON.stringify(agencies) }));
  });
  after(async () => {
    await app?.close();
  });

  it("answers 409 chain_refused with the contract's error name, not 503 (the chain answered)", async () => {
    const token = await devToken(app, "officer-unregistered", "agency", "bo-khong-dang-ky");
    const now = Math.floor(Date.now() / 1000);
    const r = await postConsultation(app, token, { ...DRAFT, opensAt: now, closesAt: now + 3600 });
    expect(r.statusCode, r.body).to.equal(409);
    expect(r.json()).to.deep.equal({
      error: "chain_refused",
      message: "the registry refused the call: NotAgencyOrOperator",
    });
  });
});
