/**
 * Public reading (issue 12 §3) through the routes, on a real SQLite file and PostgreSQL, with a real Hardhat node:
 * the listing of one section newest first with its filters, full-text search without diacritics, opaque cursors
 * (anything else is a 400), withheld texts shown by their reason, replaced opinions gone, campaigns grouped, stats
 * and the agency's choice of private counts. And the pieces: folding, SimHash, cursors.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { ed25519NoteKey } from "../../protocol/index.ts";
import { ManualClock } from "../../server/clock.ts";
import { Ingest } from "../../server/ingest.ts";
import {
  CAMPAIGN_MAX_DISTANCE,
  decodeCursor,
  encodeCursor,
  foldWords,
  hammingDistance,
  ReadingIndexer,
  simhash,
} from "../../server/reading.ts";
import { ReadingThread } from "../../server/reading-thread.ts";
import { SqliteStore } from "../../server/store/index.ts";
import { createBareConsultation } from "../support/readings.ts";
import {
  devToken,
  dropSchema,
  PG_URL,
  storeBackends,
  tempSchema,
  testApp,
  testChain,
  testConfig,
  tmpSqlite,
} from "./helpers.ts";
import { bearer, DRAFT, giveOpinion, importCsv, openFor, postConsultation, withhold } from "./requests.ts";

const CAMPAIGN_TEXT =
  "Chúng tôi đề nghị giữ nguyên quy định về thời hạn sử dụng đất nông nghiệp vì người dân cần ổn định lâu dài";

describe("reading: folding, SimHash, cursors", () => {
  it("folds Vietnamese: diacritics, đ and case", () => {
    expect(foldWords("Điều chỉnh, ĐẤT đai!")).to.deep.equal(["dieu", "chinh", "dat", "dai"]);
    expect(foldWords("dieu chinh")).to.deep.equal(foldWords("điều chỉnh"));
  });

  it("puts near-identical texts within the threshold and different ones far apart", () => {
    const a = simhash(foldWords(CAMPAIGN_TEXT))!;
    const b = simhash(foldWords(`${CAMPAIGN_TEXT}!`))!;
    const c = simhash(foldWords(CAMPAIGN_TEXT.replace("lâu dài", "lâu dài hơn")))!;
    const d = simhash(
      foldWords("Tôi không đồng ý với điều khoản này vì nó làm tăng chi phí thủ tục cho doanh nghiệp nhỏ"),
    )!;
    expect(hammingDistance(a, b)).to.equal(0);
    expect(hammingDistance(a, c)).to.be.at.most(CAMPAIGN_MAX_DISTANCE + 8);
    expect(hammingDistance(a, d)).to.be.greaterThan(CAMPAIGN_MAX_DISTANCE);
    expect(simhash(foldWords("Tôi đồng ý"))).to.equal(null);
  });

  /** A SQLite log with its indexer (told of each commit), and a way to commit one opinion. */
  async function indexedLog(timing: { quietMs: number; maxLagMs: number }) {
    const store = new SqliteStore(tmpSqlite());
    await store.migrate();
    await createBareConsultation(store, "dieu-1", "Dự thảo");
    const indexer = new ReadingIndexer({ store, log: { warn() {} }, ...timing });
    const ingest = new Ingest({
      store,
      clock: new ManualClock(Date.now()),
      checkpointKey: (id) => ed25519NoteKey(`test.example/logs/${id}`, new Uint8Array(32).fill(3)),
      maxAnchorDelayMs: 60_000,
      groupCommitMax: 64,
      onCommit: (id) => indexer.committed(id),
    });
    let committed = 0;
    const commit = () => {
      const k = ++committed;
      return ingest.submit(1, {
        kind: "opinion",
        draftVersion: 1,
        section: "dieu-1",
        stance: "agree",
        text: `ý kiến ${k}`,
        author: `0x${k.toString(16).padStart(64, "0")}`,
        channel: "online",
        collectedAt: null,
        subjectKey: `subject-${k}`,
        idempotencyKey: null,
      });
    };
    return {
      store,
      indexer,
      commit,
      committed: () => committed,
      async close() {
        await indexer.close();
        await store.close();
      },
    };
  }

  it("indexes after a quiet moment, and under commits that never pause, within its lag bound", async function () {
    this.timeout(30_000);
    const log = await indexedLog({ quietMs: 300, maxLagMs: 1_500 });
    try {
      await log.commit();
      await log.indexer.settled(); // the quiet moment came: the one opinion is listed
      expect(await log.store.readingProgress(1)).to.equal(1);
      // a commit every 20 ms for 4 s never leaves 300 ms of quiet: the bound makes the index follow all the same
      const until = Date.now() + 4_000;
      const progress: number[] = [];
      while (Date.now() < until) {
        await log.commit();
        progress.push(await log.store.readingProgress(1));
        await sleep(20);
      }
      expect(Math.max(...progress), "indexed while the commits went on").to.be.above(1);
      await log.indexer.settled();
      expect(await log.store.readingProgress(1)).to.equal(log.committed());
    } finally {
      await log.close();
    }
  });

  it("is not held back by readers: their pokes are not commits", async function () {
    this.timeout(30_000);
    // a lag bound far beyond the test: only a quiet moment after the commit can start the index
    const log = await indexedLog({ quietMs: 300, maxLagMs: 600_000 });
    try {
      await log.commit();
      // a reader every 20 ms (the listing, the stats) pokes the index; it is up to date soon all the same
      const until = Date.now() + 10_000;
      while ((await log.store.readingProgress(1)) < 1 && Date.now() < until) {
        log.indexer.poke(1);
        await sleep(20);
      }
      expect(await log.store.readingProgress(1)).to.equal(1);
    } finally {
      await log.close();
    }
  });

  it("accepts only its own cursors, for the same listing", () => {
    const secret = new Uint8Array(32).fill(7);
    const c = encodeCursor(secret, 1, "dieu-1", { stance: "agree" }, 41);
    expect(decodeCursor(secret, 1, "dieu-1", { stance: "agree" }, c)).to.equal(41);
    const refused = (cursor: string, filter = { stance: "agree" }, section = "dieu-1") => {
      expect(() => decodeCursor(secret, 1, section, filter, cursor)).to.throw("cursor");
    };
    refused(c.replace(/^[^.]+/, "1a"));
    refused(c, { stance: "disagree" });
    refused(c, { stance: "agree" }, "dieu-2");
    refused(`${c}x`);
    refused("garbage");
    refused(encodeCursor(new Uint8Array(32).fill(8), 1, "dieu-1", { stance: "agree" }, 41));
  });
});

