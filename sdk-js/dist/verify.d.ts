import { type Genesis } from './genesis.js';
import type { Batch, FinalityCertificate, Proof, Tick } from './types.js';
export declare const PROOF_VERSION = 1;
/** The last second whose start in nanoseconds fits an i64: 9,223,372,036. */
export declare const MAX_SECOND: bigint;
/** How far ahead of the local clock `tickchain verify` accepts a certified tick, in seconds. */
export declare const FUTURE_MARGIN_S = 86400n;
/** An anchor whose path from the tick's hash to its root checked out offline (§4.14). */
export interface CheckedAnchor {
    chain_id: bigint;
    /** EIP-55 text. */
    contract: string;
    anchor: {
        from: bigint;
        to: bigint;
        second: bigint;
        root: string;
    };
    /** `0x` and lower-case hex. */
    tx_hash: string;
    block_number: bigint;
}
/** What a valid proof establishes: the Rust `VerifiedTimestamp`, field for field. */
export interface VerifiedTimestamp {
    /** Hex. */
    digest: string;
    /** The proven tick's second. */
    second: bigint;
    /** E: the certificate was completed no earlier than this instant (ns). */
    earliest: bigint;
    /** L: the digest existed no later than this instant (ns). */
    latest: bigint;
    height: bigint;
    certified_height: bigint;
    /** Hex: the certified tick's hash. */
    tick_hash: string;
    batch_node: number;
    /** The gateway's genesis name when a gateway signed the batch. */
    batch_gateway?: string;
    /** Ascending. */
    signers: number[];
    /** Present only when the proof has anchors. */
    anchors?: CheckedAnchor[];
}
/** The certificate window: (f+1)-th smallest `earliest`, (f+1)-th largest `latest`. */
export interface CertWindow {
    earliest: bigint;
    latest: bigint;
}
/** A genesis with its keys decoded once, ready to verify many proofs. */
export declare class Network {
    readonly genesis: Genesis;
    private readonly keys;
    private readonly gatewayKeys;
    /** `genesis` should come from `parseGenesis`; a key that does not decode fails its signatures. */
    constructor(genesis: Genesis);
    /** A ring member's signature (votes): gateways never vote, so a gateway id fails. */
    verifySignature(node: number, msg: Uint8Array, sig: Uint8Array): boolean;
    /** A batch signer's signature: node `i < n`, or gateway `i - n`. */
    verifyBatchSignature(signer: number, msg: Uint8Array, sig: Uint8Array): boolean;
    /** §4.5: the batch's signer exists and signed it. */
    verifyBatch(batch: Batch): void;
    /** §4.6: a second a tick can carry (after genesis, start fits an i64); returns its start (ns). */
    checkSecond(tick: Tick): bigint;
    /** §4.9–4.12: `cert` finalizes `tick`; returns its window. */
    verifyCertificate(tick: Tick, cert: FinalityCertificate): CertWindow;
    /** Runs every check of specs/proof.md §4 in order; throws `VerifyError` at the first failure. */
    verify(proof: Proof): VerifiedTimestamp;
}
/**
 * The clock check `tickchain verify` adds (specs/proof.md §5): fails with `future_second` when
 * the certified tick's second is more than `marginS` seconds after the second `nowNanos` falls in.
 * Run it after `Network.verify` accepted the proof.
 */
export declare function checkNotFuture(proof: Proof, nowNanos: bigint, marginS?: bigint): void;
