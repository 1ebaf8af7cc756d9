/**
 * The C2SP transparency-log read API of each consultation, outside /api so that a mirror is a plain copy of these
 * paths (`npm run tiles`): GET /logs/<id>/vkey, /logs/<id>/checkpoint (tlog-checkpoint as a signed note),
 * /logs/<id>/tile/<L>/<N>[.p/<W>] (tlog-tiles hash tiles) and /logs/<id>/tile/entries/<N>[.p/<W>] (entry bundles of
 * the canonical entry bytes). Full tiles and bundles never change and are cached for a year; a partial one exists
 * for the sizes a checkpoint was published at; the checkpoint is cached for seconds. Public, no credentials.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply } from "fastify";
import { Type } from "typebox";
import {
  encodeEntryBundle,
  ProtocolError,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileId,
  tilePath,
  tileWidthAt,
  utf8Encode,
} from "../../protocol/index.ts";
import { notFound, ServiceError } from "../errors.ts";
import { noSuchRoute } from "../http.ts";
import * as schemas from "../schemas.ts";

const TEXT = "text/plain; charset=utf-8";
const BINARY = "application/octet-stream";
const IMMUTABLE = "public, max-age=31536000, immutable";
/** A partial tile never changes either, but may be deleted once its full tile exists: cached for an hour only. */
const PARTIAL = "public, max-age=3600";
const CHECKPOINT_CACHE = "public, max-age=5";

// The wildcard ("*": <L>/<N>[.p/<W>] or entries/<N>[.p/<W>]) is parsed by parseTilePath, which refuses every other
// spelling; TypeBox cannot name a "*" property, so the schema checks the id and leaves the wildcard open.
const TileParams = Type.Object({ id: schemas.IdParam });

const binary = { 200: Type.Unsafe<Uint8Array>({ description: "the tile's bytes" }), ...schemas.errors };
const text = (description: string) => ({ 200: Type.String({ description }), ...schemas.errors });

/** Public data for anyone, from any origin (mirrors, browsers verifying receipts). */
function publicHeaders(reply: FastifyReply, type: string, cache: string): FastifyReply {
  return reply.type(type).header("cache-control", cache).header("access-control-allow-origin", "*");
}

export async function tlogRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store, checkpoints } = gopy;
  app.setNotFoundHandler(noSuchRoute);

  app.get(
    "/:id/vkey",
    {
      schema: {
        summary: "The C2SP verifier key (vkey) of the log's checkpoint key",
        params: schemas.IdParams,
        response: text("<origin>+<key id>+<base64 key>"),
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      await consultations.get(id);
      return publicHeaders(reply, TEXT, "public, max-age=3600").send(`${checkpoints.key(id).vkey}\n`);
    },
  );

  app.get(
    "/:id/checkpoint",
    {
      schema: {
        summary: "The log's latest checkpoint (C2SP tlog-checkpoint, a signed note)",
        params: schemas.IdParams,
        response: text("a signed note"),
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      const checkpoint = await checkpoints.current(id, consultation.treeSize);
      return publicHeaders(reply, TEXT, CHECKPOINT_CACHE).send(checkpoint.note);
    },
  );

  app.get(
    "/:id/tile/*",
    {
      schema: {
        summary: "A hash tile or an entry bundle (C2SP tlog-tiles)",
        params: TileParams,
        response: binary,
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      let tile: TileId;
      try {
        tile = parseTilePath((req.params as Record<string, string>)["*"] ?? "");
      } catch (e) {
        if (e instanceof ProtocolError) throw new ServiceError(400, "bad_request", e.message);
        throw e;
      }
      await consultations.get(id);
      const path = tilePath(tile);
      const latest = await store.latestCheckpoint(id);
      const published = latest?.treeSize ?? 0;
      const level = tile.level === "entries" ? 0 : tile.level;
      if (tile.width === TILE_WIDTH) {
        if (tileWidthAt(level, tile.index, published) < TILE_WIDTH)
          throw notFound(`${path} does not exist: the published tree (${published} leaves) does not fill it`);
      } else {
        // the partial tile of width W exists when a checkpoint's size s has floor(s / 256^L) = 256 N + W
        const span = TILE_WIDTH ** level;
        const from = (tile.index * TILE_WIDTH + tile.width) * span;
        const to = from + span;
        if (!Number.isSafeInteger(to) || !(await store.hasCheckpointBetween(id, from, to)))
          throw notFound(`${path} does not exist: no checkpoint was published at a size that ends there`);
      }
      const start = tile.index * TILE_WIDTH;
      let body: Uint8Array;
      if (tile.level === "entries") {
        const rows = await store.getEntries(id, start, start + tile.width);
        body = encodeEntryBundle(rows.map((r) => utf8Encode(r.leaf)));
      } else {
        const ids = Array.from({ length: tile.width }, (_, i) => ({
          level: (tile.level as number) * TILE_HEIGHT,
          index: start + i,
        }));
        const hashes = await store.treeStore(id).getNodes(ids);
        body = new Uint8Array(tile.width * 32);
        hashes.forEach((h, i) => {
          body.set(h, i * 32);
        });
      }
      return publicHeaders(reply, BINARY, tile.width === TILE_WIDTH ? IMMUTABLE : PARTIAL).send(
        Buffer.from(body),
      );
    },
  );
}
