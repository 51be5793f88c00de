// Ethereum's primitives, as far as a proof or a genesis file uses them (specs/encoding.md §6).
//
// Owns: Keccak-256, EIP-55 address text, and recovering the signer of a 65-byte `r || s || v`
// secp256k1 signature with the rules of the Rust SDK's `recover_signer` (v 27 or 28, low s,
// r and s in 1..n-1, a recoverable point) and the address `keccak256(x || y)[12..32]`.
// Never: signs, or talks to a chain.

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { toHex } from './hex.js';

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

/** secp256k1n / 2: a canonical (EIP-2) signature has s <= this. */
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** The EIP-55 mixed-case text of a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): string {
  const lower = toHex(address);
  const h = keccak256(new TextEncoder().encode(lower));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const nibble = (h[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0x0f;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out;
}

function beToBigint(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** The address that signed the 32-byte `digest`, or the reason the signature is malformed. */
export function recoverSigner(
  digest: Uint8Array,
  sig: Uint8Array,
): { address: Uint8Array; error?: undefined } | { error: string; address?: undefined } {
  const v = sig[64]!;
  if (v !== 27 && v !== 28) return { error: `evm_signature: expected v 27 or 28, found ${v}` };
  const r = beToBigint(sig.subarray(0, 32));
  const s = beToBigint(sig.subarray(32, 64));
  if (s > HALF_N) return { error: 'evm_signature: expected s <= secp256k1n/2, found a high s' };
  const n = secp256k1.Point.CURVE().n;
  if (r === 0n || s === 0n || r >= n || s >= n) {
    return { error: 'evm_signature: r or s is zero or not below the curve order' };
  }
  let xy: Uint8Array;
  try {
    const point = new secp256k1.Signature(r, s).addRecoveryBit(v - 27).recoverPublicKey(digest);
    xy = point.toBytes(false).subarray(1);
  } catch {
    return { error: 'evm_signature: no public key recovers from this signature' };
  }
  return { address: keccak256(xy).subarray(12) };
}
