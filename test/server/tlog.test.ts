/**
 * The C2SP read API (/logs/<id>/...): the vkey and checkpoint verify with protocol's note code, tiles and entry
 * bundles prove inclusion and consistency through protocol's tile reader, partial tiles exist only for published
 * sizes, and malformed or out-of-range paths are 400/404 with a reason, never 500. Real SQLite and PostgreSQL, a real
 * local chain (consultations are opened on it).
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  checkInclusion,
  decodeEntryBundle,
  ed25519VerifierKey,
  leafHash,
  logOrigin,
  openCheckpoint,
  openTiledLog,
  parseVerifierKey,
  readEntries,
  type TileReader,
  tilePath,
  verifyConsistency,
} from "../../protocol/index.ts";
import { PostgresStore, SqliteStore, type Store } from "../../server/store/index.ts";
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
import { importCsv, openConsultation } from "./requests.ts";

const PREFIX = "consult.example.gov.vn/logs";

for (const backend of storeBackends((b) => `C2SP log API (${b})`)) {
  describe(`C2SP log API (${backend})`, function () {
    this.timeout(120_000);
    let app: FastifyInstance;
    let store: Store;
    let agency: string;
    let id: number;
    const schema = tempSchema("tlog");
    const seed = "5a".repeat(32);

    before(async () => {
      const chain = await testChain();
      store = backend === "postgres" ? new PostgresStore(PG_URL!, schema) : new SqliteStore(tmpSqlite());
      await store.migrate();
      app = await testApp(
        testConfig(chain, { LOG_ORIGIN_PREFIX: PREFIX, CHECKPOINT_KEY_SEED: seed, CHECKPOINT_INTERVAL: "0" }),
        { store, startAnchorer: false },
      );
      agency = await devToken(app, "officer-tlog", "agency", "bo-tu-phap");
      id = await openConsultation(app, agency);
    });
    after(async () => {
      await app?.close();
      await store?.close();
      if (backend === "postgres") await dropSchema(PG_URL!, schema);
    });

    const get = (path: string) => app.inject({ method: "GET", url: `/logs/${id}/${path}` });
    const reader: TileReader = {
      readTile: async (tile) => {
        const r = await get(tilePath(tile));
        if (r.statusCode !== 200) throw new Error(`${tilePath(tile)}: ${r.statusCode} ${r.body}`);
        return new Uint8Array(r.rawPayload);
      },
    };

    async function addRows(n: number): Promise<void> {
      const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
      const rows = Array.from({ length: n }, (_, i) => `dieu-1,agree,row ${i},${at},Xã A`).join("\r\n");
      const r = await importCsv(app, agency, id, `section,stance,text,collectedAt,location\r\n${rows}\r\n`);
      expect(r.statusCode, r.body).to.equal(201);
    }

    async function checkpoint() {
      const r = await get("checkpoint");
      expect(r.statusCode, r.body).to.equal(200);
      expect(r.headers["content-type"]).to.equal("text/plain; charset=utf-8");
      expect(r.headers["cache-control"]).to.match(/max-age=\d$/);
      const vkey = (await get("vkey")).body.trim();
      return openCheckpoint(r.body, parseVerifierKey(vkey), { origin: `${PREFIX}/${id}` }).checkpoint;
    }

    it("serves a vkey derivable from the origin prefix and the public key (what the trust root holds)", async () => {
      const r = await get("vkey");
      expect(r.statusCode).to.equal(200);
      const v = parseVerifierKey(r.body.trim());
      expect(v.name).to.equal(logOrigin(PREFIX, id));
      expect(ed25519VerifierKey(logOrigin(PREFIX, id), v.publicKey)).to.equal(r.body.trim());
    });

    it("signs a checkpoint of the empty log, then of each committed size", async () => {
      const empty = await checkpoint();
      expect(empty.size).to.equal(0);
      await addRows(300);
      const cp = await checkpoint();
      expect(cp.size).to.equal(300);
    });

    it("proves inclusion and consistency from its tiles and entry bundles alone", async () => {
      const old = await checkpoint();
      await addRows(230);
      const cp = await checkpoint();
      expect(cp.size).to.equal(530);
      const { log } = await openTiledLog(reader, cp.size, cp.rootHash);
      const entries = await readEntries(reader, cp.size, 0, cp.size);
      for (const i of [0, 255, 256, 299, 529]) {
        const proof = await log.inclusionProof(i, cp.size);
        expect(checkInclusion(leafHash(entries[i]!), i, cp.size, proof, cp.rootHash).ok).to.equal(true);
      }
      // the old checkpoint's partial tiles still exist, so its own tree reads from tiles too
      const { log: oldLog } = await openTiledLog(reader, old.size, old.rootHash);
      expect(await oldLog.root()).to.equal(old.rootHash);
      const proof = await log.consistencyProof(old.size, cp.size);
      expect(verifyConsistency(old.size, cp.size, proof, old.rootHash, cp.rootHash)).to.equal(true);
      // the bundle holds the canonical entry bytes, as the log API serves them
      const r = await app.inject({
        method: "GET",
        url: `/api/consultations/${id}/log/entries?start=0&end=1`,
      });
      expect(Buffer.from(entries[0]!).toString()).to.equal(r.json().entries[0].leaf);
    });

    it("caches full tiles for ever and partial ones briefly", async () => {
      const full = await get("tile/0/000");
      expect(full.statusCode).to.equal(200);
      expect(full.headers["content-type"]).to.equal("application/octet-stream");
      expect(full.headers["cache-control"]).to.equal("public, max-age=31536000, immutable");
      expect(full.rawPayload.length).to.equal(256 * 32);
      const bundle = await get("tile/entries/000");
      expect(decodeEntryBundle(new Uint8Array(bundle.rawPayload), 256)).to.have.length(256);
      const partial = await get("tile/0/002.p/18");
      expect(partial.statusCode, partial.body).to.equal(200);
      expect(partial.headers["cache-control"]).to.not.contain("immutable");
      expect(partial.headers["access-control-allow-origin"]).to.equal("*");
    });

    it("answers 404 for tiles that never existed and 400 for malformed paths, never 500", async () => {
      const notFound = [
        "tile/0/002.p/17", // no checkpoint at size 529
        "tile/0/002", // not full yet
        "tile/0/999",
        "tile/1/000", // level 1 has 2 nodes: only partial
        "tile/1/000.p/1", // exists: the checkpoint of size 300 ends there
        "tile/5/000",
        "tile/63/x999/999",
        "tile/entries/003.p/1",
      ];
      const exists = new Set(["tile/1/000.p/1"]);
      for (const path of notFound) {
        const r = await get(path);
        expect(r.statusCode, `${path}: ${r.body}`).to.equal(exists.has(path) ? 200 : 404);
        if (r.statusCode === 404) expect(r.json().message).to.be.a("string");
      }
      for (const path of [
        "tile/0/2",
        "tile/0/0002",
        "tile/0/x000/002",
        "tile/0/002.p/0",
        "tile/0/002.p/256",
        "tile/0/002.p/018",
        "tile/64/000",
        "tile/entries/x",
        "tile/0/000/",
        "tile/0/x9999999999999999/000",
        "tile/",
      ]) {
        const r = await get(path);
        expect(r.statusCode, `${path}: ${r.body}`).to.equal(400);
        expect(r.json().message).to.be.a("string");
      }
      expect((await app.inject({ method: "GET", url: "/logs/999999/checkpoint" })).statusCode).to.equal(404);
      expect((await app.inject({ method: "GET", url: "/logs/abc/checkpoint" })).statusCode).to.equal(400);
      expect((await app.inject({ method: "GET", url: `/logs/${id}/nothing` })).statusCode).to.equal(404);
    });
  });
}
