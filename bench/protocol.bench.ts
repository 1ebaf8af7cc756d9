// Protocol figures: append rate over 1,000,000 leaves (taking the root every 10,000), proof generation
// and verification at 1,000,000 leaves. Required on 2 cores: >= 250,000 leaves/s, <= 1 ms per proof.
import { performance } from "node:perf_hooks";
import { sha256 } from "../protocol/hash.ts";
import { bytesToHex, type Hex, MerkleLog, verifyConsistency, verifyInclusion } from "../protocol/index.ts";
import { FULL, median, report } from "./report.ts";

const LEAVES = 1_000_000;
const RUNS = FULL ? 5 : 3;
const leaves: Hex[] = Array.from({ length: LEAVES }, (_, i) =>
  bytesToHex(sha256(new Uint8Array(new Uint32Array([i]).buffer))),
);

async function appendRun(batch: number): Promise<{ rate: number; log: MerkleLog }> {
  const log = new MerkleLog();
  const start = performance.now();
  if (batch === 1) {
    for (let i = 0; i < LEAVES; i++) {
      await log.append(leaves[i]!);
      if ((i + 1) % 10_000 === 0) await log.root();
    }
  } else {
    for (let i = 0; i < LEAVES; i += batch) {
      await log.appendBatch(leaves.slice(i, i + batch));
      if ((i + batch) % 10_000 === 0) await log.root();
    }
  }
  return { rate: LEAVES / ((performance.now() - start) / 1000), log };
}

let log: MerkleLog | undefined;
for (const batch of [1, 1000]) {
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const run = await appendRun(batch);
    rates.push(run.rate);
    log = run.log;
  }
  report(batch === 1 ? "protocol.append" : "protocol.appendBatch", median(rates), "leaves/s", {
    leaves: LEAVES,
    batch,
    rootEvery: 10_000,
    runs: RUNS,
  });
}

const sample = 2000;
const rand = (n: number) => Math.floor(Math.random() * n);
const timeEach = async (fn: () => Promise<unknown> | unknown) => {
  const times: number[] = [];
  for (let i = 0; i < sample; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
};

const full = log!;
const root = await full.root();
report("protocol.inclusionProof", await timeEach(() => full.inclusionProof(rand(LEAVES))), "ms", {
  treeSize: LEAVES,
});
report("protocol.consistencyProof", await timeEach(() => full.consistencyProof(1 + rand(LEAVES - 1))), "ms", {
  treeSize: LEAVES,
});

const index = 777_777;
const proof = await full.inclusionProof(index);
report(
  "protocol.verifyInclusion",
  await timeEach(() => verifyInclusion(leaves[index]!, index, LEAVES, proof, root)),
  "ms",
  {
    treeSize: LEAVES,
    proofLength: proof.length,
  },
);
const size1 = 999_999;
const cproof = await full.consistencyProof(size1);
const root1 = await full.root(size1);
report(
  "protocol.verifyConsistency",
  await timeEach(() => verifyConsistency(size1, LEAVES, cproof, root1, root)),
  "ms",
  {
    size1,
    size2: LEAVES,
    proofLength: cproof.length,
  },
);
