/** Rate limit per identity (never per IP), the open window, and anchoring on BATCH_MAX before the interval. */
import { expect } from "chai";
import { createPublicClient, http } from "viem";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import {
  type PublicJwk,
  type ReceiptV2,
  receiptKeyFromSeed,
  signReceipt,
  verifyReceipt,
} from "../../protocol/index.ts";
import { ManualClock, OffsetClock } from "../../server/clock.ts";
import { devToken, testApp, testChain, testConfig } from "./helpers.ts";
import { DRAFT, giveOpinion, openConsultation, postConsultation } from "./requests.ts";

describe("limits and schedules", function () {
  this.timeout(120_000);

  it("rate-limits per identity: one citizen is throttled, another on the same address is not", async () => {
    const chain = await testChain();
    const app = await testApp(testConfig(chain, { RATE_LIMIT_MAX: "3", RATE_LIMIT_WINDOW: "60s" }), {
      startAnchorer: false,
    });
    try {
      const agency = await devToken(app, "officer-rl", "agency", "bo-tu-phap");
      const id = await openConsultation(app, agency);
      const a = await devToken(app, "rl-a");
      const b = await devToken(app, "rl-b");
      const post = (t: string) =>
        app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions`,
          headers: { authorization: `Bearer ${t}` },
          payload: { section: "dieu-1", stance: "agree" },
          remoteAddress: "100.64.0.1", // carrier-grade NAT: everyone shares it
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(a)).statusCode);
      expect(statuses).to.deep.equal([201, 201, 201, 429]);
      const limited = await post(a);
      expect(limited.json()).to.have.keys("error", "message");
      expect((await post(b)).statusCode).to.equal(201);
    } finally {
      await app.close();
    }
  });

  it("keeps each app's rate limit to itself (no limiter hooks shared between apps or routes)", async () => {
    const chain = await testChain();
    const strict = await testApp(testConfig(chain, { RATE_LIMIT_MAX: "2", RATE_LIMIT_WINDOW: "60s" }), {
      startAnchorer: false,
    });
    const relaxed = await testApp(testConfig(chain, { RATE_LIMIT_MAX: "1000" }), { startAnchorer: false });
    try {
      const statuses: number[] = [];
      for (const app of [strict, relaxed]) {
        const id = await openConsultation(app, await devToken(app, "officer-iso", "agency", "bo-tu-phap"));
        const t = await devToken(app, "rl-iso");
        for (let i = 0; i < 4; i++) {
          const r = await giveOpinion(app, t, id, { section: "dieu-1", stance: "agree" });
          statuses.push(r.statusCode);
        }
      }
      // the strict app throttles its citizen after 2; the relaxed one, built later in the same process, does not
      expect(statuses).to.deep.equal([201, 201, 429, 429, 201, 201, 201, 201]);
    } finally {
      await strict.close();
      await relaxed.close();
    }
  });

  it("refuses opinions before opensAt with a clear 409", async () => {
    const chain = await testChain();
    const app = await testApp(testConfig(chain), { startAnchorer: false });
    try {
      const agency = await devToken(app, "officer-sched", "agency", "bo-tu-phap");
      const now = Math.floor(Date.now() / 1000);
      const r = await postConsultation(app, agency, { ...DRAFT, opensAt: now + 3600, closesAt: now + 7200 });
      expect(r.statusCode, r.body).to.equal(201);
      const id = r.json().id;
      const c = await app.inject({ method: "GET", url: `/api/consultations/${id}` });
      expect(c.json().status).to.equal("scheduled");
      const o = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions`,
        headers: { authorization: `Bearer ${await devToken(app, "early-bird")}` },
        payload: { section: "dieu-1", stance: "agree" },
      });
      expect(o.statusCode).to.equal(409);
      expect(o.json().message).to.match(/opens at/);
      const bad = await postConsultation(app, agency, { ...DRAFT, opensAt: now + 100, closesAt: now + 50 });
      expect(bad.statusCode).to.equal(400);
    } finally {
      await app.close();
    }
  });

  it("imports offline rows collected inside the consultation's window only: opensAt <= collectedAt < closesAt", async () => {
    const chain = await testChain();
    const clock = new OffsetClock();
    const app = await testApp(testConfig(chain), { startAnchorer: false, clock });
    try {
      const agency = await devToken(app, "officer-window", "agency", "bo-tu-phap");
      const id = await openConsultation(app, agency, 60);
      const { opensAt, closesAt } = (
        await app.inject({ method: "GET", url: `/api/consultations/${id}` })
      ).json();
      // closed now; what was collected on paper may still be imported until the tally
      clock.offset += 120_000;
      const importRows = (...collectedAt: (number | string)[]) =>
        app.inject({
          method: "POST",
          url: `/api/consultations/${id}/opinions/import`,
          headers: { authorization: `Bearer ${agency}`, "content-type": "text/csv" },
          payload: `section,stance,text,collectedAt,location\n${collectedAt.map((at) => `dieu-1,agree,x,${at},x`).join("\n")}\n`,
        });
      const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
      for (const outside of [opensAt - 1, iso(opensAt - 1), closesAt, iso(closesAt), closesAt + 30]) {
        const r = await importRows(opensAt, outside);
        expect(r.statusCode, `${outside}: ${r.body}`).to.equal(400);
        expect(r.json().message).to.match(/^line 3: collectedAt .*window/);
      }
      const inside = await importRows(
        opensAt,
        iso(opensAt),
        closesAt - 1,
        `${iso(closesAt - 1).slice(0, 19)}.999Z`,
      );
      expect(inside.statusCode, inside.body).to.equal(201);
      expect(inside.json().imported).to.equal(4);
    } finally {
      await app.close();
    }
  });

  it("anchors as soon as BATCH_MAX entries wait, long before ANCHOR_INTERVAL", async () => {
    const chain = await testChain();
    // Whether a round anchors depends on the injected clock and the entries waiting, never on how long
    // the test sleeps: each check runs one round of its own (after any the anchorer's timer started).
    const clock = new ManualClock(Date.now());
    const app = await testApp(testConfig(chain, { ANCHOR_INTERVAL: "1h", BATCH_MAX: "10" }), {
      clock,
      startAnchorer: false,
    });
    try {
      const agency = await devToken(app, "officer-batch", "agency", "bo-tu-phap");
      const id = await openConsultation(app, agency, 86_400);
      clock.set(Date.now()); // not before the opensAt just chosen from the real time
      // Tokens first: they are dated by the service's clock and checked against the real one.
      const tokens = await Promise.all(Array.from({ length: 13 }, (_, i) => devToken(app, `batch-${i}`)));
      const anchorer = app.gopy.anchorer!;
      const round = () => anchorer.exclusive(() => anchorer.round(false));
      const pub = createPublicClient({ transport: http(chain.node.url) });
      const chainSize = async () =>
        Number(
          (
            await pub.readContract({
              address: chain.registry,
              abi: consultationRegistryAbi,
              functionName: "logHead",
              args: [BigInt(id)],
            })
          )[0],
        );
      const give = async (from: number, count: number) => {
        for (let i = from; i < from + count; i++) {
          const r = await app.inject({
            method: "POST",
            url: `/api/consultations/${id}/opinions`,
            headers: { authorization: `Bearer ${tokens[i]}` },
            payload: { section: "dieu-2", stance: "neutral" },
          });
          expect(r.statusCode, r.body).to.equal(201);
        }
      };
      await give(0, 2);
      anchorer.start();
      await round();
      expect(await chainSize()).to.equal(2); // the first anchor of a consultation goes at once
      await give(2, 5);
      clock.advance(59 * 60_000);
      await round();
      expect(await chainSize()).to.equal(2); // 5 waiting < BATCH_MAX, 59 min < ANCHOR_INTERVAL: not yet
      await give(7, 5);
      await round();
      expect(await chainSize()).to.equal(12); // 10 waiting: anchored now
      await give(12, 1);
      clock.advance(60 * 60_000);
      await round();
      expect(await chainSize()).to.equal(13); // the interval passed: anchored, however few wait
    } finally {
      await app.close();
    }
  });

  it("keeps v1 receipts of a retired signing key verifiable through /api/keys", async () => {
    const chain = await testChain();
    const oldConfig = testConfig(chain);
    const oldApp = await testApp(oldConfig, { startAnchorer: false });
    let receipt: unknown;
    let oldX: string;
    try {
      const agency = await devToken(oldApp, "officer-keys", "agency", "bo-tu-phap");
      const id = await openConsultation(oldApp, agency);
      const r = await oldApp.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions`,
        headers: { authorization: `Bearer ${await devToken(oldApp, "key-citizen")}` },
        payload: { section: "dieu-1", stance: "agree", text: "trước khi đổi khóa" },
      });
      // the service issues v2 now; a v1 receipt of the same opinion, signed with the key it had then
      const { v: _v, proof: _p, ...fields } = r.json() as ReceiptV2;
      receipt = signReceipt(fields, receiptKeyFromSeed(oldConfig.receiptKeySeed));
      oldX = (await oldApp.inject({ method: "GET", url: "/api/keys" })).json().keys[0].x;
    } finally {
      await oldApp.close();
    }
    const newApp = await testApp(testConfig(chain, { RETIRED_RECEIPT_KEYS: oldX }), { startAnchorer: false });
    try {
      const keys = (await newApp.inject({ method: "GET", url: "/api/keys" })).json().keys as PublicJwk[];
      expect(keys).to.have.length(2);
      expect(keys[1]!.x).to.equal(oldX);
      expect(verifyReceipt(receipt, keys).valid).to.equal(true);
      expect(verifyReceipt(receipt, keys.slice(0, 1)).valid).to.equal(false);
    } finally {
      await newApp.close();
    }
  });
});
