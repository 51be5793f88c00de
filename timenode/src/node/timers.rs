//! The core's timers, kept in local-clock time and turned into tokio sleeps.
//!
//! Owns: the pending set and the next deadline. Never: decides what a timer means.

use std::collections::BTreeSet;
use tickchain_consensus::io::Timer;
use tickchain_sdk::UtcNanos;

/// Pending timers ordered by deadline (on the local clock's midpoint scale).
#[derive(Debug, Default)]
pub struct Timers {
    pending: BTreeSet<(UtcNanos, Timer)>,
}

impl Timers {
    /// Arms `timer` for `at` (a timer set twice fires twice; the core ignores stale ones).
    pub fn set(&mut self, timer: Timer, at: UtcNanos) {
        self.pending.insert((at, timer));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<UtcNanos> {
        self.pending.first().map(|(at, _)| *at)
    }

    /// Removes and returns every timer due at `now`.
    pub fn due(&mut self, now: UtcNanos) -> Vec<Timer> {
        let mut out = Vec::new();
        while let Some(&(at, t)) = self.pending.first() {
            if at > now {
                break;
            }
            self.pending.pop_first();
            out.push(t);
        }
        out
    }
}
