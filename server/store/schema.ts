/**
 * The one migration list of both dialects. Versions 1 and 2 are the schemas the former per-backend migrations
 * created (same version numbers, same tables, columns and indexes), so existing SQLite files and PostgreSQL schemas
 * open and continue at version 3. Version 4 adds the receipt-key intents, version 5 the counted map's tables,
 * version 6 draft attachments and the agency's responses (with their intents), version 7 the reading index (public
 * listing, campaigns, stats) and `public_counts`, version 8 the published checkpoints, version 9 the moderation
 * log's index.
 */
import { withheldReceiptJson } from "./rows.ts";
import type { SqlPort } from "./sql.ts";

/** A dialect's column types and table options, so one statement text creates the same schema on both. */
export interface ColumnTypes {
  /** 64-bit integer. */
  bigint: string;
  bytes: string;
  json: string;
  boolean: string;
  /** The false literal of `boolean` in a DEFAULT clause. */
  false: string;
  /** The true literal of `boolean` in a DEFAULT clause. */
  true: string;
  /** An auto-incrementing 64-bit integer primary key. */
  serialKey: string;
  /** Options after a table's closing parenthesis. */
  table: string;
  /** Options of a table only ever read by its primary key (SQLite: no rowid). */
  keyedTable: string;
}

/** A foreign key clause of a table: `(columns) REFERENCES parent (columns)`. */
export interface ForeignKeys {
  table: string;
  keys: readonly string[];
}

export interface Migration {
  /** Statements run as one script. */
  schema?: (t: ColumnTypes) => string;
  /** Foreign keys the listed tables get (parents before children). */
  foreignKeys?: readonly ForeignKeys[];
  /** Rows rewritten, after the schema changes of the same version. */
  data?: (tx: SqlPort) => Promise<void>;
}

const ofConsultation = "(consultation_id) REFERENCES consultations (id)";

