// ConsultationRegistry: lifecycle, who may call what, every custom error, events with their arguments,
// and heads anchored only through protocol/'s RFC 9162 consistency proofs.
import { expect } from "chai";
import type { Contract } from "ethers";
import { artifacts, network } from "hardhat";
import ConsultationRegistryModule from "../../ignition/modules/ConsultationRegistry.ts";
import { type Hex, leafHash, MerkleLog, verifyConsistency } from "../../protocol/index.ts";
import { flipBit, randomHash, shapeMutations } from "./helpers.ts";

const { ethers, networkHelpers, ignition } = await network.create();
const { time } = networkHelpers;

const DAY = 24 * 60 * 60;
const ADMIN_DELAY = 2 * DAY;
const AGENCY_ROLE = ethers.id("AGENCY_ROLE");
const DRAFT = randomHash();
const DRAFT_URI = "https://gopy.example/c/1/draft/1";
const TALLY = randomHash();
const TALLY_URI = "https://gopy.example/c/1/tally";
const RESPONSE = randomHash();
const RESPONSE_URI = "https://gopy.example/api/consultations/1/response?version=1";
/** A counted map root: the registry stores it as given (auditors recompute it from the log). */
const COUNTED = randomHash();

type Signer = Awaited<ReturnType<typeof ethers.getSigners>>[number];
// biome-ignore lint/suspicious/noExplicitAny: ethers contract methods are untyped without typechain
type Registry = { connect(runner: Signer): Registry } & Contract & Record<string, any>;

/** Error names a test expected; compared at the end with every error the contract declares. */
const errorsSeen = new Set<string>();
function reverts(promise: Promise<unknown>, registry: Registry, name: string) {
  errorsSeen.add(name);
  return expect(promise).to.be.revertedWithCustomError(registry, name);
}

async function deploy() {
  const [admin, agency, otherAgency, operator, revokedOperator, stranger, otherOperator] =
    await ethers.getSigners();
  if (!admin || !agency || !otherAgency || !operator || !revokedOperator || !stranger || !otherOperator) {
    throw new Error("not enough accounts");
  }
  const { registry } = await ignition.deploy(ConsultationRegistryModule, {
    parameters: { ConsultationRegistry: { admin: admin.address, adminDelay: ADMIN_DELAY } },
  });
  const r = registry as unknown as Registry;
  await r.connect(admin).grantRole(AGENCY_ROLE, agency.address);
  await r.connect(admin).grantRole(AGENCY_ROLE, otherAgency.address);
  await r.connect(agency).setOperator(operator.address, true);
  await r.connect(agency).setOperator(revokedOperator.address, true);
  await r.connect(agency).setOperator(revokedOperator.address, false);
  await r.connect(otherAgency).setOperator(otherOperator.address, true);
  const now = await time.latest();
  const opensAt = BigInt(now);
  const closesAt = BigInt(now + 7 * DAY);
  await r.connect(agency).openConsultation(agency.address, DRAFT, DRAFT_URI, opensAt, closesAt);
  return {
    registry: r,
    admin,
    agency,
    otherAgency,
    operator,
    revokedOperator,
    stranger,
    otherOperator,
    opensAt,
    closesAt,
  };
}

async function logOf(size: number): Promise<{ log: MerkleLog; leaves: Hex[] }> {
  const log = new MerkleLog();
  const leaves: Hex[] = [];
  for (let i = 0; i < size; i++) leaves.push(leafHash(new TextEncoder().encode(`{"n":${i}}`)));
  await log.appendBatch(leaves);
  return { log, leaves };
}

