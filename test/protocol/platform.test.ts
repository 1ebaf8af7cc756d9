// The browser build bundles the default (@noble) implementations; the service runs node:crypto. They
// must agree bit for bit, or a receipt made by one would not verify in the other.
import { expect } from "chai";
import { base64Decode, base64Encode, base64UrlDecode, base64UrlEncode } from "../../protocol/index.ts";
import * as random from "../../protocol/platform/random.node.ts";
import * as node from "../../protocol/platform/sha256.node.ts";
import * as web from "../../protocol/platform/sha256.web.ts";

describe("platform implementations", () => {
  it("SHA-256 and HMAC-SHA-256 agree between node:crypto and the browser build", () => {
    for (const length of [0, 1, 55, 56, 64, 65, 1000]) {
      const data = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 255);
      expect(Buffer.from(web.sha256(data))).to.deep.equal(Buffer.from(node.sha256(data)));
      // sha256Into writes the same 32 bytes at an offset and touches nothing else.
      for (const into of [web.sha256Into, node.sha256Into]) {
        const out = new Uint8Array(40).fill(0xee);
        into(data, out, 5);
        expect(Buffer.from(out.subarray(5, 37))).to.deep.equal(Buffer.from(web.sha256(data)));
        expect([...out.subarray(0, 5), ...out.subarray(37)]).to.deep.equal(Array(8).fill(0xee));
      }
      const key = data.slice(0, 40);
      expect(Buffer.from(web.hmacSha256(key, data))).to.deep.equal(Buffer.from(node.hmacSha256(key, data)));
    }
  });

  it("base64 and base64url spell every length as RFC 4648 does (Node's Buffer as the reference), and read back", () => {
    for (let length = 0; length <= 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 97 + length * 13 + 251) & 255);
      const buffer = Buffer.from(bytes);
      expect(base64Encode(bytes), `length ${length}`).to.equal(buffer.toString("base64"));
      expect(base64UrlEncode(bytes), `length ${length}`).to.equal(buffer.toString("base64url"));
      expect(Buffer.from(base64Decode(base64Encode(bytes)))).to.deep.equal(buffer);
      expect(Buffer.from(base64UrlDecode(base64UrlEncode(bytes)))).to.deep.equal(buffer);
    }
    // every value of every sextet position
    const all = Uint8Array.from({ length: 768 }, (_, i) => i & 255);
    expect(base64UrlEncode(all)).to.equal(Buffer.from(all).toString("base64url"));
  });

  it("random bytes from the pool: the lengths asked for, never handed out twice, large requests too", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const salt = random.randomBytes(32);
      expect(salt.length).to.equal(32);
      const hex = Buffer.from(salt).toString("hex");
      expect(seen.has(hex), "a salt repeated").to.equal(false);
      seen.add(hex);
    }
    expect(random.randomBytes(0).length).to.equal(0);
    const large = random.randomBytes(10_000);
    expect(large.length).to.equal(10_000);
    expect(large.some((b) => b !== 0)).to.equal(true);
    // a salt is its own copy: changing it changes no later one
    const a = random.randomBytes(16);
    a.fill(0);
    expect(random.randomBytes(16).every((b) => b === 0)).to.equal(false);
  });
});
