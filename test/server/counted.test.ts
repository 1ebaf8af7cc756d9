/**
 * The proof of being counted, over real HTTP on a real local Hardhat node: citizens give opinions (one replaces an
 * earlier one, one is withheld), the anchorer anchors two heads, and every served counted-map proof verifies against
 * the root an auditor computes on its own from the public export; a replaced opinion's proof points to the later
 * entry, an unknown author's proves absence, and bad parameters are refused naming the field.
 */
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import {
  bytesToHex,
  checkCountedProof,
  checkEntryCounted,
  decodeEntry,
  type Hex,
  type Receipt,
  verifyCountedProof,
} from "../../protocol/index.ts";
import { type RefLeaf, refHash, refKey } from "../protocol/counted-reference.ts";
import { waitFor } from "../support/http.ts";
import { devToken, testApp, testChain, testConfig } from "./helpers.ts";
import { callJson, DRAFT, openConsultation, withhold } from "./requests.ts";

interface ExportLine {
  index: number;
  leaf: string;
  leafHash: Hex;
}

/** The counted root of the first `treeSize` exported entries, from the definition alone (latest opinion per key). */
function rootFromExport(lines: readonly ExportLine[], treeSize: number): Hex {
  const latest = new Map<string, RefLeaf>();
  for (const line of lines.slice(0, treeSize)) {
    const entry = JSON.parse(line.leaf) as { type: string; author?: string; section?: string };
    if (entry.type !== "opinion") continue;
    const key = refKey(entry.author!, entry.section!);
    latest.set(bytesToHex(key), {
      key,
      leafIndex: line.index,
      leafHash: Uint8Array.from(Buffer.from(line.leafHash.slice(2), "hex")),
    });
  }
  return bytesToHex(refHash([...latest.values()]));
}

