/** TypeBox schemas of the public HTTP interface: every request and response, additionalProperties false. */
import { Type } from "typebox";

const closed = { additionalProperties: false } as const;

export const HexHash = Type.String({
  pattern: "^0x[0-9a-f]{64}$",
  description: "32 bytes, 0x-prefixed lowercase hex",
});
export const IdParam = Type.String({
  pattern: "^[1-9][0-9]{0,14}$",
  description: "consultation id (registry id)",
});
export const UnixSeconds = Type.Integer({
  minimum: 0,
  maximum: 281474976710655,
  description: "Unix seconds",
});
const SectionId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" });

export const ErrorBody = Type.Object(
  { error: Type.String(), message: Type.String(), reason: Type.Optional(Type.String()) },
  { ...closed, description: "every error; `reason` says why a token was refused (401) or not checked (503)" },
);

export const errors = {
  "4xx": ErrorBody,
  "5xx": ErrorBody,
};

export const Section = Type.Object(
  {
    id: SectionId,
    title: Type.String({ minLength: 1, maxLength: 500 }),
    text: Type.String({ maxLength: 100_000 }),
  },
  closed,
);

/** Media types an attachment may have (the upload's Content-Type, and the draft's `mediaType`). */
export const ATTACHMENT_TYPES = [
  "application/pdf",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "text/plain",
  "text/markdown",
  "image/png",
  "image/jpeg",
  "application/octet-stream",
] as const;

export const AttachmentMediaType = Type.Union(
  ATTACHMENT_TYPES.map((t) => Type.Literal(t)),
  { description: "the file's media type" },
);

/** An attachment as a draft body names it: uploaded first (POST /api/attachments), then listed by its hash. */
export const AttachmentRef = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    mediaType: AttachmentMediaType,
    sha256: HexHash,
    bytes: Type.Optional(
      Type.Integer({ minimum: 0, description: "when given, must equal the upload's size" }),
    ),
  },
  closed,
);

/** An attachment as drafts serve it (the member of the hashed draft document). */
export const Attachment = Type.Object(
  { title: Type.String(), mediaType: Type.String(), sha256: HexHash, bytes: Type.Integer({ minimum: 0 }) },
  closed,
);

export const AttachmentUploaded = Type.Object(
  { sha256: HexHash, bytes: Type.Integer(), mediaType: Type.String() },
  closed,
);

export const AttachmentParams = Type.Object({ id: IdParam, sha256: HexHash }, closed);

export const DraftBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    summary: Type.String({ maxLength: 10_000 }),
    sections: Type.Array(Section, { minItems: 1, maxItems: 500 }),
    attachments: Type.Optional(Type.Array(AttachmentRef, { maxItems: 20 })),
  },
  closed,
);

export const CreateConsultationBody = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    summary: Type.String({ maxLength: 10_000 }),
    sections: Type.Array(Section, { minItems: 1, maxItems: 500 }),
    attachments: Type.Optional(Type.Array(AttachmentRef, { maxItems: 20 })),
    opensAt: UnixSeconds,
    closesAt: UnixSeconds,
    publicCounts: Type.Optional(
      Type.Boolean({
        description: "live counts public while open (default true); always public after closesAt",
      }),
    ),
  },
  closed,
);

export const DraftCreated = Type.Object(
  { id: Type.Integer(), draftHash: HexHash, draftVersion: Type.Integer(), txHash: HexHash },
  closed,
);

export const Status = Type.Union([
  Type.Literal("scheduled"),
  Type.Literal("open"),
  Type.Literal("closed"),
  Type.Literal("tallied"),
]);

export const AgencyName = Type.Object(
  { vi: Type.String(), en: Type.String() },
  { ...closed, description: "the agency's display name (AGENCY_NAMES; its id when none is configured)" },
);

export const ConsultationSummary = Type.Object(
  {
    id: Type.Integer(),
    agency: Type.String(),
    agencyName: AgencyName,
    title: Type.String(),
    status: Status,
    opensAt: UnixSeconds,
    closesAt: UnixSeconds,
  },
  closed,
);

export const ConsultationList = Type.Object({ consultations: Type.Array(ConsultationSummary) }, closed);

export const ChainRef = Type.Union([
  Type.Object(
    {
      chainId: Type.Integer(),
      contract: Type.String(),
      /** Public JSON-RPC URL to read the chain from (PUBLIC_RPC_URL), when the service advertises one. */
      rpcUrl: Type.Optional(Type.String()),
    },
    closed,
  ),
  Type.Null(),
]);

