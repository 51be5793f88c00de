import type { MerklePath } from './types.js';
export declare function hash(data: Uint8Array): Uint8Array;
export declare function leafHash(content: Uint8Array): Uint8Array;
/** BLAKE3(0x00 || salt || digest). */
export declare function digestLeaf(salt: Uint8Array, digest: Uint8Array): Uint8Array;
export declare function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array;
/** How many siblings the path of leaf `index` in a tree of `size` leaves has. */
export declare function pathLen(index: number, size: number): number;
/** Why a path is malformed, or null when its shape is right. */
export declare function shapeError(path: MerklePath): string | null;
/** The root `path` leads to from `leaf`; the caller has checked `shapeError(path) === null`. */
export declare function foldPath(path: MerklePath, leaf: Uint8Array): Uint8Array;
/** `{root}` from `leaf` up `path`, or `{error}` when the path is malformed (Rust `root_from`). */
export declare function rootFrom(path: MerklePath, leaf: Uint8Array): {
    root: Uint8Array;
    error?: undefined;
} | {
    error: string;
    root?: undefined;
};
