// Seeded pseudo-random numbers for property tests: a failure prints its seed and replays exactly.
export { seededRandom } from "../support/random.ts";

export const TEST_SEED = Number(process.env.GOPY_TEST_SEED ?? Date.now() % 1_000_000);
