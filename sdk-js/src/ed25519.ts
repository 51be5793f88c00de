// Ed25519 verification exactly as ed25519-dalek 2.2's `verify_strict`, on noble's curve arithmetic.
//
// Owns: the one signature rule of specs/encoding.md §1 and the genesis key rule (a key must
// decompress and not be of small order, dalek's `from_bytes` + `is_weak`).
// Never: uses a cofactored or ZIP-215 equation, hashes re-encoded points instead of the bytes
// given, or accepts a signature that dalek's `verify_strict` refuses (or the reverse).
//
// dalek's verify_strict, step by step (ed25519-dalek 2.2.0 src/verifying.rs, without the
// `legacy_compatibility` feature, which tickchain does not enable):
//   1. S (the second half) must be canonical: S < L.
//   2. R (the first half) must decompress (curve25519-dalek: y is read mod p, so y >= p is
//      accepted, and x = 0 with the sign bit set is accepted).
//   3. Neither R nor A may be of small order (order dividing 8).
//   4. k = SHA-512(R bytes || A bytes as given || message) mod L.
//   5. Cofactorless: the canonical encoding of [S]B - [k]A must equal the R bytes, byte for byte
//      (so a non-canonical R encoding never verifies).
// noble's own `verify(..., { zip215: false })` differs from this in three ways, which is why it
// is not used: its equation is cofactored ([8]R = [8]([S]B - [k]A)), it does not refuse a
// small-order R, and it refuses public keys encoded with y >= p that dalek accepts. The
// vectors in test/vectors/ed25519-strict.json pin the cases where the rules disagree.

import { Point } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes } from './bytes.js';

/** The order of the prime subgroup. */
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

function leToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** dalek's `CompressedEdwardsY::decompress`: null when y is not the y of a curve point. */
export function decompress(bytes: Uint8Array): Point | null {
  if (bytes.length !== 32) return null;
  try {
    // zip215 = true is noble's name for exactly dalek's decoding: y taken mod p (any of the
    // 2^255 values), x = 0 allowed with either sign bit.
    return Point.fromBytes(bytes, true);
  } catch {
    return null;
  }
}

/** A public key as dalek's `VerifyingKey::from_bytes` holds it: the bytes and their point. */
export interface VerifyingKey {
  readonly bytes: Uint8Array;
  readonly point: Point;
}

/** Parses a key; null when it does not decompress (dalek `parse_key`). */
export function parseKey(bytes: Uint8Array): VerifyingKey | null {
  const point = decompress(bytes);
  return point === null ? null : { bytes: Uint8Array.from(bytes), point };
}

/** Why a genesis key is refused, or null: it must decompress and not be weak (small order). */
export function keyProblem(bytes: Uint8Array): string | null {
  const point = decompress(bytes);
  if (point === null) return 'not a valid Ed25519 point';
  if (point.isSmallOrder()) return 'weak (small-order) Ed25519 key';
  return null;
}

/** `verify_strict`: true only when dalek 2.2 would accept `signature` on `message` by `key`. */
export function verifyStrict(key: VerifyingKey, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  const rBytes = signature.subarray(0, 32);
  const s = leToBigint(signature.subarray(32, 64));
  if (s >= L) return false;
  const r = decompress(rBytes);
  if (r === null) return false;
  if (r.isSmallOrder() || key.point.isSmallOrder()) return false;
  const k = leToBigint(sha512(concatBytes(rBytes, key.bytes, message))) % L;
  const expected = Point.BASE.multiply(s, false).subtract(key.point.multiply(k, false));
  return bytesEqual(expected.toBytes(), rBytes);
}
