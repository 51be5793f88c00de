import type { VerifiedTimestamp } from './verify.js';
/** `serde_json::to_string_pretty` of the Rust `VerifiedTimestamp` this result mirrors. */
export declare function verifiedToJson(r: VerifiedTimestamp): string;
