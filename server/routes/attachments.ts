/**
 * Draft attachments (explanatory memorandum, impact assessment, PDFs): staff upload a file's bytes, content-addressed
 * by SHA-256, then name it in a draft (POST /api/consultations, PUT .../draft), whose hash then covers it; anyone
 * fetches an attachment a draft of the consultation lists, served with that draft's media type.
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { bytesToHex, sha256 } from "../../protocol/index.ts";
import { requireRole } from "../auth.ts";
import { badRequest, notFound, ServiceError } from "../errors.ts";
import * as schemas from "../schemas.ts";
import type { Attachment, Hex, Store } from "../store/index.ts";

type AttachmentRef = { title: string; mediaType: string; sha256: string; bytes?: number };

/**
 * The draft's attachments as the draft document lists them, each checked against its upload: stored (else a 400
 * naming `attachments[i].sha256`), its size the one given (when given), listed once.
 */
export async function resolveAttachments(
  store: Store,
  refs: readonly AttachmentRef[] | undefined,
): Promise<Attachment[]> {
  const out: Attachment[] = [];
  const seen = new Set<string>();
  for (const [i, ref] of (refs ?? []).entries()) {
    const at = `attachments[${i}]`;
    if (seen.has(ref.sha256)) throw badRequest(`${at}.sha256: the same file is listed twice`);
    seen.add(ref.sha256);
    const size = await store.attachmentSize(ref.sha256 as Hex);
    if (size === null) {
      throw badRequest(`${at}.sha256: no file with this hash was uploaded (POST /api/attachments first)`);
    }
    if (ref.bytes !== undefined && ref.bytes !== size) {
      throw badRequest(`${at}.bytes: the uploaded file has ${size} bytes, not ${ref.bytes}`);
    }
    out.push({ title: ref.title, mediaType: ref.mediaType, sha256: ref.sha256 as Hex, bytes: size });
  }
  return out;
}

export async function attachmentRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy, consultations } = app;
  const { store } = gopy;

  app.get(
    "/consultations/:id/attachments/:sha256",
    {
      schema: {
        summary: "An attachment one of the consultation's draft versions lists, with that draft's media type",
        params: schemas.AttachmentParams,
        produces: [...schemas.ATTACHMENT_TYPES],
        response: { 200: { type: "string", format: "binary" } as never, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const id = Number(req.params.id);
      await consultations.get(id);
      const hash = req.params.sha256 as Hex;
      // the latest version listing it names it: an upload no draft lists is never served
      const listed = (await store.listDrafts(id))
        .flatMap((d) => d.attachments ?? [])
        .filter((a) => a.sha256 === hash)
        .at(-1);
      if (!listed) throw notFound(`no draft of consultation ${id} lists an attachment ${hash}`);
      const file = await store.getAttachment(hash);
      if (!file) throw notFound(`attachment ${hash} is not stored`);
      const ascii = listed.title.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_");
      return reply
        .type(listed.mediaType)
        .header("etag", `"${hash}"`)
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .header(
          "content-disposition",
          `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(listed.title)}`,
        )
        .send(Buffer.from(file.content));
    },
  );
}

/** The upload (registered in the authenticated scope). */
export async function attachmentStaffRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { gopy } = app;
  const { store, clock, config } = gopy;
  // raw bytes, in this plugin only (elsewhere these types are 415)
  app.addContentTypeParser(
    [...schemas.ATTACHMENT_TYPES],
    { parseAs: "buffer", bodyLimit: config.attachmentLimit },
    (_req, body, done) => done(null, body),
  );

  app.post(
    "/attachments",
    {
      bodyLimit: config.attachmentLimit,
      schema: {
        summary: "Upload a draft attachment (agency): raw bytes, the file's type as Content-Type",
        response: { 201: schemas.AttachmentUploaded, ...schemas.errors },
      },
    },
    async (req, reply) => {
      const staff = requireRole(req, "agency");
      const mediaType = String(req.headers["content-type"]).split(";")[0]!.trim().toLowerCase();
      const content = req.body as Buffer;
      // application/json has the service's own parser: it is no attachment type either
      if (!(schemas.ATTACHMENT_TYPES as readonly string[]).includes(mediaType) || !Buffer.isBuffer(content)) {
        throw new ServiceError(
          415,
          "unsupported_media_type",
          `Content-Type must be one of ${schemas.ATTACHMENT_TYPES.join(", ")}`,
        );
      }
      if (content.length === 0) throw badRequest("body: the file is empty");
      const hash = bytesToHex(sha256(content));
      await store.putAttachment({
        sha256: hash,
        mediaType,
        content: new Uint8Array(content.buffer, content.byteOffset, content.length),
        agency: staff.agency!,
        createdAt: clock.now(),
      });
      return reply.status(201).send({ sha256: hash, bytes: content.length, mediaType });
    },
  );
}
