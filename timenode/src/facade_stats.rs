//! Counters of the stock-protocol servers (NTP, Roughtime), exported in `/metrics` as
//! `tickchain_facade_events_total{protocol, event}`.
//!
//! Owns: the counter set one server thread bumps and the API reads. Never: allocates or locks
//! on the serving path (relaxed atomics only).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// One protocol's counters.
#[derive(Debug, Default)]
pub struct FacadeCounters {
    /// Datagrams (or framed requests) received.
    pub requests: AtomicU64,
    /// Answers sent (an NTP kiss-o'-death included).
    pub responses: AtomicU64,
    /// Requests given no answer: malformed, ignored by the protocol's rules, over a rate, or
    /// while the node was unsynchronised.
    pub dropped: AtomicU64,
    /// Signatures made over a batch of answers (Roughtime).
    pub batches: AtomicU64,
    /// Answers those batches covered (mean batch size = this / `batches`).
    pub batched_requests: AtomicU64,
}

impl FacadeCounters {
    /// Adds `n` to `counter`.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Every counter of `protocol`, keyed `PROTOCOL.EVENT`, into `out`.
    pub fn export(&self, protocol: &str, out: &mut BTreeMap<String, u64>) {
        for (event, c) in [
            ("requests", &self.requests),
            ("responses", &self.responses),
            ("dropped", &self.dropped),
            ("batches", &self.batches),
            ("batched_requests", &self.batched_requests),
        ] {
            out.insert(format!("{protocol}.{event}"), c.load(Ordering::Relaxed));
        }
    }
}
