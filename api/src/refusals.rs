//! Counts of what the API refused or cut off to protect itself, by kind, for `/metrics`
//! (`tickchain_api_limited_total{kind}`).
//!
//! Owns: the fixed list of kinds (a bounded label set) and their counters. Never: decides to
//! refuse.

use std::sync::atomic::{AtomicU64, Ordering};

/// One kind of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// A connection closed at accept: the server holds `max-connections`.
    ConnectionsTotal,
    /// A connection closed at accept: its client holds `max-connections-per-client`.
    ConnectionsPerClient,
    /// A connection closed at accept: its client's network (/24, /48) holds its share.
    ConnectionsPerNetwork,
    /// A connection closed because a request head did not arrive within `header-timeout-ms`
    /// (also how idle keep-alive connections end).
    HeaderTimeout,
    /// A request whose body did not arrive within `body-timeout-ms` (`408 body_timeout`).
    BodyTimeout,
    /// A connection closed because the client took none of our bytes for `write-timeout-ms`.
    WriteTimeout,
    /// A request over its client's request rate (`429 rate_limited`).
    Requests,
    /// A submission over its client's digest rate (`429 rate_limited`).
    Digests,
    /// A `?wait=true` request over the server's or its client's waiter cap.
    Waiters,
    /// A tick stream over the server's or its client's stream cap.
    Streams,
    /// A tick stream ended at `stream-lifetime-secs`.
    StreamLifetime,
    /// A connection still open when the shutdown grace ran out, closed.
    ShutdownAborted,
}

impl Limited {
    /// Every kind, in exposition order.
    pub const ALL: [Limited; 12] = [
        Limited::ConnectionsTotal,
        Limited::ConnectionsPerClient,
        Limited::ConnectionsPerNetwork,
        Limited::HeaderTimeout,
        Limited::BodyTimeout,
        Limited::WriteTimeout,
        Limited::Requests,
        Limited::Digests,
        Limited::Waiters,
        Limited::Streams,
        Limited::StreamLifetime,
        Limited::ShutdownAborted,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Limited::ConnectionsTotal => "connections_total",
            Limited::ConnectionsPerClient => "connections_per_client",
            Limited::ConnectionsPerNetwork => "connections_per_network",
            Limited::HeaderTimeout => "header_timeout",
            Limited::BodyTimeout => "body_timeout",
            Limited::WriteTimeout => "write_timeout",
            Limited::Requests => "requests",
            Limited::Digests => "digests",
            Limited::Waiters => "waiters",
            Limited::Streams => "streams",
            Limited::StreamLifetime => "stream_lifetime",
            Limited::ShutdownAborted => "shutdown_aborted",
        }
    }
}

/// One counter per [`Limited`] kind.
#[derive(Debug, Default)]
pub struct Refusals([AtomicU64; Limited::ALL.len()]);

impl Refusals {
    /// Counts one refusal of `kind`.
    pub fn count(&self, kind: Limited) {
        self.0[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Every kind with its count.
    pub fn snapshot(&self) -> impl Iterator<Item = (Limited, u64)> + '_ {
        Limited::ALL
            .into_iter()
            .map(|k| (k, self.0[k as usize].load(Ordering::Relaxed)))
    }
}
