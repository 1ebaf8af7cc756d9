// What some suites need from the machine: PostgreSQL, Chromium, the RFC 6962 vectors beside the project.
// Without one, a local run skips those tests with a visible line; CI (.ci/run exports GOPY_CI=1) fails
// instead, so a green CI run never hides a suite that did not run.
import type { Context } from "mocha";

/** True under .ci/run. */
export const IN_CI = process.env.GOPY_CI === "1";

/** Skips the running test (or, from a before hook, its suite) saying what is missing and how to get it; fails in CI. */
export function skipOrFail(ctx: Context, missing: string, how: string): never {
  const why = `missing ${missing} (${how})`;
  if (IN_CI) throw new Error(`${why}: CI must run these tests, not skip them`);
  console.warn(`  !! SKIPPED: ${why}`);
  return ctx.skip();
}

/** A placeholder test in the current suite, standing for tests that need `missing`: see skipOrFail. */
export function missing(missing: string, how: string): void {
  it(`needs ${missing}`, function () {
    skipOrFail(this, missing, how);
  });
}

/** How a local run gets the PostgreSQL suites. */
export const POSTGRES_HOW = "set TEST_DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test";
