/**
 * Page-serving benchmark (issue 12 §3): one article with 1,000,000 opinions in the reading index, on SQLite and on
 * PostgreSQL (when TEST_DATABASE_URL or DATABASE_URL is set), then p50/p99 of pages of 20 at random cursors with
 * random filters (none, stance, channel, stance+channel, campaign, a common word, a rare word, two words, a word and
 * a stance), through the store's listing as the route calls it, cursor checked and issued as the route does.
 *
 * The rows are written through the store (writeReadings) by the indexer's own ReadingStep, so they are exactly what
 * the background indexer writes (folded text, SimHash bands, campaigns, counts); only the log entries are left out,
 * which the listing never reads. stdout: JSON lines. `READING_BENCH_OPINIONS` changes the size.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { encodeCursor, foldWords, type ReadableOpinion, readingPage } from "../server/reading.ts";
import { PostgresStore, type ReadingFilter, SqliteStore, type Store } from "../server/store/index.ts";
import { createBareConsultation, writeReadingStep } from "../test/support/readings.ts";
import { lcg, percentile, report } from "./report.ts";

const OPINIONS = Number(process.env.READING_BENCH_OPINIONS ?? 1_000_000);
const PAGES = Number(process.env.READING_BENCH_PAGES ?? 2_000);
const STEP = 5_000;
const progress = (m: string) => process.stderr.write(`[reading.bench] ${m}\n`);
const SECTION = "dieu-1";
const PG_URL = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
// READING_BENCH_BACKENDS=postgres (or sqlite) measures one engine only
const BACKENDS = (process.env.READING_BENCH_BACKENDS ?? "sqlite,postgres").split(",");

// a vocabulary with Vietnamese diacritics; words drawn with a skewed distribution (some common, many rare)
const VOCAB = (
  "điều chỉnh quy định đất đai người dân nhà nước quyền sử dụng thời hạn bồi thường giải phóng mặt bằng thu hồi " +
  "tái định cư giá đất bảng giá thị trường hộ gia đình cá nhân tổ chức doanh nghiệp nông nghiệp rừng phòng hộ " +
  "đặc dụng sản xuất khu công nghiệp quy hoạch kế hoạch phân cấp ủy ban nhân dân tỉnh huyện xã minh bạch công khai " +
  "thủ tục hành chính cấp giấy chứng nhận đăng ký biến động chuyển nhượng thế chấp góp vốn thừa kế tặng cho tranh " +
  "chấp khiếu nại tố cáo hòa giải tòa án thi hành án"
).split(" ");
const CAMPAIGNS = Array.from(
  { length: 20 },
  (_, k) =>
    `Chúng tôi là cư dân khu phố ${k + 1} đề nghị Ban soạn thảo giữ nguyên quy định về bồi thường khi thu hồi đất ` +
    `vì người dân cần được bảo đảm chỗ ở ổn định và sinh kế lâu dài theo đúng tinh thần của Hiến pháp`,
);

function makeOpinion(rand: () => number, index: number, t0: number): ReadableOpinion {
  const r = rand();
  let text: string;
  if (r < 0.3) {
    // a campaign copy, sometimes with a punctuation or case change
    const base = CAMPAIGNS[Math.floor(rand() * CAMPAIGNS.length)]!;
    text = rand() < 0.5 ? base : `${base.toUpperCase()}!`;
  } else if (r < 0.45)
    text = ["Đồng ý", "Tôi đồng ý", "Không đồng ý", "Cần xem lại", ""][Math.floor(rand() * 5)]!;
  else {
    const n = 8 + Math.floor(rand() * 30);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(VOCAB[Math.floor(rand() ** 2 * VOCAB.length)]!);
    text = `${words.join(" ")}.`;
  }
  return {
    index,
    section: SECTION,
    stance: ["agree", "disagree", "neutral"][Math.floor(rand() * 3)]!,
    channel: rand() < 0.9 ? "online" : "offline",
    submittedAt: new Date(t0 + index * 1000).toISOString(),
    text,
    replaces: null,
  };
}

async function fill(store: Store): Promise<number> {
  await createBareConsultation(store, SECTION, "bench");
  const rand = lcg(12);
  const t0 = Date.UTC(2026, 0, 1);
  const started = performance.now();
  for (let from = 0; from < OPINIONS; from += STEP) {
    const to = Math.min(OPINIONS, from + STEP);
    const opinions: ReadableOpinion[] = [];
    for (let i = from; i < to; i++) opinions.push(makeOpinion(rand, i, t0));
    await writeReadingStep(store, from, opinions);
    if (to % 100_000 === 0)
      progress(`${store.kind}: ${to} readings (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  return (performance.now() - started) / 1000;
}

async function measure(store: Store, backend: string): Promise<void> {
  const secret = new Uint8Array(32).fill(1);
  const rand = lcg(99);
  const campaigns = (await store.campaigns(1, SECTION, 20)).map((c) => c.campaign);
  const kinds: [string, () => ReadingFilter][] = [
    ["none", () => ({})],
    ["stance", () => ({ stance: ["agree", "disagree", "neutral"][Math.floor(rand() * 3)]! })],
    ["channel", () => ({ channel: rand() < 0.5 ? "online" : "offline" })],
    ["stance+channel", () => ({ stance: "neutral", channel: "offline" })],
    ["campaign", () => ({ campaign: campaigns[Math.floor(rand() * campaigns.length)]! })],
    ["q common", () => ({ words: foldWords("điều chỉnh") })],
    ["q rare", () => ({ words: foldWords(VOCAB[VOCAB.length - 1 - Math.floor(rand() * 5)]!) })],
    [
      "q two",
      () => ({
        words: foldWords(`${VOCAB[Math.floor(rand() * 20)]} ${VOCAB[40 + Math.floor(rand() * 20)]}`),
      }),
    ],
    ["q+stance", () => ({ words: foldWords("bồi thường"), stance: "agree" })],
    ["q campaign words", () => ({ words: foldWords("hiến pháp sinh kế") })],
  ];
  const all: number[] = [];
  const byKind = new Map<string, number[]>();
  for (let i = 0; i < PAGES; i++) {
    const [kind, make] = kinds[i % kinds.length]!;
    const filter = make();
    // a cursor anywhere in the article (a quarter of the pages are first pages)
    const cursor =
      rand() < 0.25 ? null : encodeCursor(secret, 1, SECTION, filter, Math.floor(rand() * OPINIONS));
    const t = performance.now();
    // the route's own page function: cursor check, the store's listing, the next cursor
    const page = await readingPage(store, secret, 1, SECTION, filter, cursor ?? undefined, 20);
    JSON.stringify(page);
    const ms = performance.now() - t;
    all.push(ms);
    byKind.set(kind, [...(byKind.get(kind) ?? []), ms]);
  }
  const extra = { backend, opinions: OPINIONS, pages: PAGES, pageSize: 20 };
  report("reading_page_p50", percentile(all, 50), "ms", extra);
  report("reading_page_p99", percentile(all, 99), "ms", extra);
  for (const [kind, values] of byKind) {
    progress(
      `${backend} ${kind}: p50 ${percentile(values, 50).toFixed(2)} ms, p99 ${percentile(values, 99).toFixed(2)} ms`,
    );
  }
  const worst = [...byKind].map(([k, v]) => [k, percentile(v, 99)] as const).sort((a, b) => b[1] - a[1])[0]!;
  report("reading_page_worst_filter_p99", worst[1], "ms", { ...extra, filter: worst[0] });
}

async function run(store: Store, backend: string): Promise<void> {
  await store.migrate();
  progress(`${backend}: writing ${OPINIONS} readings through the store`);
  const seconds = await fill(store);
  report("reading_index_write_rate", OPINIONS / seconds, "opinions/s", { backend, opinions: OPINIONS });
  if (store instanceof PostgresStore) {
    // what autovacuum does after a bulk load: the planner's statistics and the visibility map
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`SET search_path TO ${schema}`);
    await c.query("VACUUM ANALYZE readings, reading_terms, reading_term_counts");
    await c.end();
  }
  await measure(store, backend);
}

const schema = `gopy_reading_bench_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), "gopy-reading-bench-"));
try {
  if (BACKENDS.includes("sqlite")) {
    const sqlite = new SqliteStore(join(dir, "bench.sqlite"));
    await run(sqlite, "sqlite");
    await sqlite.close();
  }
  if (PG_URL && BACKENDS.includes("postgres")) {
    const store = new PostgresStore(PG_URL, schema);
    try {
      await run(store, "postgres");
    } finally {
      await store.close();
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    }
  } else progress("PostgreSQL skipped: set TEST_DATABASE_URL");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
