import { type AttestationBinding } from './attest.js';
export declare const GENESIS_VERSION_NO_ATTESTATION = 1;
export declare const GENESIS_VERSION = 2;
export declare const GENESIS_VERSION_GATEWAYS = 3;
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
export declare function genesisBytes(g: Genesis): Uint8Array;
export declare function computeGenesisHash(g: Genesis): Uint8Array;
/** Batch signers: the nodes, then the gateways. */
export declare function batchSigners(g: Genesis): number;
/** The gateway that signs batches as `id`, if `id` is one (`n <= id < n + gateways`). */
export declare function gatewayOf(g: Genesis, id: number): GenesisGateway | undefined;
