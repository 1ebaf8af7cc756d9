// contracts/ConsultationRegistry.abi.ts (what the service, web client and auditor give viem) must be
// exactly the compiled contract's ABI. Regenerate with `node contracts/export-abi.ts` after a change.
import { expect } from "chai";
import { artifacts } from "hardhat";
import { consultationRegistryAbi } from "../../contracts/ConsultationRegistry.abi.ts";

const FUNCTIONS = [
  "AGENCY_ROLE()",
  "setOperator(address,bool)",
  "openConsultation(address,bytes32,string,uint64,uint64)",
  "reviseDraft(uint256,bytes32,string)",
  "anchorLog(uint256,uint64,bytes32,bytes32,bytes32[])",
  "countedRoot(uint256)",
  "publishTally(uint256,bytes32,string)",
  "logHead(uint256)",
  "consultation(uint256)",
  "verifyInclusion(uint256,bytes32,uint64,bytes32[])",
  "addReceiptKey(bytes32)",
  "retireReceiptKey(bytes32)",
  "receiptKey(bytes32)",
  "receiptKeyCount()",
  "receiptKeys(uint256,uint256)",
];

const EVENTS = [
  "ConsultationOpened(uint256,address,bytes32,string,uint64,uint64)",
  "DraftRevised(uint256,uint32,bytes32,string)",
  "LogAnchored(uint256,uint64,bytes32,bytes32)",
  "TallyPublished(uint256,uint64,bytes32,bytes32,bytes32,string)",
  "ReceiptKeyAdded(bytes32,address,uint64)",
  "ReceiptKeyRetired(bytes32,address,uint64)",
  "OperatorSet(address,address,bool)",
];

describe("contracts/ConsultationRegistry.abi.ts", () => {
  it("equals the ABI of the compiled ConsultationRegistry (run `node contracts/export-abi.ts` if not)", async () => {
    const artifact = await artifacts.readArtifact("ConsultationRegistry");
    expect(JSON.parse(JSON.stringify(consultationRegistryAbi))).to.deep.equal(artifact.abi);
  });

  it("exposes the public interface with its exact signatures", () => {
    const signature = (item: { name?: string; inputs?: readonly { type: string }[] }) =>
      `${item.name}(${(item.inputs ?? []).map((i) => i.type).join(",")})`;
    const declared = (type: "function" | "event") =>
      consultationRegistryAbi.filter((item) => item.type === type).map(signature);
    for (const [type, expected] of [
      ["function", FUNCTIONS],
      ["event", EVENTS],
    ] as const) {
      for (const one of expected) expect(declared(type), one).to.include(one);
    }
  });
});
