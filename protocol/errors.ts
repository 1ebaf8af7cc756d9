/** What kind of input a ProtocolError rejects: stable strings that callers may switch on. */
export type ProtocolErrorCode =
  | "invalid_hex"
  | "invalid_size"
  | "invalid_index"
  | "invalid_json"
  | "invalid_entry"
  | "invalid_draft"
  | "invalid_receipt"
  | "invalid_key"
  | "invalid_tally"
  | "invalid_response"
  | "invalid_note"
  | "invalid_checkpoint"
  | "invalid_tile"
  | "invalid_proof"
  | "invalid_argument";

/** The one error type protocol/ throws on malformed input; `message` says what is wrong. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}