// "sqlite" keeps the appends and the whole reading index in worker threads, each on a connection of its own
// (SQLITE_WRITER_THREAD, by default); "sqlite, in process" runs both on the event loop: the same listing,
// campaigns, search and counts
for (const backend of [...storeBackends((b) => `reading routes (${b})`), "sqlite, in process" as const]) {
  describe(`reading routes (${backend})`, function () {
    this.timeout(120_000);
    let app: FastifyInstance;
    let schema: string | null = null;
    let staff: string;
    let otherStaff: string;
    let id: number;
    /** leaf indices by name */
    const at: Record<string, number> = {};

    const get = (url: string, token?: string) =>
      app.inject({ method: "GET", url, headers: token ? bearer(token) : {} });
    const list = async (query: string) => {
      await app.gopy.reading.settled();
      const r = await get(`/api/consultations/${id}/sections/dieu-1/opinions${query}`);
      expect(r.statusCode, r.body).to.equal(200);
      return r.json() as {
        opinions: {
          leafIndex: number;
          text: string | null;
          withheldReason: string | null;
          campaign: number | null;
          stance: string;
          channel: string;
        }[];
        next: string | null;
      };
    };

    before(async () => {
      const chain = await testChain();
      schema = backend === "postgres" ? tempSchema("reading") : null;
      const extra: Record<string, string> = schema
        ? { DATABASE_URL: PG_URL!, DATABASE_SCHEMA: schema }
        : backend === "sqlite, in process"
          ? { SQLITE_WRITER_THREAD: "false" }
          : {};
      app = await testApp(testConfig(chain, extra));
      expect(app.gopy.reading instanceof ReadingThread).to.equal(backend === "sqlite");
      staff = await devToken(app, "staff-reading", "agency", "bo-tu-phap");
      otherStaff = await devToken(app, "staff-other", "agency", "bo-y-te");
      const opened = await postConsultation(app, staff, { ...DRAFT, ...openFor(3600), publicCounts: false });
      expect(opened.statusCode, opened.body).to.equal(201);
      id = (opened.json() as { id: number }).id;
      const say = async (name: string, who: string, stance: string, text: string, section = "dieu-1") => {
        const token = await devToken(app, who);
        const r = await giveOpinion(app, token, id, { section, stance, text });
        expect(r.statusCode, r.body).to.equal(201);
        at[name] = (r.json() as { leafIndex: number }).leafIndex;
      };
      await say("adjust", "c1", "agree", "Cần điều chỉnh phạm vi cho rõ hơn.");
      await say("old", "c2", "disagree", "Ý kiến cũ sẽ được thay thế");
      await say("campaign1", "c3", "disagree", CAMPAIGN_TEXT);
      await say("other-section", "c4", "agree", "Điều chỉnh ở điều 2", "dieu-2");
      await say("personal", "c5", "neutral", "Số điện thoại của tôi là 0901234567");
      await say("campaign2", "c6", "disagree", `${CAMPAIGN_TEXT}.`);
      await say("new", "c2", "agree", "Ý kiến mới thay cho ý kiến cũ");
      await say("campaign3", "c7", "disagree", CAMPAIGN_TEXT.toUpperCase());
      const w = await withhold(app, staff, id, at.personal!);
      expect(w.statusCode, w.body).to.equal(201);
      const imported = await importCsv(
        app,
        staff,
        id,
        `section,stance,text,collectedAt,location\ndieu-1,neutral,Ý kiến tại hội nghị,${Math.floor(Date.now() / 1000)},Hà Nội\n`,
      );
      expect(imported.statusCode, imported.body).to.equal(201);
      at.offline = (imported.json() as { leafIndices: number[] }).leafIndices[0]!;
    });

    after(async () => {
      await app?.close();
      if (schema) await dropSchema(PG_URL!, schema);
    });

    it("lists the section's current opinions newest first; replaced ones gone, withheld ones by their reason", async () => {
      const page = await list("");
      expect(page.opinions.map((o) => o.leafIndex)).to.deep.equal(
        [at.offline, at.campaign3, at.new, at.campaign2, at.personal, at.campaign1, at.adjust].map(Number),
      );
      expect(page.next).to.equal(null);
      const personal = page.opinions.find((o) => o.leafIndex === at.personal)!;
      expect(personal.text).to.equal(null);
      expect(personal.withheldReason).to.equal("personal-data");
      expect(JSON.stringify(page)).not.to.contain("0901234567");
      expect(page.opinions.find((o) => o.leafIndex === at.offline)!.channel).to.equal("offline");
    });

    it("groups the near-identical texts into one campaign, the others stand alone", async () => {
      const page = await list("");
      const campaign = (name: string) => page.opinions.find((o) => o.leafIndex === at[name])!.campaign;
      expect(campaign("campaign1")).to.equal(at.campaign1);
      expect(campaign("campaign2")).to.equal(at.campaign1);
      expect(campaign("campaign3")).to.equal(at.campaign1);
      expect(campaign("adjust")).to.equal(null);
      expect(campaign("new")).to.equal(null);
      const only = await list(`?campaign=${at.campaign1}`);
      expect(only.opinions.map((o) => o.leafIndex)).to.deep.equal([at.campaign3, at.campaign2, at.campaign1]);
      const r = await get(`/api/consultations/${id}/sections/dieu-1/campaigns`, staff);
      expect(r.statusCode, r.body).to.equal(200);
      const { campaigns } = r.json() as { campaigns: { campaign: number; count: number; stances: object }[] };
      expect(campaigns).to.have.length(1);
      expect(campaigns[0]).to.deep.include({ campaign: at.campaign1, count: 3 });
      expect(campaigns[0]!.stances).to.deep.equal({ agree: 0, disagree: 3, neutral: 0 });
    });

    it("pages with opaque cursors and refuses any cursor it did not issue", async () => {
      const seen: number[] = [];
      let next: string | null = null;
      do {
        const page = await list(`?limit=2${next ? `&cursor=${encodeURIComponent(next)}` : ""}`);
        expect(page.opinions.length).to.be.at.most(2);
        seen.push(...page.opinions.map((o) => o.leafIndex));
        next = page.next;
      } while (next);
      expect(seen).to.deep.equal((await list("")).opinions.map((o) => o.leafIndex));
      const first = await list("?limit=2");
      const base = `/api/consultations/${id}/sections/dieu-1/opinions`;
      for (const bad of [
        `?cursor=${first.next!.replace(/^[^.]+/, "0")}`,
        `?cursor=abc`,
        `?cursor=${first.next}&stance=agree`,
        `?limit=101`,
        `?limit=0`,
        `?stance=maybe`,
        `?channel=fax`,
        `?q=${encodeURIComponent("!!!")}`,
        `?campaign=x`,
      ]) {
        const r = await get(base + bad);
        expect(r.statusCode, bad).to.equal(400);
      }
      const other = await get(`/api/consultations/${id}/sections/dieu-2/opinions?cursor=${first.next}`);
      expect(other.statusCode).to.equal(400);
      expect((other.json() as { error: string }).error).to.equal("bad_cursor");
    });

    it("finds words without diacritics, with the filters", async () => {
      expect(
        (await list(`?q=${encodeURIComponent("dieu chinh")}`)).opinions.map((o) => o.leafIndex),
      ).to.deep.equal([at.adjust]);
      expect(
        (await list(`?q=${encodeURIComponent("ĐIỀU CHỈNH")}`)).opinions.map((o) => o.leafIndex),
      ).to.deep.equal([at.adjust]);
      expect((await list("?q=dieu%20chinh&stance=disagree")).opinions).to.deep.equal([]);
      expect((await list("?q=dien%20thoai")).opinions).to.deep.equal([]);
      expect((await list("?q=y%20kien")).opinions.map((o) => o.leafIndex)).to.deep.equal([
        at.offline,
        at.new,
      ]);
      expect((await list("?q=y%20kien&channel=offline")).opinions.map((o) => o.leafIndex)).to.deep.equal([
        at.offline,
      ]);
      const paged = await list("?q=nong%20nghiep&limit=2");
      expect(paged.opinions.map((o) => o.leafIndex)).to.deep.equal([at.campaign3, at.campaign2]);
      const rest = await list(`?q=nong%20nghiep&limit=2&cursor=${paged.next}`);
      expect(rest.opinions.map((o) => o.leafIndex)).to.deep.equal([at.campaign1]);
      expect(rest.next).to.equal(null);
      expect((await list("?stance=agree")).opinions.map((o) => o.leafIndex)).to.deep.equal([
        at.new,
        at.adjust,
      ]);
    });

    it("keeps counts to the agency's staff while open when the agency chose so", async () => {
      const stats = `/api/consultations/${id}/stats`;
      for (const token of [undefined, otherStaff, await devToken(app, "c1")]) {
        const r = await get(stats, token);
        expect(r.statusCode).to.equal(403);
        expect((r.json() as { error: string }).error).to.equal("counts_hidden");
      }
      expect((await get(`/api/consultations/${id}/sections/dieu-1/campaigns`)).statusCode).to.equal(403);
      const r = await get(stats, staff);
      expect(r.statusCode, r.body).to.equal(200);
      const body = r.json() as {
        publicCounts: boolean;
        sections: Record<string, object>;
        channels: object;
        hourly: { online: number; offline: number }[];
        indexedSize: number;
        treeSize: number;
      };
      expect(body.publicCounts).to.equal(false);
      expect(body.indexedSize).to.equal(body.treeSize);
      expect(body.sections["dieu-1"]).to.deep.equal({ agree: 2, disagree: 3, neutral: 2, total: 7 });
      expect(body.sections["dieu-2"]).to.deep.equal({ agree: 1, disagree: 0, neutral: 0, total: 1 });
      expect(body.channels).to.deep.equal({ online: 7, offline: 1 });
      // arrivals: every opinion, the replaced one too
      const arrived = body.hourly.reduce((n, h) => n + h.online + h.offline, 0);
      expect(arrived).to.equal(9);
      const detail = (await get(`/api/consultations/${id}`)).json() as {
        publicCounts: boolean;
        agencyName: { vi: string; en: string };
      };
      expect(detail.publicCounts).to.equal(false);
      expect(detail.agencyName).to.deep.equal({ vi: "Bộ Tư pháp", en: "Ministry of Justice" });
    });

    it("exports each opinion's campaign, in ranges of entries, gzip-compressed when accepted", async () => {
      await app.gopy.reading.settled();
      const url = `/api/consultations/${id}/export`;
      const plain = await get(url);
      expect(plain.statusCode).to.equal(200);
      expect(plain.headers["content-encoding"]).to.equal(undefined);
      const lines = plain.body
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const line = (name: string) => lines.find((l) => l.index === at[name])!;
      expect(line("campaign2").campaign).to.equal(at.campaign1);
      expect(line("adjust").campaign).to.equal(null);
      // the moderation entry has no campaign member at all
      expect(lines.filter((l) => !("campaign" in l))).to.have.length(1);
      const zipped = await app.inject({
        method: "GET",
        url,
        headers: { "accept-encoding": "br, gzip;q=0.8" },
      });
      expect(zipped.headers["content-encoding"]).to.equal("gzip");
      expect(gunzipSync(zipped.rawPayload).toString("utf8")).to.equal(plain.body);
      const refused = await app.inject({
        method: "GET",
        url,
        headers: { "accept-encoding": "gzip;q=0, br" },
      });
      expect(refused.headers["content-encoding"]).to.equal(undefined);
      const range = await get(`${url}?start=2&end=5`);
      expect(range.statusCode).to.equal(200);
      expect(range.body).to.equal(`${plain.body.split("\n").slice(2, 5).join("\n")}\n`);
      const tail = await get(`${url}?start=${lines.length - 1}`);
      expect(JSON.parse(tail.body).index).to.equal(lines.length - 1);
      for (const bad of ["?start=3&end=2", `?end=${lines.length + 1}`, "?start=-1", "?start=x"]) {
        expect((await get(url + bad)).statusCode, bad).to.equal(400);
      }
    });

    it("serves public counts by default, and agency names in the list", async () => {
      const opened = await postConsultation(app, staff, { ...DRAFT, ...openFor(3600) });
      const open = (opened.json() as { id: number }).id;
      const r = await get(`/api/consultations/${open}/stats`);
      expect(r.statusCode, r.body).to.equal(200);
      expect((r.json() as { publicCounts: boolean }).publicCounts).to.equal(true);
      const listed = (await get("/api/consultations")).json() as {
        consultations: { id: number; agencyName: { en: string } }[];
      };
      expect(listed.consultations.find((c) => c.id === open)!.agencyName.en).to.equal("Ministry of Justice");
      const bad = await postConsultation(app, staff, { ...DRAFT, ...openFor(3600), publicCounts: "no" });
      expect(bad.statusCode).to.equal(400);
    });
  });
}
