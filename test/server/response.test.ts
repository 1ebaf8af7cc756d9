/**
 * The agency's response on chain and draft attachments, through fastify.inject against a real store (SQLite and
 * PostgreSQL) and a real local Hardhat node of this file's own (its clock is moved to close the consultation).
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { RegistryReader } from "../../chain/reader.ts";
import {
  bytesToHex,
  draftHash,
  parseResponse,
  responseBytesHash,
  sha256,
  utf8Encode,
} from "../../protocol/index.ts";
import { advanceChainTime } from "../../server/chain/devnet.ts";
import { OffsetClock } from "../../server/clock.ts";
import { ResponsePublisher } from "../../server/responses.ts";
import type { TestChain } from "./helpers.ts";
import {
  devToken,
  dropSchema,
  PG_URL,
  startTestChain,
  storeBackends,
  tempSchema,
  testApp,
  testConfig,
} from "./helpers.ts";
import { bearer, DRAFT, giveOpinion, postConsultation } from "./requests.ts";

const backends = storeBackends((backend) => `the response and attachments (inject, ${backend})`);

const ANSWERS = {
  "dieu-1": { status: "accepted", text: "Tiếp thu: phạm vi được làm rõ.", entries: [1, 0, 1] },
  "dieu-2": { status: "partly-accepted", text: "Tiếp thu một phần." },
  "dieu-3": { status: "explained", text: "Giải trình: giữ như dự thảo.", campaigns: ["c-2", "c-1"] },
};

for (const backend of backends) {
  describe(`the response and attachments (inject, ${backend})`, function () {
    this.timeout(120_000);
    let chain: TestChain;
    let app: FastifyInstance;
    const clock = new OffsetClock();
    const schema = tempSchema("response");
    let agencyA: string;
    let agencyB: string;
    let citizen: string;
    let id: number;
    const pdf = utf8Encode("%PDF-1.4 Tờ trình dự thảo\n%%EOF");
    const pdfHash = bytesToHex(sha256(pdf));

    before(async () => {
      chain = await startTestChain();
      const extra: Record<string, string> =
        backend === "postgres" ? { DATABASE_URL: PG_URL!, DATABASE_SCHEMA: schema } : {};
      app = await testApp(testConfig(chain, { ...extra, ATTACHMENT_LIMIT: "4096" }), {
        startAnchorer: false,
        clock,
      });
      agencyA = await devToken(app, "officer-a", "agency", "bo-tu-phap");
      agencyB = await devToken(app, "officer-b", "agency", "bo-y-te");
      citizen = await devToken(app, "citizen-1");
    });
    after(async () => {
      await app?.close();
      await chain?.node.stop();
      if (backend === "postgres") await dropSchema(PG_URL!, schema);
    });

    const upload = (token: string, body: Uint8Array | string, type = "application/pdf") =>
      app.inject({
        method: "POST",
        url: "/api/attachments",
        headers: { ...bearer(token), "content-type": type },
        payload: Buffer.from(body),
      });
    const respond = (token: string, consultation: number, articles: unknown) =>
      app.inject({
        method: "POST",
        url: `/api/consultations/${consultation}/response`,
        headers: bearer(token),
        payload: { articles },
      });

    it("uploads an attachment (staff only, size-limited, typed) and opens a draft listing it, hashed in", async () => {
      expect((await upload(citizen, pdf)).statusCode).to.equal(403);
      const tooBig = await upload(agencyA, new Uint8Array(5000));
      expect(tooBig.statusCode).to.equal(413);
      expect((await upload(agencyA, "{}", "application/json")).statusCode).to.equal(415);
      expect((await upload(agencyA, "", "text/plain")).statusCode).to.equal(400);
      const up = await upload(agencyA, pdf);
      expect(up.statusCode, up.body).to.equal(201);
      expect(up.json()).to.deep.equal({ sha256: pdfHash, bytes: pdf.length, mediaType: "application/pdf" });
      expect((await upload(agencyA, pdf)).json()).to.deep.equal(up.json());

      const now = Math.floor(clock.now() / 1000);
      const schedule = { opensAt: now, closesAt: now + 3600 };
      const attachment = { title: "Tờ trình", mediaType: "application/pdf", sha256: pdfHash };
      const notUploaded = await postConsultation(app, agencyA, {
        ...DRAFT,
        ...schedule,
        attachments: [attachment, { ...attachment, sha256: `0x${"ab".repeat(32)}` }],
      });
      expect(notUploaded.statusCode).to.equal(400);
      expect(notUploaded.json().message).to.match(/attachments\[1\]\.sha256/);
      const wrongSize = await postConsultation(app, agencyA, {
        ...DRAFT,
        ...schedule,
        attachments: [{ ...attachment, bytes: 1 }],
      });
      expect(wrongSize.json().message).to.match(/attachments\[0\]\.bytes/);
      const opened = await postConsultation(app, agencyA, {
        ...DRAFT,
        ...schedule,
        attachments: [attachment],
      });
      expect(opened.statusCode, opened.body).to.equal(201);
      id = opened.json().id;
      const listed = { ...attachment, bytes: pdf.length };
      expect(opened.json().draftHash).to.equal(draftHash({ ...DRAFT, attachments: [listed] }));
      const detail = (await app.inject({ method: "GET", url: `/api/consultations/${id}` })).json();
      expect(detail.draft.attachments).to.deep.equal([listed]);
      const reader = new RegistryReader({ registry: chain.registry, rpcUrls: [chain.node.url] });
      expect((await reader.consultation(id)).draftHash).to.equal(detail.draft.hash);
      const byHash = (await app.inject({ method: "GET", url: `/api/drafts/${detail.draft.hash}` })).json();
      expect(byHash.attachments).to.deep.equal([listed]);

      const file = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/attachments/${pdfHash}`,
      });
      expect(file.statusCode).to.equal(200);
      expect(file.headers["content-type"]).to.equal("application/pdf");
      expect(bytesToHex(sha256(file.rawPayload))).to.equal(pdfHash);
      // an upload no draft of this consultation lists is not served
      const other = bytesToHex(sha256(utf8Encode("khác")));
      await upload(agencyA, "khác", "text/plain");
      const unlisted = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/attachments/${other}`,
      });
      expect(unlisted.statusCode).to.equal(404);
    });

    it("refuses a response before the tally (409), for another agency (403), and from a citizen (403)", async () => {
      const early = await respond(agencyA, id, ANSWERS);
      expect(early.statusCode).to.equal(409);
      expect(early.json()).to.include({ error: "no_tally" });
      expect((await respond(agencyB, id, ANSWERS)).statusCode).to.equal(403);
      expect((await respond(citizen, id, ANSWERS)).statusCode).to.equal(403);
      const none = await app.inject({ method: "GET", url: `/api/consultations/${id}/response` });
      expect(none.statusCode).to.equal(404);
    });

    it("publishes the response after the tally: the served bytes hash to the registry's responseHash", async () => {
      for (const section of ["dieu-1", "dieu-2"]) {
        const r = await giveOpinion(app, citizen, id, { section, stance: "agree", text: "Đồng ý" });
        expect(r.statusCode, r.body).to.equal(201);
      }
      await advanceChainTime(chain.node.url, 3601);
      clock.offset += 3601_000;
      const closed = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/close`,
        headers: bearer(agencyA),
      });
      expect(closed.statusCode, closed.body).to.equal(200);

      const unknown = await respond(agencyA, id, { ...ANSWERS, "dieu-9": ANSWERS["dieu-2"] });
      expect(unknown.statusCode).to.equal(400);
      expect(unknown.json().message).to.include('"dieu-9"');
      const { "dieu-2": _, ...partial } = ANSWERS;
      const missing = await respond(agencyA, id, partial);
      expect(missing.statusCode).to.equal(400);
      expect(missing.json().message).to.include('missing "dieu-2"');
      const badStatus = await respond(agencyA, id, { ...ANSWERS, "dieu-2": { status: "maybe", text: "x" } });
      expect(badStatus.statusCode).to.equal(400);
      const beyond = await respond(agencyA, id, {
        ...ANSWERS,
        "dieu-2": { status: "accepted", text: "x", entries: [2] },
      });
      expect(beyond.statusCode).to.equal(400);
      expect(beyond.json().message).to.match(/articles\.dieu-2\.entries/);
      expect((await respond(agencyB, id, ANSWERS)).statusCode).to.equal(403);

      const published = await respond(agencyA, id, ANSWERS);
      expect(published.statusCode, published.body).to.equal(201);
      const { version, responseHash, txHash } = published.json();
      expect(version).to.equal(1);
      expect(txHash).to.match(/^0x[0-9a-f]{64}$/);
      const served = await app.inject({ method: "GET", url: `/api/consultations/${id}/response` });
      expect(served.statusCode).to.equal(200);
      expect(served.headers["content-type"]).to.match(/^application\/json/);
      expect(responseBytesHash(served.rawPayload)).to.equal(responseHash);
      const doc = parseResponse(served.rawPayload);
      expect(doc).to.include({ consultation: String(id), version: 1, chainId: 31337 });
      expect(doc.registry).to.equal(chain.registry.toLowerCase());
      expect(doc.tallyHash).to.equal(closed.json().tallyHash);
      expect(doc.articles["dieu-1"]).to.deep.equal({ ...ANSWERS["dieu-1"], entries: [0, 1] });
      expect(doc.articles["dieu-3"]?.campaigns).to.deep.equal(["c-1", "c-2"]);

      const reader = new RegistryReader({ registry: chain.registry, rpcUrls: [chain.node.url] });
      const latest = await reader.latestResponse(id);
      expect(latest).to.deep.equal({ checkable: true, latest: { responseHash, version: 1 } });

      // a second version supersedes the first; the first stays readable by its version
      const second = await respond(agencyA, id, {
        ...ANSWERS,
        "dieu-2": { status: "not-accepted", text: "Không tiếp thu." },
      });
      expect(second.statusCode, second.body).to.equal(201);
      expect(second.json().version).to.equal(2);
      const events = await reader.responses(id);
      expect(events.map((e) => [e.version, e.responseHash])).to.deep.equal([
        [1, responseHash],
        [2, second.json().responseHash],
      ]);
      expect(events[1]!.responseURI).to.match(new RegExp(`/api/consultations/${id}/response\\?version=2$`));
      const v2 = await app.inject({ method: "GET", url: `/api/consultations/${id}/response` });
      expect(responseBytesHash(v2.rawPayload)).to.equal(second.json().responseHash);
      const v1 = await app.inject({ method: "GET", url: `/api/consultations/${id}/response?version=1` });
      expect(responseBytesHash(v1.rawPayload)).to.equal(responseHash);
      expect(
        (await app.inject({ method: "GET", url: `/api/consultations/${id}/response?version=3` })).statusCode,
      ).to.equal(404);
    });

    it("loses nothing when the service dies between recording the intent and broadcasting it: reconciled", async () => {
      const { store, chain: client, clock: c, config } = app.gopy;
      // the same chain client, but its broadcast never reaches the node (the process "died" right after the write)
      const dying = Object.create(client!) as NonNullable<typeof client>;
      dying.broadcast = async () => {
        throw new Error("killed before the broadcast");
      };
      const crashing = new ResponsePublisher({
        store,
        chain: dying,
        clock: c,
        log: app.log,
        txTimeoutMs: 1000,
        responseUri: (cid, version) =>
          `${config.publicUrl}/api/consultations/${cid}/response?version=${version}`,
      });
      const consultation = (await store.getConsultation(id))!;
      const draft = (await store.getDraft(id))!;
      const articles = {
        "dieu-1": { status: "accepted" as const, text: "v3" },
        "dieu-2": { status: "explained" as const, text: "v3" },
        "dieu-3": { status: "explained" as const, text: "v3" },
      };
      let thrown: unknown = null;
      await crashing.publish(consultation, draft, articles).catch((e) => (thrown = e));
      expect(String(thrown)).to.match(/killed before the broadcast/);
      const [pending] = await store.pendingResponseIntents(id);
      expect(pending?.version).to.equal(3);
      // another request meanwhile is refused rather than signed with a version the chain may not give it
      const meanwhile = await respond(agencyA, id, ANSWERS);
      expect(meanwhile.statusCode).to.equal(409);
      expect(meanwhile.json()).to.include({ error: "response_pending" });
      // the reconciler (start-up, every anchoring round) sends the same signed bytes and records the response
      await app.gopy.responses!.reconcile();
      expect(await store.pendingResponseIntents(id)).to.deep.equal([]);
      const stored = (await store.getResponse(id))!;
      expect(stored).to.include({ version: 3, hash: pending!.hash, txHash: pending!.txHash });
      const reader = new RegistryReader({ registry: chain.registry, rpcUrls: [chain.node.url] });
      expect(await reader.latestResponse(id)).to.deep.equal({
        checkable: true,
        latest: { responseHash: pending!.hash, version: 3 },
      });
    });
  });
}
