// Where the export and the draft come from: a file, the service's API, or the chain's draftURI.
// The export is streamed as byte chunks, never held as one string.

import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { fileURLToPath } from "node:url";
import type { Draft } from "../../protocol/index.ts";

/** A source (the API, an RPC, the export, the draft or tally document) could not be read. */
export class SourceError extends Error {}

/** The export file's bytes, read in 1 MiB chunks. */
export function fileChunks(path: string): AsyncIterable<Uint8Array> {
  return createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
}

/** The service's export, streamed over HTTP. */
export async function apiChunks(api: string, consultation: string): Promise<AsyncIterable<Uint8Array>> {
  const url = `${trimSlash(api)}/api/consultations/${consultation}/export`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new SourceError(`GET ${url} failed: ${(error as Error).message}`);
  }
  if (!res.ok || res.body === null) throw new SourceError(`GET ${url} answered ${res.status}`);
  return Readable.fromWeb(res.body as WebReadableStream<Uint8Array>) as AsyncIterable<Buffer>;
}

/** GET a JSON document from the service. */
export async function getJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new SourceError(`GET ${url} failed: ${(error as Error).message}`);
  }
  if (!res.ok) throw new SourceError(`GET ${url} answered ${res.status}`);
  try {
    return await res.json();
  } catch {
    throw new SourceError(`GET ${url} did not return JSON`);
  }
}

/** The consultation's chain reference as the service states it ({chainId, contract} or null). */
export interface ApiConsultation {
  readonly draft: Draft;
  readonly draftHash: string | null;
  readonly chain: { chainId: number; contract: string } | null;
}

export async function apiConsultation(api: string, consultation: string): Promise<ApiConsultation> {
  const body = (await getJson(`${trimSlash(api)}/api/consultations/${consultation}`)) as {
    title?: unknown;
    summary?: unknown;
    draft?: { hash?: unknown; sections?: unknown; attachments?: unknown };
    chain?: { chainId?: unknown; contract?: unknown } | null;
  };
  const draft = {
    title: body.title,
    summary: body.summary,
    sections: body.draft?.sections,
    ...(body.draft?.attachments !== undefined ? { attachments: body.draft.attachments } : {}),
  } as Draft;
  const chain =
    body.chain && typeof body.chain.chainId === "number" && typeof body.chain.contract === "string"
      ? { chainId: body.chain.chainId, contract: body.chain.contract }
      : null;
  return { draft, draftHash: typeof body.draft?.hash === "string" ? body.draft.hash : null, chain };
}

/**
 * A draft document: {title, summary, sections:[{id,title,text}], attachments?}. Extra fields (the service's
 * /api/drafts/:hash adds uses and hash) are ignored: only these are hashed.
 */
export function draftFromJson(value: unknown): Draft {
  const v = (value ?? {}) as {
    title?: unknown;
    summary?: unknown;
    sections?: unknown;
    attachments?: unknown;
  };
  return {
    title: v.title,
    summary: v.summary,
    sections: v.sections,
    ...(v.attachments !== undefined ? { attachments: v.attachments } : {}),
  } as Draft;
}

/** The response document's bytes from a file (exactly as they are: the hash covers them). */
export async function responseFromFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new SourceError(`the response file ${path} cannot be read: ${(error as Error).message}`);
  }
}

/** The service's latest response document, as bytes; undefined when it has none (404). */
export async function apiResponse(api: string, consultation: string): Promise<Uint8Array | undefined> {
  const url = `${trimSlash(api)}/api/consultations/${consultation}/response`;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (error) {
    throw new SourceError(`${url} cannot be fetched: ${(error as Error).message}`);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new SourceError(`${url} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Loads the draft from a file path. */
export async function draftFromFile(path: string): Promise<Draft> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new SourceError(`the draft file ${path} cannot be read: ${(error as Error).message}`);
  }
  try {
    return draftFromJson(JSON.parse(text));
  } catch {
    throw new SourceError(`the draft file ${path} is not JSON`);
  }
}

/** Loads the draft from the chain's draftURI: http(s) or file URLs. */
export async function draftFromUri(uri: string): Promise<Draft> {
  if (uri.startsWith("http://") || uri.startsWith("https://")) return draftFromJson(await getJson(uri));
  if (uri.startsWith("file:")) return draftFromFile(fileURLToPath(uri));
  throw new SourceError(
    `the chain's draftURI "${uri}" is not an http(s) or file URL: give the draft with --draft`,
  );
}

/** The published tally document at `uri` (http(s) or file), bare or as the service's {document, ...}. */
export async function tallyFromUri(uri: string): Promise<unknown> {
  let value: unknown;
  if (uri.startsWith("http://") || uri.startsWith("https://")) value = await getJson(uri);
  else if (uri.startsWith("file:")) {
    try {
      value = JSON.parse(await readFile(fileURLToPath(uri), "utf8"));
    } catch (error) {
      throw new SourceError(`the tally at ${uri} cannot be read: ${(error as Error).message}`);
    }
  } else throw new SourceError(`the tallyURI "${uri}" is not an http(s) or file URL`);
  const v = value as { document?: unknown };
  return typeof v === "object" && v !== null && "document" in v ? v.document : value;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
