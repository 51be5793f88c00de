// The vector networks' keys, which are public: each derives from a published seed
// (sdk/src/testkit.rs: BLAKE3 of "<seed>/node-key/<i>", "<seed>/gateway-key/<i>",
// "<seed>/attest-key/<i>").
//
// Owns: which seed each vector genesis was built from, and signing with those keys.
// Never: any key that is not already public.

import { blake3 } from '@noble/hashes/blake3.js';
import { sha512 } from '@noble/hashes/sha2.js';
import * as ed from '@noble/ed25519';

ed.hashes.sha512 = sha512;

export const SEEDS = {
  'genesis-4.json': 'vectors-4',
  'genesis-7.json': 'vectors-7',
  'genesis-other.json': 'vectors-other',
  'genesis-gateways.json': 'vectors-4',
};

export function seeded(label) {
  return blake3(new TextEncoder().encode(label));
}

/** Secret keys of the nodes and gateways of a vector network. */
export function networkKeys(seed, n, gateways = 0) {
  return {
    nodes: Array.from({ length: n }, (_, i) => seeded(`${seed}/node-key/${i}`)),
    gateways: Array.from({ length: gateways }, (_, i) => seeded(`${seed}/gateway-key/${i}`)),
    attest: Array.from({ length: n }, (_, i) => seeded(`${seed}/attest-key/${i}`)),
  };
}

export function sign(message, secret) {
  return ed.sign(message, secret);
}

export function publicKey(secret) {
  return ed.getPublicKey(secret);
}
