// Receipt verification in the citizen's browser: the verification core (web/src/verify.ts, bundled for the
// browser as in test/web/verify.test.ts) checks a genuine anchored receipt whose proof and head are in hand,
// in headless Chromium. Budget: the first check (cold, as a citizen's first) within 100 ms; the bench exits
// non-zero when it is over.

import { scenarios } from "../test/web/fixtures/scenarios.ts";
import { launch, openHarness } from "../test/web/helpers.ts";
import { FULL, median, report } from "./report.ts";

const BUDGET_MS = 100;
const RUNS = FULL ? 200 : 25;

const input = (await scenarios())[0]!.input;
const browser = await launch();
try {
  const page = await openHarness(browser);
  const times = await page.evaluate(
    ({ inp, runs }) => {
      const g = (
        globalThis as unknown as { gopy: { verify: { verifyAll: (i: unknown) => { verdict: string } } } }
      ).gopy;
      const out: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        const r = g.verify.verifyAll(inp);
        out.push(performance.now() - t0);
        if (r.verdict !== "valid") throw new Error(`the genuine receipt was found ${r.verdict}`);
      }
      return out;
    },
    { inp: input, runs: RUNS },
  );
  const first = times[0]!;
  const extra = { browser: "chromium", runs: RUNS, budgetMs: BUDGET_MS };
  report("web.verifyReceiptFirst", first, "ms", { ...extra, withinBudget: first <= BUDGET_MS });
  report("web.verifyReceiptMedian", median(times), "ms", extra);
  if (first > BUDGET_MS) {
    process.stderr.write(`# web: the first verification took ${first.toFixed(1)} ms, over ${BUDGET_MS} ms\n`);
    process.exitCode = 1;
  }
} finally {
  await browser.close();
}