describe("ConsultationRegistry", () => {
  describe("deployment (Ignition module)", () => {
    it("sets the admin and its transfer delay; AGENCY_ROLE is keccak256('AGENCY_ROLE')", async () => {
      const { registry, admin } = await networkHelpers.loadFixture(deploy);
      expect(await registry.defaultAdmin()).to.equal(admin.address);
      expect(await registry.defaultAdminDelay()).to.equal(BigInt(ADMIN_DELAY));
      expect(await registry.AGENCY_ROLE()).to.equal(AGENCY_ROLE);
      expect(await registry.consultationCount()).to.equal(1n);
    });

    it("transfers the admin only in two steps after the delay", async () => {
      const { registry, admin, stranger } = await networkHelpers.loadFixture(deploy);
      await registry.connect(admin).beginDefaultAdminTransfer(stranger.address);
      await expect(registry.connect(stranger).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(
        registry,
        "AccessControlEnforcedDefaultAdminDelay",
      );
      await time.increase(ADMIN_DELAY + 1);
      await registry.connect(stranger).acceptDefaultAdminTransfer();
      expect(await registry.defaultAdmin()).to.equal(stranger.address);
    });
  });

  describe("lifecycle", () => {
    it("opens, revises, anchors protocol/ heads, verifies inclusion, closes, publishes and freezes", async () => {
      const { registry, agency, operator, opensAt, closesAt } = await networkHelpers.loadFixture(deploy);
      // open (id 2, by the operator, in the agency's name)
      await expect(
        registry.connect(operator).openConsultation(agency.address, DRAFT, DRAFT_URI, opensAt, closesAt),
      )
        .to.emit(registry, "ConsultationOpened")
        .withArgs(2n, agency.address, DRAFT, DRAFT_URI, opensAt, closesAt);
      expect(await registry.consultationCount()).to.equal(2n);

      // revise twice
      const draft2 = randomHash();
      await expect(registry.connect(agency).reviseDraft(2n, draft2, "ipfs://v2"))
        .to.emit(registry, "DraftRevised")
        .withArgs(2n, 2n, draft2, "ipfs://v2");
      expect(await registry.connect(operator).reviseDraft.staticCall(2n, draft2, "ipfs://v3")).to.equal(3n);
      await registry.connect(operator).reviseDraft(2n, draft2, "ipfs://v3");

      // anchor a growing protocol/ log: from 0 with an empty proof, then with consistency proofs
      const { log, leaves } = await logOf(300);
      expect(await registry.logHead(2n)).to.deep.equal([0n, ethers.ZeroHash, 0n]);
      expect(await registry.countedRoot(2n)).to.equal(ethers.ZeroHash);
      let anchored = 0;
      let counted = ethers.ZeroHash;
      for (const size of [1, 2, 3, 4, 7, 8, 9, 16, 17, 100, 255, 256, 257, 300]) {
        const root = await log.root(size);
        const proof = anchored === 0 ? [] : await log.consistencyProof(anchored, size);
        if (anchored > 0)
          expect(verifyConsistency(anchored, size, proof, await log.root(anchored), root)).to.equal(true);
        // each head carries its own counted root (zero, the empty map's, is allowed too)
        counted = size === 2 ? ethers.ZeroHash : randomHash();
        const tx = registry.connect(operator).anchorLog(2n, size, root, counted, proof);
        await expect(tx).to.emit(registry, "LogAnchored").withArgs(2n, BigInt(size), root, counted);
        const [treeSize, rootHash, anchoredAt] = await registry.logHead(2n);
        expect([treeSize, rootHash, anchoredAt]).to.deep.equal([
          BigInt(size),
          root,
          BigInt(await time.latest()),
        ]);
        expect(await registry.countedRoot(2n)).to.equal(counted);
        expect((await registry.consultation(2n)).countedRoot).to.equal(counted);
        // the other consultation's head is untouched
        expect(await registry.countedRoot(1n)).to.equal(ethers.ZeroHash);
        anchored = size;
      }

      // inclusion against the anchored head
      const root = await log.root(300);
      for (const index of [0, 1, 150, 255, 256, 299]) {
        const proof = await log.inclusionProof(index, 300);
        expect(await registry.verifyInclusion(2n, leaves[index]!, index, proof)).to.equal(true);
        expect(await registry.verifyInclusion(2n, flipBit(leaves[index]!, 7), index, proof)).to.equal(false);
        expect(await registry.verifyInclusion(2n, leaves[index]!, index + 1, proof)).to.equal(false);
        expect(await registry.verifyInclusion(2n, leaves[index]!, index, proof.slice(1))).to.equal(false);
      }
      expect(await registry.verifyInclusion(2n, leaves[0]!, 300, await log.inclusionProof(0, 300))).to.equal(
        false,
      );

      // close and publish: event repeats the frozen head
      await time.increaseTo(closesAt);
      await expect(registry.connect(operator).publishTally(2n, TALLY, TALLY_URI))
        .to.emit(registry, "TallyPublished")
        .withArgs(2n, 300n, root, counted, TALLY, TALLY_URI);

      const record = await registry.consultation(2n);
      expect(record.agency).to.equal(agency.address);
      expect(record.draftHash).to.equal(draft2);
      expect(record.draftURI).to.equal("ipfs://v3");
      expect(record.draftVersion).to.equal(3n);
      expect(record.opensAt).to.equal(opensAt);
      expect(record.closesAt).to.equal(closesAt);
      expect(record.treeSize).to.equal(300n);
      expect(record.rootHash).to.equal(root);
      expect(record.countedRoot).to.equal(counted);
      expect(record.anchoredAt).to.be.greaterThan(0n);
      expect(record.tallyHash).to.equal(TALLY);
      expect(record.tallyURI).to.equal(TALLY_URI);

      // frozen: no anchor, no second tally, no revision
      const { log: longer } = await logOf(301);
      await reverts(
        registry
          .connect(operator)
          .anchorLog(2n, 301, await longer.root(301), COUNTED, await longer.consistencyProof(300, 301)),
        registry,
        "TallyAlreadyPublished",
      ).withArgs(2n);
      await reverts(
        registry.connect(agency).publishTally(2n, TALLY, TALLY_URI),
        registry,
        "TallyAlreadyPublished",
      );
      await reverts(
        registry.connect(agency).reviseDraft(2n, draft2, "x"),
        registry,
        "ConsultationClosed",
      ).withArgs(2n, closesAt);
    });

    it("allows a tally of an empty log, and anchoring after closesAt until the tally", async () => {
      const { registry, agency, closesAt } = await networkHelpers.loadFixture(deploy);
      await time.increaseTo(closesAt + 10n);
      const { log } = await logOf(5);
      await registry.connect(agency).anchorLog(1n, 5, await log.root(5), COUNTED, []);
      await expect(registry.connect(agency).publishTally(1n, TALLY, TALLY_URI))
        .to.emit(registry, "TallyPublished")
        .withArgs(1n, 5n, await log.root(5), COUNTED, TALLY, TALLY_URI);
    });
  });

  describe("storage layout", () => {
    it("keeps agency, treeSize, anchoredAt and the tally flag in one slot, the log root and the counted root in the next two", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const { log } = await logOf(1000);
      await f.registry.connect(f.operator).anchorLog(1n, 1000, await log.root(1000), COUNTED, []);
      const anchoredAt = BigInt(await time.latest());
      const address = await f.registry.getAddress();
      // _records is the mapping at slot 7 (after AccessControl's 3 slots, ReceiptKeys' 2, consultationCount,
      // operatorAgency).
      const base = BigInt(
        ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [1n, 7n])),
      );
      const word = async (offset: bigint) => BigInt(await ethers.provider.getStorage(address, base + offset));
      const hot = await word(0n);
      expect(hot & ((1n << 160n) - 1n)).to.equal(BigInt(f.agency.address));
      expect((hot >> 160n) & ((1n << 48n) - 1n)).to.equal(1000n);
      expect((hot >> 208n) & ((1n << 40n) - 1n)).to.equal(anchoredAt);
      expect(hot >> 248n).to.equal(0n);
      expect(ethers.toBeHex(await word(1n), 32)).to.equal(await log.root(1000));
      expect(ethers.toBeHex(await word(2n), 32)).to.equal(COUNTED);
      const schedule = await word(3n);
      expect(schedule & ((1n << 64n) - 1n)).to.equal(f.opensAt);
      expect((schedule >> 64n) & ((1n << 64n) - 1n)).to.equal(f.closesAt);
      expect((schedule >> 128n) & ((1n << 32n) - 1n)).to.equal(1n); // draftVersion
      expect(schedule >> 160n).to.equal(0n); // responseVersion
      await time.increaseTo(f.closesAt);
      await f.registry.connect(f.operator).publishTally(1n, TALLY, TALLY_URI);
      expect((await word(0n)) >> 248n).to.equal(1n);
      await f.registry.connect(f.operator).publishResponse(1n, RESPONSE, RESPONSE_URI);
      await f.registry.connect(f.operator).publishResponse(1n, RESPONSE, RESPONSE_URI);
      expect((await word(3n)) >> 160n).to.equal(2n);
      expect(ethers.toBeHex(await word(8n), 32)).to.equal(RESPONSE);
    });
  });

  describe("receipt keys", () => {
    it("records a key with who added it and when, retires it once, and lists every key ever added", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      expect(await f.registry.receiptKeyCount()).to.equal(0n);
      expect(await f.registry.receiptKeys(0n, 10n)).to.deep.equal([]);
      const never = randomHash();
      expect(await f.registry.receiptKey(never)).to.deep.equal([ethers.ZeroAddress, 0n, 0n]);

      const keys = [randomHash(), randomHash(), randomHash()];
      const added: bigint[] = [];
      for (const [i, key] of keys.entries()) {
        const by = i === 1 ? f.admin : f.operator;
        const tx = await f.registry.connect(by).addReceiptKey(key);
        const block = BigInt((await tx.wait())!.blockNumber);
        await expect(tx).to.emit(f.registry, "ReceiptKeyAdded").withArgs(key, by.address, block);
        expect(await f.registry.receiptKey(key)).to.deep.equal([by.address, block, 0n]);
        added.push(block);
      }
      expect(await f.registry.receiptKeyCount()).to.equal(3n);

      const retire = await f.registry.connect(f.otherOperator).retireReceiptKey(keys[0]!);
      const retiredAt = BigInt((await retire.wait())!.blockNumber);
      await expect(retire)
        .to.emit(f.registry, "ReceiptKeyRetired")
        .withArgs(keys[0]!, f.otherOperator.address, retiredAt);
      expect(await f.registry.receiptKey(keys[0]!)).to.deep.equal([f.operator.address, added[0]!, retiredAt]);
      // a retired key stays listed: receipts it signed keep verifying
      expect(await f.registry.receiptKeyCount()).to.equal(3n);

      const view = (i: number) => [
        keys[i]!,
        i === 1 ? f.admin.address : f.operator.address,
        added[i]!,
        i === 0 ? retiredAt : 0n,
      ];
      expect(await f.registry.receiptKeys(0n, 3n)).to.deep.equal([view(0), view(1), view(2)]);
      expect(await f.registry.receiptKeys(0n, 2n)).to.deep.equal([view(0), view(1)]);
      expect(await f.registry.receiptKeys(1n, 1n)).to.deep.equal([view(1)]);
      expect(await f.registry.receiptKeys(2n, 10n)).to.deep.equal([view(2)]);
      expect(await f.registry.receiptKeys(1n, 2n ** 256n - 1n)).to.deep.equal([view(1), view(2)]);
      expect(await f.registry.receiptKeys(3n, 10n)).to.deep.equal([]);
      expect(await f.registry.receiptKeys(2n ** 256n - 1n, 2n ** 256n - 1n)).to.deep.equal([]);
      expect(await f.registry.receiptKeys(0n, 0n)).to.deep.equal([]);
      const named = (await f.registry.receiptKeys(0n, 1n))[0];
      expect([named.publicKey, named.addedBy, named.addedBlock, named.retiredBlock]).to.deep.equal(view(0));
    });

    it("refuses the zero key, a key added before (retired or not), an unknown key and a second retirement", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.operator);
      await reverts(r.addReceiptKey(ethers.ZeroHash), f.registry, "ZeroReceiptKey");
      const key = randomHash();
      const block = BigInt((await (await r.addReceiptKey(key)).wait())!.blockNumber);
      await reverts(
        f.registry.connect(f.admin).addReceiptKey(key),
        f.registry,
        "ReceiptKeyAlreadyAdded",
      ).withArgs(key, block);
      const unknown = randomHash();
      await reverts(r.retireReceiptKey(unknown), f.registry, "UnknownReceiptKey").withArgs(unknown);
      await reverts(r.retireReceiptKey(ethers.ZeroHash), f.registry, "UnknownReceiptKey");
      const retiredAt = BigInt((await (await r.retireReceiptKey(key)).wait())!.blockNumber);
      await reverts(
        f.registry.connect(f.admin).retireReceiptKey(key),
        f.registry,
        "ReceiptKeyAlreadyRetired",
      ).withArgs(key, retiredAt);
      // history is never rewritten: a retired key cannot come back
      await reverts(r.addReceiptKey(key), f.registry, "ReceiptKeyAlreadyAdded").withArgs(key, block);
      expect(await f.registry.receiptKey(key)).to.deep.equal([f.operator.address, block, retiredAt]);
      expect(await f.registry.receiptKeyCount()).to.equal(1n);
    });

    it("keeps one key's record in one slot: addedBy, addedBlock, retiredBlock", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const key = randomHash();
      const added = BigInt(
        (await (await f.registry.connect(f.operator).addReceiptKey(key)).wait())!.blockNumber,
      );
      const retired = BigInt(
        (await (await f.registry.connect(f.operator).retireReceiptKey(key)).wait())!.blockNumber,
      );
      // ReceiptKeys' mapping is at slot 3, right after AccessControl's 3 slots; its list at slot 4.
      const slot = ethers.keccak256(
        ethers.AbiCoder.defaultAbiCoder().encode(["bytes32", "uint256"], [key, 3n]),
      );
      const address = await f.registry.getAddress();
      const word = BigInt(await ethers.provider.getStorage(address, slot));
      expect(word & ((1n << 160n) - 1n)).to.equal(BigInt(f.operator.address));
      expect((word >> 160n) & ((1n << 48n) - 1n)).to.equal(added);
      expect(word >> 208n).to.equal(retired);
      expect(BigInt(await ethers.provider.getStorage(address, 4n))).to.equal(1n);
    });
  });

  describe("who may call what", () => {
    type Role = "admin" | "agency" | "otherAgency" | "operator" | "revokedOperator" | "stranger";
    const roles: Role[] = ["admin", "agency", "otherAgency", "operator", "revokedOperator", "stranger"];
    const actsForAgency = new Set<Role>(["agency", "operator"]);
    const isAgency = new Set<Role>(["agency", "otherAgency"]);

    type Fixture = Awaited<ReturnType<typeof deploy>>;
    const calls: { name: string; allowed: Set<Role>; run: (f: Fixture, as: Signer) => Promise<unknown> }[] = [
      {
        name: "openConsultation",
        allowed: actsForAgency,
        run: (f, as) =>
          f.registry.connect(as).openConsultation(f.agency.address, DRAFT, DRAFT_URI, f.opensAt, f.closesAt),
      },
      {
        name: "reviseDraft",
        allowed: actsForAgency,
        run: (f, as) => f.registry.connect(as).reviseDraft(1n, randomHash(), "u"),
      },
      {
        name: "anchorLog",
        allowed: actsForAgency,
        run: (f, as) => f.registry.connect(as).anchorLog(1n, 1, randomHash(), COUNTED, []),
      },
      {
        name: "publishTally",
        allowed: actsForAgency,
        run: async (f, as) => {
          await time.increaseTo(f.closesAt);
          return f.registry.connect(as).publishTally(1n, TALLY, TALLY_URI);
        },
      },
      {
        name: "publishResponse",
        allowed: actsForAgency,
        run: async (f, as) => {
          await time.increaseTo(f.closesAt);
          await f.registry.connect(f.agency).publishTally(1n, TALLY, TALLY_URI);
          return f.registry.connect(as).publishResponse(1n, RESPONSE, RESPONSE_URI);
        },
      },
    ];

    for (const call of calls) {
      for (const role of roles) {
        const allowed = call.allowed.has(role);
        it(`${call.name} by ${role}: ${allowed ? "succeeds" : "NotAgencyOrOperator"}`, async () => {
          const f = await networkHelpers.loadFixture(deploy);
          const as = f[role];
          if (allowed) {
            await expect(call.run(f, as)).not.to.be.revert(ethers);
          } else {
            await reverts(call.run(f, as), f.registry, "NotAgencyOrOperator").withArgs(
              as.address,
              f.agency.address,
            );
          }
        });
      }
    }

    // the service signing receipts (an operator) registers its key; the admin can too; an agency acts through
    // its operators
    const managesKeys = new Set<Role>(["admin", "operator"]);
    for (const role of roles) {
      const allowed = managesKeys.has(role);
      it(`addReceiptKey and retireReceiptKey by ${role}: ${allowed ? "succeed" : "NotReceiptKeyManager"}`, async () => {
        const f = await networkHelpers.loadFixture(deploy);
        const as = f[role];
        const key = randomHash();
        if (allowed) {
          await expect(f.registry.connect(as).addReceiptKey(key)).to.emit(f.registry, "ReceiptKeyAdded");
          await expect(f.registry.connect(as).retireReceiptKey(key)).to.emit(f.registry, "ReceiptKeyRetired");
        } else {
          await reverts(
            f.registry.connect(as).addReceiptKey(key),
            f.registry,
            "NotReceiptKeyManager",
          ).withArgs(as.address);
          await f.registry.connect(f.operator).addReceiptKey(key);
          await reverts(
            f.registry.connect(as).retireReceiptKey(key),
            f.registry,
            "NotReceiptKeyManager",
          ).withArgs(as.address);
          expect((await f.registry.receiptKey(key))[2]).to.equal(0n);
        }
      });
    }

    it("an operator of any agency manages receipt keys; once its agency is revoked it no longer does", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const key = randomHash();
      await f.registry.connect(f.otherOperator).addReceiptKey(key);
      await f.registry.connect(f.admin).revokeRole(AGENCY_ROLE, f.otherAgency.address);
      await reverts(
        f.registry.connect(f.otherOperator).retireReceiptKey(key),
        f.registry,
        "NotReceiptKeyManager",
      ).withArgs(f.otherOperator.address);
      await reverts(
        f.registry.connect(f.otherOperator).addReceiptKey(randomHash()),
        f.registry,
        "NotReceiptKeyManager",
      );
      await expect(f.registry.connect(f.operator).retireReceiptKey(key)).not.to.be.revert(ethers);
    });

    for (const role of roles) {
      const allowed = isAgency.has(role);
      it(`setOperator by ${role}: ${allowed ? "binds the operator to the caller" : "NotAnAgency"}`, async () => {
        const f = await networkHelpers.loadFixture(deploy);
        const as = f[role];
        const fresh = ethers.Wallet.createRandom().address;
        if (allowed) {
          await expect(f.registry.connect(as).setOperator(fresh, true))
            .to.emit(f.registry, "OperatorSet")
            .withArgs(as.address, fresh, true);
          expect(await f.registry.operatorAgency(fresh)).to.equal(as.address);
          await expect(f.registry.connect(as).setOperator(fresh, false))
            .to.emit(f.registry, "OperatorSet")
            .withArgs(as.address, fresh, false);
          expect(await f.registry.operatorAgency(fresh)).to.equal(ethers.ZeroAddress);
        } else {
          await reverts(f.registry.connect(as).setOperator(fresh, true), f.registry, "NotAnAgency").withArgs(
            as.address,
          );
        }
      });
    }

    for (const role of roles) {
      const allowed = role === "admin";
      it(`grantRole(AGENCY_ROLE) by ${role}: ${allowed ? "succeeds" : "AccessControlUnauthorizedAccount"}`, async () => {
        const f = await networkHelpers.loadFixture(deploy);
        const as = f[role];
        const fresh = ethers.Wallet.createRandom().address;
        if (allowed) {
          await expect(f.registry.connect(as).grantRole(AGENCY_ROLE, fresh))
            .to.emit(f.registry, "RoleGranted")
            .withArgs(AGENCY_ROLE, fresh, as.address);
        } else {
          await reverts(
            f.registry.connect(as).grantRole(AGENCY_ROLE, fresh),
            f.registry,
            "AccessControlUnauthorizedAccount",
          ).withArgs(as.address, ethers.ZeroHash);
        }
      });
    }

    it("an operator of another agency acts for that agency only", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      await reverts(
        f.registry.connect(f.otherOperator).anchorLog(1n, 1, randomHash(), COUNTED, []),
        f.registry,
        "NotAgencyOrOperator",
      ).withArgs(f.otherOperator.address, f.agency.address);
      await expect(
        f.registry
          .connect(f.otherOperator)
          .openConsultation(f.otherAgency.address, DRAFT, DRAFT_URI, f.opensAt, f.closesAt),
      )
        .to.emit(f.registry, "ConsultationOpened")
        .withArgs(2n, f.otherAgency.address, DRAFT, DRAFT_URI, f.opensAt, f.closesAt);
    });

    it("revoking AGENCY_ROLE stops the agency and unbinds all its operators, for good", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const extra = ethers.Wallet.createRandom().address;
      await f.registry.connect(f.agency).setOperator(extra, true);
      expect([...(await f.registry.operatorsOf(f.agency.address))].sort()).to.deep.equal(
        [f.operator.address, extra].sort(),
      );
      const revoke = f.registry.connect(f.admin).revokeRole(AGENCY_ROLE, f.agency.address);
      await expect(revoke)
        .to.emit(f.registry, "RoleRevoked")
        .withArgs(AGENCY_ROLE, f.agency.address, f.admin.address);
      await expect(revoke)
        .to.emit(f.registry, "OperatorSet")
        .withArgs(f.agency.address, f.operator.address, false);
      await expect(revoke).to.emit(f.registry, "OperatorSet").withArgs(f.agency.address, extra, false);
      expect(await f.registry.operatorsOf(f.agency.address)).to.deep.equal([]);
      expect(await f.registry.operatorAgency(f.operator.address)).to.equal(ethers.ZeroAddress);
      expect(await f.registry.operatorsOf(f.otherAgency.address)).to.deep.equal([f.otherOperator.address]);

      const check = async (granted: boolean) => {
        // the agency itself: NotAnAgency while revoked
        if (!granted) {
          await reverts(
            f.registry.connect(f.agency).anchorLog(1n, 1, randomHash(), COUNTED, []),
            f.registry,
            "NotAnAgency",
          ).withArgs(f.agency.address);
          await reverts(
            f.registry.connect(f.agency).reviseDraft(1n, randomHash(), "u"),
            f.registry,
            "NotAnAgency",
          );
          await reverts(
            f.registry.connect(f.agency).setOperator(f.stranger.address, true),
            f.registry,
            "NotAnAgency",
          );
          await reverts(
            f.registry
              .connect(f.agency)
              .openConsultation(f.agency.address, DRAFT, DRAFT_URI, f.opensAt, f.closesAt),
            f.registry,
            "NotAnAgency",
          );
        }
        // its former operator: no longer bound, even after the role comes back
        await reverts(
          f.registry.connect(f.operator).anchorLog(1n, 1, randomHash(), COUNTED, []),
          f.registry,
          "NotAgencyOrOperator",
        ).withArgs(f.operator.address, f.agency.address);
        await reverts(
          f.registry
            .connect(f.operator)
            .openConsultation(f.agency.address, DRAFT, DRAFT_URI, f.opensAt, f.closesAt),
          f.registry,
          "NotAgencyOrOperator",
        );
      };
      await check(false);
      await f.registry.connect(f.admin).grantRole(AGENCY_ROLE, f.agency.address);
      await check(true);
      await expect(f.registry.connect(f.agency).anchorLog(1n, 1, randomHash(), COUNTED, [])).not.to.be.revert(
        ethers,
      );
    });

    it("renouncing AGENCY_ROLE unbinds the operators too", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      await expect(f.registry.connect(f.agency).renounceRole(AGENCY_ROLE, f.agency.address))
        .to.emit(f.registry, "OperatorSet")
        .withArgs(f.agency.address, f.operator.address, false);
      await reverts(
        f.registry.connect(f.operator).anchorLog(1n, 1, randomHash(), COUNTED, []),
        f.registry,
        "NotAgencyOrOperator",
      );
    });

    it("an agency has at most MAX_OPERATORS operators; re-authorizing one does not count twice", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const max = await f.registry.MAX_OPERATORS();
      expect(max).to.equal(32n);
      await f.registry.connect(f.agency).setOperator(f.operator.address, true);
      const current = BigInt((await f.registry.operatorsOf(f.agency.address)).length);
      expect(current).to.equal(1n);
      for (let i = current; i < max; i++) {
        await f.registry.connect(f.agency).setOperator(ethers.Wallet.createRandom().address, true);
      }
      await reverts(
        f.registry.connect(f.agency).setOperator(ethers.Wallet.createRandom().address, true),
        f.registry,
        "TooManyOperators",
      ).withArgs(f.agency.address, max);
      await f.registry.connect(f.agency).setOperator(f.operator.address, false);
      await expect(f.registry.connect(f.agency).setOperator(f.stranger.address, true)).not.to.be.revert(
        ethers,
      );
    });
  });

  describe("refusals (custom errors)", () => {
    it("setOperator: ZeroAddress, OperatorOfAnotherAgency, NotYourOperator, AgencyOperatorConflict", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      await reverts(
        f.registry.connect(f.agency).setOperator(ethers.ZeroAddress, true),
        f.registry,
        "ZeroAddress",
      );
      await reverts(
        f.registry.connect(f.otherAgency).setOperator(f.operator.address, true),
        f.registry,
        "OperatorOfAnotherAgency",
      ).withArgs(f.operator.address, f.agency.address);
      await reverts(
        f.registry.connect(f.otherAgency).setOperator(f.operator.address, false),
        f.registry,
        "NotYourOperator",
      ).withArgs(f.operator.address);
      await reverts(
        f.registry.connect(f.agency).setOperator(f.stranger.address, false),
        f.registry,
        "NotYourOperator",
      );
      await reverts(
        f.registry.connect(f.agency).setOperator(f.otherAgency.address, true),
        f.registry,
        "AgencyOperatorConflict",
      ).withArgs(f.otherAgency.address);
      await reverts(
        f.registry.connect(f.admin).grantRole(AGENCY_ROLE, f.operator.address),
        f.registry,
        "AgencyOperatorConflict",
      ).withArgs(f.operator.address);
      // re-authorizing one's own operator is idempotent
      await expect(f.registry.connect(f.agency).setOperator(f.operator.address, true)).not.to.be.revert(
        ethers,
      );
    });

    it("openConsultation: ZeroAddress, NotAnAgency, ZeroHash, InvalidSchedule", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.agency);
      await reverts(
        r.openConsultation(ethers.ZeroAddress, DRAFT, "", f.opensAt, f.closesAt),
        f.registry,
        "ZeroAddress",
      );
      await reverts(
        f.registry.connect(f.stranger).openConsultation(f.stranger.address, DRAFT, "", f.opensAt, f.closesAt),
        f.registry,
        "NotAnAgency",
      ).withArgs(f.stranger.address);
      await reverts(
        r.openConsultation(f.agency.address, ethers.ZeroHash, "", f.opensAt, f.closesAt),
        f.registry,
        "ZeroHash",
      );
      const now = BigInt(await time.latest());
      // The pending block's time would follow the wall clock on a slow machine: pin it.
      await time.setNextBlockTimestamp(now + 5n);
      await reverts(
        r.openConsultation(f.agency.address, DRAFT, "", f.closesAt, f.closesAt),
        f.registry,
        "InvalidSchedule",
      ).withArgs(f.closesAt, f.closesAt, now + 5n);
      await reverts(
        r.openConsultation(f.agency.address, DRAFT, "", f.closesAt + 1n, f.closesAt),
        f.registry,
        "InvalidSchedule",
      );
      // closesAt must be after the block that opens it
      await time.setNextBlockTimestamp(now + 100n);
      await reverts(
        r.openConsultation(f.agency.address, DRAFT, "", 0n, now + 100n),
        f.registry,
        "InvalidSchedule",
      ).withArgs(0n, now + 100n, now + 100n);
      await expect(r.openConsultation(f.agency.address, DRAFT, "", 0n, now + 200n)).not.to.be.revert(ethers);
    });

    it("UnknownConsultation for id 0 and ids never opened, in every function and view", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.agency);
      for (const id of [0n, 2n, 2n ** 256n - 1n]) {
        await reverts(r.reviseDraft(id, DRAFT, ""), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(
          r.anchorLog(id, 1, randomHash(), COUNTED, []),
          f.registry,
          "UnknownConsultation",
        ).withArgs(id);
        await reverts(r.publishTally(id, TALLY, ""), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.publishResponse(id, RESPONSE, ""), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.response(id), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.logHead(id), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.consultation(id), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.countedRoot(id), f.registry, "UnknownConsultation").withArgs(id);
        await reverts(r.verifyInclusion(id, randomHash(), 0, []), f.registry, "UnknownConsultation").withArgs(
          id,
        );
      }
    });

    it("reviseDraft: ZeroHash, ConsultationClosed at and after closesAt", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.operator);
      await reverts(r.reviseDraft(1n, ethers.ZeroHash, ""), f.registry, "ZeroHash");
      await time.setNextBlockTimestamp(f.closesAt - 1n);
      await expect(r.reviseDraft(1n, DRAFT, "last minute"))
        .to.emit(f.registry, "DraftRevised")
        .withArgs(1n, 2n, DRAFT, "last minute");
      await reverts(r.reviseDraft(1n, DRAFT, ""), f.registry, "ConsultationClosed").withArgs(1n, f.closesAt);
    });

    it("publishTally: ZeroHash, ConsultationNotClosed before closesAt, TallyAlreadyPublished", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.operator);
      await time.setNextBlockTimestamp(f.closesAt - 1n);
      await reverts(r.publishTally(1n, TALLY, TALLY_URI), f.registry, "ConsultationNotClosed").withArgs(
        1n,
        f.closesAt,
      );
      await reverts(r.publishTally(1n, ethers.ZeroHash, TALLY_URI), f.registry, "ZeroHash");
      await time.setNextBlockTimestamp(f.closesAt);
      await expect(r.publishTally(1n, TALLY, TALLY_URI))
        .to.emit(f.registry, "TallyPublished")
        .withArgs(1n, 0n, ethers.ZeroHash, ethers.ZeroHash, TALLY, TALLY_URI);
      await reverts(
        r.publishTally(1n, randomHash(), TALLY_URI),
        f.registry,
        "TallyAlreadyPublished",
      ).withArgs(1n);
    });

    it("publishResponse: TallyNotPublished before the tally, ZeroHash; each later version supersedes", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.operator);
      expect(await r.response(1n)).to.deep.equal([ethers.ZeroHash, 0n]);
      await reverts(r.publishResponse(1n, RESPONSE, RESPONSE_URI), f.registry, "TallyNotPublished").withArgs(
        1n,
      );
      await time.increaseTo(f.closesAt);
      // closed but not tallied: still nothing to respond to
      await reverts(r.publishResponse(1n, RESPONSE, RESPONSE_URI), f.registry, "TallyNotPublished").withArgs(
        1n,
      );
      await r.publishTally(1n, TALLY, TALLY_URI);
      await reverts(r.publishResponse(1n, ethers.ZeroHash, RESPONSE_URI), f.registry, "ZeroHash");
      await expect(r.publishResponse(1n, RESPONSE, RESPONSE_URI))
        .to.emit(f.registry, "ResponsePublished")
        .withArgs(1n, 1n, RESPONSE, RESPONSE_URI);
      expect(await r.response(1n)).to.deep.equal([RESPONSE, 1n]);
      const second = randomHash();
      await expect(f.registry.connect(f.agency).publishResponse(1n, second, "v2"))
        .to.emit(f.registry, "ResponsePublished")
        .withArgs(1n, 2n, second, "v2");
      expect(await r.response(1n)).to.deep.equal([second, 2n]);
      // the rest of the record is untouched
      const view = await r.consultation(1n);
      expect(view.tallyHash).to.equal(TALLY);
      expect(view.draftVersion).to.equal(1n);
    });

    it("anchorLog: TreeSizeNotIncreasing, TreeSizeTooLarge, InvalidConsistencyProof from 0", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.operator);
      await reverts(
        r.anchorLog(1n, 0, randomHash(), COUNTED, []),
        f.registry,
        "TreeSizeNotIncreasing",
      ).withArgs(1n, 0n, 0n);
      await reverts(
        r.anchorLog(1n, 1, randomHash(), COUNTED, [randomHash()]),
        f.registry,
        "InvalidConsistencyProof",
      ).withArgs(1n, 0n, 1n);
      const max = await f.registry.MAX_TREE_SIZE();
      expect(max).to.equal(2n ** 48n - 1n);
      await reverts(
        r.anchorLog(1n, max + 1n, randomHash(), COUNTED, []),
        f.registry,
        "TreeSizeTooLarge",
      ).withArgs(max + 1n);
      await expect(r.anchorLog(1n, max, randomHash(), COUNTED, [])).not.to.be.revert(ethers);
      const { log } = await logOf(8);
      const f2 = await networkHelpers.loadFixture(deploy);
      const r2 = f2.registry.connect(f2.agency);
      await r2.anchorLog(1n, 5, await log.root(5), COUNTED, []);
      await reverts(
        r2.anchorLog(1n, 5, await log.root(5), COUNTED, []),
        f2.registry,
        "TreeSizeNotIncreasing",
      ).withArgs(1n, 5n, 5n);
      await reverts(
        r2.anchorLog(1n, 4, await log.root(4), COUNTED, []),
        f2.registry,
        "TreeSizeNotIncreasing",
      ).withArgs(1n, 5n, 4n);
    });
  });

  describe("append-only: only a valid consistency proof from the anchored head moves it", () => {
    const cases: [number, number][] = [
      [1, 2],
      [3, 7],
      [4, 8],
      [5, 27],
      [8, 27],
      [16, 17],
      [63, 64],
      [100, 257],
    ];
    for (const [size1, size2] of cases) {
      it(`${size1} -> ${size2}: accepts protocol/'s proof and refuses every bit flip, truncation, extension, wrong root and wrong size`, async () => {
        const f = await networkHelpers.loadFixture(deploy);
        const r = f.registry.connect(f.operator);
        const { log } = await logOf(size2 * 2 + 1);
        const root1 = await log.root(size1);
        const root2 = await log.root(size2);
        const proof = await log.consistencyProof(size1, size2);
        await r.anchorLog(1n, size1, root1, COUNTED, []);

        const refused = (p: Promise<unknown>) =>
          reverts(p, f.registry, "InvalidConsistencyProof").withArgs(1n, BigInt(size1), BigInt(size2));
        const wrong: Promise<unknown>[] = [];
        for (let e = 0; e < proof.length; e++) {
          for (let bit = 0; bit < 256; bit++) {
            const bad = [...proof];
            bad[e] = flipBit(proof[e]!, bit);
            wrong.push(refused(r.anchorLog.staticCall(1n, size2, root2, COUNTED, bad)));
          }
        }
        for (let bit = 0; bit < 256; bit++)
          wrong.push(refused(r.anchorLog.staticCall(1n, size2, flipBit(root2, bit), COUNTED, proof)));
        for (const m of shapeMutations(proof))
          wrong.push(refused(r.anchorLog.staticCall(1n, size2, root2, COUNTED, m.proof)));
        wrong.push(refused(r.anchorLog.staticCall(1n, size2, await log.root(size2 + 1), COUNTED, proof)));
        wrong.push(refused(r.anchorLog.staticCall(1n, size2, randomHash(), COUNTED, proof)));
        await Promise.all(wrong);

        // Wrong sizes: refused unless RFC 9162 itself accepts that size for this proof (protocol/ decides).
        for (const s of [size2 - 1, size2 + 1, size2 * 2, size1 + 1]) {
          if (s <= size1) continue;
          const p = r.anchorLog.staticCall(1n, s, root2, COUNTED, proof);
          if (verifyConsistency(size1, s, proof, root1, root2)) await expect(p).not.to.be.revert(ethers);
          else await reverts(p, f.registry, "InvalidConsistencyProof").withArgs(1n, BigInt(size1), BigInt(s));
        }
        // A proof for the right sizes but from another log is refused too.
        const { log: other } = await logOf(size2);
        if (size1 > 1 || size2 > 2) {
          const otherProof = await (async () => {
            const o = new MerkleLog();
            await o.appendBatch(Array.from({ length: size2 }, () => randomHash()));
            return { p: await o.consistencyProof(size1, size2), root: await o.root(size2) };
          })();
          await refused(r.anchorLog.staticCall(1n, size2, otherProof.root, COUNTED, otherProof.p));
        }
        expect(await other.root(size2)).to.equal(root2); // same leaves, same root: logOf is deterministic

        await expect(r.anchorLog(1n, size2, root2, COUNTED, proof))
          .to.emit(f.registry, "LogAnchored")
          .withArgs(1n, BigInt(size2), root2, COUNTED);
        const head = await f.registry.logHead(1n);
        expect(head[0]).to.equal(BigInt(size2));
        expect(head[1]).to.equal(root2);
      });
    }

    it("refuses a head that rewrites history (same size growth, one leaf changed)", async () => {
      const f = await networkHelpers.loadFixture(deploy);
      const r = f.registry.connect(f.agency);
      const { log, leaves } = await logOf(20);
      await r.anchorLog(1n, 10, await log.root(10), COUNTED, []);
      const forged = new MerkleLog();
      const rewritten = [...leaves];
      rewritten[3] = randomHash();
      await forged.appendBatch(rewritten);
      await reverts(
        r.anchorLog(1n, 20, await forged.root(20), COUNTED, await forged.consistencyProof(10, 20)),
        f.registry,
        "InvalidConsistencyProof",
      ).withArgs(1n, 10n, 20n);
      await expect(
        r.anchorLog(1n, 20, await log.root(20), COUNTED, await log.consistencyProof(10, 20)),
      ).not.to.be.revert(ethers);
    });
  });

  after(async () => {
    // Every error the registry itself declares was expected somewhere above.
    const artifact = await artifacts.readArtifact("ConsultationRegistry");
    const declared = (artifact.abi as readonly { type: string; name?: string }[])
      .filter((item) => item.type === "error")
      .map((item) => item.name ?? "")
      .filter((name) => !name.startsWith("AccessControl") && !name.startsWith("SafeCast"));
    expect(declared.length).to.be.greaterThan(10);
    const missing = declared.filter((name) => !errorsSeen.has(name));
    expect(missing, `custom errors never exercised: ${missing.join(", ")}`).to.deep.equal([]);
  });
});
