import { ProtocolError } from "./errors.ts";

const RFC3339_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** `ms` since the Unix epoch as RFC 3339 UTC with milliseconds: `2026-05-06T08:00:00.000Z`. */
export function formatTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > 253402300799999) {
    throw new ProtocolError(
      "invalid_argument",
      `time must be integer milliseconds between 1970 and 9999, got ${String(ms)}`,
    );
  }
  return new Date(ms).toISOString();
}

/**
 * The last two times isTime accepted: a group commit checks the same issuedAt and anchorDeadline on every receipt
 * of its batch (strings are values, so an equal string is an equally valid time).
 */
const recentTimes: [string | null, string | null] = [null, null];

/** True when `value` is a real instant written as RFC 3339 UTC with exactly three fraction digits. */
export function isTime(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (value === recentTimes[0] || value === recentTimes[1]) return true;
  if (!RFC3339_MS_UTC.test(value)) return false;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== value) return false;
  recentTimes[1] = recentTimes[0];
  recentTimes[0] = value;
  return true;
}

/** Milliseconds since the epoch of a time written by formatTime. */
export function parseTime(value: unknown, what = "time"): number {
  if (!isTime(value)) {
    throw new ProtocolError(
      "invalid_argument",
      `${what} must be RFC 3339 UTC with milliseconds, like 2026-05-06T08:00:00.000Z`,
    );
  }
  return Date.parse(value);
}