export const ConsultationDetail = Type.Object(
  {
    id: Type.Integer(),
    agency: Type.String(),
    title: Type.String(),
    summary: Type.String(),
    status: Status,
    opensAt: UnixSeconds,
    closesAt: UnixSeconds,
    draft: Type.Object(
      {
        version: Type.Integer(),
        hash: HexHash,
        sections: Type.Array(Section),
        attachments: Type.Optional(Type.Array(Attachment)),
      },
      closed,
    ),
    chain: ChainRef,
    agencyName: AgencyName,
    publicCounts: Type.Boolean({ description: "whether live counts are public while open" }),
  },
  closed,
);

export const DraftDocument = Type.Object(
  {
    hash: HexHash,
    title: Type.String(),
    summary: Type.String(),
    sections: Type.Array(Section),
    attachments: Type.Optional(Type.Array(Attachment)),
    uses: Type.Array(Type.Object({ consultation: Type.Integer(), version: Type.Integer() }, closed), {
      description: "every (consultation, draft version) published with this draft, oldest consultation first",
    }),
  },
  { ...closed, description: "a draft document: the same for every consultation that uses its hash" },
);

export const OpinionBody = Type.Object(
  {
    section: SectionId,
    stance: Type.Union([Type.Literal("agree"), Type.Literal("disagree"), Type.Literal("neutral")]),
    text: Type.Optional(Type.String({ maxLength: 10_000 })),
  },
  closed,
);

const receiptFields = {
  consultation: Type.String(),
  leafIndex: Type.Integer(),
  leafHash: HexHash,
  entry: Type.String(),
  text: Type.String(),
  salt: HexHash,
  issuedAt: Type.String(),
  anchorDeadline: Type.String(),
};

export const ReceiptV1 = Type.Object(
  { v: Type.Literal(1), ...receiptFields, keyId: Type.String(), signature: Type.String() },
  { ...closed, description: "protocol receipt v1 (signed by a receipt key)" },
);

export const ReceiptV2 = Type.Object(
  {
    v: Type.Literal(2),
    ...receiptFields,
    proof: Type.String({ description: "c2sp.org/tlog-proof@v1 text" }),
  },
  { ...closed, description: "protocol receipt v2 (a C2SP tlog-proof to the batch's signed checkpoint)" },
);

/** What the service issues is v2; receipts issued before it were v1 and are still listed as they were. */
export const Receipt = Type.Union([ReceiptV2, ReceiptV1], {
  description: "protocol receipt (docs/PROTOCOL.md §5)",
});

export const ReceiptList = Type.Object({ receipts: Type.Array(Receipt) }, closed);

export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.:-]{1,128}$" })),
});

export const ImportResult = Type.Object(
  {
    imported: Type.Integer(),
    duplicates: Type.Integer(),
    leafIndices: Type.Array(Type.Integer()),
  },
  closed,
);

export const ImportQuery = Type.Object(
  {
    dryRun: Type.Optional(
      Type.Union([Type.Literal("true"), Type.Literal("false")], {
        description: "true: check every row and answer the preview (200), writing nothing",
      }),
    ),
  },
  closed,
);

export const ImportPreview = Type.Object(
  {
    dryRun: Type.Literal(true),
    valid: Type.Integer({ description: "rows the import would append" }),
    invalid: Type.Integer(),
    duplicates: Type.Integer({ description: "rows of this same file already imported" }),
    rows: Type.Array(
      Type.Object(
        {
          line: Type.Integer({ description: "line in the file; the header is line 1" }),
          section: Type.String(),
          stance: Type.String(),
          text: Type.String(),
          collectedAt: Type.String(),
          error: Type.Union([Type.String(), Type.Null()]),
          duplicate: Type.Boolean(),
        },
        closed,
      ),
    ),
  },
  closed,
);

export const WithholdBody = Type.Object(
  {
    reason: Type.String({
      pattern: "^[a-z0-9][a-z0-9-]{0,63}$",
      description: "reason code, e.g. personal-data",
    }),
  },
  closed,
);

export const EntryParams = Type.Object(
  { id: IdParam, index: Type.String({ pattern: "^(0|[1-9][0-9]{0,14})$" }) },
  closed,
);
export const HashParams = Type.Object({ hash: HexHash }, closed);
export const IdParams = Type.Object({ id: IdParam }, closed);

export const Appended = Type.Object({ index: Type.Integer(), leafHash: HexHash }, closed);

export const Anchored = Type.Union([
  Type.Object(
    {
      treeSize: Type.Integer(),
      rootHash: HexHash,
      txHash: HexHash,
      blockNumber: Type.Integer(),
      anchoredAt: UnixSeconds,
    },
    closed,
  ),
  Type.Null(),
]);

export const LogHead = Type.Object(
  { treeSize: Type.Integer(), rootHash: HexHash, anchored: Anchored },
  closed,
);

const SizeQ = Type.String({ pattern: "^(0|[1-9][0-9]{0,14})$" });

