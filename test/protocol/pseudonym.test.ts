// Pseudonyms (public, in entries) and keyed hashes (private, in the service's database), checked
// against HMAC-SHA-256 computed independently with node:crypto.
import { createHmac } from "node:crypto";
import { expect } from "chai";
import { keyedHash, ProtocolError, PSEUDONYM_KINDS, pseudonym } from "../../protocol/index.ts";

const secret = new Uint8Array(32).fill(7);
const hmacHex = (message: string) => `0x${createHmac("sha256", secret).update(message).digest("hex")}`;

function expectProtocolError(call: () => unknown, message: RegExp) {
  expect(call).to.throw(ProtocolError, message);
}

describe("pseudonyms", () => {
  it("are HMAC-SHA-256(secret, kind ':' consultation ':' subject)", () => {
    expect(pseudonym(secret, "citizen", "1", "citizen-42")).to.equal(hmacHex("citizen:1:citizen-42"));
    expect(pseudonym(secret, "officer", "12", "can-bo")).to.equal(hmacHex("officer:12:can-bo"));
    expect(pseudonym(secret, "offline", "3", "ab12:7")).to.equal(hmacHex("offline:3:ab12:7"));
  });

  it("differ per consultation and per person, and are stable", () => {
    const first = pseudonym(secret, "citizen", "1", "citizen-1");
    expect(pseudonym(secret, "citizen", "1", "citizen-1")).to.equal(first);
    expect(pseudonym(secret, "citizen", "2", "citizen-1")).to.not.equal(first);
    expect(pseudonym(secret, "citizen", "1", "citizen-2")).to.not.equal(first);
  });

  it("keep citizens, officers and offline rows apart, whatever subject an identity provider issues", () => {
    // an offline row is keyed by its import's hash and line; an IdP subject may spell the old namespaced form
    const offline = pseudonym(secret, "offline", "1", "9f2c:2");
    const officer = pseudonym(secret, "officer", "1", "can-bo");
    for (const sub of ["offline:9f2c:2", "officer:can-bo", "9f2c:2", "can-bo"]) {
      expect(pseudonym(secret, "citizen", "1", sub)).to.not.equal(offline);
      expect(pseudonym(secret, "citizen", "1", sub)).to.not.equal(officer);
    }
    const one = new Set(PSEUDONYM_KINDS.map((kind) => pseudonym(secret, kind, "1", "same-subject")));
    expect(one.size).to.equal(PSEUDONYM_KINDS.length);
  });

  it("refuse a short secret, an unknown kind, a malformed consultation id and an empty subject", () => {
    expectProtocolError(() => pseudonym(new Uint8Array(8), "citizen", "1", "x"), /at least 32 bytes/);
    expectProtocolError(() => pseudonym(secret, "admin" as "citizen", "1", "x"), /kind must be one of/);
    expectProtocolError(() => pseudonym(secret, "citizen", "x", "y"), /consultation must be a decimal/);
    expectProtocolError(() => pseudonym(secret, "citizen", "01", "y"), /consultation must be a decimal/);
    expectProtocolError(() => pseudonym(secret, "citizen", "1", ""), /subject must be a non-empty/);
  });
});

describe("keyed hashes", () => {
  it("are base64url HMAC-SHA-256(secret, purpose NUL part ...), the values the service has always stored", () => {
    const expected = createHmac("sha256", secret)
      .update("idempotency")
      .update("\u0000")
      .update("sub-1")
      .update("\u0000")
      .update("7")
      .digest("base64url");
    expect(keyedHash(secret, "idempotency", "sub-1", "7")).to.equal(expected);
    expect(keyedHash(secret, "subject", "Nguyễn")).to.equal(
      createHmac("sha256", secret).update("subject\u0000Nguyễn").digest("base64url"),
    );
  });

  it("differ per purpose and per part boundary", () => {
    expect(keyedHash(secret, "subject", "a")).to.not.equal(keyedHash(secret, "ratelimit", "a"));
    expect(keyedHash(secret, "import", "ab", "c")).to.not.equal(keyedHash(secret, "import", "a", "bc"));
    expectProtocolError(() => keyedHash(new Uint8Array(8), "subject", "a"), /at least 32 bytes/);
  });
});