describe("proof of being counted (HTTP, local Hardhat node)", function () {
  this.timeout(120_000);
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    const chain = await testChain();
    app = await testApp(testConfig(chain, { ANCHOR_INTERVAL: "200ms" }));
    await app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await app?.close();
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    callJson(base, method, path, token, body);

  /** Waits until the service has anchored its whole log; returns the anchored size. */
  const anchoredAll = (id: number) =>
    waitFor("the log anchored", async () => {
      const head = (await call("GET", `/api/consultations/${id}/log/head`)).body;
      return head.anchored?.treeSize === head.treeSize ? (head.treeSize as number) : null;
    });

  const exported = async (id: number): Promise<ExportLine[]> =>
    (await (await fetch(`${base}/api/consultations/${id}/export`)).text())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExportLine);

  const proofPath = (id: number, author: string, section: string, treeSize?: number) =>
    `/api/consultations/${id}/counted/proof?author=${author}&section=${section}${
      treeSize === undefined ? "" : `&treeSize=${treeSize}`
    }`;

  const entryOf = (r: Receipt) => {
    const entry = decodeEntry(r.entry);
    if (entry.type !== "opinion") throw new Error("not an opinion receipt");
    return { author: entry.author, section: entry.section, leafIndex: r.leafIndex, leafHash: r.leafHash };
  };

  it("serves proofs that verify against the root recomputed from the export, at every anchored head", async () => {
    const agency = await devToken(app, "officer-counted", "agency", "bo-tu-phap");
    const id = await openConsultation(app, agency);
    const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => devToken(app, `counted-${i}`)));
    const give = async (token: string, section: string, stance: string) => {
      const r = await call("POST", `/api/consultations/${id}/opinions`, token, {
        section,
        stance,
        text: "ý kiến",
      });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      return r.body as Receipt;
    };
    const first: Receipt[] = [];
    for (const [i, token] of tokens.entries()) {
      first.push(await give(token, DRAFT.sections[i % 2]!.id, ["agree", "disagree", "neutral"][i % 3]!));
    }
    // a withheld text still counts: moderation does not change the map
    const withheld = await withhold(app, agency, id, first[1]!.leafIndex);
    expect(withheld.statusCode, withheld.body).to.equal(201);
    const size1 = await anchoredAll(id);

    // citizen 0 changes their mind on the same section: the later opinion is the one counted
    const later = await give(tokens[0]!, entryOf(first[0]!).section, "disagree");
    const other = await give(tokens[3]!, "dieu-3", "agree");
    const size2 = await anchoredAll(id);
    expect(size2).to.be.greaterThan(size1);

    const lines = await exported(id);
    const head1 = { treeSize: size1, countedRoot: rootFromExport(lines, size1) };
    const head2 = { treeSize: size2, countedRoot: rootFromExport(lines, size2) };
    expect(head2.countedRoot).to.not.equal(head1.countedRoot);

    // the latest head (the default) counts each citizen's latest opinion per section
    for (const r of [...first.slice(1), later, other]) {
      const proof = (await call("GET", proofPath(id, entryOf(r).author, entryOf(r).section))).body;
      expect(proof.treeSize).to.equal(size2);
      expect(verifyCountedProof(proof, entryOf(r), head2)).to.equal(true);
      expect(checkEntryCounted(proof, entryOf(r), head2)).to.deep.include({ ok: true, status: "counted" });
    }
    // the replaced opinion: its key points to the later entry
    const replaced = entryOf(first[0]!);
    const now = (await call("GET", proofPath(id, replaced.author, replaced.section))).body;
    const check = checkEntryCounted(now, replaced, head2);
    expect(check).to.deep.include({ ok: true, status: "replaced" });
    expect(check.ok && check.current?.leafIndex).to.equal(later.leafIndex);
    // at the first anchored head it was still the one counted
    const then = await call("GET", proofPath(id, replaced.author, replaced.section, size1));
    expect(then.status).to.equal(200);
    expect(checkEntryCounted(then.body, replaced, head1)).to.deep.include({ ok: true, status: "counted" });
    // a proof of one head does not pass for the other
    expect(verifyCountedProof(then.body, replaced, head2)).to.equal(false);

    // an author who never gave an opinion: the proof shows the key absent
    const stranger = `0x${"ab".repeat(32)}` as Hex;
    const absent = (await call("GET", proofPath(id, stranger, "dieu-2"))).body;
    expect(checkCountedProof(absent, { author: stranger, section: "dieu-2" }, head2)).to.deep.equal({
      ok: true,
      leaf: null,
    });

    const health = (await call("GET", "/api/health")).body;
    expect(health.counted).to.deep.equal({ lag: 0, unmappedHeads: 0 });
  });

  it("refuses bad parameters naming the field, and sizes that are not anchored heads", async () => {
    const agency = await devToken(app, "officer-counted-2", "agency", "bo-tu-phap");
    const id = await openConsultation(app, agency);
    const author = `0x${"cd".repeat(32)}`;
    expect((await call("GET", proofPath(id, author, "dieu-1"))).body).to.deep.equal({
      error: "not_found",
      message: `no head of consultation ${id} is anchored yet`,
    });
    const token = await devToken(app, "counted-bad");
    for (let i = 0; i < 3; i++) {
      const r = await call("POST", `/api/consultations/${id}/opinions`, token, {
        section: "dieu-1",
        stance: "agree",
      });
      expect(r.status).to.equal(201);
    }
    const size = await anchoredAll(id);
    const bad: [string, RegExp][] = [
      [proofPath(id, "0x1234", "dieu-1"), /author/],
      [proofPath(id, author.toUpperCase().replace("0X", "0x"), "dieu-1"), /author/],
      [proofPath(id, `${author}00`, "dieu-1"), /author/],
      [`/api/consultations/${id}/counted/proof?section=dieu-1`, /author/],
      [proofPath(id, author, "điều-1"), /section/],
      [proofPath(id, author, "dieu-9"), /section "dieu-9" is not a section/],
      [`/api/consultations/${id}/counted/proof?author=${author}`, /section/],
      [proofPath(id, author, "dieu-1", -1), /treeSize/],
      [`${proofPath(id, author, "dieu-1")}&treeSize=2.5`, /treeSize/],
      [`${proofPath(id, author, "dieu-1")}&extra=1`, /extra|additional/],
    ];
    for (const [path, field] of bad) {
      const r = await call("GET", path);
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).to.equal(400);
      expect(r.body.error).to.equal("bad_request");
      expect(r.body.message, path).to.match(field);
    }
    for (const unanchored of [0, size + 5]) {
      const r = await call("GET", proofPath(id, author, "dieu-1", unanchored));
      expect(r.status).to.equal(404);
      expect(r.body.message).to.equal(`treeSize ${unanchored} is not an anchored size of consultation ${id}`);
    }
    expect((await call("GET", proofPath(id, author, "dieu-1", size))).status).to.equal(200);
    expect((await call("GET", proofPath(999_999, author, "dieu-1"))).status).to.equal(404);
  });
});
