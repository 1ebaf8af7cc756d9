import { expect } from "chai";
import {
  base64Encode,
  contentHash,
  ed25519NoteKey,
  entryString,
  formatTlogProof,
  type Hex,
  leafHash,
  MerkleLog,
  type OpinionEntry,
  ProtocolError,
  parseTlogProof,
  type ReceiptLog,
  type ReceiptV2,
  receiptKeyFromSeed,
  receiptV2,
  signatureLine,
  signCheckpoint,
  utf8Encode,
  verifyReceipt,
  WITHHELD_SALT,
  withholdReceiptText,
} from "../../protocol/index.ts";
import { workedExample } from "./worked-example.ts";

const PREFIX = "consult.example.gov.vn/logs";
const logKey = ed25519NoteKey(`${PREFIX}/3`, new Uint8Array(32).fill(5));
const log: ReceiptLog = { originPrefix: PREFIX, publicKey: logKey.publicKey };
const salt = `0x${"42".repeat(32)}` as Hex;
const text = "Đề nghị bổ sung quy định về lấy ý kiến trực tuyến.";

function throwsProof(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(ProtocolError);
    expect((e as ProtocolError).code).to.equal("invalid_proof");
    expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a refusal matching ${pattern}`);
}

/** A log of 6 opinions committed in one batch, its signed checkpoint and a v2 receipt for leaf `index`. */
async function issue(index = 4): Promise<{ receipt: ReceiptV2; tree: MerkleLog; checkpoint: string }> {
  const tree = new MerkleLog();
  const entries = Array.from({ length: 6 }, (_, i) => {
    const entry: OpinionEntry = {
      v: 1,
      type: "opinion",
      consultation: "3",
      draftVersion: 2,
      section: "dieu-1",
      stance: "disagree",
      contentHash: contentHash(salt, `${text} ${i}`),
      author: `0x${String(i).repeat(64)}` as Hex,
      channel: "online",
      submittedAt: "2026-05-06T08:00:00.000Z",
      replaces: null,
    };
    return entryString(entry);
  });
  await tree.appendBatch(entries.map((e) => leafHash(utf8Encode(e))));
  const checkpoint = signCheckpoint(
    { origin: logKey.name, size: 6, rootHash: await tree.root(), extensions: [] },
    [logKey],
  );
  const receipt = receiptV2(
    {
      consultation: "3",
      leafIndex: index,
      leafHash: leafHash(utf8Encode(entries[index]!)),
      entry: entries[index]!,
      text: `${text} ${index}`,
      salt,
      issuedAt: "2026-05-06T08:00:00.150Z",
      anchorDeadline: "2026-05-06T08:05:00.150Z",
    },
    { proof: await tree.inclusionProof(index, 6), checkpoint },
  );
  return { receipt, tree, checkpoint };
}

describe("C2SP tlog-proof", () => {
  it("formats and parses the spec's shape: header, optional extra, index, hashes, blank line, checkpoint", async () => {
    const { checkpoint, tree } = await issue();
    const proof = await tree.inclusionProof(4, 6);
    const text = formatTlogProof({ extra: utf8Encode("ctx"), index: 4, proof, checkpoint });
    const hashes = proof.map((h) => base64Encode(Buffer.from(h.slice(2), "hex")));
    expect(text).to.equal(
      `c2sp.org/tlog-proof@v1\nextra ${base64Encode(utf8Encode("ctx"))}\nindex 4\n${hashes.join("\n")}\n\n${checkpoint}`,
    );
    const parsed = parseTlogProof(text);
    expect(parsed.index).to.equal(4);
    expect(parsed.proof).to.deep.equal(proof);
    expect(parsed.checkpoint).to.equal(checkpoint);
    expect(Buffer.from(parsed.extra!).toString()).to.equal("ctx");
    expect(parsed.parsedCheckpoint.size).to.equal(6);
    // without extra, and with an empty proof (a tree of one leaf)
    const one = formatTlogProof({ extra: null, index: 0, proof: [], checkpoint });
    expect(one).to.equal(`c2sp.org/tlog-proof@v1\nindex 0\n\n${checkpoint}`);
    expect(parseTlogProof(one)).to.include({ extra: null, index: 0 });
    expect(formatTlogProof(parseTlogProof(text))).to.equal(text);
  });

  it("refuses every other spelling with a clear ProtocolError", async () => {
    const { receipt } = await issue();
    const good = receipt.proof;
    const [head, rest] = [good.slice(0, good.indexOf("\n\n")), good.slice(good.indexOf("\n\n"))];
    const lines = head.split("\n");
    const bad: [string, string, RegExp][] = [
      ["another header", good.replace("tlog-proof@v1", "tlog-proof@v2"), /first line/],
      ["a leading-zero index", good.replace("index 4", "index 04"), /leading zeros/],
      ["a negative index", good.replace("index 4", "index -4"), /decimal/],
      ["an index beyond 2^53", good.replace("index 4", "index 9007199254740993"), /2\^53/],
      ["no index line", [lines[0], ...lines.slice(2)].join("\n") + rest, /index/],
      ["a hash that is not base64", head.replace(lines[2]!, "not base64!") + rest, /proof line 1/],
      ["an unpadded hash", head.replace(lines[2]!, lines[2]!.replace("=", "")) + rest, /proof line 1/],
      ["a short hash", head.replace(lines[2]!, "AAAA") + rest, /32-byte/],
      ["no blank line", good.replace("\n\n", "\n").replace(/\n\n— /, "\n— "), /empty line|checkpoint/],
      ["an extra line before index", good.replace("index 4", "note x\nindex 4"), /index/],
      ["an empty extra", good.replace("index 4", "extra \nindex 4"), /extra/],
      ["a checkpoint that is no note", `${head}\n\nhello\n`, /checkpoint/],
      ["trailing text after the note", `${good}junk`, /checkpoint/],
    ];
    for (const [what, text, pattern] of bad) {
      expect(() => parseTlogProof(text), what).to.throw(ProtocolError);
      throwsProof(() => parseTlogProof(text), pattern);
    }
    throwsProof(() => parseTlogProof(42), /text/);
  });
});

describe("receipts v2", () => {
  it("verify at every step with the log key the trust root names", async () => {
    const { receipt } = await issue();
    const check = verifyReceipt(receipt, [], log);
    expect(check.steps.map((s) => [s.step, s.ok])).to.deep.equal([
      ["format", true],
      ["checkpoint", true],
      ["contentHash", true],
      ["leafHash", true],
      ["inclusion", true],
    ]);
    expect(check.valid).to.equal(true);
    expect(check.checkpoint).to.include({ origin: `${PREFIX}/3`, size: 6 });
  });

  it("every leaf of the batch verifies against the one checkpoint", async () => {
    for (let i = 0; i < 6; i++) expect(verifyReceipt((await issue(i)).receipt, [], log).valid).to.equal(true);
  });

  it("ignores an unknown signature line and fails a bad one by the log key", async () => {
    const { receipt } = await issue();
    const stranger = ed25519NoteKey("witness.example", new Uint8Array(32).fill(9));
    const extra = signatureLine({
      name: stranger.name,
      keyId: stranger.keyId,
      signature: new Uint8Array(64),
    });
    const withUnknown = { ...receipt, proof: `${receipt.proof}${extra}` };
    expect(verifyReceipt(withUnknown, [], log).valid).to.equal(true);

    const bad = signatureLine({
      name: logKey.name,
      keyId: logKey.keyId,
      signature: new Uint8Array(64).fill(1),
    });
    const withBad = { ...receipt, proof: `${receipt.proof}${bad}` };
    const check = verifyReceipt(withBad, [], log);
    expect(check.valid).to.equal(false);
    expect(check.steps.at(-1)).to.deep.include({ step: "checkpoint", ok: false });
    expect(check.steps.at(-1)!.message).to.match(/does not verify/);
  });

  it("fails at the checkpoint step without the log key, with another key, or for another consultation's log", async () => {
    const { receipt } = await issue();
    const other = ed25519NoteKey(`${PREFIX}/3`, new Uint8Array(32).fill(6));
    const cases: [string, ReceiptLog | undefined, RegExp][] = [
      ["no log", undefined, /no log key/],
      ["another key", { originPrefix: PREFIX, publicKey: other.publicKey }, /no known key/],
      ["another prefix", { originPrefix: "other.example/logs", publicKey: logKey.publicKey }, /no known key/],
    ];
    for (const [what, trust, pattern] of cases) {
      const check = verifyReceipt(receipt, [], trust);
      expect(check.valid, what).to.equal(false);
      expect(check.steps.at(-1), what).to.deep.include({ step: "checkpoint", ok: false });
      expect(check.steps.at(-1)!.message, what).to.match(pattern);
    }
    // a checkpoint of consultation 4's log (signed by the same key) does not prove a leaf of consultation 3
    const key4 = ed25519NoteKey(`${PREFIX}/4`, new Uint8Array(32).fill(5));
    const parsed = parseTlogProof(receipt.proof);
    const note4 = signCheckpoint({ ...parsed.parsedCheckpoint, origin: key4.name }, [key4]);
    const moved = { ...receipt, proof: formatTlogProof({ ...parsed, checkpoint: note4 }) };
    expect(verifyReceipt(moved, [], log).steps.at(-1)).to.deep.include({ step: "checkpoint", ok: false });
  });

  it("fails at the step each tampered field belongs to", async () => {
    const { receipt, tree, checkpoint } = await issue();
    const parsed = parseTlogProof(receipt.proof);
    const otherProof = formatTlogProof({
      extra: null,
      index: 3,
      proof: await tree.inclusionProof(3, 6),
      checkpoint,
    });
    const cases: [string, (r: ReceiptV2) => unknown, string][] = [
      ["the text changed", (r) => ({ ...r, text: r.text.replace("Đề", "Để") }), "contentHash"],
      ["a different salt", (r) => ({ ...r, salt: `0x${"43".repeat(32)}` }), "contentHash"],
      ["the stance changed", (r) => ({ ...r, entry: r.entry.replace('"disagree"', '"agree"') }), "leafHash"],
      ["the leafHash changed", (r) => ({ ...r, leafHash: `0x${"00".repeat(32)}` }), "leafHash"],
      ["leafIndex not the proof's index", (r) => ({ ...r, leafIndex: 3 }), "format"],
      ["a proof for another index", (r) => ({ ...r, leafIndex: 3, proof: otherProof }), "inclusion"],
      [
        "a proof hash changed",
        (r) => ({
          ...r,
          proof: formatTlogProof({ ...parsed, proof: [`0x${"00".repeat(32)}`, ...parsed.proof.slice(1)] }),
        }),
        "inclusion",
      ],
      [
        "a proof hash missing",
        (r) => ({ ...r, proof: formatTlogProof({ ...parsed, proof: parsed.proof.slice(1) }) }),
        "inclusion",
      ],
      [
        "the checkpoint's root changed",
        (r) => ({ ...r, proof: r.proof.replace(/\n6\n(.)/, (_m, c) => `\n6\n${c === "A" ? "B" : "A"}`) }),
        "checkpoint",
      ],
      ["the proof text garbled", (r) => ({ ...r, proof: r.proof.replace("index 4", "index x") }), "format"],
      ["a v1 signature added", (r) => ({ ...r, signature: "x" }), "format"],
      ["no proof", ({ proof: _p, ...rest }) => rest, "format"],
      ["version 3", (r) => ({ ...r, v: 3 }), "format"],
    ];
    for (const [what, tamper, step] of cases) {
      const check = verifyReceipt(tamper(receipt), [], log);
      expect(check.valid, what).to.equal(false);
      expect(check.steps.at(-1), what).to.deep.include({ step, ok: false });
    }
    // issuedAt and anchorDeadline are not signed in v2: changing them changes nothing the receipt proves
    expect(verifyReceipt({ ...receipt, anchorDeadline: "2026-05-07T08:05:00.150Z" }, [], log).valid).to.equal(
      true,
    );
  });

  it("a withheld v2 receipt keeps its proof and says so at the contentHash step", async () => {
    const { receipt } = await issue();
    const withheld = withholdReceiptText(receipt);
    expect(withheld).to.deep.equal({ ...receipt, text: "", salt: WITHHELD_SALT });
    const check = verifyReceipt(withheld, [], log);
    expect(check.valid).to.equal(true);
    expect(check.steps.find((s) => s.step === "contentHash")).to.deep.include({ ok: null });
    expect(check.steps.at(-1)).to.deep.include({ step: "inclusion", ok: true });
  });

  it("receiptV2 refuses inconsistent fields", async () => {
    const { receipt, checkpoint } = await issue();
    expect(() => receiptV2({ ...receipt, leafIndex: -1 }, { proof: [], checkpoint })).to.throw(ProtocolError);
    expect(() => receiptV2(receipt, { proof: [], checkpoint: "not a note" })).to.throw(
      ProtocolError,
      /checkpoint/,
    );
  });

  it("v1 receipts keep verifying through the same entry point", async () => {
    const ex = await workedExample();
    expect(verifyReceipt(ex.receipt, [ex.publicJwk], log).valid).to.equal(true);
    expect(
      verifyReceipt(ex.receipt, [receiptKeyFromSeed(new Uint8Array(32).fill(2)).publicJwk]).valid,
    ).to.equal(false);
  });

  it("the worked example's v2 receipt verifies with its log key", async () => {
    const ex = await workedExample();
    expect(verifyReceipt(ex.receiptV2, [], ex.logKey).valid).to.equal(true);
    expect(verifyReceipt(ex.receiptV2, [ex.publicJwk]).valid).to.equal(false);
  });
});
