/**
 * Several service instances on one PostgreSQL database: concurrent appends through both never interleave a log,
 * `replaces` stays a correct chain when one citizen's opinions race through both, and exactly one instance anchors
 * (advisory lock).
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { createPublicClient, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { decodeEntry, type OpinionEntry, type Receipt, verifyInclusion } from "../../protocol/index.ts";
import { loadConfig } from "../../server/config.ts";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { devToken, dropSchema, PG_URL, tempSchema, testApp, testChain, testEnv } from "./helpers.ts";
import { openConsultation } from "./requests.ts";

describe("PostgreSQL: two service instances", function () {
  this.timeout(120_000);
  const pgUrl = PG_URL;
  if (!pgUrl) return missing("PostgreSQL", POSTGRES_HOW);
  const schema = tempSchema("multi");
  let a: FastifyInstance;
  let b: FastifyInstance;

  after(async () => {
    await a?.close();
    await b?.close();
    await dropSchema(pgUrl, schema);
  });

  it("appends from both without interleaving, and one of them anchors everything", async () => {
    const chain = await testChain();
    const env = testEnv(chain, { DATABASE_URL: pgUrl, DATABASE_SCHEMA: schema, ANCHOR_INTERVAL: "200ms" });
    const config = loadConfig(env);
    a = await testApp(config);
    b = await testApp(config); // same secrets, same database
    const agency = await devToken(a, "officer-multi", "agency", "bo-tu-phap");
    const id = await openConsultation(a, agency);
    const n = 60;
    const rs = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const app = i % 2 === 0 ? a : b;
        return app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions`,
          headers: { authorization: `Bearer ${await devToken(app, `multi-${i}`)}` },
          payload: { section: "dieu-1", stance: "agree", text: `instance ${i % 2}` },
        });
      }),
    );
    for (const r of rs) expect(r.statusCode, r.body).to.equal(201);
    const receipts = rs.map((r) => r.json() as Receipt);
    expect(new Set(receipts.map((r) => r.leafIndex)).size).to.equal(n);

    const pub = createPublicClient({ transport: http(chain.node.url) });
    let size = 0;
    let root = "";
    for (let i = 0; i < 200 && size < n; i++) {
      const [s, r] = await pub.readContract({
        address: chain.registry,
        abi: consultationRegistryAbi,
        functionName: "logHead",
        args: [BigInt(id)],
      });
      size = Number(s);
      root = r;
      if (size < n) await new Promise((res) => setTimeout(res, 100));
    }
    expect(size).to.equal(n);
    for (const r of receipts) {
      const app = r.leafIndex % 2 === 0 ? b : a;
      const p = (
        await app.inject({
          method: "GET",
          url: `/api/consultations/${id}/log/proof?leafHash=${r.leafHash}&treeSize=${n}`,
        })
      ).json();
      expect(verifyInclusion(r.leafHash, r.leafIndex, n, p.proof, root as `0x${string}`)).to.equal(true);
    }
    // the anchoring lock is held by exactly one of the two stores
    const held = [await a.gopy.store.tryAnchorLock(), await b.gopy.store.tryAnchorLock()];
    expect(held.filter(Boolean)).to.have.length(1);
  });

  it("chains `replaces` correctly when one citizen's opinions race through both instances", async () => {
    const agency = await devToken(a, "officer-replaces", "agency", "bo-tu-phap");
    const id = await openConsultation(a, agency);
    const tokens = [await devToken(a, "one-citizen"), await devToken(b, "one-citizen")];
    const n = 40;
    const rs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        [a, b][i % 2]!.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions`,
          headers: { authorization: `Bearer ${tokens[i % 2]}` },
          payload: { section: "dieu-2", stance: i % 3 === 0 ? "disagree" : "agree", text: `lần ${i}` },
        }),
      ),
    );
    for (const r of rs) expect(r.statusCode, r.body).to.equal(201);
    const entries = (
      await a.inject({ method: "GET", url: `/api/consultations/${id}/log/entries?start=0&end=${n}` })
    ).json().entries as { index: number; leaf: string }[];
    expect(entries).to.have.length(n);
    // every opinion replaces exactly the one before it in the log (the same author, the same section)
    let previous: number | null = null;
    for (const e of entries) {
      const entry = decodeEntry(e.leaf) as OpinionEntry;
      expect(entry.replaces, `entry ${e.index}`).to.equal(previous);
      previous = e.index;
    }
  });
});
