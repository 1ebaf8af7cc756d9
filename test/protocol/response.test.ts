import { expect } from "chai";
import {
  articleResponse,
  type DraftAttachment,
  draftHash,
  normalizeArticleResponse,
  ProtocolError,
  parseResponse,
  type ResponseDocument,
  responseBytesHash,
  responseHash,
  responseString,
  unansweredArticles,
  unknownArticles,
  utf8Encode,
} from "../../protocol/index.ts";
import { workedExample } from "./worked-example.ts";

const invalid = (f: () => unknown, message: RegExp) => {
  expect(f).to.throw(ProtocolError, message);
};

describe("protocol/response", () => {
  it("hashes the bytes it serialises, and parses them back only in canonical form", async () => {
    const { response, responseText } = await workedExample();
    const bytes = utf8Encode(responseText);
    expect(responseBytesHash(bytes)).to.equal(responseHash(response));
    expect(parseResponse(bytes)).to.deep.equal(response);
    const pretty = utf8Encode(JSON.stringify(JSON.parse(responseText), null, 1));
    invalid(() => parseResponse(pretty), /canonical/);
    const altered = utf8Encode(responseText.replace("Tiếp thu", "Tiep thu"));
    expect(responseBytesHash(altered)).to.not.equal(responseHash(response));
  });

  it("refuses every malformed field, naming it", async () => {
    const { response } = await workedExample();
    const bad = (patch: Record<string, unknown>, message: RegExp) =>
      invalid(() => responseString({ ...response, ...patch } as ResponseDocument), message);
    bad({ v: 2 }, /v must be 1/);
    bad({ consultation: "01" }, /consultation/);
    bad({ chainId: 0 }, /chainId/);
    bad({ registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" }, /registry/);
    bad({ draftHash: "0x00" }, /draftHash/);
    bad({ tallyHash: null }, /tallyHash/);
    bad({ version: 0 }, /version/);
    bad({ version: 2 ** 32 }, /version/);
    bad({ publishedAt: "2026-05-20T09:00:00Z" }, /publishedAt/);
    bad({ extra: 1 }, /unknown field extra/);
    bad({ articles: {} }, /at least one/);
    bad({ articles: [] }, /articles must be an object/);
    const article = (a: unknown) => bad({ articles: { "dieu-1": a } }, /articles\.dieu-1/);
    article({ status: "maybe", text: "x" });
    article({ status: "accepted", text: " " });
    article({ status: "accepted", text: "x".repeat(20_001) });
    article({ status: "accepted", text: "\ud800" });
    article({ status: "accepted", text: "x", entries: [] });
    article({ status: "accepted", text: "x", entries: [2, 1] });
    article({ status: "accepted", text: "x", entries: [1, 1] });
    article({ status: "accepted", text: "x", entries: [-1] });
    article({ status: "accepted", text: "x", campaigns: ["b", "a"] });
    article({ status: "accepted", text: "x", campaigns: ["a b"] });
    article({ status: "accepted", text: "x", note: "?" });
    bad({ articles: { "bad id!": { status: "accepted", text: "x" } } }, /not a section id/);
  });

  it("normalises references and finds unanswered and unknown articles as own members only", async () => {
    expect(
      normalizeArticleResponse({ status: "accepted", text: "x", entries: [3, 1, 3], campaigns: [] }),
    ).to.deep.equal({ status: "accepted", text: "x", entries: [1, 3] });
    const { response } = await workedExample();
    expect(unansweredArticles(response, ["dieu-1", "dieu-2", "dieu-3"])).to.deep.equal(["dieu-3"]);
    expect(unknownArticles(response, ["dieu-1"])).to.deep.equal(["dieu-2"]);
    expect(articleResponse(response, "constructor")).to.equal(null);
    expect(articleResponse(response, "dieu-2")?.status).to.equal("explained");
  });
});

describe("protocol/draft attachments", () => {
  const draft = {
    title: "T",
    summary: "",
    sections: [{ id: "dieu-1", title: "Điều 1", text: "" }],
  };
  const attachment: DraftAttachment = {
    title: "Tờ trình",
    mediaType: "application/pdf",
    sha256: `0x${"ab".repeat(32)}`,
    bytes: 5,
  };

  it("hashes a draft without attachments as before, and an empty list the same", () => {
    expect(draftHash({ ...draft, attachments: [] })).to.equal(draftHash(draft));
    expect(draftHash({ ...draft, attachments: [attachment] })).to.not.equal(draftHash(draft));
    expect(
      draftHash({ ...draft, attachments: [{ ...attachment, sha256: `0x${"ac".repeat(32)}` as const }] }),
    ).to.not.equal(draftHash({ ...draft, attachments: [attachment] }));
  });

  it("refuses malformed attachments, naming the field", () => {
    const bad = (patch: Record<string, unknown>, message: RegExp) =>
      invalid(() => draftHash({ ...draft, attachments: [{ ...attachment, ...patch }] } as never), message);
    bad({ title: "" }, /attachments\[0\]\.title/);
    bad({ mediaType: "application/PDF" }, /attachments\[0\]\.mediaType/);
    bad({ mediaType: "pdf" }, /attachments\[0\]\.mediaType/);
    bad({ sha256: "0x12" }, /attachments\[0\]\.sha256/);
    bad({ bytes: -1 }, /attachments\[0\]\.bytes/);
    invalid(() => draftHash({ ...draft, attachments: Array(21).fill(attachment) }), /at most 20/);
  });
});
