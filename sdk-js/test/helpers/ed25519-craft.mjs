// Hand-made Ed25519 signatures on which strict (ed25519-dalek `verify_strict`) and lenient
// (ZIP-215, cofactored) verification disagree, built on noble's point arithmetic.
//
// Owns: the order-8 torsion point, RFC 8032 scalar expansion, and one builder per case: an R or
// A with a torsion component (mixed order), a small-order R or A, non-canonical encodings of
// R, A and S. Never: anything but public test keys.

import { Point } from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

export const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const P = (1n << 255n) - 19n;

export function le(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

export function toLe(v, n = 32) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A point of order exactly 8 (the canonical encoding is well known). */
export const T8 = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
if (T8.multiply(4n, false).is0() || !T8.multiply(8n, false).is0()) throw new Error('T8 is not of order 8');

/** The RFC 8032 secret scalar of a 32-byte seed (clamped), reduced mod L. */
export function secretScalar(seed) {
  const h = sha512(seed);
  const a = Uint8Array.from(h.subarray(0, 32));
  a[0] &= 248;
  a[31] &= 127;
  a[31] |= 64;
  return le(a) % L;
}

/** k = SHA-512(R || A || M) mod L, with R and A as the bytes given. */
export function challenge(rBytes, aBytes, msg) {
  return le(sha512(cat(rBytes, aBytes, msg))) % L;
}

/** A signature `R || S` from R's bytes and S. */
export function signature(rBytes, s) {
  return cat(rBytes, toLe(s));
}

/** S = r + k·a for the given R bytes: valid under the cofactorless equation iff R = [r]B. */
export function signWithR(a, aBytes, msg, r, rBytes) {
  return signature(rBytes, (r + challenge(rBytes, aBytes, msg) * a) % L);
}

/** An honest signature with nonce r (deterministic for the vectors). */
export function honest(a, msg, r) {
  const aBytes = Point.BASE.multiply(a).toBytes();
  return signWithR(a, aBytes, msg, r, Point.BASE.multiply(r).toBytes());
}

/** R = [r]B + T8 (mixed order): cofactored equation holds, cofactorless does not. */
export function mixedOrderR(a, msg, r) {
  const aBytes = Point.BASE.multiply(a).toBytes();
  return signWithR(a, aBytes, msg, r, Point.BASE.multiply(r).add(T8).toBytes());
}

/** R = T8 (small order), S = k·a: [S]B - [k]A = O, so only the cofactored equation holds. */
export function smallOrderR(a, msg) {
  const aBytes = Point.BASE.multiply(a).toBytes();
  const rBytes = T8.toBytes();
  return signature(rBytes, (challenge(rBytes, aBytes, msg) * a) % L);
}

/** R = the identity written with y = p + 1 (non-canonical), S = k·a. */
export function nonCanonicalIdentityR(a, msg) {
  const aBytes = Point.BASE.multiply(a).toBytes();
  const rBytes = toLe(P + 1n);
  return signature(rBytes, (challenge(rBytes, aBytes, msg) * a) % L);
}

/** An honest signature with S + L in place of S (unreduced, still below 2^253). */
export function unreducedS(a, msg, r) {
  const sig = honest(a, msg, r);
  return signature(sig.subarray(0, 32), le(sig.subarray(32)) + L);
}

/** The mixed-order public key [a]B + T8 (decompresses, not weak: genesis accepts it). */
export function mixedOrderKey(a) {
  return Point.BASE.multiply(a).add(T8).toBytes();
}

/** A signature by the mixed-order key with honest R: cofactorless holds iff 8 divides k. */
export function signMixedKey(a, msg, r) {
  const aBytes = mixedOrderKey(a);
  const rBytes = Point.BASE.multiply(r).toBytes();
  const k = challenge(rBytes, aBytes, msg);
  return { sig: signature(rBytes, (r + k * a) % L), kMod8: Number(k % 8n) };
}

/** Small-order key T8 with R = identity and S = 0: every equation that multiplies by 8 holds. */
export function smallOrderKeyCase() {
  return { key: T8.toBytes(), sig: signature(Point.ZERO.toBytes(), 0n) };
}

/** The identity as a key, written non-canonically (y = p + 1), with R = identity, S = 0. */
export function nonCanonicalIdentityKeyCase() {
  return { key: toLe(P + 1n), sig: signature(Point.ZERO.toBytes(), 0n) };
}
