// The one chain reader against real local Hardhat nodes: the facts written are the facts read; several RPCs must
// agree (a second, separate chain, or a proxy that lies about one answer); each failure has its own kind and
// message; a registry without countedRoot answers "not checkable".
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { createWalletClient, encodeFunctionResult, type Hex, http, toFunctionSelector } from "viem";
import { ChainReadError, chainErrorMessage, englishChainPhrases } from "../../chain/errors.ts";
import { NO_RECEIPT_KEYS, NOT_CHECKABLE, openRegistry, RegistryReader } from "../../chain/reader.ts";
import type { TrustRoot } from "../../chain/trust-root.ts";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";
import { draftHash } from "../../protocol/index.ts";
import { devAddress } from "../../server/chain/devnet.ts";
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
    expect(record.agency).to.equal(chain.agency);
    expect(record.head.treeSize).to.equal(40);
    expect(record.head.rootHash).to.equal(await log.root(40));
    expect(record.tallyHash).to.equal(tallied.tallyHash);
    expect(await reader.logHead(tallied.id, at)).to.deep.equal(record.head);

    const anchors = await reader.anchors(tallied.id, at);
    expect(anchors.map((a) => a.treeSize)).to.deep.equal([10, 25, 40]);
    for (const a of anchors) {
      expect(a.rootHash).to.equal(await log.root(a.treeSize));
      expect(a.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(a.countedRoot).to.equal(tallied.generated.countedRoots.get(a.treeSize));
    }
    const tally = await reader.tally(tallied.id, at);
    expect(tally?.tallyHash).to.equal(tallied.tallyHash);
    expect(tally?.treeSize).to.equal(40);
    expect(tally?.rootHash).to.equal(await log.root(40));
    expect(tally?.countedRoot).to.equal(tallied.generated.countedRoots.get(40));
    expect(await reader.countedRoot(tallied.id, at)).to.deep.equal({
      checkable: true,
      countedRoot: tallied.generated.countedRoots.get(40),
    });
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

  it("a registry without countedRoot or receipt keys answers not checkable, never a failure", async () => {
    // code that reverts every call without data: what an earlier registry does for a view it lacks
    const deployTx = await chain.wallet.sendTransaction({
      account: chain.agency,
      chain: null,
      data: "0x6460006000fd6000526005601bf3",
    });
    const earlier = (await chain.pub.waitForTransactionReceipt({ hash: deployTx })).contractAddress as Hex;
    const reader = await openRegistry({ ...root, registry: earlier });
    expect(await reader.countedRoot(1)).to.deep.equal({ checkable: false, reason: NOT_CHECKABLE });
    expect(await reader.receiptKeys()).to.deep.equal({ checkable: false, reason: NO_RECEIPT_KEYS });
    expect(await reader.anchors(1)).to.deep.equal([]);
  });

  it("lists every receipt key ever added, retired ones included, with their blocks", async () => {
    const admin = createWalletClient({ account: devAddress(0), transport: http(chain.url) });
    const send = async (functionName: "addReceiptKey" | "retireReceiptKey", key: Hex) => {
      const hash = await admin.writeContract({
        address: chain.registry,
        abi: consultationRegistryAbi,
        functionName,
        args: [key],
        chain: null,
      });
      return Number((await chain.pub.waitForTransactionReceipt({ hash })).blockNumber);
    };
    const [first, second] = [`0x${"a1".repeat(32)}`, `0x${"b2".repeat(32)}`] as Hex[];
    const reader = await openRegistry(root);
    const before = await reader.receiptKeys();
    if (!before.checkable) throw new Error("this registry records receipt keys");
    const addedFirst = await send("addReceiptKey", first!);
    const addedSecond = await send("addReceiptKey", second!);
    const retired = await send("retireReceiptKey", first!);
    const after = await reader.receiptKeys();
    if (!after.checkable) throw new Error("this registry records receipt keys");
    const admin0 = devAddress(0);
    expect(after.keys.slice(before.keys.length)).to.deep.equal([
      { publicKey: first, addedBy: admin0, addedBlock: addedFirst, retiredBlock: retired },
      { publicKey: second, addedBy: admin0, addedBlock: addedSecond, retiredBlock: 0 },
    ]);
    expect(await reader.receiptKey(first!)).to.deep.equal({
      addedBy: admin0,
      addedBlock: addedFirst,
      retiredBlock: retired,
    });
    expect((await reader.receiptKey(`0x${"c3".repeat(32)}`)).addedBy).to.equal(`0x${"0".repeat(40)}`);
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
