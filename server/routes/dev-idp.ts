/**
 * POST /api/dev/token (only with DEV_IDP_URL and NODE_ENV=development): forwards `{sub, role, agency?}` to the demo
 * identity provider's development mint and returns the access token it signed, verified like any other.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { badRequest, issuerUnavailable } from "../errors.ts";
import * as schemas from "../schemas.ts";

const MINT_TIMEOUT_MS = 5_000;

export async function devIdpRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const issuer = app.gopy.config.devIdpUrl;
  if (issuer === null) return;
  app.post(
    "/dev/token",
    {
      schema: {
        summary: "Development token from the demo identity provider (demo only)",
        body: schemas.DevTokenBody,
        response: { 200: schemas.DevToken, ...schemas.errors },
      },
    },
    async (req) => {
      const { sub, role, agency } = req.body;
      if (role === "agency" && !agency) throw badRequest("an agency token needs `agency`");
      const body = role === "citizen" || !agency ? { sub, role } : { sub, role, agency };
      let response: Response;
      try {
        response = await fetch(`${issuer}/dev/token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(MINT_TIMEOUT_MS),
        });
      } catch (e) {
        throw issuerUnavailable(issuer, (e as Error).message);
      }
      const answer = (await response.json().catch(() => null)) as {
        token?: unknown;
        message?: unknown;
      } | null;
      if (response.status === 400)
        throw badRequest(String(answer?.message ?? "refused by the identity provider"));
      if (!response.ok || typeof answer?.token !== "string") {
        throw issuerUnavailable(issuer, `its mint answered HTTP ${response.status}`);
      }
      return { token: answer.token };
    },
  );
}
