/** An inclusion path: leaf index, tree size, sibling hashes from the leaf level up. */
export interface MerklePath {
    index: number;
    size: number;
    siblings: Uint8Array[];
}
/** A node's (or gateway's) signed batch root. */
export interface Batch {
    node: number;
    second: bigint;
    root: Uint8Array;
    count: number;
    signature: Uint8Array;
}
/** One tick of the chain. */
export interface Tick {
    height: bigint;
    view: bigint;
    second: bigint;
    prev_hash: Uint8Array;
    batch_root: Uint8Array;
    batch_count: number;
    proposer: number;
}
/** One finalize vote of a certificate, with the signer's clock reading (ns, i64). */
export interface CertVote {
    signer: number;
    earliest: bigint;
    latest: bigint;
    signature: Uint8Array;
}
export interface FinalityCertificate {
    view: bigint;
    tick_hash: Uint8Array;
    votes: CertVote[];
}
/** The co-signed range `from..=to`, the second of the tick at `to`, and the anchored root. */
export interface Anchor {
    from: bigint;
    to: bigint;
    second: bigint;
    root: Uint8Array;
}
/** Where the proof's tick is anchored on one EVM chain. */
export interface AnchorProof {
    chain_id: bigint;
    /** 20 bytes. */
    contract: Uint8Array;
    anchor: Anchor;
    /** 32 bytes. */
    tx_hash: Uint8Array;
    block_number: bigint;
    path: MerklePath;
}
/** A timestamp proof in either form. */
export interface Proof {
    version: number;
    genesis_hash: Uint8Array;
    digest: Uint8Array;
    salt: Uint8Array;
    batch_path: MerklePath;
    batch: Batch;
    tick_path: MerklePath;
    tick: Tick;
    /** Empty when the certificate is the tick's own. */
    descendants: Tick[];
    certificate: FinalityCertificate;
    /** Empty until the proof is upgraded. */
    anchors: AnchorProof[];
}