export const ProofQuery = Type.Object({ leafHash: HexHash, treeSize: Type.Optional(SizeQ) }, closed);
export const Proof = Type.Object(
  { leafIndex: Type.Integer(), treeSize: Type.Integer(), rootHash: HexHash, proof: Type.Array(HexHash) },
  closed,
);
export const CountedProofQuery = Type.Object(
  {
    author: Type.String({
      pattern: "^0x[0-9a-f]{64}$",
      description: "the author's pseudonym as in the entry: 0x and 64 lowercase hex digits",
    }),
    section: SectionId,
    treeSize: Type.Optional(SizeQ),
  },
  closed,
);
const CountedLeaf = Type.Object(
  { key: HexHash, leafIndex: Type.Integer({ minimum: 0 }), leafHash: HexHash },
  closed,
);
export const CountedProof = Type.Object(
  {
    treeSize: Type.Integer(),
    root: HexHash,
    key: HexHash,
    siblings: Type.Array(HexHash, { maxItems: 256 }),
    leaf: Type.Union([CountedLeaf, Type.Null()]),
  },
  closed,
);
export const ConsistencyQuery = Type.Object({ first: SizeQ, second: Type.Optional(SizeQ) }, closed);
export const Consistency = Type.Object(
  { first: Type.Integer(), second: Type.Integer(), proof: Type.Array(HexHash) },
  closed,
);
export const EntriesQuery = Type.Object({ start: SizeQ, end: SizeQ }, closed);
export const Entries = Type.Object(
  {
    entries: Type.Array(
      Type.Object({ index: Type.Integer(), leaf: Type.String(), leafHash: HexHash }, closed),
    ),
  },
  closed,
);

export const EmptyBody = Type.Union([Type.Object({}, closed), Type.Null()]);

const Counts = Type.Object(
  { agree: Type.Integer(), disagree: Type.Integer(), neutral: Type.Integer() },
  closed,
);
const ChannelCounts = Type.Object({ online: Counts, offline: Counts, total: Counts }, closed);
export const TallyDocument = Type.Object(
  {
    v: Type.Literal(1),
    consultation: Type.String(),
    treeSize: Type.Integer(),
    rootHash: HexHash,
    sections: Type.Record(Type.String(), ChannelCounts),
    totals: ChannelCounts,
  },
  closed,
);
export const Tally = Type.Object(
  { document: TallyDocument, tallyHash: HexHash, txHash: Type.Union([HexHash, Type.Null()]) },
  closed,
);

export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.Literal("OKP"),
          crv: Type.Literal("Ed25519"),
          x: Type.String(),
          kid: Type.String(),
          alg: Type.Literal("EdDSA"),
          use: Type.Literal("sig"),
        },
        closed,
      ),
    ),
  },
  closed,
);

export const DevTokenBody = Type.Object(
  {
    sub: Type.String({ pattern: "^[A-Za-z0-9_.@:+-]{1,128}$" }),
    role: Type.Union([Type.Literal("citizen"), Type.Literal("agency"), Type.Literal("admin")]),
    agency: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,64}$" })),
  },
  closed,
);
export const DevToken = Type.Object({ token: Type.String() }, closed);

export const Me = Type.Object(
  {
    sub: Type.String(),
    role: Type.Union([Type.Literal("citizen"), Type.Literal("agency"), Type.Literal("admin")]),
    agency: Type.Union([Type.String(), Type.Null()]),
  },
  closed,
);

export const Health = Type.Object(
  {
    ok: Type.Boolean(),
    chain: Type.Union([
      Type.Object(
        {
          chainId: Type.Union([Type.Integer(), Type.Null()]),
          contract: Type.String(),
          block: Type.Union([Type.Integer(), Type.Null()]),
          rpcUrl: Type.Optional(Type.String()),
        },
        closed,
      ),
      Type.Null(),
    ]),
    db: Type.Boolean(),
    backlog: Type.Integer(),
    overdue: Type.Integer(),
    counted: Type.Object(
      {
        lag: Type.Integer({ description: "log entries not yet in their consultation's counted map" }),
        unmappedHeads: Type.Integer({
          description:
            "consultations whose latest anchored head has no counted map (no proof of being counted)",
        }),
      },
      closed,
    ),
    auth: Type.Object(
      {
        issuers: Type.Array(
          Type.Object(
            {
              issuer: Type.String(),
              roles: Type.Array(
                Type.Union([Type.Literal("citizen"), Type.Literal("agency"), Type.Literal("admin")]),
              ),
              reachable: Type.Boolean({ description: "its discovery document has been read" }),
            },
            closed,
          ),
        ),
      },
      {
        ...closed,
        description: "the identity providers whose tokens are accepted, and the roles each may grant",
      },
    ),
  },
  closed,
);

// ---------- public reading (server/routes/reading.ts) ----------

