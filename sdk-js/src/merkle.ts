// BLAKE3 Merkle trees with RFC 9162 structure (specs/encoding.md §5).
//
// Owns: leaf and node hashing (0x00 / 0x01 prefixes), the salted digest leaf, the determined
// path length, a path's shape check and folding a leaf up a path (RFC 9162 §2.1.3.2).
// Never: decides what a leaf means, or folds a path whose shape is wrong.

import { blake3 } from '@noble/hashes/blake3.js';
import { concatBytes } from './bytes.js';
import type { MerklePath } from './types.js';

export function hash(data: Uint8Array): Uint8Array {
  return blake3(data);
}

export function leafHash(content: Uint8Array): Uint8Array {
  return blake3(concatBytes(Uint8Array.of(0x00), content));
}

/** BLAKE3(0x00 || salt || digest). */
export function digestLeaf(salt: Uint8Array, digest: Uint8Array): Uint8Array {
  return blake3(concatBytes(Uint8Array.of(0x00), salt, digest));
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return blake3(concatBytes(Uint8Array.of(0x01), left, right));
}

/** How many siblings the path of leaf `index` in a tree of `size` leaves has. */
export function pathLen(index: number, size: number): number {
  let m = index;
  let n = size;
  let len = 0;
  while (n > 1) {
    // m XOR 1 without 32-bit signed pitfalls: m is at most 2^32 - 1.
    const sibling = m % 2 === 0 ? m + 1 : m - 1;
    if (sibling < n) len += 1;
    m = Math.floor(m / 2);
    n = Math.ceil(n / 2);
  }
  return len;
}

/** Why a path is malformed, or null when its shape is right. */
export function shapeError(path: MerklePath): string | null {
  if (path.index >= path.size) {
    return `leaf index ${path.index} is outside a tree of ${path.size} leaves`;
  }
  const expected = pathLen(path.index, path.size);
  if (path.siblings.length !== expected) {
    return `path has ${path.siblings.length} siblings, a leaf at index ${path.index} of ${path.size} needs ${expected}`;
  }
  return null;
}

/** The root `path` leads to from `leaf`; the caller has checked `shapeError(path) === null`. */
export function foldPath(path: MerklePath, leaf: Uint8Array): Uint8Array {
  let fn = path.index;
  let sn = path.size - 1;
  let r = leaf;
  for (const p of path.siblings) {
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return r;
}

/** `{root}` from `leaf` up `path`, or `{error}` when the path is malformed (Rust `root_from`). */
export function rootFrom(
  path: MerklePath,
  leaf: Uint8Array,
): { root: Uint8Array; error?: undefined } | { error: string; root?: undefined } {
  const error = shapeError(path);
  if (error !== null) return { error };
  return { root: foldPath(path, leaf) };
}
