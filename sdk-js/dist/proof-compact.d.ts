import type { Proof } from './types.js';
export declare const COMPACT_MAGIC: Uint8Array<ArrayBuffer>;
export declare const MAX_DESCENDANTS = 64;
/** The leaf index and tree size of `height` in `from..=to`, or null (Rust `position`). */
export declare function anchorPosition(from: bigint, to: bigint, height: bigint): [number, number] | null;
/** Decodes the compact form; throws `ProofFormatError`. */
export declare function decodeCompactProof(bytes: Uint8Array): Proof;
