// The response check: the agency's response document (the bytes the service serves, or a file) against the
// registry's latest ResponsePublished, and against the consultation it claims to answer (its final draft and its
// tally). Pure and isomorphic, like the rest of the auditor; every hash and parse comes from protocol/.
import {
  type Draft,
  type Hex,
  parseResponse,
  type ResponseDocument,
  responseBytesHash,
  unansweredArticles,
  unknownArticles,
} from "../protocol/index.ts";
import type { FailureKind } from "./codes.ts";
import type { ChainFacts } from "./facts.ts";

export interface ResponseCheck {
  /** False on a registry without responses: nothing else below was checked. */
  readonly checkable: boolean;
  /** The registry's latest version (0: none published). */
  readonly version: number;
  readonly chainHash: Hex | null;
  /** SHA-256 of the document given; null when none was. */
  readonly computedHash: Hex | null;
  /** null: not checked (no document given, or none published and none given). */
  readonly ok: boolean | null;
  /** Articles of the final draft the document leaves unanswered, and answered articles the draft does not have. */
  readonly unanswered: string[];
  readonly unknown: string[];
  readonly document: ResponseDocument | null;
}

/** Checks `bytes` (the response document, or undefined when none was given) against the chain's facts. */
export function checkResponse(
  facts: ChainFacts,
  draft: Draft,
  bytes: Uint8Array | undefined,
  fail: (kind: FailureKind, message: string) => void,
): ResponseCheck {
  const events = facts.responses;
  const checkable = events !== undefined;
  const latest = facts.latestResponse ?? events?.at(-1) ?? null;
  const base = {
    checkable,
    version: latest?.version ?? 0,
    chainHash: latest?.responseHash ?? null,
    computedHash: bytes ? responseBytesHash(bytes) : null,
    unanswered: [] as string[],
    unknown: [] as string[],
    document: null as ResponseDocument | null,
  };
  if (!checkable) return { ...base, ok: null };
  let ok = true;
  const failed = (kind: FailureKind, message: string) => {
    ok = false;
    fail(kind, message);
  };
  const last = events.at(-1);
  if (latest && (!last || last.version !== latest.version || last.responseHash !== latest.responseHash)) {
    failed(
      "response",
      `the registry's latest response (v${latest.version}) is not its last ResponsePublished event`,
    );
  }
  if (bytes === undefined) return { ...base, ok: null };
  if (!latest) {
    failed(
      "response",
      "a response document was given, but the registry holds no response for this consultation",
    );
    return { ...base, ok };
  }
  if (base.computedHash !== latest.responseHash) {
    failed(
      "response",
      `the response document hashes to ${base.computedHash}; the registry's latest (v${latest.version}) is ${latest.responseHash}`,
    );
  }
  let doc: ResponseDocument;
  try {
    doc = parseResponse(bytes);
  } catch (error) {
    failed("response", `the response document is not a canonical response: ${(error as Error).message}`);
    return { ...base, ok };
  }
  const expect = (what: string, actual: unknown, wanted: unknown) => {
    if (actual !== wanted) {
      failed(
        "response",
        `the response's ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`,
      );
    }
  };
  expect("version", doc.version, latest.version);
  expect("consultation", doc.consultation, facts.consultation);
  expect("chainId", doc.chainId, facts.chainId);
  expect("registry", doc.registry, facts.contract.toLowerCase());
  expect("draftHash (the final draft)", doc.draftHash, facts.draftHash);
  expect("draftVersion", doc.draftVersion, facts.draftVersion);
  expect("tallyHash", doc.tallyHash, facts.tally?.tallyHash ?? null);
  const size = facts.tally?.treeSize ?? 0;
  for (const [section, answer] of Object.entries(doc.articles)) {
    const beyond = answer.entries?.find((index) => index >= size);
    if (beyond !== undefined) {
      failed(
        "response",
        `articles.${section}.entries: leaf ${beyond} is not in the tallied log (size ${size})`,
      );
    }
  }
  const sectionIds = Array.isArray(draft.sections) ? draft.sections.map((s) => s.id) : [];
  const unanswered = unansweredArticles(doc, sectionIds);
  const unknown = unknownArticles(doc, sectionIds);
  if (unanswered.length > 0) {
    failed("response-incomplete", `no response to article ${unanswered.map((s) => `"${s}"`).join(", ")}`);
  }
  if (unknown.length > 0) {
    failed(
      "response-incomplete",
      `a response to ${unknown.map((s) => `"${s}"`).join(", ")}, which the final draft does not have`,
    );
  }
  return { ...base, ok, unanswered, unknown, document: doc };
}
