//! The peer network: authenticated QUIC between the ring's nodes.
//!
//! Owns: endpoints, mutual TLS pinned to genesis keys, one connection per node pair (the lower
//! id dials, with backoff) and one from each gateway to each node (the gateway dials), length-prefixed messages with a size cap, and per-peer bounds on
//! what a peer can make us hold (streams, queued frames and bytes, a deadline for a started
//! frame) with fair reading across peers. Never: looks inside
//! messages (consensus decodes them) or blocks the caller (sends are queued and dropped when a
//! peer's queue is full; the protocol retransmits what matters).

pub mod frame;
pub mod tls;
mod transport;

mod inbound;

pub use inbound::{Inbound, InboundQueue};
pub use transport::{Transport, TransportConfig, TransportError, TransportSender, TransportStats};
