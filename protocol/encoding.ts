import { ProtocolError } from "./errors.ts";

/** A 0x-prefixed lowercase hex string. Hashes, salts and pseudonyms are 32 bytes (66 characters). */
export type Hex = `0x${string}`;

const HEX_DIGITS = "0123456789abcdef";
// Two ASCII codes per byte, packed low | high << 8.
const BYTE_TO_CODES = Uint16Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS.charCodeAt(b >> 4) | (HEX_DIGITS.charCodeAt(b & 15) << 8),
);
// 0-15 for a lowercase hex digit, 255 for anything else: one OR of two lookups detects a bad pair.
const HEX_VALUE = new Uint8Array(65536).fill(255);
for (let i = 0; i < 16; i++) HEX_VALUE[HEX_DIGITS.charCodeAt(i)] = i;

/**
 * Lowercase 0x-hex of `bytes`. Built from character codes in one call rather than by concatenation,
 * which leaves V8 a rope of 33 pieces per hash: slower to read and ten times the memory.
 */
export function bytesToHex(bytes: Uint8Array): Hex {
  // Function.apply takes a bounded number of arguments: long inputs go in 4 KiB pieces.
  if (bytes.length > 4096) {
    let out = "0x";
    for (let at = 0; at < bytes.length; at += 4096) out += bytesToHex(bytes.subarray(at, at + 4096)).slice(2);
    return out as Hex;
  }
  const codes = new Array<number>(2 + bytes.length * 2);
  codes[0] = 0x30;
  codes[1] = 0x78;
  for (let i = 0; i < bytes.length; i++) {
    const pair = BYTE_TO_CODES[bytes[i]!]!;
    codes[2 + 2 * i] = pair & 255;
    codes[3 + 2 * i] = pair >> 8;
  }
  return String.fromCharCode.apply(null, codes) as Hex;
}

/**
 * Bytes of a 0x-prefixed lowercase hex string; with `byteLength`, exactly that many bytes.
 * Uppercase digits are refused: one value has one spelling, so hashes compare as strings.
 */
export function hexToBytes(hex: unknown, byteLength?: number, what = "hex value"): Uint8Array {
  if (typeof hex !== "string" || !hex.startsWith("0x")) {
    throw new ProtocolError("invalid_hex", `${what} must be a 0x-prefixed lowercase hex string`);
  }
  const digits = hex.length - 2;
  if (digits % 2 !== 0) throw new ProtocolError("invalid_hex", `${what} has an odd number of hex digits`);
  if (byteLength !== undefined && digits !== byteLength * 2) {
    throw new ProtocolError(
      "invalid_hex",
      `${what} must be ${byteLength} bytes (${byteLength * 2} hex digits), got ${digits / 2}`,
    );
  }
  const out = new Uint8Array(digits / 2);
  decodeDigits(hex, out, 0, out.length, what);
  return out;
}

/** Writes the bytes of hex digits 2.. of `hex` into out[offset, offset + length). */
function decodeDigits(hex: string, out: Uint8Array, offset: number, length: number, what: string): void {
  for (let i = 0; i < length; i++) {
    const hi = HEX_VALUE[hex.charCodeAt(2 + 2 * i)]!;
    const lo = HEX_VALUE[hex.charCodeAt(3 + 2 * i)]!;
    if ((hi | lo) === 255)
      throw new ProtocolError("invalid_hex", `${what} must be lowercase hex digits after 0x`);
    out[offset + i] = (hi << 4) | lo;
  }
}

/** Bytes of a 32-byte hash written as 0x-hex; throws a ProtocolError naming `what` otherwise. */
export function hashToBytes(hash: unknown, what = "hash"): Uint8Array {
  return hexToBytes(hash, 32, what);
}

/**
 * Writes the 32 bytes of a 0x-hex hash into out[offset, offset + 32), without allocating (for hot
 * loops that pack many hashes in one buffer); throws a ProtocolError naming `what` like hashToBytes.
 */
export function writeHashBytes(hash: unknown, out: Uint8Array, offset: number, what = "hash"): void {
  if (typeof hash !== "string" || hash.length !== 66 || !hash.startsWith("0x")) hashToBytes(hash, what);
  decodeDigits(hash as string, out, offset, 32, what);
}

/** True when `value` is a 0x-prefixed lowercase hex string of 32 bytes. */
export function isHash(value: unknown): value is Hex {
  return typeof value === "string" && value.length === 66 && /^0x[0-9a-f]{64}$/.test(value);
}

const textEncoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of a well-formed string (lone surrogates are refused: they have no UTF-8 form). */
export function utf8Encode(text: string, what = "text"): Uint8Array {
  if (!text.isWellFormed())
    throw new ProtocolError("invalid_argument", `${what} contains a lone UTF-16 surrogate`);
  return textEncoder.encode(text);
}

/** The string whose UTF-8 encoding is `bytes`; invalid UTF-8 is refused, never replaced. */
export function utf8Decode(bytes: Uint8Array, what = "bytes"): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new ProtocolError("invalid_argument", `${what} are not valid UTF-8`);
  }
}

const BASE64 = Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const BASE64URL = Array.from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

/**
 * RFC 4648 base64 of `bytes` in `alphabet`, padded or not, by table: about three times faster than btoa over a
 * binary string for the hashes and keys a receipt or checkpoint spells (isomorphic, no Buffer).
 */
function base64With(bytes: Uint8Array, alphabet: readonly string[], pad: boolean): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]! + alphabet[(v >> 6) & 63]! + alphabet[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 0) return out;
  const v = (bytes[i]! << 16) | (rest === 2 ? bytes[i + 1]! << 8 : 0);
  out += alphabet[v >> 18]! + alphabet[(v >> 12) & 63]!;
  if (rest === 2) return out + alphabet[(v >> 6) & 63]! + (pad ? "=" : "");
  return pad ? `${out}==` : out;
}

/** Unpadded base64url (RFC 4648 section 5) of `bytes`. */
export function base64UrlEncode(bytes: Uint8Array): string {
  return base64With(bytes, BASE64URL, false);
}

/** Bytes of unpadded base64url text; anything else is refused. */
export function base64UrlDecode(text: unknown, what = "base64url value"): Uint8Array {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new ProtocolError("invalid_argument", `${what} must be unpadded base64url`);
  }
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (base64UrlEncode(out) !== text)
    throw new ProtocolError("invalid_argument", `${what} is not canonical base64url`);
  return out;
}

/** Padded standard base64 (RFC 4648 section 4) of `bytes`: the alphabet C2SP notes and checkpoints use. */
export function base64Encode(bytes: Uint8Array): string {
  return base64With(bytes, BASE64, true);
}

/** Bytes of padded standard base64 text; anything else (and any non-canonical spelling) is refused. */
export function base64Decode(text: unknown, what = "base64 value"): Uint8Array {
  if (typeof text !== "string" || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new ProtocolError("invalid_argument", `${what} must be padded standard base64`);
  }
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  if (base64Encode(out) !== text)
    throw new ProtocolError("invalid_argument", `${what} is not canonical base64`);
  return out;
}
