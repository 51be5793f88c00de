// Attestation bindings: a node's secp256k1 attestation address cross-signed with its Ed25519
// identity (specs/encoding.md §3.5).
//
// Owns: the binding message, its canonical bytes inside the genesis encoding, and the check
// that both keys signed (Ed25519 strictly, secp256k1 recovering to the stated address), in the
// Rust SDK's order and wording. Never: reads keys from anywhere but the genesis document.

import { bytesEqual, concatBytes } from './bytes.js';
import { parseKey, verifyStrict } from './ed25519.js';
import { TAG, Writer } from './encoding.js';
import { keccak256, recoverSigner, toChecksumAddress } from './evm.js';
import { toHex } from './hex.js';

/** A genesis node's `attestation` object. */
export interface AttestationBinding {
  /** 20 bytes. */
  address: Uint8Array;
  /** 64 bytes. */
  ed25519_signature: Uint8Array;
  /** 65 bytes, `r || s || v`. */
  evm_signature: Uint8Array;
}

/** `tag | public_key 32 | evm_address 20`: what both keys sign. */
export function bindingMessage(publicKey: Uint8Array, address: Uint8Array): Uint8Array {
  return Writer.withTag(TAG.ATTEST).bytes(publicKey).bytes(address).finish();
}

/** `address 20 | ed25519_signature 64 | evm_signature 65`. */
export function bindingBytes(b: AttestationBinding): Uint8Array {
  return concatBytes(b.address, b.ed25519_signature, b.evm_signature);
}

/** Why the binding does not hold for `publicKey`, or null when both signatures check out. */
export function bindingProblem(b: AttestationBinding, publicKey: Uint8Array): string | null {
  const message = bindingMessage(publicKey, b.address);
  const key = parseKey(publicKey);
  if (key === null || !verifyStrict(key, message, b.ed25519_signature)) {
    return `ed25519_signature: the identity key ${toHex(publicKey)} did not sign address ${toChecksumAddress(b.address)}`;
  }
  const found = recoverSigner(keccak256(message), b.evm_signature);
  if (found.error !== undefined) return found.error;
  if (!bytesEqual(found.address, b.address)) {
    return `evm_signature: expected signer ${toChecksumAddress(b.address)}, recovered ${toChecksumAddress(found.address)}`;
  }
  return null;
}
