//! The API's JSON bodies as the client reads them.
//!
//! Owns: the client's view of the response shapes of `tickchain-api` (which owns the server
//! side; `sdk/tests/cli_client.rs` runs this client against that server, so the two cannot
//! drift apart unnoticed). Never: `deny_unknown_fields`: a newer server may add fields.

use crate::certificate::CertWindow;
use crate::{Digest, Hash, Height, NodeId, Proof, Second};
use serde::{Deserialize, Serialize};

/// Acknowledgement that a digest is durably queued on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The digest.
    pub digest: Digest,
    /// The node that accepted it.
    pub node: NodeId,
    /// The second whose batch holds the digest.
    pub accepted_second: Second,
    /// The earliest second whose tick can commit to that batch.
    pub expected_tick_second: Second,
}

/// A final tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickSummary {
    /// Its height.
    pub height: Height,
    /// Its UTC second.
    pub second: Second,
    /// Its hash.
    pub hash: Hash,
    /// Whether it has its own finality certificate.
    pub certified: bool,
    /// The certificate window, when certified.
    pub window: Option<CertWindow>,
    /// Number of batches it commits to.
    pub batch_count: u32,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReceiptsBody {
    pub receipts: Vec<Receipt>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ProofsBody {
    pub proofs: Vec<Proof>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub(crate) enum ProofBody {
    Ready { proof: Box<Proof> },
    Pending { receipt: Receipt },
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    pub code: String,
    pub message: String,
}