const Stance = Type.Union([Type.Literal("agree"), Type.Literal("disagree"), Type.Literal("neutral")]);
const Channel = Type.Union([Type.Literal("online"), Type.Literal("offline")]);
const LeafIndexQ = Type.String({ pattern: "^(0|[1-9][0-9]{0,14})$" });

export const SectionParams = Type.Object({ id: IdParam, section: SectionId }, closed);

export const ReadingQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 64, description: "the `next` of the previous page" })),
    limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "1..100, default 20" })),
    stance: Type.Optional(Stance),
    channel: Type.Optional(Channel),
    campaign: Type.Optional(LeafIndexQ),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "words, all required; diacritics ignored" }),
    ),
  },
  closed,
);

export const PublicOpinion = Type.Object(
  {
    leafIndex: Type.Integer(),
    stance: Stance,
    channel: Channel,
    submittedAt: Type.String(),
    text: Type.Union([Type.String(), Type.Null()]),
    withheldReason: Type.Union([Type.String(), Type.Null()]),
    campaign: Type.Union([Type.Integer(), Type.Null()]),
  },
  closed,
);

export const OpinionPage = Type.Object(
  { opinions: Type.Array(PublicOpinion), next: Type.Union([Type.String(), Type.Null()]) },
  closed,
);

export const CampaignQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "1..100, default 20" })),
  },
  closed,
);

const StanceCounts = Type.Object(
  { agree: Type.Integer(), disagree: Type.Integer(), neutral: Type.Integer() },
  closed,
);

export const CampaignList = Type.Object(
  {
    campaigns: Type.Array(
      Type.Object(
        {
          campaign: Type.Integer(),
          count: Type.Integer(),
          stances: StanceCounts,
          sample: Type.Union([
            Type.Object({ leafIndex: Type.Integer(), text: Type.String() }, closed),
            Type.Null(),
          ]),
        },
        closed,
      ),
    ),
    indexedSize: Type.Integer(),
  },
  closed,
);

export const Stats = Type.Object(
  {
    publicCounts: Type.Boolean(),
    indexedSize: Type.Integer(),
    treeSize: Type.Integer(),
    sections: Type.Record(
      Type.String(),
      Type.Object(
        { agree: Type.Integer(), disagree: Type.Integer(), neutral: Type.Integer(), total: Type.Integer() },
        closed,
      ),
    ),
    channels: Type.Object({ online: Type.Integer(), offline: Type.Integer() }, closed),
    hourly: Type.Array(
      Type.Object({ hour: UnixSeconds, online: Type.Integer(), offline: Type.Integer() }, closed),
    ),
  },
  closed,
);

export const ExportQuery = Type.Object(
  {
    start: Type.Optional(LeafIndexQ),
    end: Type.Optional(LeafIndexQ),
  },
  closed,
);

export const ResponseStatus = Type.Union([
  Type.Literal("accepted"),
  Type.Literal("partly-accepted"),
  Type.Literal("not-accepted"),
  Type.Literal("explained"),
]);

export const ArticleResponseBody = Type.Object(
  {
    status: ResponseStatus,
    text: Type.String({ minLength: 1, maxLength: 20_000 }),
    campaigns: Type.Optional(
      Type.Array(Type.String({ pattern: "^[A-Za-z0-9._:-]{1,128}$" }), { maxItems: 1000 }),
    ),
    entries: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 1000 })),
  },
  closed,
);

export const ResponseBody = Type.Object(
  {
    articles: Type.Record(SectionId, ArticleResponseBody, {
      additionalProperties: false,
      description: "section id of the final draft → the agency's answer on that article",
    }),
  },
  closed,
);

export const ResponsePublished = Type.Object(
  { version: Type.Integer({ minimum: 1 }), responseHash: HexHash, txHash: HexHash },
  closed,
);

export const ResponseQuery = Type.Object(
  { version: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,8}$" })) },
  closed,
);

// ---------- the public moderation log (server/routes/moderation.ts) ----------

export const ModerationLogQuery = Type.Object(
  {
    after: Type.Optional(
      Type.String({ pattern: "^(0|[1-9][0-9]{0,14})$", description: "the `next` of the previous page" }),
    ),
    limit: Type.Optional(Type.String({ pattern: "^(100|[1-9][0-9]?)$", description: "1..100, default 50" })),
  },
  closed,
);

export const ModerationLog = Type.Object(
  {
    moderation: Type.Array(
      Type.Object(
        {
          index: Type.Integer({ description: "the moderation entry's leaf index" }),
          leafHash: HexHash,
          target: Type.Integer({ description: "the leaf index of the opinion whose text is withheld" }),
          action: Type.String(),
          reason: Type.String({ description: "the reason code" }),
          by: HexHash,
          at: Type.String({ description: "RFC 3339, as in the entry" }),
        },
        closed,
      ),
    ),
    next: Type.Union([Type.String(), Type.Null()], { description: "pass as `after` for the next page" }),
  },
  closed,
);
