//! The Timestamp API: the HTTP surface every node serves, over a node handle trait.
//!
//! Owns: the accept loop, routes, request validation, limits (connections, timeouts, body
//! size, waiters, streams, per-client requests and digests), error
//! bodies, metrics exposition and the OpenAPI document. Never: consensus or storage logic: a
//! node plugs in through [`NodeHandle`] (implemented by `timenode`).
//!
//! ```text
//! client ─TCP─▶ accept (connection caps) ─HTTP/1 (head timeout)─▶ metrics ▶ CORS
//!        ▶ client identity + request rate ▶ route ▶ body (size, deadline) ▶ decode
//!        ▶ digest quota / waiter and stream caps ▶ NodeHandle ──▶ node
//!                                                                  ◀── receipts / proofs / ticks
//! ```

pub mod body;
pub mod client;
pub mod config;
pub mod cors;
pub mod decode;
pub mod error;
pub mod handle;
pub mod history;
pub mod ip_net;
pub mod metrics;
pub mod openapi;
pub mod rate_limit;
pub mod refusals;
pub mod router;
pub mod routes;
pub mod schemas;
pub mod server;
pub mod slots;
pub mod state;
pub mod tsa;
pub mod wire;
pub mod write_deadline;

pub use client::{ClientAddr, ClientKey};
pub use config::{ApiConfig, ConfigError};
pub use decode::{StampBody, decode_binary_stamp_body, decode_stamp_body};
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use handle::{HandleError, NodeHandle, ProofStatus, SubmitError};
pub use router::router;
pub use server::serve;
pub use wire::{
    EvidenceBody, MetricsSnapshot, NetworkStatus, NodeStatus, Receipt, SignedTime, SourceMetric,
    TickSummary,
};
