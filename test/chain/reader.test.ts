// The one chain reader against real local Hardhat nodes: the facts written are the facts read; several RPCs must
// agree (a second, separate chain, or a proxy that lies about one answer); each failure has its own kind and
// message; a registry without countedRoot answers "not checkable".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { encodeFunctionResult, type Hex, toFunctionSelector } from "viem";
import { ChainReadError, chainErrorMessage, englishChainPhrases } from "../../chain/errors.ts";
import { NOT_CHECKABLE, openRegistry, RegistryReader } from "../../chain/reader.ts";
import type { TrustRoot } from "../../chain/trust-root.ts";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { draftHash } from "../../protocol/index.ts";
import { type LocalChain, startLocalChain } from "../audit/fixtures/chain.ts";
import { buildScenario, type Scenario, testDraft } from "../audit/fixtures/generate.ts";
import { RpcProxy } from "../support/rpc-proxy.ts";

async function failure(p: Promise<unknown>): Promise<ChainReadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChainReadError) return e;
    throw e;
  }
  throw new Error("expected a ChainReadError");
}

describe("chain reader on real local chains", function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let other: LocalChain;
  let dir: string;
  let tallied: Scenario;
  let revised: Scenario;
  let revisedHash: Hex;
  let root: TrustRoot;
  const proxies: RpcProxy[] = [];
  const proxy = async (target: string, rewrite: ConstructorParameters<typeof RpcProxy>[1]) => {
    const p = await new RpcProxy(target, rewrite).start();
    proxies.push(p);
    return p.url;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gopy-reader-"));
    [chain, other] = await Promise.all([startLocalChain(), startLocalChain()]);
    tallied = await buildScenario(chain, { dir, entries: 40, anchorAt: [10, 25, 40], publishTally: true });
    revised = await buildScenario(chain, { dir, entries: 8, anchorAt: [8], publishTally: false });
    revisedHash = draftHash({ ...testDraft(), title: "Revised" });
    await chain.reviseDraft(revised.id, revisedHash, "https://drafts.example/v2.json");
    // the same deployment on a separate chain (same address, same chain id), with another history
    await buildScenario(other, {
      dir: mkdtempSync(join(dir, "other-")),
      entries: 5,
      anchorAt: [5],
      publishTally: false,
    });
    root = {
      v: 1,
      chainId: await chain.pub.getChainId(),
      registry: chain.registry.toLowerCase() as Hex,
      rpcUrls: [chain.url],
    };
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([chain?.stop(), other?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads back what was written: record, head, anchored heads, draft versions, tally", async () => {
    const reader = await openRegistry(root);
    const at = await reader.pin();
    const record = await reader.consultation(tallied.id, at);
    const log = tallied.generated.log;
    expect(record.draftHash).to.equal(draftHash(testDraft()));
    expect(record.draftVersion).to.equal(1);
    expect(record.agency).to.equal(chain.agency.toLowerCase());
    expect(record.head.treeSize).to.equal(40);
    expect(record.head.rootHash).to.equal(await log.root(40));
    expect(record.tallyHash).to.equal(tallied.tallyHash);
    expect(await reader.logHead(tallied.id, at)).to.deep.equal(record.head);

    const anchors = await reader.anchors(tallied.id, at);
    expect(anchors.map((a) => a.treeSize)).to.deep.equal([10, 25, 40]);
    for (const a of anchors) {
      expect(a.rootHash).to.equal(await log.root(a.treeSize));
      expect(a.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(a.countedRoot).to.equal(null); // this registry's event carries no counted root
    }
    const tally = await reader.tally(tallied.id, at);
    expect(tally?.tallyHash).to.equal(tallied.tallyHash);
    expect(tally?.treeSize).to.equal(40);
    expect(tally?.rootHash).to.equal(await log.root(40));
    expect(await reader.tally(revised.id, at)).to.equal(null);

    const versions = await reader.draftVersions(revised.id);
    expect(
      versions.map((v) => [v.version, v.draftHash, v.draftURI.startsWith("file:") ? "file" : v.draftURI]),
    ).to.deep.equal([
      [1, draftHash(testDraft()), "file"],
      [2, revisedHash, "https://drafts.example/v2.json"],
    ]);
    expect((await reader.consultation(revised.id)).draftVersion).to.equal(2);
  });

  it("reads at the pinned block: a later anchor is not seen through an earlier pin", async () => {
    const reader = await openRegistry(root);
    const before = await reader.pin();
    const late = await buildScenario(chain, {
      dir: mkdtempSync(join(dir, "late-")),
      entries: 3,
      anchorAt: [3],
      publishTally: false,
    });
    // not opened yet at that block
    expect((await failure(reader.logHead(late.id, before))).detail.errorName).to.equal("UnknownConsultation");
    expect((await reader.logHead(late.id)).treeSize).to.equal(3);
  });

  it("a registry without countedRoot answers not checkable, never a failure", async () => {
    const reader = await openRegistry(root);
    expect(await reader.countedRoot(tallied.id)).to.deep.equal({ checkable: false, reason: NOT_CHECKABLE });
  });

  it("an unknown consultation is the registry's refusal, by name", async () => {
    const reader = await openRegistry(root);
    const e = await failure(reader.consultation(999));
    expect(e.kind).to.equal("reverted");
    expect(chainErrorMessage(e)).to.equal(
      `the registry at ${root.registry} refused the read: UnknownConsultation`,
    );
  });

  it("two RPCs on the same chain agree", async () => {
    const mirror = await proxy(chain.url, null);
    const reader = await openRegistry({ ...root, rpcUrls: [chain.url, mirror] });
    expect((await reader.logHead(tallied.id)).treeSize).to.equal(40);
    expect(await reader.anchors(tallied.id)).to.have.length(3);
  });

  it("an RPC that lies about the log head is a disagreement naming both RPCs and their answers", async () => {
    const selector = toFunctionSelector("logHead(uint256)");
    const fake = encodeFunctionResult({
      abi: consultationRegistryAbi,
      functionName: "logHead",
      result: [41n, `0x${"ab".repeat(32)}`, 1n],
    });
    const liar = await proxy(chain.url, (call, answer) => {
      const tx = call.params[0] as { data?: string; input?: string } | undefined;
      const data = tx?.data ?? tx?.input ?? "";
      return call.method === "eth_call" && data.startsWith(selector)
        ? { ...answer, result: fake }
        : undefined;
    });
    const reader = await openRegistry({ ...root, rpcUrls: [chain.url, liar] });
    const e = await failure(reader.logHead(tallied.id));
    expect(e.kind).to.equal("disagreement");
    expect(e.detail.fact).to.equal(`log head of consultation ${tallied.id}`);
    expect(e.detail.answers?.map((a) => a.rpcUrl)).to.deep.equal([chain.url, liar]);
    expect(chainErrorMessage(e)).to.equal(
      `the RPCs disagree on the log head of consultation ${tallied.id}: ` +
        `${chain.url} says size 40 root ${await tallied.generated.log.root(40)}; ${liar} says size 41 root 0x${"ab".repeat(32)}`,
    );
  });

  it("two separate chains with the same chain id and address disagree on the block itself", async () => {
    const reader = await openRegistry({ ...root, rpcUrls: [chain.url, other.url] });
    const e = await failure(reader.logHead(tallied.id));
    expect(e.kind).to.equal("disagreement");
    expect(e.detail.fact).to.match(/^block \d+$/);
    expect(e.detail.answers?.map((a) => a.rpcUrl)).to.deep.equal([chain.url, other.url]);
  });

  it("an unreachable RPC, a wrong chain id, an address without code: each its own kind and message", async () => {
    const down = "http://127.0.0.1:9"; // discard port: nothing listens
    const unreachable = await failure(
      openRegistry({ ...root, rpcUrls: [chain.url, down] }, { retryCount: 0 }),
    );
    expect(unreachable.kind).to.equal("unreachable");
    expect(chainErrorMessage(unreachable)).to.match(/^the RPC at http:\/\/127\.0\.0\.1:9 does not answer/);

    const wrong = await failure(openRegistry({ ...root, chainId: 1 }));
    expect(wrong.kind).to.equal("wrongChain");
    expect(chainErrorMessage(wrong)).to.equal(
      `the RPC at ${chain.url} serves chain ${root.chainId}, but the trust root names chain 1`,
    );

    const empty = `0x${"12".repeat(20)}` as Hex;
    const none = await failure(openRegistry({ ...root, registry: empty }));
    expect(none.kind).to.equal("noContract");
    expect(chainErrorMessage(none)).to.equal(
      `there is no contract at ${empty} on the chain of the RPC at ${chain.url}`,
    );
  });

  it("an answer that does not decode is malformed, naming the RPC", async () => {
    const broken = await proxy(chain.url, (call, answer) =>
      call.method === "eth_call" ? { ...answer, result: "0x1234" } : undefined,
    );
    const reader = new RegistryReader({ registry: root.registry, rpcUrls: [broken] });
    const e = await failure(reader.consultation(tallied.id));
    expect(e.kind).to.equal("malformed");
    expect(chainErrorMessage(e)).to.match(
      new RegExp(`^the RPC at ${broken} answered something that is not the registry's answer`),
    );
  });

  it("translated phrases word the same typed error", async () => {
    const e = await failure(openRegistry({ ...root, chainId: 1 }));
    const phrases = {
      ...englishChainPhrases,
      wrongChain: (d: ChainReadError["detail"]) => `chuỗi ${d.actual} ≠ ${d.expected}`,
    };
    expect(chainErrorMessage(e, phrases)).to.equal(`chuỗi ${root.chainId} ≠ 1`);
  });
});
