// The browser build bundles the default (@noble) implementations; the service runs node:crypto. They
// must agree bit for bit, or a receipt made by one would not verify in the other.
import { expect } from "chai";
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
});
