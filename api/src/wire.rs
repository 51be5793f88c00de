//! The JSON bodies of the API (what clients send and receive).
//!
//! Owns: field names and shapes of every request and response body. Never: validation (see
//! `decode`) or behaviour.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tickchain_sdk::certificate::CertWindow;
use tickchain_sdk::{Digest, Evidence, Hash, Height, NodeId, Proof, PublicKey, Second};

pub use tickchain_sdk::time_response::{Nonce, SignedTime, SourceSummary, TickRef, TimeStatement};

/// Acknowledgement that a digest is durably queued on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// The digest.
    #[schema(value_type = String, example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")]
    pub digest: Digest,
    /// The node that accepted it (its batch will carry it).
    #[schema(value_type = u16)]
    pub node: NodeId,
    /// The second whose batch holds the digest. It can change while the digest is pending: a
    /// batch that outlived the ring's batch window without a final tick is re-sealed into a
    /// later second's batch (`specs/pool.md` §6); `GET /v1/proofs/{digest}` reports the
    /// current one, and the proof's batch is that second's.
    #[schema(value_type = u64)]
    pub accepted_second: Second,
    /// The earliest second whose tick can commit to that batch (changes with it).
    #[schema(value_type = u64)]
    pub expected_tick_second: Second,
}

/// A final tick, as listed and streamed by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TickSummary {
    /// Its height.
    #[schema(value_type = u64)]
    pub height: Height,
    /// Its UTC second.
    #[schema(value_type = u64)]
    pub second: Second,
    /// Its hash.
    #[schema(value_type = String)]
    pub hash: Hash,
    /// Whether it has its own finality certificate (false: final through a descendant).
    pub certified: bool,
    /// The certificate window, when `certified`.
    #[schema(value_type = Option<Object>)]
    pub window: Option<CertWindow>,
    /// Number of batches it commits to.
    pub batch_count: u32,
}

/// `POST /v1/timestamps` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StampRequest {
    /// Digests to timestamp, 64 hex characters each.
    pub digests: Vec<String>,
}

/// `POST /v1/timestamps` answer without waiting (`202`), one receipt per digest in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptsBody {
    /// The receipts.
    pub receipts: Vec<Receipt>,
}

/// `POST /v1/timestamps?wait=true` answer once final (`200`), one proof per digest in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProofsBody {
    /// The proofs.
    #[schema(value_type = Vec<Object>)]
    pub proofs: Vec<Proof>,
}

/// `GET /v1/proofs/{digest}` answer: `200` ready, `202` pending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProofBody {
    /// The proof is ready.
    Ready {
        /// The proof.
        #[schema(value_type = Object)]
        proof: Box<Proof>,
    },
    /// The digest is accepted but its tick is not final yet.
    Pending {
        /// Its receipt.
        receipt: Receipt,
    },
}

/// `GET /v1/ticks?from=H&limit=N` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TicksBody {
    /// Final ticks from `from` upward, in height order (gaps are skipped seconds, not heights).
    pub ticks: Vec<TickSummary>,
}

/// One ring member as seen by the answering node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeStatus {
    /// Its index in the genesis.
    #[schema(value_type = u16)]
    pub id: NodeId,
    /// Its name in the genesis.
    pub name: String,
    /// Its Ed25519 key.
    #[schema(value_type = String)]
    pub public_key: PublicKey,
    /// Its ring address.
    pub address: String,
    /// Whether the answering node currently hears from it (always true for itself).
    pub connected: bool,
}

/// `GET /v1/network` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NetworkStatus {
    /// The network's genesis hash.
    #[schema(value_type = String)]
    pub genesis_hash: Hash,
    /// Its chain id.
    pub chain_id: String,
    /// Its genesis second.
    #[schema(value_type = u64)]
    pub genesis_second: Second,
    /// Faults tolerated.
    pub f: u16,
    /// Votes needed to finalize.
    pub quorum: u16,
    /// The answering node.
    #[schema(value_type = u16)]
    pub this_node: NodeId,
    /// Every ring member.
    pub nodes: Vec<NodeStatus>,
    /// Whether the answering node's clock is synchronised.
    pub synchronized: bool,
    /// The newest final tick.
    pub latest_tick: Option<TickSummary>,
}

/// A time source's current estimate, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceMetric {
    /// Source name.
    pub name: String,
    /// Offset from the local clock, nanoseconds.
    pub offset_ns: i64,
    /// Hard error bound, nanoseconds.
    pub radius_ns: i64,
}

/// The newest anchor a node has recorded on one chain (`GET /v1/anchors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorStatus {
    /// The chain's name in the node's `[[anchor.chains]]`, when configured there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The EVM chain id.
    pub chain_id: u64,
    /// The `TickOracle` contract (checksummed hex).
    pub contract: String,
    /// The last anchored height (the range's `to`).
    pub to: u64,
    /// That range's second.
    pub second: u64,
    /// The anchoring transaction (0x hex).
    pub tx_hash: String,
    /// Its block.
    pub block_number: u64,
    /// The height at which the next anchor is due (`to` + the chain's cadence), when the node
    /// anchors to this chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<u64>,
}

/// `GET /v1/anchors` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorsBody {
    /// One entry per chain with a recorded anchor, by chain id.
    pub anchors: Vec<AnchorStatus>,
}

/// The node's counters and gauges, rendered by `GET /metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MetricsSnapshot {
    /// Final ticks stored since start.
    pub ticks_final: u64,
    /// Height of the newest final tick.
    pub latest_height: u64,
    /// Lag of the newest final tick (its second's start to stored as final), nanoseconds.
    pub last_lag_ns: i64,
    /// Seconds without a tick since genesis (gaps between final ticks).
    pub skipped_seconds: u64,
    /// Digests accepted and not yet in a final tick.
    pub pool_depth: u64,
    /// Submissions refused because the node's disk was below its reserve
    /// (`[pool] min-free-bytes`), since start.
    #[serde(default)]
    pub pool_low_disk_refusals: u64,
    /// The consensus view the node is in.
    #[serde(default)]
    pub view: u64,
    /// Per-source offset and radius.
    pub sources: Vec<SourceMetric>,
    /// Evidence of misbehaviour this node holds (`specs/evidence.md`).
    #[serde(default)]
    pub evidence: u64,
    /// Peer messages dropped, by reason (stable snake_case codes: the consensus core's
    /// `Rejection` codes and the transport's).
    #[serde(default)]
    pub peer_rejections: BTreeMap<String, u64>,
    /// The stock-protocol servers' counters (`specs/facades.md`), keyed `PROTOCOL.EVENT`
    /// with events `requests`, `responses`, `dropped` (ignored, over a rate, or
    /// unsynchronised), `batches` and `batched_requests` (mean batch size = their ratio).
    #[serde(default)]
    pub facades: BTreeMap<String, u64>,
}

/// `GET /v1/evidence` answer: evidence of misbehaviour this node holds, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceBody {
    /// Each one checks offline with `tickchain verify-evidence` (`specs/evidence.md`).
    #[schema(value_type = Vec<crate::schemas::EvidenceSchema>)]
    pub evidence: Vec<Evidence>,
}
