// The trust root's one parser lives in chain/ (shared with the auditor CLI); the client re-exports it.
export { parseTrustRoot, type TrustRoot, TrustRootError } from "../../chain/trust-root.ts";
