/**
 * A C2SP tlog-witness anyone can run (`npm run witness`): for each log it knows (origin + the log's vkey) it keeps the
 * latest checkpoint it cosigned, in SQLite, and cosigns a new one only if it is signed by the log and proved
 * consistent with that one. POST /add-checkpoint answers as c2sp.org/tlog-witness says: 200 with the cosignature
 * line(s), 400 malformed, 403 not signed by the log's key, 404 unknown origin, 409 (text/x.tlog.size: the stored size)
 * when the client's old size is not the stored one, 422 when the consistency proof does not verify. The check and
 * the update run in one SQLite transaction (BEGIN IMMEDIATE), so two concurrent requests never both move one origin.
 * GET /checkpoints/<origin> (monitoring) serves the latest cosigned checkpoint of an origin, cosignature appended.
 */
import { DatabaseSync } from "node:sqlite";
import Fastify, { type FastifyInstance } from "fastify";
import {
  checkConsistency,
  ed25519NoteVerifier,
  type NoteVerifier,
  openCheckpoint,
  parseAddCheckpoint,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  signatureLine,
  type WitnessKey,
} from "../protocol/index.ts";

export interface WitnessOptions {
  /** SQLite file (":memory:" for tests). */
  database: string;
  key: WitnessKey;
  /** vkeys of the logs this witness follows; each log's origin is its key name. */
  logs: readonly string[];
  /**
   * Families of logs: every origin `<originPrefix>/<id>` signed by one Ed25519 key (a Gopy service's consultations,
   * whose trust root `log` field names exactly this), so new consultations are followed without reconfiguration.
   */
  families?: readonly { originPrefix: string; publicKey: Uint8Array }[];
  /** Unix seconds now (injectable for tests). */
  now?: () => number;
}

export async function buildWitness(options: WitnessOptions): Promise<FastifyInstance> {
  const known = new Map<string, NoteVerifier>();
  for (const vkey of options.logs) {
    const v = parseVerifierKey(vkey);
    known.set(v.name, v);
  }
  const logs = {
    get(origin: string): NoteVerifier | undefined {
      const exact = known.get(origin);
      if (exact) return exact;
      for (const f of options.families ?? []) {
        const id = origin.startsWith(`${f.originPrefix}/`) ? origin.slice(f.originPrefix.length + 1) : "";
        if (/^[1-9][0-9]{0,14}$/.test(id)) return ed25519NoteVerifier(origin, f.publicKey);
      }
      return undefined;
    },
  };
  const db = new DatabaseSync(options.database);
  db.exec(`PRAGMA journal_mode = WAL;
    CREATE TABLE IF NOT EXISTS checkpoints (
      origin TEXT PRIMARY KEY,
      size INTEGER NOT NULL,
      root_hash TEXT NOT NULL,
      note TEXT NOT NULL
    ) STRICT;`);
  const read = db.prepare("SELECT size, root_hash, note FROM checkpoints WHERE origin = ?");
  const write = db.prepare(
    `INSERT INTO checkpoints (origin, size, root_hash, note) VALUES (?, ?, ?, ?)
     ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root_hash = excluded.root_hash, note = excluded.note`,
  );
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addHook("onClose", async () => db.close());

  const text = (status: number, body: string, type = "text/plain; charset=utf-8") => ({ status, body, type });

  /** Decides one request; the caller holds the transaction. */
  function add(body: unknown): { status: number; body: string; type: string } {
    let request: ReturnType<typeof parseAddCheckpoint>;
    try {
      request = parseAddCheckpoint(body);
    } catch (e) {
      return text(400, `${(e as Error).message}\n`);
    }
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(request.checkpoint).text).origin;
    } catch (e) {
      return text(400, `${(e as Error).message}\n`);
    }
    const log = logs.get(origin);
    if (!log) return text(404, `unknown origin ${JSON.stringify(origin)}\n`);
    let opened: ReturnType<typeof openCheckpoint>;
    try {
      opened = openCheckpoint(request.checkpoint, log);
    } catch (e) {
      return text(403, `${(e as Error).message}\n`);
    }
    const { checkpoint } = opened;
    if (request.oldSize > checkpoint.size)
      return text(400, "old size is larger than the checkpoint's size\n");
    const stored = read.get(origin) as { size: number; root_hash: string } | undefined;
    const storedSize = stored ? Number(stored.size) : 0;
    if (request.oldSize !== storedSize) return text(409, `${storedSize}\n`, "text/x.tlog.size");
    if (stored) {
      const check =
        storedSize === checkpoint.size
          ? request.proof.length === 0 && stored.root_hash === checkpoint.rootHash
            ? { ok: true as const }
            : { ok: false as const, reason: "same size, different root" }
          : checkConsistency(
              storedSize,
              checkpoint.size,
              request.proof,
              stored.root_hash as `0x${string}`,
              checkpoint.rootHash,
            );
      if (!check.ok) return text(422, `the consistency proof does not verify: ${check.reason}\n`);
    } else if (request.proof.length !== 0) {
      return text(422, "a first checkpoint needs no consistency proof\n");
    }
    const cosignature = signatureLine(options.key.cosign(opened.text, now()));
    write.run(origin, checkpoint.size, checkpoint.rootHash, `${request.checkpoint}${cosignature}`);
    return text(200, cosignature);
  }

  app.post("/add-checkpoint", { schema: { summary: "tlog-witness add-checkpoint" } }, async (req, reply) => {
    db.exec("BEGIN IMMEDIATE");
    let answer: { status: number; body: string; type: string };
    try {
      answer = add(req.body);
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw e;
    }
    return reply.status(answer.status).type(answer.type).send(answer.body);
  });

  app.get<{ Params: { "*": string } }>(
    "/checkpoints/*",
    { schema: { summary: "The latest checkpoint this witness cosigned for an origin" } },
    async (req, reply) => {
      const row = read.get(req.params["*"]) as { note: string } | undefined;
      if (!row)
        return reply.status(404).type("text/plain; charset=utf-8").send("no checkpoint of that origin\n");
      return reply.type("text/plain; charset=utf-8").header("cache-control", "no-cache").send(row.note);
    },
  );
  return app;
}
