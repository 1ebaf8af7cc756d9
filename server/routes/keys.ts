/** GET /api/keys: the receipt-signing public keys as a JWKS (current key first, then retired ones). */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { jwkThumbprint } from "../../protocol/index.ts";
import * as schemas from "../schemas.ts";

export async function keysRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { receiptKey, config } = app.gopy;
  // receipts signed by a retired key keep verifying: its public key stays listed
  const receiptJwks = [
    receiptKey.publicJwk.x,
    ...config.retiredReceiptKeys.filter((x) => x !== receiptKey.publicJwk.x),
  ].map((x) => {
    const jwk = { kty: "OKP" as const, crv: "Ed25519" as const, x };
    return { ...jwk, kid: jwkThumbprint(jwk), alg: "EdDSA" as const, use: "sig" as const };
  });

  app.get(
    "/keys",
    {
      schema: {
        summary: "Receipt-signing keys (JWKS): the current key, then retired ones",
        response: { 200: schemas.Jwks },
      },
    },
    async () => ({ keys: receiptJwks }),
  );
}
