// The auditor's response check (audit/response.ts), on the worked example of docs/PROTOCOL.md: the genuine
// document passes; each kind of disagreement with the chain or the final draft fails with its verdict code.
import { expect } from "chai";
import type { FailureKind } from "../../audit/codes.ts";
import type { ChainFacts } from "../../audit/facts.ts";
import { checkResponse } from "../../audit/response.ts";
import { canonicalJson, type Hex, responseHash, utf8Encode } from "../../protocol/index.ts";
import { workedExample } from "../protocol/worked-example.ts";

async function setup() {
  const ex = await workedExample();
  const draft = {
    title: "Dự thảo Luật Thủ đô (sửa đổi)",
    summary: "Lấy ý kiến nhân dân",
    sections: [
      { id: "dieu-1", title: "Điều 1. Phạm vi điều chỉnh", text: "Luật này quy định..." },
      { id: "dieu-2", title: "Điều 2. Đối tượng áp dụng", text: "Luật này áp dụng đối với..." },
    ],
  };
  const zero = `0x${"00".repeat(32)}` as Hex;
  const facts: ChainFacts = {
    chainId: 31337,
    contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    consultation: "1",
    agency: "0x0000000000000000000000000000000000000001",
    draftHash: ex.draftHash,
    draftURI: "",
    draftVersion: 1,
    opensAt: 0,
    closesAt: 1,
    head: { treeSize: 3, rootHash: ex.root3, anchoredAt: 1 },
    recordTallyHash: ex.tallyHash,
    anchors: [],
    tally: {
      treeSize: 3,
      rootHash: ex.root3,
      tallyHash: ex.tallyHash,
      tallyURI: "",
      blockNumber: 2,
      txHash: zero,
    },
    responses: [{ version: 1, responseHash: ex.responseHash, responseURI: "", blockNumber: 3, txHash: zero }],
    latestResponse: { responseHash: ex.responseHash, version: 1 },
  };
  return { ex, draft, facts };
}

function run(facts: ChainFacts, draft: Parameters<typeof checkResponse>[1], bytes?: Uint8Array) {
  const kinds: FailureKind[] = [];
  const messages: string[] = [];
  const result = checkResponse(facts, draft, bytes, (kind, message) => {
    kinds.push(kind);
    messages.push(message);
  });
  return { result, kinds, messages };
}

describe("audit: the response check", () => {
  it("passes the genuine document: its hash is the latest ResponsePublished, every article answered", async () => {
    const { ex, draft, facts } = await setup();
    const { result, kinds } = run(facts, draft, utf8Encode(ex.responseText));
    expect(kinds).to.deep.equal([]);
    expect(result).to.include({
      ok: true,
      version: 1,
      chainHash: ex.responseHash,
      computedHash: ex.responseHash,
    });
    expect(result.document?.articles["dieu-2"]?.status).to.equal("explained");
  });

  it("checks nothing without a document, and says so; nothing at all on a registry without responses", async () => {
    const { draft, facts } = await setup();
    expect(run(facts, draft).result).to.include({ ok: null, checkable: true, version: 1 });
    const { responses: _r, latestResponse: _l, ...old } = facts;
    expect(run(old, draft, utf8Encode("{}")).result).to.include({ ok: null, checkable: false });
  });

  it("fails (response) an altered document, a non-canonical one, one for another chain, and one with no response on chain", async () => {
    const { ex, draft, facts } = await setup();
    const altered = run(facts, draft, utf8Encode(ex.responseText.replace("Tiếp thu", "Không tiếp thu")));
    expect(altered.kinds).to.deep.equal(["response"]);
    expect(altered.result.ok).to.equal(false);
    const pretty = run(facts, draft, utf8Encode(JSON.stringify(ex.response, null, 2)));
    expect(pretty.kinds).to.include("response");
    expect(pretty.messages.join(" ")).to.match(/canonical/);
    // a document hashed and anchored, but naming another registry
    const elsewhere = { ...ex.response, registry: `0x${"12".repeat(20)}` };
    const onChain = { ...facts, latestResponse: { responseHash: responseHash(elsewhere), version: 1 } };
    onChain.responses = [{ ...facts.responses![0]!, responseHash: responseHash(elsewhere) }];
    const other = run(onChain, draft, utf8Encode(canonicalJson(elsewhere)));
    expect(other.kinds).to.deep.equal(["response"]);
    expect(other.messages[0]).to.match(/registry/);
    const none = run({ ...facts, responses: [], latestResponse: null }, draft, utf8Encode(ex.responseText));
    expect(none.kinds).to.deep.equal(["response"]);
  });

  it("fails (response-incomplete) a response leaving an article of the final draft unanswered", async () => {
    const { ex, draft, facts } = await setup();
    const longer = { ...draft, sections: [...draft.sections, { id: "dieu-3", title: "Điều 3", text: "" }] };
    const { kinds, result } = run(facts, longer, utf8Encode(ex.responseText));
    expect(kinds).to.deep.equal(["response-incomplete"]);
    expect(result.unanswered).to.deep.equal(["dieu-3"]);
  });
});
