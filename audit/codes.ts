// Verdict codes of the auditor, also the CLI's exit codes: 0 only when every check passes, one distinct
// code per kind of failure. When several kinds fail, the smallest code wins; --json lists every failure.

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  source: 3,
  "export-format": 10,
  "entry-invalid": 11,
  "leaf-hash": 12,
  "root-mismatch": 13,
  "export-length": 14,
  "content-hash": 15,
  moderation: 16,
  "time-window": 17,
  replaces: 18,
  tally: 19,
  draft: 20,
  "not-final": 21,
  counted: 22,
  response: 23,
  "response-incomplete": 24,
  receipt: 25,
} as const;

export type FailureKind = Exclude<keyof typeof EXIT, "ok" | "internal" | "usage">;

export const EXIT_DESCRIPTIONS: Record<keyof typeof EXIT, string> = {
  ok: "every check passed",
  internal: "the auditor itself failed (a bug: please report it)",
  usage: "bad command-line arguments",
  source:
    "a source could not be read: API, RPC, export file, draft, or the consultation is unknown on chain; or the RPCs disagree, serve another chain than the trust root's, or hold no registry at its address",
  "export-format":
    "an export line is not a JSON object {index, leaf, leafHash, text?, salt?, withheld?}, is not valid UTF-8, or its index is out of sequence (dropped, duplicated or reordered lines)",
  "entry-invalid":
    "a leaf is not a valid canonical entry of this consultation (strict decode, consultation id, draft version)",
  "leaf-hash": "a line's leafHash is not SHA-256(0x00 || leaf)",
  "root-mismatch":
    "the root recomputed from the export differs from a LogAnchored head, a consistency step fails, or logHead/TallyPublished disagree with the events",
  "export-length":
    "the export ends before the last anchored head, or goes on past the head frozen by the published tally",
  "content-hash": "SHA-256(salt || text) differs from the opinion's contentHash",
  moderation:
    "a withheld text has no moderation entry, a moderated text is still public, or a moderation entry targets no earlier opinion",
  "time-window": "an opinion's submittedAt is outside the chain's opensAt..closesAt",
  replaces:
    "an author has two live opinions on one section (replaces does not point to the author's latest opinion there)",
  tally: "the tally recomputed from the export differs from the TallyPublished tallyHash",
  draft: "the draft's hash differs from the draftHash on chain",
  "not-final": "with --final: no tally is published, or entries are not anchored",
  counted:
    "the counted map recomputed from the export (each author's latest opinion per section) differs from the countedRoot anchored with a head",
  response:
    "the response document's SHA-256 differs from the latest ResponsePublished responseHash, or it is not this consultation's canonical response (version, chain, registry, final draft, tally, leaf indices)",
  "response-incomplete":
    "the response leaves an article of the final draft unanswered, or answers an article the final draft does not have",
  receipt:
    "with --receipt: a receipt does not verify (v1: format, signature by a registered receipt key, text, leaf; v2: format, checkpoint signed by the trust root's log key, text, leaf, inclusion proof), or its leaf is not at its index in the audited log",
};

/** The process exit code for a set of failure kinds: 0 when empty, else the smallest code. */
export function exitCodeFor(kinds: Iterable<FailureKind>): number {
  let code = 0;
  for (const kind of kinds) {
    const c = EXIT[kind];
    if (code === 0 || c < code) code = c;
  }
  return code;
}
