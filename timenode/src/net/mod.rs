//! The peer network: authenticated QUIC between the ring's nodes.
//!
//! Owns: endpoints, mutual TLS pinned to genesis keys, one connection per node pair (the lower
//! id dials, with backoff), and length-prefixed messages with a size cap. Never: looks inside
//! messages (consensus decodes them) or blocks the caller (sends are queued and dropped when a
//! peer's queue is full; the protocol retransmits what matters).

pub mod frame;
pub mod tls;
mod transport;

pub use transport::{Inbound, Transport, TransportConfig, TransportError, TransportStats};
