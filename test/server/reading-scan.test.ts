/**
 * A text search bounds each page's work: terms that are each common but rarely meet give short (even empty) pages
 * whose cursor goes on where the scan stopped, and following the cursors finds every match exactly once, newest
 * first. Through the route's own page function, on SQLite and PostgreSQL.
 */
import { expect } from "chai";
import { type ReadableOpinion, readingPage } from "../../server/reading.ts";
import { PostgresStore, SqliteStore, type Store } from "../../server/store/index.ts";
import { createBareConsultation, writeReadingStep } from "../support/readings.ts";
import { dropSchema, PG_URL, storeBackends, tempSchema, tmpSqlite } from "./helpers.ts";

const SECTION = "dieu-1";
const OPINIONS = 6_000;
const BOTH = new Set([7, 1_507, 3_007, 4_507]);
const secret = new Uint8Array(32).fill(7);

function opinion(index: number): ReadableOpinion {
  const text = BOTH.has(index) ? "alpha beta gamma" : index % 2 === 0 ? "alpha gamma" : "beta gamma";
  return {
    index,
    section: SECTION,
    stance: "agree",
    channel: "online",
    submittedAt: new Date(Date.UTC(2026, 0, 1) + index * 1000).toISOString(),
    text,
    replaces: null,
  };
}

async function fill(store: Store): Promise<void> {
  await store.migrate();
  await createBareConsultation(store, SECTION, "scan");
  for (let from = 0; from < OPINIONS; from += 2_000) {
    await writeReadingStep(
      store,
      from,
      Array.from({ length: 2_000 }, (_, i) => opinion(from + i)),
    );
  }
}

for (const backend of storeBackends((b) => `reading search with a scan budget (${b})`)) {
  describe(`reading search with a scan budget (${backend})`, function () {
    this.timeout(120_000);
    const schema = tempSchema("scan");
    let store: Store;

    before(async () => {
      store = backend === "postgres" ? new PostgresStore(PG_URL!, schema) : new SqliteStore(tmpSqlite());
      await fill(store);
    });
    after(async () => {
      await store?.close();
      if (backend === "postgres") await dropSchema(PG_URL!, schema);
    });

    it("pages through common terms that rarely meet: short pages go on, every match found once, newest first", async () => {
      const filter = { words: ["alpha", "beta"] };
      const seen: number[] = [];
      let cursor: string | undefined;
      let shortWithNext = 0;
      for (let page = 0; page < 50; page++) {
        const { readings, next } = await readingPage(store, secret, 1, SECTION, filter, cursor, 20);
        seen.push(...readings.map((r) => r.index));
        if (readings.length < 20 && next !== null) shortWithNext++;
        if (next === null) break;
        cursor = next;
      }
      expect(seen).to.deep.equal([...BOTH].sort((a, b) => b - a));
      // the budget engaged: 3,000 postings of the rarest term are more than one page reads
      expect(shortWithNext).to.be.greaterThan(0);
    });

    it("fills whole pages when the terms meet often", async () => {
      const { readings, next } = await readingPage(
        store,
        secret,
        1,
        SECTION,
        { words: ["gamma", "alpha"] },
        undefined,
        20,
      );
      expect(readings.map((r) => r.index)).to.deep.equal(Array.from({ length: 20 }, (_, i) => 5_998 - 2 * i));
      expect(next).to.not.equal(null);
    });
  });
}
