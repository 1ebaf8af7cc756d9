// The drafting agency's response to the opinions (in Vietnam the report on how the drafting body took in and
// answered them: báo cáo tổng hợp, tiếp thu, giải trình): one answer per article of the final draft. Its hash is
// what the registry records (publishResponse); a browser recomputes it from the bytes the service serves.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, isHash, utf8Decode, utf8Encode } from "./encoding.ts";
import { CONSULTATION_ID_PATTERN, SECTION_ID_PATTERN } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { canonicalJson, parseJson } from "./jcs.ts";
import { isTime } from "./time.ts";

/** How the agency took in what was said on an article. */
export const RESPONSE_STATUSES = ["accepted", "partly-accepted", "not-accepted", "explained"] as const;
export type ResponseStatus = (typeof RESPONSE_STATUSES)[number];

/** Longest answer text, in UTF-16 code units. */
export const MAX_RESPONSE_TEXT = 20_000;
/** Most campaigns or entries one answer may name. */
export const MAX_RESPONSE_REFERENCES = 1000;
/** A campaign id as the reading API names it. */
export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ArticleResponse {
  readonly status: ResponseStatus;
  readonly text: string;
  /** Campaigns (groups of near-identical opinions) this answer addresses; absent when none. */
  readonly campaigns?: readonly string[];
  /** Leaf indices of the opinions this answer addresses, strictly increasing; absent when none. */
  readonly entries?: readonly number[];
}

/** The response document, version 1; responseHash is SHA-256 of its canonical JSON. */
export interface ResponseDocument {
  readonly v: 1;
  /** The consultation's id in the registry, in decimal (as in entries and the tally). */
  readonly consultation: string;
  /** The chain and registry the consultation lives on: the document cannot be replayed for another. */
  readonly chainId: number;
  /** The registry's address, lowercase 0x-hex. */
  readonly registry: string;
  /** The final draft (the one the tally counted against) and its version. */
  readonly draftHash: Hex;
  readonly draftVersion: number;
  /** The published tally this answers. */
  readonly tallyHash: Hex;
  /** 1 for the first response; each later one supersedes it with the next number (the registry's version). */
  readonly version: number;
  /** Section id → the answer on that article. */
  readonly articles: Readonly<Record<string, ArticleResponse>>;
  /** When the agency published it, RFC 3339 UTC with milliseconds. */
  readonly publishedAt: string;
}

const ADDRESS = /^0x[0-9a-f]{40}$/;
const own = (record: object, key: string) => Object.hasOwn(record, key);

/** Checks a response document's shape (every field, every answer); throws a ProtocolError naming the field. */
export function assertResponse(doc: unknown): asserts doc is ResponseDocument {
  const fail = (message: string): never => {
    throw new ProtocolError("invalid_response", message);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("response must be an object");
  const d = doc as Record<string, unknown>;
  const known = new Set([
    "v",
    "consultation",
    "chainId",
    "registry",
    "draftHash",
    "draftVersion",
    "tallyHash",
    "version",
    "articles",
    "publishedAt",
  ]);
  for (const key of Object.keys(d)) if (!known.has(key)) fail(`response has an unknown field ${key}`);
  if (d.v !== 1) fail("response v must be 1");
  if (typeof d.consultation !== "string" || !CONSULTATION_ID_PATTERN.test(d.consultation)) {
    fail("response consultation must be a decimal consultation id");
  }
  if (!Number.isSafeInteger(d.chainId) || (d.chainId as number) <= 0)
    fail("response chainId must be a chain id");
  if (typeof d.registry !== "string" || !ADDRESS.test(d.registry)) {
    fail("response registry must be a lowercase 0x address");
  }
  if (!isHash(d.draftHash)) fail("response draftHash must be 0x and 64 lowercase hex digits");
  if (!Number.isSafeInteger(d.draftVersion) || (d.draftVersion as number) < 1) {
    fail("response draftVersion must be a positive integer");
  }
  if (!isHash(d.tallyHash)) fail("response tallyHash must be 0x and 64 lowercase hex digits");
  if (!Number.isSafeInteger(d.version) || (d.version as number) < 1 || (d.version as number) > 0xffffffff) {
    fail("response version must be a positive 32-bit integer");
  }
  if (!isTime(d.publishedAt)) fail("response publishedAt must be RFC 3339 UTC with milliseconds");
  const articles = d.articles;
  if (typeof articles !== "object" || articles === null || Array.isArray(articles)) {
    fail("response articles must be an object");
  }
  const ids = Object.keys(articles as object);
  if (ids.length === 0) fail("response articles must answer at least one article");
  for (const id of ids) assertArticleResponse(id, (articles as Record<string, unknown>)[id]);
}

/** Checks one article's answer; `id` is its section id (named in the error). */
export function assertArticleResponse(id: string, answer: unknown): asserts answer is ArticleResponse {
  const at = `articles.${id}`;
  const fail = (message: string): never => {
    throw new ProtocolError("invalid_response", message);
  };
  if (!SECTION_ID_PATTERN.test(id)) fail(`${at}: "${id}" is not a section id`);
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) fail(`${at} must be an object`);
  const a = answer as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (!["status", "text", "campaigns", "entries"].includes(key)) fail(`${at} has an unknown field ${key}`);
  }
  if (!RESPONSE_STATUSES.includes(a.status as ResponseStatus)) {
    fail(`${at}.status must be one of ${RESPONSE_STATUSES.join(", ")}`);
  }
  if (typeof a.text !== "string" || a.text.trim() === "" || a.text.length > MAX_RESPONSE_TEXT) {
    fail(`${at}.text must be a non-empty string of at most ${MAX_RESPONSE_TEXT} characters`);
  }
  if (!(a.text as string).isWellFormed()) fail(`${at}.text contains a lone UTF-16 surrogate`);
  if (own(a, "campaigns")) {
    const c = a.campaigns;
    if (!Array.isArray(c) || c.length === 0 || c.length > MAX_RESPONSE_REFERENCES) {
      fail(`${at}.campaigns must be a non-empty list of at most ${MAX_RESPONSE_REFERENCES} (or absent)`);
    }
    (c as unknown[]).forEach((campaign, i) => {
      if (typeof campaign !== "string" || !CAMPAIGN_ID_PATTERN.test(campaign)) {
        fail(`${at}.campaigns[${i}] must be a campaign id`);
      }
      if (i > 0 && !((c as string[])[i - 1]! < (campaign as string))) {
        fail(`${at}.campaigns must be sorted and without repeats`);
      }
    });
  }
  if (own(a, "entries")) {
    const e = a.entries;
    if (!Array.isArray(e) || e.length === 0 || e.length > MAX_RESPONSE_REFERENCES) {
      fail(`${at}.entries must be a non-empty list of at most ${MAX_RESPONSE_REFERENCES} (or absent)`);
    }
    (e as unknown[]).forEach((index, i) => {
      if (!Number.isSafeInteger(index) || (index as number) < 0)
        fail(`${at}.entries[${i}] must be a leaf index`);
      if (i > 0 && !((e as number[])[i - 1]! < (index as number))) {
        fail(`${at}.entries must be strictly increasing`);
      }
    });
  }
}

