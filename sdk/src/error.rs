//! The verifier's errors: one variant per check of `specs/proof.md` §4, each with a stable code.
//!
//! Owns: the error codes the test vectors are labelled with. Never: recovery logic.

use crate::anchor_proof::AnchorProofError;
use crate::merkle::PathError;
use crate::{Hash, NodeId};

/// Why a proof did not verify. [`VerifyError::code`] is the stable label used by the vectors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// §4.1: the proof's format version is not one this verifier knows.
    #[error("unsupported proof version {found} (this verifier reads version 1)")]
    UnsupportedVersion {
        /// The version found.
        found: u8,
    },
    /// §4.2: the proof names a different network than the genesis given.
    #[error("wrong genesis: proof is for {found}, the genesis file hashes to {expected}")]
    WrongGenesis {
        /// Hash of the genesis given to the verifier.
        expected: Hash,
        /// Genesis hash stated in the proof.
        found: Hash,
    },
    /// §4.3: a Merkle path is malformed.
    #[error("malformed {which}: {source}")]
    MalformedPath {
        /// `batch_path` or `tick_path`.
        which: &'static str,
        /// What is wrong with it.
        source: PathError,
    },
    /// §4.3: the batch path does not cover the batch.
    #[error("batch_path.size is {path_size} but batch.count is {batch_count}")]
    BatchCountMismatch {
        /// Tree size in the path.
        path_size: u32,
        /// Leaf count in the batch.
        batch_count: u32,
    },
    /// §4.4: digest, salt and path do not lead to the batch root.
    #[error(
        "digest is not in the batch: salt, digest and batch_path lead to {computed}, batch.root is {stated}"
    )]
    BatchInclusion {
        /// Root computed from the leaf and path.
        computed: Hash,
        /// The batch's root.
        stated: Hash,
    },
    /// §4.5: the batch names a signer that is not in genesis.
    #[error("batch.node {node} is not in genesis ({n} batch signers: nodes, then gateways)")]
    UnknownBatchNode {
        /// The signer named.
        node: NodeId,
        /// Batch signers in genesis: nodes plus gateways.
        n: usize,
    },
    /// §4.5: the batch signature is not the signer's.
    #[error("batch signature does not verify under batch signer {node}'s key")]
    BadBatchSignature {
        /// The batch's node.
        node: NodeId,
    },
    /// §4.6, §4.8, §4.12: a tick's second is not one a tick can carry: at or before the genesis
    /// second, or past the last second whose start in nanoseconds fits in an `i64`
    /// ([`crate::Second::MAX`]; such a second would wrap).
    #[error(
        "tick at height {height} has second {second}: a tick's second must be after the genesis \
         second {genesis_second} and at most {max_second}"
    )]
    InvalidSecond {
        /// Height of the offending tick.
        height: u64,
        /// Its second.
        second: u64,
        /// The genesis second.
        genesis_second: u64,
        /// The last valid second.
        max_second: u64,
    },
    /// §4.6: the batch was sealed after the tick's second.
    #[error("batch sealed in second {batch_second}, after tick second {tick_second}")]
    BatchAfterTick {
        /// Batch second.
        batch_second: u64,
        /// Tick second.
        tick_second: u64,
    },
    /// §4.7: the tick path does not cover the tick's batches.
    #[error("tick_path.size is {path_size} but tick.batch_count is {batch_count}")]
    TickBatchCountMismatch {
        /// Tree size in the path.
        path_size: u32,
        /// The tick's batch count.
        batch_count: u32,
    },
    /// §4.7: the batch is not under the tick's batch root.
    #[error(
        "batch is not in the tick: batch leaf and tick_path lead to {computed}, tick.batch_root is {stated}"
    )]
    TickInclusion {
        /// Root computed.
        computed: Hash,
        /// The tick's batch root.
        stated: Hash,
    },
    /// §4.8: a descendant tick does not extend the one before it.
    #[error(
        "broken chain: descendant at height {height} does not extend the tick before it (prev_hash, height + 1, later second)"
    )]
    BrokenChain {
        /// Height of the offending descendant.
        height: u64,
    },
    /// §4.9: the certificate is for another tick.
    #[error("wrong tick hash: tick hashes to {computed}, certificate.tick_hash is {stated}")]
    WrongTickHash {
        /// Hash of the tick in the proof.
        computed: Hash,
        /// Hash the certificate signs.
        stated: Hash,
    },
    /// §4.9: the certificate's view is not the tick's.
    #[error("certificate.view {cert_view} differs from tick.view {tick_view}")]
    ViewMismatch {
        /// Certificate view.
        cert_view: u64,
        /// Tick view.
        tick_view: u64,
    },
    /// §4.10: a vote names a signer that is not in genesis.
    #[error("unknown signer {signer}: genesis has {n} nodes")]
    UnknownSigner {
        /// The signer index.
        signer: NodeId,
        /// Ring size.
        n: usize,
    },
    /// §4.10: a signer appears twice.
    #[error("duplicate signer {signer} in certificate")]
    DuplicateSigner {
        /// The repeated signer.
        signer: NodeId,
    },
    /// §4.10: fewer distinct signers than the quorum.
    #[error("too few signatures: {found} distinct signers, quorum is {quorum}")]
    TooFewSignatures {
        /// Distinct signers.
        found: usize,
        /// Required.
        quorum: usize,
    },
    /// §4.11: a vote's signature does not verify.
    #[error("signature of signer {signer} does not verify over its finalize vote")]
    BadSignature {
        /// The signer.
        signer: NodeId,
    },
    /// §4.12: the certificate window does not place the tick in its second.
    #[error(
        "tick second {second} is outside the certificate window: earliest {earliest_ns} ns must be \
         >= second - {max_early_ms} ms and latest {latest_ns} ns <= second + {max_late_ms} ms"
    )]
    TickOutsideWindow {
        /// The tick's second.
        second: u64,
        /// Window earliest.
        earliest_ns: i64,
        /// Window latest.
        latest_ns: i64,
        /// Genesis tolerance.
        max_early_ms: u32,
        /// Genesis tolerance.
        max_late_ms: u32,
    },
    /// §4.14: an anchor does not hold for the tick: out of its range, a path at another position,
    /// or a path that does not lead from the tick's hash to the anchored root.
    #[error("anchors[{index}] (chain {chain_id}): {source}")]
    AnchorPath {
        /// Position of the anchor in `anchors`.
        index: usize,
        /// Its chain id.
        chain_id: u64,
        /// What is wrong with it.
        source: AnchorProofError,
    },
    /// §5: the certified tick's second is further ahead of the local clock than the margin.
    /// Never returned by [`crate::Network::verify`], which has no clock; only by
    /// [`crate::verify::check_not_future`], which `tickchain verify` runs.
    #[error(
        "tick second {second} is {ahead_s} s ahead of the local clock (second {now_second}); \
         at most {margin_s} s is accepted"
    )]
    FutureSecond {
        /// The certified tick's second.
        second: u64,
        /// The local clock's second.
        now_second: i64,
        /// How far ahead it is, in seconds.
        ahead_s: u64,
        /// The margin, in seconds.
        margin_s: u64,
    },
}

