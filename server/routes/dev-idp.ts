/** POST /api/dev/token: the development identity provider (only with DEV_IDP=true and NODE_ENV=development). */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../errors.ts";
import * as schemas from "../schemas.ts";

export async function devIdpRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { clock, devIdp } = app.gopy;
  if (!devIdp) return;
  app.post(
    "/dev/token",
    {
      schema: {
        summary: "Development identity provider (demo only)",
        body: schemas.DevTokenBody,
        response: { 200: schemas.DevToken, ...schemas.errors },
      },
    },
    async (req) => {
      const { sub, role, agency } = req.body;
      if (role === "agency" && !agency) throw badRequest("an agency token needs `agency`");
      return { token: devIdp.issue(sub, role, role === "citizen" ? null : (agency ?? null), clock.now()) };
    },
  );
}
