// The auditor CLI against a real local Hardhat chain: a consultation opened, anchored in three steps
// with consistency proofs from protocol's MerkleLog, closed and tallied; then tampered exports.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { EXIT } from "../../audit/codes.ts";
import {
  ed25519NoteKey,
  type Hex,
  leafHash,
  MerkleLog,
  receiptKeyFromSeed,
  receiptV2,
  signCheckpoint,
  signReceipt,
  utf8Encode,
} from "../../protocol/index.ts";
import { RpcProxy } from "../support/rpc-proxy.ts";
import { type LocalChain, startLocalChain } from "./fixtures/chain.ts";
import { type Scenario, testDraft } from "./fixtures/generate.ts";
import {
  buildTamperScenarios,
  DISHONEST_EXTRA_AGREE,
  firstPublicOpinion,
  parseLine,
  withLeaf,
} from "./fixtures/tampering.ts";
import { readLines, runAudit, writeLines } from "./helpers.ts";

describe("auditor CLI on a real local chain", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let dir: string;
  let done: Scenario;
  let open: Scenario;
  let dishonest: Scenario;
  let lines: string[];
  const proxies: RpcProxy[] = [];

  const args = (s: Scenario, exportPath = s.exportPath, extra: string[] = []) => [
    "--export",
    exportPath,
    "--consultation",
    s.id,
    "--rpc",
    chain.url,
    "--contract",
    chain.registry,
    ...extra,
  ];
  const tampered = (name: string, edit: (lines: string[]) => string[]) =>
    writeLines(join(dir, name), edit([...lines]));
  const parse = parseLine;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gopy-audit-"));
    chain = await startLocalChain();
    ({ done, dishonest, open } = await buildTamperScenarios(chain, dir));
    lines = readLines(done.exportPath);
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("passes a whole, honest consultation (draft from the chain's draftURI) and says what it checked", async () => {
    const run = await runAudit(args(done));
    expect(run.code, run.stderr).to.equal(EXIT.ok);
    const r = run.json;
    expect(r.ok).to.equal(true);
    expect(r.entries).to.equal(300);
    expect(r.anchors.map((a: { treeSize: number }) => a.treeSize)).to.deep.equal([100, 257, 300]);
    expect(r.anchors.every((a: { rootOk: boolean }) => a.rootOk)).to.equal(true);
    expect(r.anchors.map((a: { consistency: string }) => a.consistency)).to.deep.equal(["first", "ok", "ok"]);
    expect(r.tally.ok).to.equal(true);
    expect(r.tally.computedTallyHash).to.equal(done.tallyHash);
    expect(r.draft.ok).to.equal(true);
    expect(r.unanchored).to.equal(0);
    expect(r.withheld).to.have.length(6);
    for (const w of r.withheld) {
      expect(w.moderation).to.have.length(1);
      expect(w.moderation[0].index).to.equal(w.index + 1);
      expect(w.moderation[0].reason).to.equal("personal-data");
    }
    expect(r.contentHashes.checked).to.equal(r.opinions - 6);
    expect(r.failures).to.deep.equal([]);
  });

  it("prints a human summary and documents every exit code in --help", async () => {
    const run = await runAudit(args(done, done.exportPath, ["--draft", done.draftPath]), { json: false });
    expect(run.code).to.equal(0);
    expect(run.stdout).to.match(/RESULT: every check passed \(exit 0\)/);
    expect(run.stdout).to.match(/roots at 3\/3 anchored sizes, 2 consistent steps/);
    expect(run.stdout).to.match(/leaf 48: entry 49: personal-data at /);
    const help = await runAudit(["--help"], { json: false });
    expect(help.code).to.equal(0);
    for (const [kind, code] of Object.entries(EXIT))
      expect(help.stdout).to.include(`${String(code).padStart(2)}  ${kind}`);
  });

  it("verifies --receipt files and finds their leaves in the audited log; a refused receipt is exit 25", async () => {
    const prefix = "audit.example/logs";
    const logKey = ed25519NoteKey(`${prefix}/${done.id}`, new Uint8Array(32).fill(0x33));
    const trustRoot = join(dir, "trust-root-log.json");
    writeFileSync(
      trustRoot,
      JSON.stringify({
        v: 1,
        chainId: 31337,
        registry: chain.registry.toLowerCase(),
        rpcUrls: [chain.url],
        log: { originPrefix: prefix, publicKey: Buffer.from(logKey.publicKey).toString("base64") },
      }),
    );
    const i = firstPublicOpinion(lines);
    const line = parse(lines[i]!);
    const leaves = lines.map((l) => parse(l).leafHash as Hex);
    /** A v2 receipt of leaf i whose entry is `entry`, in a log of `tree`'s first `size` leaves signed by the log key. */
    const issue = async (tree: MerkleLog, size: number, entry: string, text: string) =>
      receiptV2(
        {
          consultation: done.id,
          leafIndex: i,
          leafHash: leafHash(utf8Encode(entry)),
          entry,
          text,
          salt: line.salt as Hex,
          issuedAt: "2026-05-06T08:00:00.020Z",
          anchorDeadline: "2026-05-06T08:05:00.020Z",
        },
        {
          proof: await tree.inclusionProof(i, size),
          checkpoint: signCheckpoint(
            { origin: logKey.name, size, rootHash: await tree.root(size), extensions: [] },
            [logKey],
          ),
        },
      );
    const tree = new MerkleLog();
    await tree.appendBatch(leaves);
    const good = await issue(tree, i + 3, line.leaf as string, line.text as string);
    // the log key signed another history at i: the receipt verifies on its own, its leaf is not the audited one
    const stance = (line.leaf as string).match(/"stance":"([a-z]+)"/)![1];
    const forkedEntry = (line.leaf as string).replace(
      `"stance":"${stance}"`,
      `"stance":"${stance === "agree" ? "disagree" : "agree"}"`,
    );
    expect(forkedEntry).to.not.equal(line.leaf);
    const forkedLeaves = [...leaves];
    forkedLeaves[i] = leafHash(utf8Encode(forkedEntry));
    const forkedTree = new MerkleLog();
    await forkedTree.appendBatch(forkedLeaves);
    const forked = await issue(forkedTree, i + 3, forkedEntry, line.text as string);
    // a v1 receipt by a key the registry never listed
    const { v: _v, proof: _p, ...fields } = good;
    const unlisted = signReceipt(fields, receiptKeyFromSeed(new Uint8Array(32).fill(9)));
    const files = { good, forked, unlisted };
    for (const [name, receipt] of Object.entries(files))
      writeFileSync(join(dir, `${name}.json`), JSON.stringify(receipt));
    const withTrustRoot = (extra: string[]) => [
      "--export",
      done.exportPath,
      "--consultation",
      done.id,
      "--trust-root",
      trustRoot,
      ...extra,
    ];

    const ok = await runAudit(withTrustRoot(["--receipt", join(dir, "good.json")]), { json: false });
    expect(ok.code, ok.stdout + ok.stderr).to.equal(EXIT.ok);
    expect(ok.stdout).to.match(
      new RegExp(
        `ok receipt .*good\\.json: leaf ${i} of the audited log \\(v2, in the log-signed checkpoint of size ${i + 3}\\)`,
      ),
    );

    const bad = await runAudit(
      withTrustRoot([
        "--receipt",
        join(dir, "good.json"),
        "--receipt",
        join(dir, "forked.json"),
        "--receipt",
        join(dir, "unlisted.json"),
      ]),
    );
    expect(bad.code, bad.stderr).to.equal(EXIT.receipt);
    const result = bad.json as { receipts: { source: string; ok: boolean; message: string }[] };
    expect(result.receipts.map((r) => r.ok)).to.deep.equal([true, false, false]);
    expect(result.receipts[1]!.message).to.match(
      new RegExp(`leaf ${i} of the audited log is 0x[0-9a-f]{64}, not ${forkedLeaves[i]}`),
    );
    expect(result.receipts[2]!.message).to.match(/refused at the signature step/);

    const missing = await runAudit(withTrustRoot(["--receipt", join(dir, "nope.json")]));
    expect(missing.code).to.equal(EXIT.usage);
  });

  it("fails an export with one entry altered (leafHash left as it was): leaf-hash", async () => {
    const i = 150;
    const file = tampered("altered.ndjson", (ls) => {
      ls[i] = withLeaf(ls[i]!, (e) => ({ ...e, stance: e.stance === "agree" ? "disagree" : "agree" }), false);
      return ls;
    });
    const run = await runAudit(args(done, file));
    expect(run.code).to.equal(EXIT["leaf-hash"]);
    const kinds = run.json.failures.map((f: { kind: string }) => f.kind);
    expect(kinds).to.include.members(["leaf-hash", "root-mismatch", "tally"]);
    expect(run.json.anchors.map((a: { rootOk: boolean }) => a.rootOk)).to.deep.equal([true, false, false]);
  });

  it("fails an export with one entry altered and its leafHash recomputed: root-mismatch", async () => {
    const file = tampered("altered-rehashed.ndjson", (ls) => {
      ls[42] = withLeaf(
        ls[42]!,
        (e) => ({ ...e, channel: e.channel === "online" ? "offline" : "online" }),
        true,
      );
      return ls;
    });
    const run = await runAudit(args(done, file));
    expect(run.code).to.equal(EXIT["root-mismatch"]);
    expect(run.json.anchors.every((a: { rootOk: boolean }) => !a.rootOk)).to.equal(true);
    expect(run.json.failures.map((f: { kind: string }) => f.kind)).to.include("tally");
  });

  it("fails an export with a line dropped: export-format (index gap), and root-mismatch when renumbered", async () => {
    const gap = await runAudit(
      args(
        done,
        tampered("dropped.ndjson", (ls) => ls.filter((_, i) => i !== 120)),
      ),
    );
    expect(gap.code).to.equal(EXIT["export-format"]);
    expect(gap.json.failures[0].examples[0]).to.match(/index 121 where leaf 120 was expected/);
    const renumbered = tampered("dropped-renumbered.ndjson", (ls) =>
      ls.filter((_, i) => i !== 120).map((l, i) => JSON.stringify({ ...parse(l), index: i })),
    );
    const run = await runAudit(args(done, renumbered));
    expect(run.code).to.equal(EXIT["root-mismatch"]);
    expect(run.json.failures.map((f: { kind: string }) => f.kind)).to.include("export-length");
  });

  it("fails an export with two lines swapped: export-format, and root-mismatch when renumbered", async () => {
    const swap = (ls: string[]) => {
      [ls[200], ls[201]] = [ls[201]!, ls[200]!];
      return ls;
    };
    const run = await runAudit(args(done, tampered("swapped.ndjson", swap)));
    expect(run.code).to.equal(EXIT["export-format"]);
    const renumbered = tampered("swapped-renumbered.ndjson", (ls) =>
      swap(ls).map((l, i) => JSON.stringify({ ...parse(l), index: i })),
    );
    const run2 = await runAudit(args(done, renumbered));
    expect(run2.code).to.equal(EXIT["root-mismatch"]);
  });

  it("fails an export whose public text was altered: content-hash", async () => {
    const i = firstPublicOpinion(lines);
    const file = tampered("text.ndjson", (ls) => {
      ls[i] = JSON.stringify({ ...parse(ls[i]!), text: "Một ý kiến khác" });
      return ls;
    });
    const run = await runAudit(args(done, file));
    expect(run.code).to.equal(EXIT["content-hash"]);
    expect(run.json.failures).to.have.length(1);
    expect(run.json.failures[0].examples[0]).to.include(`leaf ${i}:`);
  });

  it("fails an export that hides a text without a moderation entry: moderation", async () => {
    const i = firstPublicOpinion(lines);
    const file = tampered("hidden.ndjson", (ls) => {
      const { text: _t, salt: _s, ...rest } = parse(ls[i]!);
      ls[i] = JSON.stringify({ ...rest, withheld: true });
      return ls;
    });
    const run = await runAudit(args(done, file));
    expect(run.code).to.equal(EXIT.moderation);
  });

  it("fails a truncated export: export-length", async () => {
    const run = await runAudit(
      args(
        done,
        tampered("truncated.ndjson", (ls) => ls.slice(0, 290)),
      ),
    );
    expect(run.code).to.equal(EXIT["export-length"]);
    expect(run.json.anchors.map((a: { rootOk: boolean }) => a.rootOk)).to.deep.equal([true, true, false]);
  });

  it("fails an export with a garbage line: export-format", async () => {
    const run = await runAudit(
      args(
        done,
        tampered("garbage.ndjson", (ls) => [...ls.slice(0, 5), "{not json", ...ls.slice(5)]),
      ),
    );
    expect(run.code).to.equal(EXIT["export-format"]);
  });

  it("fails a consultation whose published tally is not the export's: tally", async () => {
    const run = await runAudit(args(dishonest));
    expect(run.code).to.equal(EXIT.tally);
    expect(run.json.failures.map((f: { kind: string }) => f.kind)).to.deep.equal(["tally"]);
    const d = run.json.tally.document;
    expect(run.json.tally.differences).to.deep.equal([
      `totals online agree: published ${d.totals.online.agree + DISHONEST_EXTRA_AGREE}, recomputed ${d.totals.online.agree}`,
      `totals total agree: published ${d.totals.total.agree + DISHONEST_EXTRA_AGREE}, recomputed ${d.totals.total.agree}`,
      `section dieu-1 online agree: published ${d.sections["dieu-1"].online.agree + DISHONEST_EXTRA_AGREE}, recomputed ${d.sections["dieu-1"].online.agree}`,
      `section dieu-1 total agree: published ${d.sections["dieu-1"].total.agree + DISHONEST_EXTRA_AGREE}, recomputed ${d.sections["dieu-1"].total.agree}`,
    ]);
  });

  it("fails a draft that is not the one on chain: draft", async () => {
    const draft = testDraft();
    const path = join(dir, "other-draft.json");
    writeFileSync(path, JSON.stringify({ ...draft, summary: `${draft.summary}.` }));
    const run = await runAudit(args(done, done.exportPath, ["--draft", path]));
    expect(run.code).to.equal(EXIT.draft);
  });

  it("passes an open consultation with a pending tail, and fails it with --final: not-final", async () => {
    const run = await runAudit(args(open));
    expect(run.code, JSON.stringify(run.json?.failures)).to.equal(EXIT.ok);
    expect(run.json.unanchored).to.equal(16);
    expect(run.json.tally.published).to.equal(false);
    const final = await runAudit(args(open, open.exportPath, ["--final"]));
    expect(final.code).to.equal(EXIT["not-final"]);
  });

  it("exits 2 on bad arguments and 3 when a source is unreachable", async () => {
    expect((await runAudit(["--consultation", "01", "--export", "x"])).code).to.equal(EXIT.usage);
    expect((await runAudit(["--consultation", "1"])).code).to.equal(EXIT.usage);
    expect((await runAudit(["--bogus"])).code).to.equal(EXIT.usage);
    const noRpc = await runAudit([...args(done), "--rpc", "http://127.0.0.1:9"]);
    expect(noRpc.code).to.equal(EXIT.source);
    const unknown = await runAudit(args({ ...done, id: "999" }));
    expect(unknown.code).to.equal(EXIT.source);
    const missing = await runAudit(args(done, join(dir, "nope.ndjson")));
    expect(missing.code).to.equal(EXIT.source);
  });

  describe("where the chain facts come from", () => {
    const withoutChain = (s: Scenario) => ["--export", s.exportPath, "--consultation", s.id];
    const trustRootFile = async (name: string, doc: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
      return path;
    };
    const goodRoot = async () => ({
      v: 1,
      chainId: await chain.pub.getChainId(),
      registry: chain.registry,
      rpcUrls: [chain.url],
    });

    it("refuses with neither --trust-root nor --contract, saying why in one line", async () => {
      const run = await runAudit([...withoutChain(done), "--rpc", chain.url], { json: false });
      expect(run.code).to.equal(EXIT.usage);
      expect(run.stderr.split("\n")[0]).to.equal(
        "give --trust-root <file>, or --contract <addr> with --rpc <url>: the auditor never takes the registry from the service",
      );
      const noRpc = await runAudit([...withoutChain(done), "--contract", chain.registry], { json: false });
      expect(noRpc.code).to.equal(EXIT.usage);
      expect(noRpc.stderr).to.include("--contract needs --rpc <url>");
    });

    it("audits against a trust root file", async () => {
      const root = await trustRootFile("root.json", await goodRoot());
      const run = await runAudit([...withoutChain(done), "--trust-root", root]);
      expect(run.code, run.stderr).to.equal(EXIT.ok);
      expect(run.json.chain.contract).to.equal(chain.registry.toLowerCase());
    });

    it("refuses a malformed trust root file with the parser's message naming the field", async () => {
      const cases: [unknown, string][] = [
        [{ ...(await goodRoot()), v: 2 }, 'trust root: "v" must be 1'],
        [{ ...(await goodRoot()), registry: "0x1234" }, 'trust root: "registry" must be a 20-byte address'],
        [{ ...(await goodRoot()), rpcUrls: [] }, 'trust root: "rpcUrls" must list at least one RPC URL'],
        ["{not json", "trust root: is not JSON"],
      ];
      for (const [i, [doc, message]] of cases.entries()) {
        const root = await trustRootFile(`bad-${i}.json`, doc);
        const run = await runAudit([...withoutChain(done), "--trust-root", root], { json: false });
        expect(run.code, run.stderr).to.equal(EXIT.usage);
        expect(run.stderr).to.include(`${root}: ${message}`);
      }
      const both = await runAudit(
        [
          ...withoutChain(done),
          "--trust-root",
          await trustRootFile("root.json", await goodRoot()),
          ...args(done).slice(4),
        ],
        { json: false },
      );
      expect(both.code).to.equal(EXIT.usage);
      expect(both.stderr).to.include("not both");
    });

    it("a trust root whose chain id the RPC does not serve: source unavailable, saying which", async () => {
      const root = await trustRootFile("chain-1.json", { ...(await goodRoot()), chainId: 1 });
      const run = await runAudit([...withoutChain(done), "--trust-root", root]);
      expect(run.code).to.equal(EXIT.source);
      expect(run.json.error).to.equal(
        `the RPC at ${chain.url} serves chain ${await chain.pub.getChainId()}, but the trust root names chain 1`,
      );
    });

    it("several RPCs (repeated or a comma list) must agree: one hiding an anchor fails the audit as a disagreement", async () => {
      const mirror = await new RpcProxy(chain.url).start();
      // an RPC that hides the last LogAnchored event of every answer
      const hiding = await new RpcProxy(chain.url, (call, answer) =>
        call.method === "eth_getLogs" && Array.isArray(answer.result) && answer.result.length > 1
          ? { ...answer, result: answer.result.slice(0, -1) }
          : undefined,
      ).start();
      proxies.push(mirror, hiding);
      const agreeing = await runAudit([
        ...withoutChain(done),
        "--contract",
        chain.registry,
        "--rpc",
        chain.url,
        "--rpc",
        mirror.url,
      ]);
      expect(agreeing.code, agreeing.stderr).to.equal(EXIT.ok);
      const run = await runAudit([
        ...withoutChain(done),
        "--contract",
        chain.registry,
        "--rpc",
        `${chain.url},${hiding.url}`,
      ]);
      expect(run.code).to.equal(EXIT.source);
      expect(run.json.error).to.match(
        new RegExp(
          `^the RPCs disagree on the anchored heads of consultation ${done.id}: ${chain.url} says 3 .*; ${hiding.url} says 2 `,
        ),
      );
    });
  });
});
