// The genesis document's model, canonical bytes and hash (specs/encoding.md §3.1, versions 1–3).
//
// Owns: the fields of a genesis (nodes, gateways, TSA root), its canonical encoding, the
// genesis hash, and the lookups the verifier needs (batch signers: nodes, then gateways).
// Never: parses JSON (genesis-json.ts) or validates (genesis-validate.ts).

import { bindingBytes, type AttestationBinding } from './attest.js';
import { TAG, Writer } from './encoding.js';
import { decodeLowerHex } from './hex.js';
import { hash } from './merkle.js';

export const GENESIS_VERSION_NO_ATTESTATION = 1;
export const GENESIS_VERSION = 2;
export const GENESIS_VERSION_GATEWAYS = 3;

export interface GenesisNode {
  name: string;
  /** 32 bytes, Ed25519. */
  public_key: Uint8Array;
  address: string;
  /** Required from version 2 on; absent in version 1. */
  attestation?: AttestationBinding;
}

export interface GenesisGateway {
  name: string;
  /** 32 bytes, Ed25519. */
  public_key: Uint8Array;
}

export interface Genesis {
  version: number;
  chain_id: string;
  genesis_second: bigint;
  f: number;
  quorum: number;
  max_early_ms: number;
  max_late_ms: number;
  nodes: GenesisNode[];
  /** Version 3 only; gateway `i` signs batches as `n + i`. */
  gateways: GenesisGateway[];
  /** Version 3 only: the RFC 3161 root certificate, DER as lower-case hex. */
  tsa_root?: string;
  /** 32 bytes: BLAKE3 of the canonical bytes, checked on load. */
  hash: Uint8Array;
}

/** The canonical bytes whose BLAKE3 is the genesis hash; the document must be validated first. */
export function genesisBytes(g: Genesis): Uint8Array {
  const w = Writer.withTag(TAG.GENESIS)
    .u8(g.version)
    .str(g.chain_id)
    .u64(g.genesis_second)
    .u16(g.f)
    .u16(g.quorum)
    .u32(g.max_early_ms)
    .u32(g.max_late_ms)
    .u16(g.nodes.length);
  for (const node of g.nodes) {
    w.str(node.name).bytes(node.public_key).str(node.address);
    if (node.attestation !== undefined) w.bytes(bindingBytes(node.attestation));
  }
  if (g.version >= GENESIS_VERSION_GATEWAYS) {
    w.u16(g.gateways.length);
    for (const gw of g.gateways) w.str(gw.name).bytes(gw.public_key);
    if (g.tsa_root === undefined) {
      w.u8(0);
    } else {
      const der = decodeLowerHex(g.tsa_root) ?? new Uint8Array(0);
      w.u8(1).u16(der.length).bytes(der);
    }
  }
  return w.finish();
}

export function computeGenesisHash(g: Genesis): Uint8Array {
  return hash(genesisBytes(g));
}

/** Batch signers: the nodes, then the gateways. */
export function batchSigners(g: Genesis): number {
  return g.nodes.length + g.gateways.length;
}

/** The gateway that signs batches as `id`, if `id` is one (`n <= id < n + gateways`). */
export function gatewayOf(g: Genesis, id: number): GenesisGateway | undefined {
  return id >= g.nodes.length ? g.gateways[id - g.nodes.length] : undefined;
}
