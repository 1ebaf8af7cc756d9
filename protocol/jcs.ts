// RFC 8785 JSON Canonicalization Scheme for the values Gopy's formats use: objects, arrays, strings,
// finite numbers, booleans and null. ECMAScript's JSON.stringify already serialises strings and
// numbers exactly as JCS requires; what JCS adds is the member order (UTF-16 code units, which is
// what the default string sort compares) and the absence of whitespace.
import { ProtocolError } from "./errors.ts";

/** The RFC 8785 canonical JSON text of `value`. */
export function canonicalJson(value: unknown): string {
  return serialize(value, "value", 0);
}

// Deeper nesting than any Gopy format uses is refused rather than left to overflow the stack.
const MAX_DEPTH = 32;

function serialize(value: unknown, path: string, depth: number): string {
  if (depth > MAX_DEPTH)
    throw new ProtocolError("invalid_json", `${path} is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new ProtocolError("invalid_json", `${path} is not a finite number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((item, i) => serialize(item, `${path}[${i}]`, depth + 1)).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const record = value as Record<string, unknown>;
    const members: string[] = [];
    for (const key of Object.keys(record).sort()) {
      if (record[key] === undefined) continue;
      members.push(`${JSON.stringify(key)}:${serialize(record[key], `${path}.${key}`, depth + 1)}`);
    }
    return `{${members.join(",")}}`;
  }
  throw new ProtocolError(
    "invalid_json",
    `${path} cannot be represented in canonical JSON (${typeof value})`,
  );
}

/** Parses JSON text, turning a syntax error into a ProtocolError that names `what`. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProtocolError("invalid_json", `${what} is not valid JSON: ${(error as Error).message}`);
  }
}
