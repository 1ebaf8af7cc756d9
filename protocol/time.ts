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

/** True when `value` is a real instant written as RFC 3339 UTC with exactly three fraction digits. */
export function isTime(value: unknown): value is string {
  if (typeof value !== "string" || !RFC3339_MS_UTC.test(value)) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
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
