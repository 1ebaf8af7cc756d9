// A draft policy as the agency publishes it. Its hash is what the registry contract stores, and what
// a browser recomputes from the draft the service serves.
import { sha256 } from "#sha256";
import { bytesToHex, type Hex, utf8Encode } from "./encoding.ts";
import { SECTION_ID_PATTERN } from "./entry.ts";
import { ProtocolError } from "./errors.ts";
import { canonicalJson } from "./jcs.ts";

export interface DraftSection {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

export interface Draft {
  readonly title: string;
  readonly summary: string;
  readonly sections: readonly DraftSection[];
}

/** Checks a draft's shape: non-empty title, at least one section, unique well-formed section ids. */
export function assertDraft(draft: unknown): asserts draft is Draft {
  const fail = (message: string): never => {
    throw new ProtocolError("invalid_draft", message);
  };
  if (typeof draft !== "object" || draft === null) fail("draft must be an object");
  const { title, summary, sections } = draft as Record<string, unknown>;
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
}

/** The canonical JSON the draft hash commits to: `{v:1, title, summary, sections:[{id,title,text}]}`. */
export function draftString(draft: Draft): string {
  assertDraft(draft);
  return canonicalJson({
    v: 1,
    title: draft.title,
    summary: draft.summary,
    sections: draft.sections.map(({ id, title, text }) => ({ id, title, text })),
  });
}

/** draftHash = SHA-256 of the UTF-8 canonical JSON of the draft (see draftString). */
export function draftHash(draft: Draft): Hex {
  return bytesToHex(sha256(utf8Encode(draftString(draft), "draft")));
}
