/** The Certificate-Transparency-style log API of a consultation: head, inclusion and consistency proofs, entries. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";
import type { Hex } from "../store/index.ts";

export async function logRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store } = gopy;

  app.get(
    "/consultations/:id/log/head",
    {
      schema: {
        summary: "Log head",
        params: schemas.IdParams,
        response: { 200: schemas.LogHead, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await consultations.committedLog(id);
      const anchor = await store.lastAnchor(id);
      return {
        treeSize: size,
        rootHash: await log.root(size),
        anchored:
          anchor === null
            ? null
            : {
                treeSize: anchor.treeSize,
                rootHash: anchor.rootHash,
                txHash: anchor.txHash,
                blockNumber: anchor.blockNumber ?? 0,
                anchoredAt: anchor.anchoredAt ?? 0,
              },
      };
    },
  );

  app.get(
    "/consultations/:id/log/proof",
    {
      schema: {
        summary: "Inclusion proof by leaf hash",
        params: schemas.IdParams,
        querystring: schemas.ProofQuery,
        response: { 200: schemas.Proof, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await consultations.committedLog(id);
      const treeSize = req.query.treeSize === undefined ? size : Number(req.query.treeSize);
      if (treeSize > size)
        throw new ServiceError(400, "bad_request", `treeSize ${treeSize} exceeds the log (${size})`);
      const leafIndex = await store.findLeaf(id, req.query.leafHash as Hex);
      if (leafIndex === null || leafIndex >= size)
        throw new ServiceError(404, "not_found", "no leaf with that hash");
      if (leafIndex >= treeSize) {
        throw new ServiceError(
          400,
          "bad_request",
          `leaf ${leafIndex} is not in the tree of size ${treeSize}`,
        );
      }
      return {
        leafIndex,
        treeSize,
        rootHash: await log.root(treeSize),
        proof: await log.inclusionProof(leafIndex, treeSize),
      };
    },
  );

  app.get(
    "/consultations/:id/log/consistency",
    {
      schema: {
        summary: "Consistency proof between two sizes",
        params: schemas.IdParams,
        querystring: schemas.ConsistencyQuery,
        response: { 200: schemas.Consistency, ...schemas.errors },
      },
    },
    async (req) => {
      const { log, size } = await consultations.committedLog(Number(req.params.id));
      const first = Number(req.query.first);
      const second = req.query.second === undefined ? size : Number(req.query.second);
      if (second > size)
        throw new ServiceError(400, "bad_request", `second ${second} exceeds the log (${size})`);
      if (first > second) throw new ServiceError(400, "bad_request", "first must not exceed second");
      return { first, second, proof: await log.consistencyProof(first, second) };
    },
  );

  app.get(
    "/consultations/:id/log/entries",
    {
      schema: {
        summary: "Entries [start, end), at most 1,000",
        params: schemas.IdParams,
        querystring: schemas.EntriesQuery,
        response: { 200: schemas.Entries, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      const start = Number(req.query.start);
      const end = Number(req.query.end);
      if (end <= start) throw new ServiceError(400, "bad_request", "end must be greater than start");
      if (end - start > 1000) throw new ServiceError(400, "bad_request", "at most 1,000 entries per request");
      if (start >= consultation.treeSize)
        throw new ServiceError(
          400,
          "bad_request",
          `start ${start} is beyond the log (${consultation.treeSize})`,
        );
      const rows = await store.getEntries(id, start, Math.min(end, consultation.treeSize));
      return {
        entries: rows.map((entry) => ({ index: entry.index, leaf: entry.leaf, leafHash: entry.leafHash })),
      };
    },
  );
}
