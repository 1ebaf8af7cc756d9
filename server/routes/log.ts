/** The Certificate-Transparency-style log API of a consultation: head, inclusion and consistency proofs, entries. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { ServiceError } from "../errors.ts";
import * as S from "../schemas.ts";
import type { Hex } from "../store/index.ts";
import type { RouteOptions } from "./context.ts";

export async function logRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx.gopy;

  app.get(
    "/api/consultations/:id/log/head",
    { schema: { summary: "Log head", params: S.IdParams, response: { 200: S.LogHead, ...S.errors } } },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await ctx.committedLog(id);
      const a = await store.lastAnchor(id);
      return {
        treeSize: size,
        rootHash: await log.root(size),
        anchored:
          a === null
            ? null
            : {
                treeSize: a.treeSize,
                rootHash: a.rootHash,
                txHash: a.txHash,
                blockNumber: a.blockNumber ?? 0,
                anchoredAt: a.anchoredAt ?? 0,
              },
      };
    },
  );

  app.get(
    "/api/consultations/:id/log/proof",
    {
      schema: {
        summary: "Inclusion proof by leaf hash",
        params: S.IdParams,
        querystring: S.ProofQuery,
        response: { 200: S.Proof, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const { log, size } = await ctx.committedLog(id);
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
    "/api/consultations/:id/log/consistency",
    {
      schema: {
        summary: "Consistency proof between two sizes",
        params: S.IdParams,
        querystring: S.ConsistencyQuery,
        response: { 200: S.Consistency, ...S.errors },
      },
    },
    async (req) => {
      const { log, size } = await ctx.committedLog(Number(req.params.id));
      const first = Number(req.query.first);
      const second = req.query.second === undefined ? size : Number(req.query.second);
      if (second > size)
        throw new ServiceError(400, "bad_request", `second ${second} exceeds the log (${size})`);
      if (first > second) throw new ServiceError(400, "bad_request", "first must not exceed second");
      return { first, second, proof: await log.consistencyProof(first, second) };
    },
  );

  app.get(
    "/api/consultations/:id/log/entries",
    {
      schema: {
        summary: "Entries [start, end), at most 1,000",
        params: S.IdParams,
        querystring: S.EntriesQuery,
        response: { 200: S.Entries, ...S.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const c = await ctx.consultation(id);
      const start = Number(req.query.start);
      const end = Number(req.query.end);
      if (end <= start) throw new ServiceError(400, "bad_request", "end must be greater than start");
      if (end - start > 1000) throw new ServiceError(400, "bad_request", "at most 1,000 entries per request");
      if (start >= c.treeSize)
        throw new ServiceError(400, "bad_request", `start ${start} is beyond the log (${c.treeSize})`);
      const rows = await store.getEntries(id, start, Math.min(end, c.treeSize));
      return { entries: rows.map((e) => ({ index: e.index, leaf: e.leaf, leafHash: e.leafHash })) };
    },
  );
}
