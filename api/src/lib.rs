//! The Timestamp API: the HTTP surface every node serves, over a node handle trait.
//!
//! Owns: routes, request validation, limits (body size, waiters, per-client rate), error
//! bodies, metrics exposition and the OpenAPI document. Never: consensus or storage logic: a
//! node plugs in through [`NodeHandle`] (implemented by `timenode`).
//!
//! ```text
//! client ──HTTP──▶ body limit ▶ metrics ▶ rate limit ▶ route ▶ decode ▶ NodeHandle ──▶ node
//!                                                                  ◀── receipts / proofs / ticks
//! ```

pub mod config;
pub mod decode;
pub mod error;
pub mod handle;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod router;
pub mod routes;
pub mod schemas;
pub mod state;
pub mod wire;

pub use config::{ApiConfig, ConfigError};
pub use decode::decode_stamp_body;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use handle::{HandleError, NodeHandle, ProofStatus, SubmitError};
pub use router::{router, serve};
pub use wire::{
    EvidenceBody, MetricsSnapshot, NetworkStatus, NodeStatus, Receipt, SignedTime, SourceMetric,
    TickSummary,
};