export const MIGRATIONS: readonly Migration[] = [
  {
    schema: (t) => `CREATE TABLE consultations (
     id ${t.bigint} PRIMARY KEY,
     agency TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     opens_at ${t.bigint} NOT NULL,
     closes_at ${t.bigint} NOT NULL,
     created_at ${t.bigint} NOT NULL,
     draft_version INTEGER NOT NULL,
     tree_size ${t.bigint} NOT NULL DEFAULT 0,
     anchored_size ${t.bigint} NOT NULL DEFAULT 0,
     tally_document TEXT,
     tally_hash TEXT,
     tally_tx TEXT
   )${t.table};
   CREATE TABLE drafts (
     consultation_id ${t.bigint} NOT NULL,
     version INTEGER NOT NULL,
     hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections ${t.json} NOT NULL,
     tx_hash TEXT,
     created_at ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, version)
   )${t.table};
   CREATE INDEX drafts_hash ON drafts (hash);
   CREATE TABLE entries (
     consultation_id ${t.bigint} NOT NULL,
     idx ${t.bigint} NOT NULL,
     leaf TEXT NOT NULL,
     leaf_hash TEXT NOT NULL,
     kind TEXT NOT NULL,
     author TEXT,
     section TEXT,
     text TEXT,
     salt TEXT,
     withheld ${t.boolean} NOT NULL DEFAULT ${t.false},
     created_at ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   )${t.keyedTable};
   CREATE INDEX entries_leaf_hash ON entries (consultation_id, leaf_hash);
   CREATE INDEX entries_author ON entries (consultation_id, author, section, idx) WHERE kind = 'opinion';
   CREATE TABLE nodes (
     consultation_id ${t.bigint} NOT NULL,
     level INTEGER NOT NULL,
     idx ${t.bigint} NOT NULL,
     hash ${t.bytes} NOT NULL,
     PRIMARY KEY (consultation_id, level, idx)
   )${t.keyedTable};
   CREATE TABLE receipts (
     consultation_id ${t.bigint} NOT NULL,
     idx ${t.bigint} NOT NULL,
     subject_key TEXT NOT NULL,
     idempotency_key TEXT UNIQUE,
     receipt TEXT NOT NULL,
     PRIMARY KEY (consultation_id, idx)
   )${t.table};
   CREATE INDEX receipts_subject ON receipts (subject_key);
   CREATE TABLE intents (
     id ${t.serialKey},
     consultation_id ${t.bigint} NOT NULL,
     kind TEXT NOT NULL,
     tree_size ${t.bigint} NOT NULL,
     root_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     block_number ${t.bigint},
     anchored_at ${t.bigint},
     gas_used ${t.bigint},
     created_at ${t.bigint} NOT NULL
   )${t.table};
   CREATE INDEX intents_consultation ON intents (consultation_id, status);`,
  },
  {
    schema: (t) => `CREATE TABLE draft_intents (
     id ${t.serialKey},
     kind TEXT NOT NULL,
     consultation_id ${t.bigint},
     agency TEXT NOT NULL,
     draft_hash TEXT NOT NULL,
     title TEXT NOT NULL,
     summary TEXT NOT NULL,
     sections ${t.json} NOT NULL,
     opens_at ${t.bigint},
     closes_at ${t.bigint},
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     created_at ${t.bigint} NOT NULL
   )${t.table};
   CREATE INDEX draft_intents_status ON draft_intents (status);`,
  },
  {
    // the close procedure's mark; the foreign keys both dialects now enforce; receipts of entries withheld before
    // receipts were redacted with them
    schema: (t) => `ALTER TABLE consultations ADD COLUMN closing_at ${t.bigint};`,
    foreignKeys: [
      { table: "drafts", keys: [ofConsultation] },
      { table: "entries", keys: [ofConsultation] },
      { table: "nodes", keys: [ofConsultation] },
      { table: "receipts", keys: ["(consultation_id, idx) REFERENCES entries (consultation_id, idx)"] },
      { table: "intents", keys: [ofConsultation] },
      { table: "draft_intents", keys: [ofConsultation] },
    ],
    data: async (tx) => {
      const rows = await tx.all(
        `SELECT r.consultation_id, r.idx, r.receipt FROM receipts r
         JOIN entries e ON e.consultation_id = r.consultation_id AND e.idx = r.idx
         WHERE e.withheld = TRUE`,
      );
      for (const r of rows) {
        await tx.run("UPDATE receipts SET receipt = ? WHERE consultation_id = ? AND idx = ?", [
          withheldReceiptJson(String(r.receipt)),
          Number(r.consultation_id),
          Number(r.idx),
        ]);
      }
    },
  },
  {
    // receipt-signing keys added to or retired from the registry (addReceiptKey, retireReceiptKey)
    schema: (t) => `CREATE TABLE key_intents (
     id ${t.serialKey},
     kind TEXT NOT NULL,
     public_key TEXT NOT NULL,
     agency TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     created_at ${t.bigint} NOT NULL
   )${t.table};
   CREATE INDEX key_intents_status ON key_intents (status);`,
  },
  {
    // the counted map (protocol/map): a versioned record per non-empty subtree, read as "the row at the greatest
    // tree_size <= N"; and the versions, each recorded once all its rows are written
    schema: (t) => `CREATE TABLE counted_nodes (
     consultation_id ${t.bigint} NOT NULL,
     depth INTEGER NOT NULL,
     path ${t.bytes} NOT NULL,
     tree_size ${t.bigint} NOT NULL,
     record ${t.bytes} NOT NULL,
     PRIMARY KEY (consultation_id, depth, path, tree_size),
     FOREIGN KEY ${ofConsultation}
   )${t.keyedTable};
   CREATE TABLE counted_versions (
     consultation_id ${t.bigint} NOT NULL,
     tree_size ${t.bigint} NOT NULL,
     root TEXT NOT NULL,
     PRIMARY KEY (consultation_id, tree_size),
     FOREIGN KEY ${ofConsultation}
   )${t.keyedTable};`,
  },
  {
    // draft attachments (listed in each draft and its intent; the files themselves content-addressed, stored once),
    // the agency's published responses, one row per version, and their intents (written before the broadcast)
    schema: (t) => `ALTER TABLE drafts ADD COLUMN attachments ${t.json};
   ALTER TABLE draft_intents ADD COLUMN attachments ${t.json};
   CREATE TABLE attachments (
     sha256 TEXT PRIMARY KEY,
     media_type TEXT NOT NULL,
     size ${t.bigint} NOT NULL,
     content ${t.bytes} NOT NULL,
     agency TEXT NOT NULL,
     created_at ${t.bigint} NOT NULL
   )${t.table};
   CREATE TABLE responses (
     consultation_id ${t.bigint} NOT NULL,
     version INTEGER NOT NULL,
     hash TEXT NOT NULL,
     document TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     created_at ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, version),
     FOREIGN KEY ${ofConsultation}
   )${t.table};
   CREATE TABLE response_intents (
     id ${t.serialKey},
     consultation_id ${t.bigint} NOT NULL,
     agency TEXT NOT NULL,
     version INTEGER NOT NULL,
     hash TEXT NOT NULL,
     document TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     created_at ${t.bigint} NOT NULL,
     FOREIGN KEY ${ofConsultation}
   )${t.table};
   CREATE INDEX response_intents_status ON response_intents (consultation_id, status);`,
  },
  {
    // the reading index (server/reading.ts): built in the background after each group commit from the log, never
    // on the ingest path; a derived view (replaced opinions removed, withheld texts cleared, campaigns grouped), so it
    // can be dropped and rebuilt from the log at any time. The search: one posting per distinct term of a reading
    // (its folded words and its filter tags `_t<stance>`, `_h<channel>`, `_c<campaign>`; no folded word starts with
    // `_`) and each term's count per section, so a query is driven by its rarest term (sql.ts termSearch). And the
    // agency's choice of public live counts.
    schema: (
      t,
    ) => `ALTER TABLE consultations ADD COLUMN public_counts ${t.boolean} NOT NULL DEFAULT ${t.true};
   ALTER TABLE draft_intents ADD COLUMN public_counts ${t.boolean} NOT NULL DEFAULT ${t.true};
   CREATE TABLE reading_progress (
     consultation_id ${t.bigint} PRIMARY KEY,
     indexed_size ${t.bigint} NOT NULL,
     FOREIGN KEY ${ofConsultation}
   )${t.table};
   CREATE TABLE readings (
     consultation_id ${t.bigint} NOT NULL,
     idx ${t.bigint} NOT NULL,
     section TEXT NOT NULL,
     stance TEXT NOT NULL,
     channel TEXT NOT NULL,
     submitted_at TEXT NOT NULL,
     text TEXT,
     withheld_reason TEXT,
     folded TEXT NOT NULL,
     campaign ${t.bigint},
     PRIMARY KEY (consultation_id, idx),
     FOREIGN KEY ${ofConsultation}
   )${t.table};
   CREATE INDEX readings_section ON readings (consultation_id, section, idx);
   CREATE INDEX readings_stance ON readings (consultation_id, section, stance, idx);
   CREATE INDEX readings_channel ON readings (consultation_id, section, channel, idx);
   CREATE INDEX readings_channel_stance ON readings (consultation_id, section, channel, stance, idx);
   CREATE INDEX readings_campaign ON readings (consultation_id, section, campaign, idx);
   CREATE TABLE reading_bands (
     consultation_id ${t.bigint} NOT NULL,
     section TEXT NOT NULL,
     band INTEGER NOT NULL,
     idx ${t.bigint} NOT NULL,
     simhash TEXT NOT NULL,
     PRIMARY KEY (consultation_id, section, band, idx)
   )${t.keyedTable};
   CREATE TABLE reading_counts (
     consultation_id ${t.bigint} NOT NULL,
     section TEXT NOT NULL,
     stance TEXT NOT NULL,
     channel TEXT NOT NULL,
     n ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, section, stance, channel)
   )${t.keyedTable};
   CREATE TABLE reading_hours (
     consultation_id ${t.bigint} NOT NULL,
     hour ${t.bigint} NOT NULL,
     channel TEXT NOT NULL,
     n ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, hour, channel)
   )${t.keyedTable};
   CREATE TABLE reading_terms (
     consultation_id ${t.bigint} NOT NULL,
     section TEXT NOT NULL,
     term TEXT NOT NULL,
     idx ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, section, term, idx)
   )${t.keyedTable};
   CREATE TABLE reading_term_counts (
     consultation_id ${t.bigint} NOT NULL,
     section TEXT NOT NULL,
     term TEXT NOT NULL,
     n ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, section, term)
   )${t.keyedTable};`,
  },
  {
    // C2SP checkpoints (signed notes) the service published, one per tree size: a partial tile exists exactly for
    // the sizes listed here, so they are kept (never rewritten) for as long as the log is served
    schema: (t) => `CREATE TABLE checkpoints (
     consultation_id ${t.bigint} NOT NULL,
     tree_size ${t.bigint} NOT NULL,
     root_hash TEXT NOT NULL,
     note TEXT NOT NULL,
     created_at ${t.bigint} NOT NULL,
     PRIMARY KEY (consultation_id, tree_size),
     FOREIGN KEY ${ofConsultation}
   )${t.keyedTable};`,
  },
  {
    // the public moderation log reads the moderation entries alone, in log order, among millions of opinions
    schema: () =>
      "CREATE INDEX entries_moderation ON entries (consultation_id, idx) WHERE kind = 'moderation';",
  },
];
