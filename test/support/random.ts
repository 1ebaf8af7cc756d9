// Every random choice the tests make comes from here, seeded by TEST_SEED: GOPY_TEST_SEED=<n> replays a run
// (the root hook in mocha-hooks.ts prints the seed when a test fails).
import { randomInt } from "node:crypto";

function seedFromEnvironment(text: string | undefined): number {
  if (text === undefined || text === "") return randomInt(1_000_000);
  if (!/^[0-9]{1,10}$/.test(text) || Number(text) > 0xffffffff) {
    throw new Error(`GOPY_TEST_SEED must be an integer from 0 to ${0xffffffff}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The seed of this run: GOPY_TEST_SEED, or a fresh one. */
export const TEST_SEED = seedFromEnvironment(process.env.GOPY_TEST_SEED);

/** Seeded pseudo-random numbers in [0, 1) (mulberry32): the same seed gives the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The random stream named `label` of this run (TEST_SEED mixed with the label, FNV-1a): each file draws from
 * its own, so its choices do not depend on which other tests ran first.
 */
export function testRandom(label: string): () => number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193);
  return seededRandom((TEST_SEED ^ hash) >>> 0);
}

/** `length` bytes drawn from `random`. */
export function randomBytesFrom(random: () => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => Math.floor(random() * 256));
}
