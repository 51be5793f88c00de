//! The node handle: everything the API needs from a node, as one async trait.
//!
//! Owns: the contract between the HTTP surface and a node. Never: an implementation. The real
//! node implements it in `timenode` (sled pool + ring); tests use the in-memory node in
//! `api/tests/support/`.

use crate::wire::{MetricsSnapshot, NetworkStatus, Nonce, Receipt, SignedTime, TickSummary};
use async_trait::async_trait;
use std::time::Duration;
use tickchain_sdk::{Digest, Evidence, Height, Proof};
use tokio::sync::broadcast;

/// Where a digest stands on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofStatus {
    /// Its tick is final; the proof verifies offline.
    Ready(Box<Proof>),
    /// Accepted (durable) but not yet in a final tick.
    Pending(Receipt),
    /// This node never accepted it.
    Unknown,
}

/// Why a submission was not accepted. Nothing of a rejected submission is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The pool is full; try again after the given delay.
    #[error("the request pool is full; retry after {retry_after:?}")]
    Overloaded {
        /// Suggested delay before retrying.
        retry_after: Duration,
    },
    /// The node's clock has no majority of agreeing sources, so it cannot seal batches.
    #[error("the node is not synchronised")]
    Unsynchronised,
    /// The node's disk has less free space than its configured reserve; it keeps ticking and
    /// serving proofs and accepts again once space returns.
    #[error(
        "the node is low on disk space ({free_bytes} bytes free, {reserve_bytes} kept in reserve); retry after {retry_after:?}"
    )]
    LowDisk {
        /// Bytes free for the node on the filesystem of its data directory.
        free_bytes: u64,
        /// The reserve it keeps (`[pool] min-free-bytes`).
        reserve_bytes: u64,
        /// Suggested delay before retrying.
        retry_after: Duration,
    },
    /// The node could not make the digests durable.
    #[error("storage: {0}")]
    Storage(String),
}

/// Why a read could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// The node is starting or stopping.
    #[error("node unavailable: {0}")]
    Unavailable(String),
    /// The node's storage failed.
    #[error("storage: {0}")]
    Storage(String),
}

/// What the API asks of a node. Implementations must be cheap to call concurrently.
#[async_trait]
pub trait NodeHandle: Send + Sync + 'static {
    /// Accepts `digests` (1 to `max-digests`, validated by the API) into this node's pool and
    /// returns one receipt per digest, in order, only once all of them are durable.
    async fn submit(&self, digests: Vec<Digest>) -> Result<Vec<Receipt>, SubmitError>;

    /// The proof for `digest`, or why there is none yet.
    async fn proof(&self, digest: Digest) -> Result<ProofStatus, HandleError>;

    /// The status of each of `digests`, in order. A node may assemble the proofs of one batch
    /// together; by default each digest is asked about alone.
    async fn proofs(&self, digests: Vec<Digest>) -> Result<Vec<ProofStatus>, HandleError> {
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            out.push(self.proof(digest).await?);
        }
        Ok(out)
    }

    /// The final tick at `height`, if there is one.
    async fn tick(&self, height: Height) -> Result<Option<TickSummary>, HandleError>;

    /// The newest final tick, if any.
    async fn latest_tick(&self) -> Result<Option<TickSummary>, HandleError>;

    /// Up to `limit` final ticks with height ≥ `from`, ascending.
    async fn ticks(&self, from: Height, limit: u32) -> Result<Vec<TickSummary>, HandleError>;

    /// Every tick finalized from now on, in order. A slow receiver sees `Lagged`.
    fn subscribe_ticks(&self) -> broadcast::Receiver<TickSummary>;

    /// The node's current UTC bounds, signed by its key, echoing `nonce`.
    async fn time(&self, nonce: Nonce) -> Result<SignedTime, HandleError>;

    /// The network's genesis, members and this node's status.
    async fn network(&self) -> Result<NetworkStatus, HandleError>;

    /// The node's counters and gauges.
    async fn metrics(&self) -> MetricsSnapshot;

    /// Up to `limit` pieces of evidence of misbehaviour this node holds, newest first
    /// (`specs/evidence.md`).
    async fn evidence(&self, limit: u32) -> Result<Vec<Evidence>, HandleError>;

    /// The newest recorded anchor per chain (`GET /v1/anchors`); none when the node does not
    /// anchor.
    async fn anchors(&self) -> Result<Vec<crate::wire::AnchorStatus>, HandleError> {
        Ok(Vec::new())
    }

    /// The genesis the node runs under, if it publishes it (`GET /v1/genesis`).
    fn genesis(&self) -> Option<tickchain_sdk::Genesis> {
        None
    }

    /// The node's RFC 3161 signer, if it serves `POST /v1/tsa` (`[tsa]` configured).
    fn tsa(&self) -> Option<std::sync::Arc<dyn crate::tsa::TsaSigner>> {
        None
    }
}
