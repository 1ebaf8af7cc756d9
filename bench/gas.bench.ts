// Gas of ConsultationRegistry's mutating functions on Hardhat's in-process chain (EDR), one JSON line per
// figure on stdout, nothing else there (progress goes to stderr):
//   node bench/gas.bench.ts
//
// anchorLog is measured at its worst near 2^10, 2^20 and 2^27 leaves: among candidate (old size, new size)
// pairs around each scale (old sizes 2^k - 3 .. 2^k + 2, new sizes up to 2^k + 2^(k-2) + 8 and 2^(k+1) - 1),
// the pairs whose proofs cost most (calldata and hashes) are anchored and the largest gasUsed is reported.
// A tree of 2^27 leaves cannot be built here, and need not be: the contract sees only the previous head,
// the new head and the proof. A "virtual tree" gives every perfect subtree that holds no tree boundary a
// random hash and derives every other node from its children, so the roots and the proof are consistent
// exactly as in a real log (protocol/ verifies each proof before it is sent). Every head carries a random
// (non-zero) counted root, as a log holding opinions does.
import { createHash, randomBytes } from "node:crypto";
import hre, { network } from "hardhat";
import { type Hex, verifyConsistency } from "../protocol/index.ts";

const log = (message: string) => process.stderr.write(`${message}\n`);
const emit = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);

// Compiling prints to stdout: keep stdout for JSON lines only.
{
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  try {
    await hre.tasks.getTask("build").run({ quiet: true });
  } finally {
    process.stdout.write = write;
  }
}

const node = (l: Buffer, r: Buffer) => createHash("sha256").update(Buffer.of(1)).update(l).update(r).digest();
const hex = (b: Buffer): Hex => `0x${b.toString("hex")}`;
const randomHash = (): Hex => hex(randomBytes(32));
const largestPowerOfTwoBelow = (n: number) => 2 ** Math.floor(Math.log2(n - 1));

/** RFC 9162 tree over `boundaries`: perfect subtrees holding no boundary strictly inside are random. */
class VirtualTree {
  readonly #seed = randomBytes(32);
  readonly #cache = new Map<string, Buffer>();
  readonly boundaries: readonly number[];
  constructor(boundaries: readonly number[]) {
    this.boundaries = boundaries;
  }