/**
 * An answer in its canonical form: campaigns sorted and deduplicated, entries sorted ascending and deduplicated,
 * empty lists dropped. What a service does to what staff typed before building the document.
 */
export function normalizeArticleResponse(answer: ArticleResponse): ArticleResponse {
  const campaigns = [...new Set(answer.campaigns ?? [])].sort();
  const entries = [...new Set(answer.entries ?? [])].sort((a, b) => a - b);
  return {
    status: answer.status,
    text: answer.text,
    ...(campaigns.length > 0 ? { campaigns } : {}),
    ...(entries.length > 0 ? { entries } : {}),
  };
}

/** The canonical JSON responseHash commits to (RFC 8785): exactly the bytes the service serves. */
export function responseString(doc: ResponseDocument): string {
  assertResponse(doc);
  return canonicalJson(doc);
}

/** responseHash = SHA-256 of the UTF-8 canonical JSON of the response (see responseString). */
export function responseHash(doc: ResponseDocument): Hex {
  return bytesToHex(sha256(utf8Encode(responseString(doc), "response")));
}

/** The SHA-256 of served bytes, as they arrived: what a verifier compares with the registry's responseHash. */
export function responseBytesHash(bytes: Uint8Array): Hex {
  return bytesToHex(sha256(bytes));
}

/**
 * Parses served bytes into a response document, refusing anything that is not the canonical form of a valid
 * document (so the document shown is the document whose hash is checked).
 */
export function parseResponse(bytes: Uint8Array): ResponseDocument {
  const text = utf8Decode(bytes, "response");
  const doc = parseJson(text, "response");
  assertResponse(doc);
  if (canonicalJson(doc) !== text) {
    throw new ProtocolError("invalid_response", "response is not in canonical JSON (RFC 8785) form");
  }
  return doc;
}

/** The section ids of `sectionIds` (the final draft's articles) the response leaves unanswered, in draft order. */
export function unansweredArticles(
  doc: Pick<ResponseDocument, "articles">,
  sectionIds: readonly string[],
): string[] {
  return sectionIds.filter((id) => !own(doc.articles, id));
}

/** The section ids the response answers that are not among `sectionIds` (articles the final draft does not have). */
export function unknownArticles(
  doc: Pick<ResponseDocument, "articles">,
  sectionIds: readonly string[],
): string[] {
  const known = new Set(sectionIds);
  return Object.keys(doc.articles).filter((id) => !known.has(id));
}

/** The answer on one article, looked up as an own member only (a section may be called `constructor`). */
export function articleResponse(
  doc: Pick<ResponseDocument, "articles">,
  section: string,
): ArticleResponse | null {
  return own(doc.articles, section) ? (doc.articles[section] ?? null) : null;
}
