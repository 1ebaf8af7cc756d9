// The draft splitter: a legal draft as plain text (pasted, from a .docx through mammoth, or Markdown) cut into its
// chapters and articles by their headings, "Chương I" / "Điều 1." and the English "Chapter I" / "Article 1.". Pure
// code (no DOM), so it is unit-tested under Node (test/web/split.test.ts).

/** One article of a split draft: a section of the draft document, with the chapter it stands in. */
export interface SplitArticle {
  /** Section id: `dieu-<n>` for "Điều n", `article-<n>` for "Article n" (a repeated number gets `-2`, `-3`…). */
  id: string;
  /** The whole heading line, as the draft writes it ("Điều 1. Phạm vi điều chỉnh"). */
  title: string;
  text: string;
  /** The chapter's heading ("Chương I. Những quy định chung"), or null before any chapter. */
  chapter: string | null;
}

export interface SplitDraft {
  title: string;
  summary: string;
  chapters: string[];
  sections: SplitArticle[];
}

/** `docx`: the file could not be read as a .docx (mammoth's message in `detail`). */
export type SplitFault =
  | "empty"
  | "noArticles"
  | "tooManyArticles"
  | "articleTooLong"
  | "titleTooLong"
  | "docx";

/** What the splitter cannot turn into a draft: `fault` says what, `detail` names the article when there is one. */
export class SplitError extends Error {
  readonly fault: SplitFault;
  readonly detail: string;
  constructor(fault: SplitFault, detail = "") {
    super(`${fault}${detail ? `: ${detail}` : ""}`);
    this.name = "SplitError";
    this.fault = fault;
    this.detail = detail;
  }
}

// The service's limits (server/schemas.ts: Section, DraftBody): checked here so a preview never promises a
// draft the service refuses.
export const LIMITS = { sections: 500, text: 100_000, title: 500 } as const;

// Markdown heading marks, bold/italic wrappers and list bullets around a heading line.
const DECORATION = /^(?:#{1,6}\s+|[*_]{1,3}(?=\S))|(?<=\S)[*_]{1,3}$/g;
const ARTICLE = /^(Điều|Article)\s+(\d{1,4}[a-zđ]?)\s*(?:[.:–—-]\s*|$)(.*)$/iu;
const CHAPTER = /^(Chương|Chapter)\s+([IVXLCDM]{1,8}|\d{1,3})\b\s*(?:[.:–—-]\s*)?(.*)$/iu;

function clean(line: string): string {
  return line
    .trim()
    .replace(DECORATION, "")
    .replace(/\*\*|__/g, "")
    .trim();
}

function articleId(word: string, number: string, used: Map<string, number>): string {
  const base = `${word.toLowerCase() === "article" ? "article" : "dieu"}-${number.toLowerCase().replace("đ", "d")}`;
  const n = (used.get(base) ?? 0) + 1;
  used.set(base, n);
  return n === 1 ? base : `${base}-${n}`;
}

const isUpper = (s: string) => s.length > 0 && s === s.toLocaleUpperCase("vi") && /\p{L}/u.test(s);

/**
 * Splits `input` into title, summary (the lines before the first heading, after the title), chapters and
 * articles. Throws SplitError when there is nothing to publish: no text, no article heading, more articles or
 * longer ones than the service takes.
 */
export function splitDraft(input: string): SplitDraft {
  // NFC: a .docx or a paste may carry decomposed Vietnamese ("Đie\u0300u"), which the headings must still match
  const lines = input.normalize("NFC").replace(/\r\n?/g, "\n").split("\n");
  if (lines.every((l) => l.trim() === "")) throw new SplitError("empty");
  const preamble: string[] = [];
  const chapters: string[] = [];
  const sections: SplitArticle[] = [];
  const used = new Map<string, number>();
  let chapter: string | null = null;
  let body: string[] | null = null;
  let awaitingChapterTitle = false;
  const finish = () => {
    const current = sections.at(-1);
    if (current && body)
      current.text = body
        .join("\n")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
  };
  for (const raw of lines) {
    const line = clean(raw);
    const article = ARTICLE.exec(line);
    const chap = article ? null : CHAPTER.exec(line);
    if (article) {
      finish();
      awaitingChapterTitle = false;
      sections.push({ id: articleId(article[1]!, article[2]!, used), title: line, text: "", chapter });
      body = [];
    } else if (chap) {
      finish();
      body = null;
      chapter = line;
      chapters.push(line);
      // Vietnamese drafts put the chapter's name on the next line, in capitals: "Chương I" / "NHỮNG QUY ĐỊNH CHUNG"
      awaitingChapterTitle = chap[3]!.trim() === "";
    } else if (awaitingChapterTitle && line !== "") {
      awaitingChapterTitle = false;
      if (isUpper(line)) {
        chapter = `${chapter}. ${line}`;
        chapters[chapters.length - 1] = chapter;
      } else (body ?? preamble).push(raw.trim());
    } else if (body) body.push(raw.trimEnd());
    else if (chapters.length === 0) preamble.push(clean(raw));
  }
  finish();
  if (sections.length === 0) throw new SplitError("noArticles");
  if (sections.length > LIMITS.sections) throw new SplitError("tooManyArticles", String(sections.length));
  for (const s of sections) {
    if (s.title.length > LIMITS.title) throw new SplitError("titleTooLong", s.id);
    if (s.text.length > LIMITS.text) throw new SplitError("articleTooLong", s.id);
  }
  const head = preamble.map((l) => l.trim()).filter(Boolean);
  const title = head[0] ?? "";
  if (title.length > LIMITS.title) throw new SplitError("titleTooLong", "title");
  return { title, summary: head.slice(1).join("\n"), chapters, sections };
}

/** Markdown to the plain lines the splitter reads: headings and emphasis marks go, links keep their text. */
export function markdownToText(md: string): string {
  return md
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((l) =>
      l
        .replace(/^\s{0,3}>\s?/, "")
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/`([^`]*)`/g, "$1"),
    )
    .join("\n");
}
