// The trust root parser: every defect refused with its field named and what is wrong with it.
import { expect } from "chai";
import { parseTrustRoot, TrustRootError, trustedLog } from "../../chain/trust-root.ts";
import { ed25519NoteKey, ed25519VerifierKey, witnessKey } from "../../protocol/index.ts";

const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const good = { v: 1, chainId: 31337, registry: REGISTRY, rpcUrls: ["http://127.0.0.1:8545"] };
const checkpointKey = ed25519NoteKey("x", new Uint8Array(32).fill(3)).publicKey;
const log = {
  originPrefix: "consult.example.gov.vn/logs",
  publicKey: Buffer.from(checkpointKey).toString("base64"),
};

describe("parseTrustRoot", () => {
  it("accepts a version 1 trust root and normalizes the registry to lowercase", () => {
    const root = parseTrustRoot({ ...good, rpcUrls: [" https://rpc.a.example/ ", "http://127.0.0.1:8545"] });
    expect(root).to.deep.equal({
      v: 1,
      chainId: 31337,
      registry: REGISTRY.toLowerCase(),
      rpcUrls: ["https://rpc.a.example/", "http://127.0.0.1:8545"],
    });
  });

  it("takes the logs' origin prefix and checkpoint key, from which each log's vkey is derived", () => {
    const root = parseTrustRoot(JSON.stringify({ ...good, log }));
    expect(root.log).to.deep.equal(log);
    expect(parseTrustRoot(JSON.parse(JSON.stringify(root)))).to.deep.equal(root);
    const trusted = trustedLog(root, 7)!;
    expect(trusted.origin).to.equal("consult.example.gov.vn/logs/7");
    const served = ed25519NoteKey("consult.example.gov.vn/logs/7", new Uint8Array(32).fill(3)).vkey;
    expect(ed25519VerifierKey(trusted.origin, trusted.publicKey)).to.equal(served);
    expect(trustedLog(parseTrustRoot(good), 7)).to.equal(null);
  });

  it("takes witness vkeys and a quorum (with log)", () => {
    const w = [1, 2].map((i) => witnessKey(`w${i}.example`, new Uint8Array(32).fill(i)).vkey);
    const root = parseTrustRoot({ ...good, log, witnesses: w, quorum: 2 });
    expect(root.witnesses).to.deep.equal(w);
    expect(root.quorum).to.equal(2);
    const refuse = (doc: object, field: string) => {
      try {
        parseTrustRoot(doc);
        expect.fail("accepted");
      } catch (e) {
        expect((e as TrustRootError).field).to.equal(field);
      }
    };
    refuse({ ...good, log, witnesses: w, quorum: 3 }, "quorum");
    refuse({ ...good, log, witnesses: w }, "quorum");
    refuse({ ...good, log, quorum: 1 }, "witnesses");
    refuse({ ...good, witnesses: w, quorum: 1 }, "witnesses");
    refuse({ ...good, log, witnesses: [w[0], w[0]], quorum: 1 }, "witnesses[1]");
    refuse({ ...good, log, witnesses: [log.publicKey], quorum: 1 }, "witnesses[0]");
    refuse(
      { ...good, log, witnesses: [ed25519NoteKey("x", new Uint8Array(32)).vkey], quorum: 1 },
      "witnesses[0]",
    );
  });

  it("reads JSON text too", () => {
    expect(parseTrustRoot(JSON.stringify(good)).chainId).to.equal(31337);
  });

  const bad: [string, unknown, string, string][] = [
    ["not JSON", "{v:1", "", "trust root: is not JSON"],
    ["a list", [good], "", "trust root: must be a JSON object, got a list"],
    ["null", null, "", "trust root: must be a JSON object, got null"],
    ["no version", { ...good, v: undefined }, "v", 'trust root: "v" must be 1'],
    [
      "version 2",
      { ...good, v: 2 },
      "v",
      'trust root: "v" must be 1 (the version this verifier reads), got number 2',
    ],
    ["version as text", { ...good, v: "1" }, "v", 'got "1"'],
    [
      "an unknown key",
      { ...good, mirrors: [] },
      "mirrors",
      '"mirrors" is not a field of a version 1 trust root',
    ],
    ["no chainId", { v: 1, registry: REGISTRY, rpcUrls: good.rpcUrls }, "chainId", '"chainId" is missing'],
    ["chainId 0", { ...good, chainId: 0 }, "chainId", '"chainId" must be a positive integer, got number 0'],
    ["chainId negative", { ...good, chainId: -5 }, "chainId", "must be a positive integer"],
    ["chainId fractional", { ...good, chainId: 1.5 }, "chainId", "got number 1.5"],
    ["chainId as text", { ...good, chainId: "31337" }, "chainId", 'got "31337"'],
    ["chainId too large", { ...good, chainId: 2 ** 53 }, "chainId", "must be a positive integer"],
    ["registry short", { ...good, registry: "0x1234" }, "registry", '"registry" must be a 20-byte address'],
    ["registry without 0x", { ...good, registry: REGISTRY.slice(2) }, "registry", "0x and 40 hex digits"],
    [
      "registry not hex",
      { ...good, registry: `0x${"g".repeat(40)}` },
      "registry",
      "must be a 20-byte address",
    ],
    [
      "registry zero",
      { ...good, registry: `0x${"0".repeat(40)}` },
      "registry",
      "must not be the zero address",
    ],
    ["rpcUrls missing", { v: 1, chainId: 1, registry: REGISTRY }, "rpcUrls", '"rpcUrls" is missing'],
    [
      "rpcUrls a string",
      { ...good, rpcUrls: "http://127.0.0.1:8545" },
      "rpcUrls",
      "must be a list of http(s) URLs",
    ],
    ["rpcUrls empty", { ...good, rpcUrls: [] }, "rpcUrls", "must list at least one RPC URL"],
    [
      "an RPC URL not text",
      { ...good, rpcUrls: [8545] },
      "rpcUrls[0]",
      '"rpcUrls[0]" must be an http(s) URL',
    ],
    [
      "an RPC URL not a URL",
      { ...good, rpcUrls: ["http://a.example", "localhost"] },
      "rpcUrls[1]",
      "is not a URL",
    ],
    [
      "a ws RPC URL",
      { ...good, rpcUrls: ["ws://127.0.0.1:8545"] },
      "rpcUrls[0]",
      "must be an http or https URL, got ws",
    ],
    [
      "a credential",
      { ...good, rpcUrls: ["https://user:pw@rpc.example"] },
      "rpcUrls[0]",
      "user name or password",
    ],
    [
      "a repeated RPC URL",
      { ...good, rpcUrls: ["http://a.example", "http://a.example"] },
      "rpcUrls[1]",
      "repeats",
    ],
    ["log not an object", { ...good, log: "x" }, "log", '"log" must be an object'],
    [
      "log with an unknown key",
      { ...good, log: { ...log, witnesses: [] } },
      "log.witnesses",
      "is not a field of log",
    ],
    [
      "log without a key",
      { ...good, log: { originPrefix: log.originPrefix } },
      "log.publicKey",
      "is missing",
    ],
    [
      "an origin prefix with a scheme",
      { ...good, log: { ...log, originPrefix: "https://consult.example.gov.vn/logs" } },
      "log.originPrefix",
      "scheme-less",
    ],
    [
      "an origin prefix with a trailing slash",
      { ...good, log: { ...log, originPrefix: "consult.example.gov.vn/logs/" } },
      "log.originPrefix",
      "no trailing slash",
    ],
    [
      "a short checkpoint key",
      { ...good, log: { ...log, publicKey: Buffer.alloc(31).toString("base64") } },
      "log.publicKey",
      "32-byte Ed25519",
    ],
    [
      "a base64url checkpoint key",
      { ...good, log: { ...log, publicKey: Buffer.from(checkpointKey).toString("base64url") } },
      "log.publicKey",
      "standard base64",
    ],
  ];
  for (const [what, input, field, message] of bad) {
    it(`refuses ${what}, naming "${field || "the document"}"`, () => {
      let error: unknown;
      try {
        parseTrustRoot(input);
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TrustRootError);
      expect((error as TrustRootError).field).to.equal(field);
      expect((error as TrustRootError).message).to.include(message);
    });
  }
});
