// Gopy protocol: the one implementation of every hash, encoding, proof, receipt and tally that the
// service, the browser, the auditor CLI and the tests share. Pure and isomorphic: no HTTP, no
// database, no chain. Specification: docs/PROTOCOL.md.

export {
  assertDraft,
  type Draft,
  type DraftAttachment,
  type DraftSection,
  draftHash,
  draftString,
  MAX_ATTACHMENT_TITLE,
  MAX_ATTACHMENTS,
  MEDIA_TYPE_PATTERN,
} from "./draft.ts";
export {
  base64UrlDecode,
  base64UrlEncode,
  bytesToHex,
  type Hex,
  hashToBytes,
  hexToBytes,
  isHash,
  utf8Decode,
  utf8Encode,
  writeHashBytes,
} from "./encoding.ts";
export {
  assertEntry,
  CHANNELS,
  type Channel,
  CONSULTATION_ID_PATTERN,
  contentHash,
  decodeEntry,
  type Entry,
  encodeEntry,
  entryString,
  type ModerationEntry,
  type OpinionEntry,
  REASON_CODE_PATTERN,
  randomSalt,
  SECTION_ID_PATTERN,
  STANCES,
  type Stance,
} from "./entry.ts";
export { ProtocolError, type ProtocolErrorCode } from "./errors.ts";
export { EMPTY_ROOT, leafHash, leafHashBytes, nodeHash, nodeHashBytes, sha256 } from "./hash.ts";
export { canonicalJson, parseJson } from "./jcs.ts";
export {
  type CountedAddress,
  CountedMap,
  type CountedNode,
  type CountedStore,
  type CountedUpdate,
  countedUpdate,
} from "./map/counted.ts";
export { MemoryCountedStore, type MemoryCountedStoreOptions } from "./map/memory-store.ts";
export {
  COUNTED_KEY_BITS,
  COUNTED_ZERO,
  type CountedEntry,
  type CountedEntryCheck,
  type CountedHead,
  type CountedLeaf,
  type CountedProof,
  type CountedProofCheck,
  type CountedQuery,
  type CountedStatus,
  checkCountedProof,
  checkEntryCounted,
  countedKey,
  countedKeyBytes,
  countedLeafNode,
  LEAF_RECORD_BYTES,
  verifyCountedProof,
  writeLeafRecord,
  writeLeafRecordBytes,
} from "./map/verify.ts";
export {
  consistencyProofNodes,
  MemoryTreeStore,
  MerkleLog,
  type NodeId,
  type StoredNode,
  type TreeStore,
} from "./merkle/log.ts";
export {
  checkConsistency,
  checkInclusion,
  type ProofCheck,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "./merkle/verify.ts";
export { keyedHash, PSEUDONYM_KINDS, type PseudonymKind, pseudonym } from "./pseudonym.ts";
export {
  generateReceiptKey,
  isTextWithheld,
  jwkThumbprint,
  type PublicJwk,
  type Receipt,
  type ReceiptCheck,
  type ReceiptFields,
  type ReceiptSigningKey,
  type ReceiptStep,
  type ReceiptStepResult,
  receiptKeyFromSeed,
  receiptSigningInput,
  signReceipt,
  verifyReceipt,
  WITHHELD_SALT,
  withholdReceiptText,
} from "./receipt.ts";
export {
  type ArticleResponse,
  articleResponse,
  assertArticleResponse,
  assertResponse,
  CAMPAIGN_ID_PATTERN,
  MAX_RESPONSE_REFERENCES,
  MAX_RESPONSE_TEXT,
  normalizeArticleResponse,
  parseResponse,
  RESPONSE_STATUSES,
  type ResponseDocument,
  type ResponseStatus,
  responseBytesHash,
  responseHash,
  responseString,
  unansweredArticles,
  unknownArticles,
} from "./response.ts";
export {
  type ChannelCounts,
  computeTally,
  type StanceCounts,
  sectionCounts,
  TallyBuilder,
  TallyCounts,
  type TallyDocument,
  tallyHash,
  tallyString,
} from "./tally.ts";
export { formatTime, isTime, parseTime } from "./time.ts";
