/** POST /api/dev/token: the development identity provider (registered only when DEV_IDP=true). */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import type { DevIdp } from "../auth.ts";
import { ServiceError } from "../errors.ts";
import * as S from "../schemas.ts";
import type { RouteOptions } from "./context.ts";

export async function devIdpRoutes(
  fastify: FastifyInstance,
  { ctx, devIdp }: RouteOptions & { devIdp: DevIdp },
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { clock } = ctx.gopy;
  app.post(
    "/api/dev/token",
    {
      schema: {
        summary: "Development identity provider (demo only)",
        body: S.DevTokenBody,
        response: { 200: S.DevToken, ...S.errors },
      },
    },
    async (req) => {
      const { sub, role, agency } = req.body;
      if (role === "agency" && !agency)
        throw new ServiceError(400, "bad_request", "an agency token needs `agency`");
      return { token: devIdp.issue(sub, role, role === "citizen" ? null : (agency ?? null), clock.now()) };
    },
  );
}
