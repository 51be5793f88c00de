import type { Batch, Tick } from './types.js';
export declare function tickBytes(g: Uint8Array, t: Tick): Uint8Array;
export declare function tickHash(g: Uint8Array, t: Tick): Uint8Array;
/** What the batch signer signs: `tag | G | node u16 | second u64 | root 32 | count u32`. */
export declare function batchSigningBytes(g: Uint8Array, b: Pick<Batch, 'node' | 'second' | 'root' | 'count'>): Uint8Array;
export declare function batchLeaf(g: Uint8Array, b: Pick<Batch, 'node' | 'second' | 'root' | 'count'>): Uint8Array;
/** A notarize or finalize vote: `tag | G | view u64 | tick_hash 32 | earliest i64 | latest i64`. */
export declare function voteSigningBytes(kind: 'finalize' | 'notarize', g: Uint8Array, view: bigint, tickHashValue: Uint8Array, earliest: bigint, latest: bigint): Uint8Array;
