// The worked example of docs/PROTOCOL.md, computed by protocol/. worked-example.test.ts pins every
// value the document prints, so the document cannot drift from the code.
import {
  bytesToHex,
  computeTally,
  contentHash,
  decodeEntry,
  draftHash,
  draftString,
  ed25519NoteKey,
  entryString,
  type Hex,
  leafHash,
  MerkleLog,
  type OpinionEntry,
  pseudonym,
  type ResponseDocument,
  receiptKeyFromSeed,
  receiptV2,
  responseHash,
  responseString,
  sha256,
  signCheckpoint,
  signReceipt,
  tallyHash,
  utf8Encode,
} from "../../protocol/index.ts";

const secret = new Uint8Array(32).fill(0x07);
const salt = `0x${"11".repeat(32)}` as Hex;
const text = "Tôi đồng ý.";
const author = pseudonym(secret, "citizen", "1", "citizen-42");

/** The opinion the example follows: citizen-42 agrees with article 1. */
export const WORKED_OPINION: OpinionEntry = {
  v: 1,
  type: "opinion",
  consultation: "1",
  draftVersion: 1,
  section: "dieu-1",
  stance: "agree",
  contentHash: contentHash(salt, text),
  author,
  channel: "online",
  submittedAt: "2026-05-06T08:00:00.000Z",
  replaces: null,
};

export async function workedExample() {
  const draft = {
    title: "Dự thảo Luật Thủ đô (sửa đổi)",
    summary: "Lấy ý kiến nhân dân",
    sections: [
      { id: "dieu-1", title: "Điều 1. Phạm vi điều chỉnh", text: "Luật này quy định..." },
      { id: "dieu-2", title: "Điều 2. Đối tượng áp dụng", text: "Luật này áp dụng đối với..." },
    ],
  };
  // line 2 of an imported CSV file whose SHA-256 is 32 bytes 0x22
  const offlineAuthor = pseudonym(secret, "offline", "1", `${"22".repeat(32)}:2`);
  const officer = pseudonym(secret, "officer", "1", "can-bo-7");
  const entry = WORKED_OPINION;
  const entryText = entryString(entry);
  const leaf = leafHash(utf8Encode(entryText));
  const others = [
    { ...entry, author: pseudonym(secret, "citizen", "1", "citizen-43"), stance: "disagree" as const },
    {
      ...entry,
      author: offlineAuthor,
      section: "dieu-2",
      stance: "neutral" as const,
      channel: "offline" as const,
    },
  ];
  const log = new MerkleLog();
  await log.append(leaf);
  for (const other of others) await log.append(leafHash(utf8Encode(entryString(other))));
  const key = receiptKeyFromSeed(new Uint8Array(32).fill(0x01));
  const receipt = signReceipt(
    {
      consultation: "1",
      leafIndex: 0,
      leafHash: leaf,
      entry: entryText,
      text,
      salt,
      issuedAt: "2026-05-06T08:00:00.020Z",
      anchorDeadline: "2026-05-06T08:05:00.020Z",
    },
    key,
  );
  // receipt v2: the checkpoint of the group commit of the three opinions, signed once by the log key (seed 32 bytes
  // 0x07 under origin consult.example.gov.vn/logs/1), and the first opinion's inclusion proof to it
  const logKey = ed25519NoteKey("consult.example.gov.vn/logs/1", new Uint8Array(32).fill(0x07));
  const batchCheckpoint = signCheckpoint(
    { origin: logKey.name, size: 3, rootHash: await log.root(), extensions: [] },
    [logKey],
  );
  const receiptV2Example = receiptV2(
    {
      consultation: "1",
      leafIndex: 0,
      leafHash: leaf,
      entry: entryText,
      text,
      salt,
      issuedAt: "2026-05-06T08:00:00.020Z",
      anchorDeadline: "2026-05-06T08:05:00.020Z",
    },
    { proof: await log.inclusionProof(0, 3), checkpoint: batchCheckpoint },
  );
  const entries = [entryText, ...others.map(entryString)].map((e, index) => ({
    index,
    entry: decodeEntry(e),
  }));
  const tally = computeTally("1", ["dieu-1", "dieu-2"], entries, 3, await log.root());
  // the same draft with one attachment: a memorandum whose bytes are the UTF-8 of "Tờ trình"
  const memo = utf8Encode("Tờ trình");
  const draftWithAttachment = {
    ...draft,
    attachments: [
      { title: "Tờ trình", mediaType: "text/plain", sha256: bytesToHex(sha256(memo)), bytes: memo.length },
    ],
  };
  const response: ResponseDocument = {
    v: 1,
    consultation: "1",
    chainId: 31337,
    registry: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
    draftHash: draftHash(draft),
    draftVersion: 1,
    tallyHash: tallyHash(tally),
    version: 1,
    articles: {
      "dieu-1": { status: "accepted", text: "Tiếp thu: phạm vi được làm rõ.", entries: [0, 1] },
      "dieu-2": { status: "explained", text: "Giải trình: giữ như dự thảo." },
    },
    publishedAt: "2026-05-20T09:00:00.000Z",
  };
  return {
    author,
    offlineAuthor,
    officer,
    contentHash: entry.contentHash,
    entryText,
    leafHash: leaf,
    root1: await log.root(1),
    root3: await log.root(3),
    inclusion0at3: await log.inclusionProof(0, 3),
    consistency1to3: await log.consistencyProof(1, 3),
    consistency2to3: await log.consistencyProof(2, 3),
    draftText: draftString(draft),
    draftHash: draftHash(draft),
    publicJwk: key.publicJwk,
    receipt,
    logKey: { originPrefix: "consult.example.gov.vn/logs", publicKey: logKey.publicKey, vkey: logKey.vkey },
    batchCheckpoint,
    receiptV2: receiptV2Example,
    tally,
    tallyHash: tallyHash(tally),
    draftWithAttachmentText: draftString(draftWithAttachment),
    draftWithAttachmentHash: draftHash(draftWithAttachment),
    response,
    responseText: responseString(response),
    responseHash: responseHash(response),
  };
}

if (import.meta.main) console.log(JSON.stringify(await workedExample(), null, 2));
