// A draft policy as the agency publishes it. Its hash is what the registry contract stores, and what
// a browser recomputes from the draft the service serves.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, isHash, utf8Encode } from "./encoding.ts";
import { SECTION_ID_PATTERN } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { canonicalJson } from "./jcs.ts";

export interface DraftSection {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/**
 * A file published with the draft (explanatory memorandum, impact assessment…): named by the SHA-256 of its bytes,
 * so the draft hash commits to the file itself and anyone holding it can check it.
 */
export interface DraftAttachment {
  readonly title: string;
  /** The file's media type, lowercase `type/subtype` (RFC 6838), parameters excluded. */
  readonly mediaType: string;
  /** SHA-256 of the file's bytes. */
  readonly sha256: Hex;
  /** The file's size in bytes. */
  readonly bytes: number;
}

export interface Draft {
  readonly title: string;
  readonly summary: string;
  readonly sections: readonly DraftSection[];
  /** Absent (or empty) for a draft without attachments: such a draft hashes as it did before they existed. */
  readonly attachments?: readonly DraftAttachment[];
}

/** RFC 6838 type/subtype, restricted-name characters, lowercase. */
export const MEDIA_TYPE_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** Most attachments one draft may list. */
export const MAX_ATTACHMENTS = 20;
/** Longest attachment title, in UTF-16 code units. */
export const MAX_ATTACHMENT_TITLE = 200;

/** Checks a draft's shape: non-empty title, at least one section, unique well-formed section ids, attachments. */
export function assertDraft(draft: unknown): asserts draft is Draft {
  const fail = (message: string): never => {
    throw new ProtocolError("invalid_draft", message);
  };
  if (typeof draft !== "object" || draft === null) fail("draft must be an object");
  const { title, summary, sections, attachments } = draft as Record<string, unknown>;
  if (typeof title !== "string" || title.trim() === "") fail("draft title must be a non-empty string");
  if (typeof summary !== "string") fail("draft summary must be a string");
  if (!Array.isArray(sections) || sections.length === 0) fail("draft must have at least one section");
  const seen = new Set<string>();
  (sections as unknown[]).forEach((section, i) => {
    if (typeof section !== "object" || section === null) fail(`section ${i} must be an object`);
    const { id, title: sectionTitle, text } = section as Record<string, unknown>;
    if (typeof id !== "string" || !SECTION_ID_PATTERN.test(id)) {
      fail(`section ${i} id must be letters, digits, '.', '_' or '-' (at most 64)`);
    }
    if (seen.has(id as string)) fail(`section id "${id}" appears twice`);
    seen.add(id as string);
    if (typeof sectionTitle !== "string" || sectionTitle.trim() === "") fail(`section "${id}" needs a title`);
    if (typeof text !== "string") fail(`section "${id}" text must be a string`);
  });
  if (attachments === undefined) return;
  if (!Array.isArray(attachments) || attachments.length > MAX_ATTACHMENTS) {
    fail(`draft attachments must be a list of at most ${MAX_ATTACHMENTS}`);
  }
  (attachments as unknown[]).forEach((attachment, i) => {
    const at = `attachments[${i}]`;
    if (typeof attachment !== "object" || attachment === null) fail(`${at} must be an object`);
    const a = attachment as Record<string, unknown>;
    if (typeof a.title !== "string" || a.title.trim() === "" || a.title.length > MAX_ATTACHMENT_TITLE) {
      fail(`${at}.title must be a non-empty string of at most ${MAX_ATTACHMENT_TITLE} characters`);
    }
    if (typeof a.mediaType !== "string" || !MEDIA_TYPE_PATTERN.test(a.mediaType)) {
      fail(`${at}.mediaType must be a lowercase media type such as application/pdf`);
    }
    if (!isHash(a.sha256)) fail(`${at}.sha256 must be 0x and 64 lowercase hex digits`);
    if (!Number.isSafeInteger(a.bytes) || (a.bytes as number) < 0)
      fail(`${at}.bytes must be a size in bytes`);
  });
}

/**
 * The canonical JSON the draft hash commits to: `{v:1, title, summary, sections:[{id,title,text}],
 * attachments?:[{title,mediaType,sha256,bytes}]}`, attachments in the agency's order and absent when there are none.
 */
export function draftString(draft: Draft): string {
  assertDraft(draft);
  const attachments = draft.attachments ?? [];
  return canonicalJson({
    v: 1,
    title: draft.title,
    summary: draft.summary,
    sections: draft.sections.map(({ id, title, text }) => ({ id, title, text })),
    attachments:
      attachments.length === 0
        ? undefined
        : attachments.map(({ title, mediaType, sha256, bytes }) => ({ title, mediaType, sha256, bytes })),
  });
}

/** draftHash = SHA-256 of the UTF-8 canonical JSON of the draft (see draftString). */
export function draftHash(draft: Draft): Hex {
  return bytesToHex(sha256(utf8Encode(draftString(draft), "draft")));
}
