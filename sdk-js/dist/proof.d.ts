import type { Proof } from './types.js';
export declare const MAX_PROOF_BYTES: number;
/**
 * Parses a proof: bytes starting with "TCPF" are the compact form, anything else must be UTF-8
 * JSON. A string is taken as its UTF-8 bytes. Throws `ProofFormatError`.
 */
export declare function parseProof(input: Uint8Array | string): Proof;