impl VerifyError {
    /// The stable snake_case code of this error (used by vectors, the CLI and the API).
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::UnsupportedVersion { .. } => "unsupported_version",
            VerifyError::WrongGenesis { .. } => "wrong_genesis",
            VerifyError::MalformedPath { .. } => "malformed_path",
            VerifyError::BatchCountMismatch { .. } => "batch_count_mismatch",
            VerifyError::BatchInclusion { .. } => "batch_inclusion",
            VerifyError::UnknownBatchNode { .. } => "unknown_batch_node",
            VerifyError::BadBatchSignature { .. } => "bad_batch_signature",
            VerifyError::InvalidSecond { .. } => "invalid_second",
            VerifyError::BatchAfterTick { .. } => "batch_after_tick",
            VerifyError::TickBatchCountMismatch { .. } => "tick_batch_count_mismatch",
            VerifyError::TickInclusion { .. } => "tick_inclusion",
            VerifyError::BrokenChain { .. } => "broken_chain",
            VerifyError::WrongTickHash { .. } => "wrong_tick_hash",
            VerifyError::ViewMismatch { .. } => "view_mismatch",
            VerifyError::UnknownSigner { .. } => "unknown_signer",
            VerifyError::DuplicateSigner { .. } => "duplicate_signer",
            VerifyError::TooFewSignatures { .. } => "too_few_signatures",
            VerifyError::BadSignature { .. } => "bad_signature",
            VerifyError::TickOutsideWindow { .. } => "tick_outside_window",
            VerifyError::AnchorPath { .. } => "anchor_path",
            VerifyError::FutureSecond { .. } => "future_second",
        }
    }
}
