// The witness (witness/app.ts, `npm run witness`) on a real SQLite file: it cosigns a log's checkpoints only when
// signed by the log and consistent with the last one it cosigned, and answers every tlog-witness response code; its
// cosignatures (tlog-cosignature v1) verify as note signatures by its witness key, and survive a restart.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  addCheckpointBody,
  ed25519NoteKey,
  leafHash,
  MerkleLog,
  openCheckpoint,
  openNote,
  parseVerifierKey,
  parseWitnessVkey,
  signCheckpoint,
  utf8Encode,
  witnessKey,
} from "../../protocol/index.ts";
import { buildWitness } from "../../witness/app.ts";

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
