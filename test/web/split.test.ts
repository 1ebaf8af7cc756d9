// The draft splitter (web/src/console/split.ts): Vietnamese and English drafts, Markdown, decomposed Unicode as a
// .docx may carry it, and drafts with nothing to publish.
import { expect } from "chai";
import { markdownToText, SplitError, splitDraft } from "../../web/src/console/split.ts";

const VI = `Dự thảo Luật Đất đai (sửa đổi)
Lấy ý kiến nhân dân về dự thảo.
Hạn góp ý: 30 ngày.

Chương I
NHỮNG QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Luật này quy định về chế độ sở hữu đất đai.

Điều 2. Đối tượng áp dụng
1. Cơ quan nhà nước.
2. Người sử dụng đất.

Chương II. QUYỀN CỦA NHÀ NƯỚC
Điều 3: Giải thích từ ngữ
Bản đồ địa chính là bản đồ thể hiện các thửa đất.
`;

const EN = `Draft Land Law (amended)
Public consultation on the draft.

Chapter I: General provisions
Article 1. Scope
This Law governs land ownership.
Article 2. Subjects
State bodies and land users.
Chapter 2
Article 2a. Added article
Text.
Article 2. Repeated number
Again.
`;

function fault(input: string): string {
  try {
    splitDraft(input);
  } catch (e) {
    expect(e).to.be.instanceOf(SplitError);
    return (e as SplitError).fault;
  }
  throw new Error("no SplitError");
}

describe("web: draft splitter", () => {
  it("splits a Vietnamese draft into title, summary, chapters and articles", () => {
    const d = splitDraft(VI);
    expect(d.title).to.equal("Dự thảo Luật Đất đai (sửa đổi)");
    expect(d.summary).to.equal("Lấy ý kiến nhân dân về dự thảo.\nHạn góp ý: 30 ngày.");
    expect(d.chapters).to.deep.equal(["Chương I. NHỮNG QUY ĐỊNH CHUNG", "Chương II. QUYỀN CỦA NHÀ NƯỚC"]);
    expect(d.sections.map((s) => s.id)).to.deep.equal(["dieu-1", "dieu-2", "dieu-3"]);
    expect(d.sections[0]).to.deep.equal({
      id: "dieu-1",
      title: "Điều 1. Phạm vi điều chỉnh",
      text: "Luật này quy định về chế độ sở hữu đất đai.",
      chapter: "Chương I. NHỮNG QUY ĐỊNH CHUNG",
    });
    expect(d.sections[1]!.text).to.equal("1. Cơ quan nhà nước.\n2. Người sử dụng đất.");
    expect(d.sections[2]!.title).to.equal("Điều 3: Giải thích từ ngữ");
    expect(d.sections[2]!.chapter).to.equal("Chương II. QUYỀN CỦA NHÀ NƯỚC");
  });

  it("splits an English draft; lettered and repeated article numbers get distinct ids", () => {
    const d = splitDraft(EN);
    expect(d.title).to.equal("Draft Land Law (amended)");
    expect(d.chapters).to.deep.equal(["Chapter I: General provisions", "Chapter 2"]);
    expect(d.sections.map((s) => s.id)).to.deep.equal([
      "article-1",
      "article-2",
      "article-2a",
      "article-2-2",
    ]);
    expect(d.sections[1]!.text).to.equal("State bodies and land users.");
    expect(d.sections[2]!.chapter).to.equal("Chapter 2");
  });

  it("matches headings written in decomposed Unicode (as some .docx files carry them)", () => {
    const d = splitDraft(VI.normalize("NFD"));
    expect(d.sections.map((s) => s.id)).to.deep.equal(["dieu-1", "dieu-2", "dieu-3"]);
    expect(d.sections[0]!.title).to.equal("Điều 1. Phạm vi điều chỉnh");
  });

  it("reads Markdown headings and emphasis", () => {
    const md =
      "# Dự thảo Nghị định\n\nTóm tắt [xem](http://x).\n\n## Chương I\n\n### **Điều 1.** Phạm vi\n\nNội dung *một*.\n\n### Điều 2. Hiệu lực\n\nNội dung hai.";
    const d = splitDraft(markdownToText(md));
    expect(d.title).to.equal("Dự thảo Nghị định");
    expect(d.summary).to.equal("Tóm tắt xem.");
    expect(d.sections.map((s) => [s.id, s.title, s.text])).to.deep.equal([
      ["dieu-1", "Điều 1. Phạm vi", "Nội dung *một*."],
      ["dieu-2", "Điều 2. Hiệu lực", "Nội dung hai."],
    ]);
  });

  it("does not take a sentence that mentions an article for a heading", () => {
    const d = splitDraft(
      "T\nĐiều 1. A\nTheo Điều 2 của Luật này, và như Article 5 nói.\nĐiều 3 của Luật Đất đai được sửa.\n",
    );
    expect(d.sections).to.have.length(1);
    expect(d.sections[0]!.text).to.contain("Theo Điều 2").and.to.contain("Điều 3 của Luật");
  });

  it("refuses a draft with nothing to publish", () => {
    expect(fault("")).to.equal("empty");
    expect(fault("  \n\n\t")).to.equal("empty");
    expect(fault("Dự thảo\nChương I\nKhông có điều nào.")).to.equal("noArticles");
    expect(fault("Just some prose about article one, with no heading.")).to.equal("noArticles");
    expect(fault(`T\n${Array.from({ length: 501 }, (_, i) => `Điều ${i + 1}. x`).join("\n")}`)).to.equal(
      "tooManyArticles",
    );
    expect(fault(`T\nĐiều 1. x\n${"a".repeat(100_001)}`)).to.equal("articleTooLong");
  });
});
