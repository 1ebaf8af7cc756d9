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
      const key = data.slice(0, 40);
      expect(Buffer.from(web.hmacSha256(key, data))).to.deep.equal(Buffer.from(node.hmacSha256(key, data)));
    }
  });
});
