/** GET /api/me/opinions: the signed-in citizen's receipts. */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import * as S from "../schemas.ts";
import { authRoute, type RouteOptions } from "./context.ts";

export async function meRoutes(fastify: FastifyInstance, { ctx }: RouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx.gopy;
  app.get(
    "/api/me/opinions",
    {
      ...authRoute(),
      schema: {
        ...authRoute().schema,
        summary: "The signed-in citizen's receipts",
        response: { 200: S.ReceiptList, ...S.errors },
      },
    },
    async (req) => {
      const who = ctx.requireRole(req, "citizen", "agency", "admin");
      const receipts = await store.receiptsFor(ctx.subjectKey(who.sub));
      return { receipts: receipts.map((r) => JSON.parse(r)) };
    },
  );
}
