// Shared by the bench scripts: one JSON line per figure on stdout, medians over repeated runs.
import { cpus } from "node:os";

export const FULL = process.argv.includes("--full");

const machine = { cpus: cpus().length, node: process.version };

/** Prints one figure as a JSON line. */
export function report(
  metric: string,
  value: number,
  unit: string,
  extra: Record<string, unknown> = {},
): void {
  const rounded = Number.isInteger(value) ? value : Number(value.toPrecision(4));
  process.stdout.write(`${JSON.stringify({ metric, value: rounded, unit, ...extra, ...machine })}\n`);
}

/** A seeded linear congruential generator in [0, 1): the same sequence of choices on every run. */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
