/** GET /api/me (who the token stands for) and GET /api/me/opinions (the citizen's receipts): authenticated scope. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { requireRole } from "../auth.ts";
import * as schemas from "../schemas.ts";
import { subjectKey } from "./context.ts";

export async function meRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store, config } = app.gopy;
  app.get(
    "/me",
    {
      schema: {
        summary: "The signed-in identity: subject, and the role and agency the issuer's claim mapping gives",
        response: { 200: schemas.Me, ...schemas.errors },
      },
    },
    async (req) => {
      const { sub, role, agency } = requireRole(req, "citizen", "agency", "admin");
      return { sub, role, agency };
    },
  );
  app.get(
    "/me/opinions",
    {
      schema: {
        summary: "The signed-in citizen's receipts",
        response: { 200: schemas.ReceiptList, ...schemas.errors },
      },
    },
    async (req) => {
      const signedIn = requireRole(req, "citizen", "agency", "admin");
      const receipts = await store.receiptsFor(subjectKey(config, signedIn.sub));
      return { receipts: receipts.map((receipt) => JSON.parse(receipt)) };
    },
  );
}
