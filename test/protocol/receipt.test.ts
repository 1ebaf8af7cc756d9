import { expect } from "chai";
import {
  base64UrlEncode,
  contentHash,
  entryString,
  type Hex,
  jwkThumbprint,
  leafHash,
  type OpinionEntry,
  ProtocolError,
  type ReceiptV1,
  receiptKeyFromSeed,
  signReceipt,
  utf8Encode,
  verifyReceipt,
  WITHHELD_SALT,
  withholdReceiptText,
} from "../../protocol/index.ts";
import {
  ed25519Signer as webSigner,
  ed25519Verify as webVerify,
} from "../../protocol/platform/ed25519.web.ts";

const key = receiptKeyFromSeed(new Uint8Array(32).fill(1));
const otherKey = receiptKeyFromSeed(new Uint8Array(32).fill(2));
const salt = `0x${"42".repeat(32)}` as Hex;
const text = "Đề nghị bổ sung quy định về lấy ý kiến trực tuyến. <script>alert(1)</script>";

function issue(textOverride = text): ReceiptV1 {
  const entry: OpinionEntry = {
    v: 1,
    type: "opinion",
    consultation: "3",
    draftVersion: 2,
    section: "dieu-1",
    stance: "disagree",
    contentHash: contentHash(salt, textOverride),
    author: `0x${"ab".repeat(32)}`,
    channel: "online",
    submittedAt: "2026-05-06T08:00:00.123Z",
    replaces: null,
  };
  const entryText = entryString(entry);
  return signReceipt(
    {
      consultation: "3",
      leafIndex: 41,
      leafHash: leafHash(utf8Encode(entryText)),
      entry: entryText,
      text: textOverride,
      salt,
      issuedAt: "2026-05-06T08:00:00.150Z",
      anchorDeadline: "2026-05-06T08:05:00.150Z",
    },
    key,
  );
}

describe("receipts", () => {
  it("keyId is the RFC 7638 thumbprint of the public JWK", () => {
    // RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    const rfcKey = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" } as const;
    expect(jwkThumbprint(rfcKey)).to.equal("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    expect(key.keyId).to.equal(jwkThumbprint(key.publicJwk));
  });

  it("signs with the RFC 8032 test key exactly as the RFC says", () => {
    // RFC 8032 section 7.1, TEST 1: empty message.
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex");
    const rfc = receiptKeyFromSeed(new Uint8Array(seed));
    expect(Buffer.from(rfc.sign(new Uint8Array(0))).toString("hex")).to.equal(
      "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    );
  });

  it("a fresh receipt verifies at every step", () => {
    const check = verifyReceipt(issue(), [otherKey.publicJwk, key.publicJwk]);
    expect(check.valid).to.equal(true);
    expect(check.steps.map((s) => [s.step, s.ok])).to.deep.equal([
      ["format", true],
      ["signature", true],
      ["contentHash", true],
      ["leafHash", true],
    ]);
  });

  it("a receipt whose text was withheld keeps its signature and says so at the contentHash step", () => {
    const original = issue();
    const withheld = withholdReceiptText(original);
    expect(withheld).to.deep.equal({ ...original, text: "", salt: WITHHELD_SALT });
    const check = verifyReceipt(withheld, [key.publicJwk]);
    expect(check.valid).to.equal(true);
    expect(check.steps.map((s) => [s.step, s.ok])).to.deep.equal([
      ["format", true],
      ["signature", true],
      ["contentHash", null],
      ["leafHash", true],
    ]);
    expect(check.steps[2]!.message).to.match(/withheld/);
    // only both redactions together mean withheld: a zeroed salt beside a text is a tampered receipt
    const tampered = verifyReceipt({ ...original, salt: WITHHELD_SALT }, [key.publicJwk]);
    expect(tampered.valid).to.equal(false);
    expect(tampered.steps.at(-1)).to.include({ step: "contentHash", ok: false });
  });

  it("the browser and Node Ed25519 implementations agree", () => {
    const seed = new Uint8Array(32).fill(9);
    const message = utf8Encode("góp ý");
    const web = webSigner(seed);
    const node = receiptKeyFromSeed(seed);
    expect(base64UrlEncode(web.publicKey)).to.equal(node.publicJwk.x);
    expect(Buffer.from(web.sign(message))).to.deep.equal(Buffer.from(node.sign(message)));
    expect(webVerify(web.publicKey, message, node.sign(message))).to.equal(true);
  });

  const failures: [string, (r: ReceiptV1) => unknown, string][] = [
    ["one character of the text changed", (r) => ({ ...r, text: r.text.replace("Đề", "Để") }), "contentHash"],
    ["a different salt", (r) => ({ ...r, salt: `0x${"43".repeat(32)}` }), "contentHash"],
    ["the leaf index changed", (r) => ({ ...r, leafIndex: r.leafIndex + 1 }), "signature"],
    ["the deadline moved", (r) => ({ ...r, anchorDeadline: "2026-05-07T08:05:00.150Z" }), "signature"],
    [
      "the signature altered",
      (r) => ({ ...r, signature: `${r.signature.slice(0, 10)}A${r.signature.slice(11)}` }),
      "signature",
    ],
    ["an unknown key id", (r) => ({ ...r, keyId: otherKey.keyId }), "signature"],
    [
      "the stance changed in the entry",
      (r) => ({ ...r, entry: r.entry.replace('"disagree"', '"agree"') }),
      "leafHash",
    ],
    ["an extra field", (r) => ({ ...r, note: "x" }), "format"],
    ["a missing field", ({ salt: _salt, ...rest }) => rest, "format"],
    ["version 2", (r) => ({ ...r, v: 2 }), "format"],
    ["an entry that is not canonical", (r) => ({ ...r, entry: ` ${r.entry}` }), "format"],
    ["not an object", () => "receipt", "format"],
    ["null", () => null, "format"],
  ];
  for (const [name, tamper, step] of failures) {
    it(`a receipt with ${name} fails at the ${step} step`, () => {
      const check = verifyReceipt(tamper(issue()), [key.publicJwk]);
      expect(check.valid).to.equal(false);
      const failed = check.steps.at(-1)!;
      expect(failed.ok).to.equal(false);
      expect(failed.step).to.equal(step);
      expect(failed.message).to.be.a("string").and.not.equal("");
    });
  }

  it("refuses to sign inconsistent fields and bad keys with a ProtocolError", () => {
    expect(() => signReceipt({ ...issue(), leafIndex: -1 }, key)).to.throw(ProtocolError, /leafIndex/);
    expect(() => receiptKeyFromSeed(new Uint8Array(31))).to.throw(ProtocolError, /32 bytes/);
  });
});