  /** Hash of the perfect subtree of 2^level leaves starting at index * 2^level. */
  perfect(level: number, index: number): Buffer {
    const key = `${level}/${index}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const start = index * 2 ** level;
    const end = start + 2 ** level;
    const split = level > 0 && this.boundaries.some((b) => start < b && b < end);
    const hash = split
      ? node(this.perfect(level - 1, 2 * index), this.perfect(level - 1, 2 * index + 1))
      : createHash("sha256").update(this.#seed).update(key).digest();
    this.#cache.set(key, hash);
    return hash;
  }

  /** MTH of the leaves [start, start + size) (RFC 9162 2.1.1; start is a multiple of the split). */
  mth(start: number, size: number): Buffer {
    if ((size & (size - 1)) === 0 && start % size === 0) return this.perfect(Math.log2(size), start / size);
    const k = largestPowerOfTwoBelow(size);
    return node(this.mth(start, k), this.mth(start + k, size - k));
  }

  /** PROOF(m, D[0:n]) of RFC 9162 2.1.4.1. */
  consistency(m: number, n: number): Buffer[] {
    const sub = (m: number, start: number, n: number, b: boolean): Buffer[] => {
      if (m === n) return b ? [] : [this.mth(start, n)];
      const k = largestPowerOfTwoBelow(n);
      return m <= k
        ? [...sub(m, start, k, b), this.mth(start + k, n - k)]
        : [...sub(m - k, start + k, n - k, false), this.mth(start, k)];
    };
    return sub(m, 0, n, true);
  }
}

/** Hash calls the RFC 9162 verifier makes for this proof (two per step while the old root is on the path). */
function hashCount(m: number, n: number, length: number): number {
  let hashes = 0;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const steps = (m & (m - 1)) === 0 ? length : length - 1;
  for (let i = 0; i < steps; i++) {
    if (fn % 2 === 1 || fn === sn) {
      hashes += 2;
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hashes += 1;
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return hashes;
}

function candidates(k: number): { m: number; n: number; length: number; hashes: number }[] {
  const out: { m: number; n: number; length: number; hashes: number }[] = [];
  const sizes2 = new Set<number>();
  for (let d = -8; d <= 8; d++) sizes2.add(2 ** k + 2 ** (k - 2) + d);
  for (let d = 0; d <= 3; d++) sizes2.add(2 ** (k + 1) - 1 - d);
  for (let d = 1; d <= 3; d++) sizes2.add(2 ** k + d);
  for (let m = 2 ** k - 3; m <= 2 ** k + 2; m++) {
    for (const n of sizes2) {
      if (n <= m) continue;
      const length = new VirtualTree([m, n]).consistency(m, n).length;
      out.push({ m, n, length, hashes: hashCount(m, n, length) });
    }
  }
  // Calldata (~16 gas a byte, 32 bytes an element) and SHA-256 calls (~250 gas each) dominate.
  return out.sort((a, b) => b.length * 512 + b.hashes * 250 - (a.length * 512 + a.hashes * 250));
}

const { ethers, networkHelpers } = await network.create();
const [admin, agency, operator] = await ethers.getSigners();
if (!admin || !agency || !operator) throw new Error("need three accounts");
const agencyAddress = agency.address;
const factory = await ethers.getContractFactory("ConsultationRegistry");
const deployed = await factory.deploy(86_400, admin.address);
await deployed.waitForDeployment();
// biome-ignore lint/suspicious/noExplicitAny: ethers contract methods are untyped without typechain
const registry = deployed as any;
await (await registry.grantRole(ethers.id("AGENCY_ROLE"), agency.address)).wait();
await (await registry.connect(agency).setOperator(operator.address, true)).wait();
const hardfork = String(
  (hre.config.networks.default as { hardfork?: unknown } | undefined)?.hardfork ?? "default",
);

const gasOf = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) => {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
};

let opened = 0;
async function open(): Promise<number> {
  const now = await networkHelpers.time.latest();
  await gasOf(
    registry
      .connect(operator)
      .openConsultation(agencyAddress, randomHash(), "https://gopy.example/c/draft", now, now + 30 * 86_400),
  );
  return ++opened;
}

// openConsultation, reviseDraft (operator, typical URI lengths)
{
  const now = await networkHelpers.time.latest();
  const gas = await gasOf(
    registry
      .connect(operator)
      .openConsultation(
        agencyAddress,
        randomHash(),
        "https://consult.example.gov/c/0001/draft-v1.json",
        now,
        now + 30 * 86_400,
      ),
  );
  opened++;
  emit({ metric: "gas.openConsultation", value: gas, unit: "gas", caller: "operator", hardfork });
  const revise = await gasOf(
    registry
      .connect(operator)
      .reviseDraft(opened, randomHash(), "https://consult.example.gov/c/0001/draft-v2.json"),
  );
  emit({ metric: "gas.reviseDraft", value: revise, unit: "gas", caller: "operator", hardfork });
}

for (const k of [10, 20, 27]) {
  const top = candidates(k).slice(0, 3);
  let worst: { gas: number; m: number; n: number; length: number; hashes: number; first: number } | undefined;
  for (const c of top) {
    const tree = new VirtualTree([c.m, c.n]);
    const root1 = hex(tree.mth(0, c.m));
    const root2 = hex(tree.mth(0, c.n));
    const proof = tree.consistency(c.m, c.n).map(hex);
    if (!verifyConsistency(c.m, c.n, proof, root1, root2))
      throw new Error(`bad virtual proof ${c.m} -> ${c.n}`);
    const id = await open();
    const first = await gasOf(registry.connect(operator).anchorLog(id, c.m, root1, randomHash(), []));
    const gas = await gasOf(registry.connect(operator).anchorLog(id, c.n, root2, randomHash(), proof));
    log(`2^${k}: ${c.m} -> ${c.n}: proof ${c.length} hashes, ${c.hashes} SHA-256 calls, ${gas} gas`);
    if (!worst || gas > worst.gas) worst = { gas, first, ...c };
  }
  if (!worst) throw new Error("no candidate");
  emit({
    metric: "gas.anchorLog",
    value: worst.gas,
    unit: "gas",
    scale: `2^${k}`,
    fromSize: worst.m,
    treeSize: worst.n,
    proofLength: worst.length,
    sha256Calls: worst.hashes,
    caller: "operator",
    hardfork,
  });
  if (k === 20) {
    emit({
      metric: "gas.anchorLog.first",
      value: worst.first,
      unit: "gas",
      treeSize: worst.m,
      caller: "operator",
      hardfork,
    });
  }
}

// publishTally after closesAt, on a consultation with an anchored head
{
  const id = await open();
  const tree = new VirtualTree([1000]);
  await gasOf(registry.connect(operator).anchorLog(id, 1000, hex(tree.mth(0, 1000)), randomHash(), []));
  await networkHelpers.time.increase(31 * 86_400);
  const gas = await gasOf(
    registry
      .connect(operator)
      .publishTally(id, randomHash(), "https://consult.example.gov/c/0001/tally.json"),
  );
  emit({ metric: "gas.publishTally", value: gas, unit: "gas", caller: "operator", hardfork });
  // the response after the tally: the first version writes a fresh slot, a later one overwrites it
  const uri = "https://consult.example.gov/api/consultations/1/response?version=1";
  const first = await gasOf(registry.connect(operator).publishResponse(id, randomHash(), uri));
  emit({ metric: "gas.publishResponse.first", value: first, unit: "gas", caller: "operator", hardfork });
  const later = await gasOf(registry.connect(operator).publishResponse(id, randomHash(), uri));
  emit({ metric: "gas.publishResponse", value: later, unit: "gas", caller: "operator", hardfork });
}

// addReceiptKey (the first key: the list's length slot is fresh; then a later one) and retireReceiptKey, by the
// operator (the service registering its own key)
{
  const first = await gasOf(registry.connect(operator).addReceiptKey(randomHash()));
  emit({ metric: "gas.addReceiptKey.first", value: first, unit: "gas", caller: "operator", hardfork });
  const key = randomHash();
  const later = await gasOf(registry.connect(operator).addReceiptKey(key));
  emit({ metric: "gas.addReceiptKey", value: later, unit: "gas", caller: "operator", hardfork });
  const retire = await gasOf(registry.connect(operator).retireReceiptKey(key));
  emit({ metric: "gas.retireReceiptKey", value: retire, unit: "gas", caller: "operator", hardfork });
}
