/**
 * The ingest bench's baseline (issue 13 §4): a bare Fastify 5 app in its own process whose
 * `POST /api/consultations/1/opinions` parses the same JSON body as the service's route and answers 201 with a small
 * JSON object. No authentication, no storage, no signature: what Fastify alone serves on this machine. It prints
 * `{"plain":"listening","url":…}` on stdout when it listens (`node bench/plain-fastify.ts`, port from PORT or any).
 */
import Fastify from "fastify";

const app = Fastify({ logger: false });
let accepted = 0;

app.post("/api/consultations/1/opinions", async (req, reply) => {
  const body = req.body as { section?: unknown; stance?: unknown; text?: unknown };
  if (typeof body?.text !== "string") return reply.status(400).send({ error: "bad_request" });
  return reply.status(201).send({ accepted: true, leafIndex: accepted++ });
});

await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 0) });
const { port } = app.server.address() as { port: number };
process.stdout.write(`${JSON.stringify({ plain: "listening", url: `http://127.0.0.1:${port}` })}\n`);
process.on("SIGTERM", () => {
  app.close().then(() => process.exit(0));
});
