// The witness (witness/app.ts, `npm run witness`) on a real SQLite file: it cosigns a log's checkpoints only when
// signed by the log and consistent with the last one it cosigned, and answers every tlog-witness response code; its
// cosignatures (tlog-cosignature v1) verify as note signatures by its witness key, and survive a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { TilesError, tilesCheckpoint, witnessPolicy } from "../../audit/tiles.ts";
import {
  addCheckpointBody,
  ed25519NoteKey,
  leafHash,
  MerkleLog,
  openCheckpoint,
  openNote,
  parseVerifierKey,
  parseWitnessVkey,
  signatureLine,
  signCheckpoint,
  utf8Encode,
  witnessKey,
} from "../../protocol/index.ts";
import { buildWitness } from "../../witness/app.ts";
import { devToken, testApp, testChain, testConfig } from "../server/helpers.ts";
import { importCsv, openConsultation } from "../server/requests.ts";

const ORIGIN = "consult.example.gov.vn/logs/9";

describe("the witness (C2SP tlog-witness)", () => {
  let dir: string;
  let app: FastifyInstance;
  const logKey = ed25519NoteKey(ORIGIN, new Uint8Array(32).fill(4));
  const witness = witnessKey("witness.example.org", new Uint8Array(32).fill(5));
  const log = new MerkleLog();
  const note = async (size: number, key = logKey) =>
    signCheckpoint({ origin: key.name, size, rootHash: await log.root(size), extensions: [] }, [key]);
  const start = () =>
    buildWitness({
      database: join(dir, "w.sqlite"),
      key: witness,
      logs: [logKey.vkey],
      now: () => 1_800_000_000,
    });
  const post = (payload: string) =>
    app.inject({
      method: "POST",
      url: "/add-checkpoint",
      payload,
      headers: { "content-type": "text/plain" },
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gopy-witness-"));
    await log.appendBatch(Array.from({ length: 20 }, (_, i) => leafHash(utf8Encode(`entry ${i}`))));
    app = await start();
  });
  after(async () => {
    await app?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("cosigns a first checkpoint; the cosignature verifies with the witness's vkey", async () => {
    const r = await post(addCheckpointBody({ oldSize: 0, proof: [], checkpoint: await note(5) }));
    expect(r.statusCode, r.body).to.equal(200);
    const cosigned = `${await note(5)}${r.body}`;
    const v = parseWitnessVkey(witness.vkey);
    const opened = openNote(cosigned, [parseVerifierKey(logKey.vkey), v]);
    expect(opened.verified.map((x) => x.name)).to.deep.equal([ORIGIN, "witness.example.org"]);
    expect(openCheckpoint(cosigned, parseVerifierKey(logKey.vkey), { others: [v] }).checkpoint.size).to.equal(
      5,
    );
  });

  it("answers 409 with the stored size when the client's old size is wrong", async () => {
    const r = await post(addCheckpointBody({ oldSize: 3, proof: [], checkpoint: await note(9) }));
    expect(r.statusCode).to.equal(409);
    expect(r.headers["content-type"]).to.equal("text/x.tlog.size");
    expect(r.body).to.equal("5\n");
  });

  it("answers 422 for a proof that does not verify, 200 for one that does", async () => {
    const good = await log.consistencyProof(5, 12);
    const bad = [...good];
    bad[0] = `0x${"ab".repeat(32)}`;
    expect(
      (await post(addCheckpointBody({ oldSize: 5, proof: bad, checkpoint: await note(12) }))).statusCode,
    ).to.equal(422);
    expect(
      (await post(addCheckpointBody({ oldSize: 5, proof: [], checkpoint: await note(12) }))).statusCode,
    ).to.equal(422);
    const r = await post(addCheckpointBody({ oldSize: 5, proof: good, checkpoint: await note(12) }));
    expect(r.statusCode, r.body).to.equal(200);
  });

  it("answers 403 for a checkpoint not signed by the log's key, 404 for an unknown origin", async () => {
    const impostor = ed25519NoteKey(ORIGIN, new Uint8Array(32).fill(6));
    const forged = await note(14, impostor);
    const proof = await log.consistencyProof(12, 14);
    expect((await post(addCheckpointBody({ oldSize: 12, proof, checkpoint: forged }))).statusCode).to.equal(
      403,
    );
    const stranger = ed25519NoteKey("other.example/logs/1", new Uint8Array(32).fill(7));
    expect(
      (await post(addCheckpointBody({ oldSize: 0, proof: [], checkpoint: await note(3, stranger) })))
        .statusCode,
    ).to.equal(404);
  });

  it("answers 400 for malformed bodies, and an old size beyond the checkpoint", async () => {
    for (const body of [
      "",
      "old x\n\n",
      "old 12\nnot base64!\n\nx",
      "old 12\n",
      `old 99\n\n${await note(14)}`,
      "old 12\n\nno note\n",
    ]) {
      const r = await post(body);
      expect(r.statusCode, `${JSON.stringify(body)}: ${r.body}`).to.equal(400);
    }
  });

  it("keeps the latest cosigned checkpoint across a restart, served for monitoring", async () => {
    await app.close();
    app = await start();
    const r = await app.inject({ method: "GET", url: `/checkpoints/${ORIGIN}` });
    expect(r.statusCode).to.equal(200);
    const opened = openCheckpoint(r.body, parseVerifierKey(logKey.vkey), {
      others: [parseWitnessVkey(witness.vkey)],
    });
    expect(opened.checkpoint.size).to.equal(12);
    expect(opened.verified).to.have.length(2);
    const again = await post(addCheckpointBody({ oldSize: 5, proof: [], checkpoint: await note(14) }));
    expect(again.statusCode).to.equal(409);
    expect(again.body).to.equal("12\n");
    expect((await app.inject({ method: "GET", url: "/checkpoints/nothing" })).statusCode).to.equal(404);
  });
});

describe("the service submits its checkpoints to witnesses (WITNESSES)", function () {
  this.timeout(120_000);
  let dir: string;
  let witnessApp: FastifyInstance | null;
  let service: FastifyInstance;
  let agency: string;
  let id: number;
  const witness = witnessKey("witness.gopy.test", new Uint8Array(32).fill(8));
  const witnessV = parseWitnessVkey(witness.vkey);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gopy-witness-svc-"));
    const seed = "6b".repeat(32);
    const prefix = "gopy.test/logs";
    const chain = await testChain();
    // the witness follows the consultation's log: its vkey is derived from the prefix and the checkpoint key
    const logVkey = (n: number) => ed25519NoteKey(`${prefix}/${n}`, Buffer.from(seed, "hex")).vkey;
    witnessApp = await buildWitness({
      database: join(dir, "w.sqlite"),
      key: witness,
      // log 1 by its vkey, every other <prefix>/<id> as a family under the checkpoint key (as npm start's witness)
      logs: [logVkey(1)],
      families: [
        { originPrefix: prefix, publicKey: ed25519NoteKey("k", Buffer.from(seed, "hex")).publicKey },
      ],
    });
    const url = await witnessApp.listen({ host: "127.0.0.1", port: 0 });
    service = await testApp(
      testConfig(chain, {
        CHECKPOINT_KEY_SEED: seed,
        LOG_ORIGIN_PREFIX: prefix,
        CHECKPOINT_INTERVAL: "0",
        WITNESSES: JSON.stringify([{ url, vkey: witness.vkey }]),
        WITNESS_TIMEOUT: "2s",
      }),
      { startAnchorer: false },
    );
    agency = await devToken(service, "officer-witness", "agency", "bo-tu-phap");
    id = await openConsultation(service, agency);
  });
  after(async () => {
    await service?.close();
    await witnessApp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function addRows(n: number): Promise<void> {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
    const rows = Array.from({ length: n }, (_, i) => `dieu-1,agree,w ${i},${at},Xã A`).join("\r\n");
    const r = await importCsv(service, agency, id, `section,stance,text,collectedAt,location\r\n${rows}\r\n`);
    expect(r.statusCode, r.body).to.equal(201);
  }
  async function served() {
    const r = await service.inject({ method: "GET", url: `/logs/${id}/checkpoint` });
    expect(r.statusCode).to.equal(200);
    const vkey = (await service.inject({ method: "GET", url: `/logs/${id}/vkey` })).body.trim();
    return openCheckpoint(r.body, parseVerifierKey(vkey), { others: [witnessV] });
  }

  it("serves checkpoints cosigned by the witness, each consistent with the last it cosigned", async () => {
    await addRows(10);
    const first = await served();
    expect(first.checkpoint.size).to.equal(10);
    expect(first.verified.map((v) => v.name)).to.include("witness.gopy.test");
    await addRows(7);
    const second = await served();
    expect(second.checkpoint.size).to.equal(17);
    expect(second.verified.map((v) => v.name)).to.include("witness.gopy.test");
  });

  it("answers 404 for an origin outside its families", async () => {
    const stranger = ed25519NoteKey("gopy.test/logs/x", Buffer.from("6b".repeat(32), "hex"));
    const rootHash = "0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" as const;
    const note = signCheckpoint({ origin: stranger.name, size: 0, rootHash, extensions: [] }, [stranger]);
    const r = await witnessApp!.inject({
      method: "POST",
      url: "/add-checkpoint",
      payload: addCheckpointBody({ oldSize: 0, proof: [], checkpoint: note }),
      headers: { "content-type": "text/plain" },
    });
    expect(r.statusCode).to.equal(404);
  });

  it("goes on without the cosignature when the witness is down, and counts why", async () => {
    await witnessApp!.close();
    witnessApp = null;
    await addRows(3);
    const cp = await served();
    expect(cp.checkpoint.size).to.equal(20);
    expect(cp.verified.map((v) => v.name)).to.not.include("witness.gopy.test");
    const metric = await service.gopy.metrics.getSingleMetricAsString("gopy_witness_failures_total");
    expect(metric).to.match(/gopy_witness_failures_total\{witness="witness\.gopy\.test",reason="[^"]+"\} 1/);
  });
});

describe("verifiers require the trust root's witness quorum (audit/tiles.ts)", () => {
  const logKey = ed25519NoteKey("q.example/logs/1", new Uint8Array(32).fill(1));
  const [w1, w2, w3] = [2, 3, 4].map((i) => witnessKey(`w${i}.example`, new Uint8Array(32).fill(i)));
  const root = `0x${"11".repeat(32)}` as const;
  const text = `q.example/logs/1\n7\n${Buffer.from("11".repeat(32), "hex").toString("base64")}\n`;
  const base = signCheckpoint({ origin: logKey.name, size: 7, rootHash: root, extensions: [] }, [logKey]);
  const cosigned = (...ws: (typeof w1)[]) =>
    base + ws.map((w) => signatureLine(w!.cosign(text, 1_800_000_000))).join("");
  const policy = witnessPolicy({ witnesses: [w1!.vkey, w2!.vkey, w3!.vkey], quorum: 2 })!;
  const logV = parseVerifierKey(logKey.vkey);
  const from = (note: string) => ({ checkpoint: async () => note });

  it("accepts 2 of 3 and reports which witnesses cosigned", async () => {
    const got = await tilesCheckpoint(from(cosigned(w1!, w3!)), logV, policy);
    expect(got.cosigned).to.deep.equal(["w2.example", "w4.example"]);
  });

  it("refuses 1 of 3, and a bad cosignature by a known witness", async () => {
    for (const note of [cosigned(w2!), base, cosigned(w1!).replace(/ (\S+)\n$/, " AAAA$1\n")]) {
      try {
        await tilesCheckpoint(from(note), logV, policy);
        expect.fail("accepted");
      } catch (e) {
        expect(e).to.be.instanceOf(TilesError);
      }
    }
    // an unknown witness's line is ignored, not counted
    const stranger = witnessKey("stranger.example", new Uint8Array(32).fill(9));
    try {
      await tilesCheckpoint(from(cosigned(w1!, stranger)), logV, policy);
      expect.fail("accepted");
    } catch (e) {
      expect((e as Error).message).to.match(/1 of the 2 witness cosignatures/);
    }
  });
});
