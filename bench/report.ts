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

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
