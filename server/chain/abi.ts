/**
 * The slice of the ConsultationRegistry ABI the service calls (signatures fixed by issue 3).
 * TODO(integration): re-export `consultationRegistryAbi` from contracts/ConsultationRegistry.abi.ts once it lands.
 */
import { parseAbi } from "viem";

export const consultationRegistryAbi = parseAbi([
  "struct ConsultationView { address agency; bytes32 draftHash; string draftURI; uint32 draftVersion; uint64 opensAt; uint64 closesAt; uint64 treeSize; bytes32 rootHash; uint64 anchoredAt; bytes32 tallyHash; string tallyURI; }",
  "function AGENCY_ROLE() view returns (bytes32)",
  "function grantRole(bytes32 role, address account)",
  "function setOperator(address operator, bool allowed)",
  "function openConsultation(address agency, bytes32 draftHash, string draftURI, uint64 opensAt, uint64 closesAt) returns (uint256 id)",
  "function reviseDraft(uint256 id, bytes32 draftHash, string draftURI) returns (uint32 version)",
  "function anchorLog(uint256 id, uint64 treeSize, bytes32 rootHash, bytes32[] consistencyProof)",
  "function publishTally(uint256 id, bytes32 tallyHash, string tallyURI)",
  "function logHead(uint256 id) view returns (uint64 treeSize, bytes32 rootHash, uint64 anchoredAt)",
  "function consultation(uint256 id) view returns (ConsultationView)",
  "function verifyInclusion(uint256 id, bytes32 leafHash, uint64 leafIndex, bytes32[] proof) view returns (bool)",
  "event ConsultationOpened(uint256 indexed id, address indexed agency, bytes32 draftHash, string draftURI, uint64 opensAt, uint64 closesAt)",
  "event DraftRevised(uint256 indexed id, uint32 version, bytes32 draftHash, string draftURI)",
  "event LogAnchored(uint256 indexed id, uint64 treeSize, bytes32 rootHash)",
  "event TallyPublished(uint256 indexed id, uint64 treeSize, bytes32 rootHash, bytes32 tallyHash, string tallyURI)",
]);
