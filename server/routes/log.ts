/**
 * The Certificate-Transparency-style log API of a consultation: head, inclusion and consistency proofs, entries; and
 * the proof of what its counted map holds for an (author, section) at an anchored head.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { CountedMap } from "../../protocol/index.ts";
import { notFound, ServiceError } from "../errors.ts";
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
    "/consultations/:id/counted/proof",
    {
      schema: {
        summary:
          "Counted map proof for an author and a section, at the latest anchored head or an anchored size",
        params: schemas.IdParams,
        querystring: schemas.CountedProofQuery,
        response: { 200: schemas.CountedProof, ...schemas.errors },
      },
    },
    async (req) => {
      const id = Number(req.params.id);
      const consultation = await consultations.get(id);
      const { author, section } = req.query;
      if (!(await draftSections(id, consultation.draftVersion)).has(section)) {
        throw new ServiceError(
          400,
          "bad_request",
          `section ${JSON.stringify(section)} is not a section of this consultation's draft`,
        );
      }
      let treeSize = consultation.anchoredSize;
      if (req.query.treeSize !== undefined) {
        treeSize = Number(req.query.treeSize);
        if (!(await store.anchorAt(id, treeSize))) {
          throw notFound(`treeSize ${treeSize} is not an anchored size of consultation ${id}`);
        }
      } else if (treeSize === 0) {
        throw notFound(`no head of consultation ${id} is anchored yet`);
      }
      const version = await store.countedVersion(id, treeSize);
      if (!version) {
        throw notFound(`no counted map is recorded for the anchored head of size ${treeSize}`);
      }
      const map = await CountedMap.open(store.countedStore(id), treeSize);
      const proof = await map.proof({ author: author as Hex, section }, treeSize);
      if (proof.root !== version.root) {
        throw new ServiceError(
          500,
          "internal",
          `the counted map's records at ${treeSize} disagree with its root`,
        );
      }
      return { ...proof, siblings: [...proof.siblings] };
    },
  );

  /** Section ids of every draft version (an opinion names a section of the version it was given under). */
  async function draftSections(id: number, versions: number): Promise<Set<string>> {
    const ids = new Set<string>();
    for (let v = 1; v <= versions; v++) {
      for (const s of (await store.getDraft(id, v))?.sections ?? []) ids.add(s.id);
    }
    return ids;
  }

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
