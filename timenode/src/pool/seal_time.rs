//! How long sealing takes, so a batch is sealed early enough to reach the next leader in time.
//!
//! Owns: the durations of the last few seals and the margin taken from them. Never: delays a
//! seal or changes the configured lead (the writer adds the margin, keeping lead and margin
//! within the second).
//!
//! Sealing (sync the segment, build the tree, sign, store) takes a few milliseconds idle and
//! tens under saturating intake on a busy machine; a batch sealed at `s + 1 − lead` with a
//! small lead then reached the leader after it proposed and waited a whole second for the next
//! tick. The writer starts the seal this margin earlier, so the batch is ready `lead` before
//! the second ends, as configured.

use std::time::Duration;
use tickchain_sdk::Nanos;

/// Seals remembered.
const KEPT: usize = 8;
/// Largest margin: a seal slower than this is a stall, not a cost to plan for.
pub const MAX_MARGIN: Duration = Duration::from_millis(300);

/// The durations of the last [`KEPT`] seals.
#[derive(Debug, Default)]
pub struct SealTimes {
    recent: [u64; KEPT],
    next: usize,
}

impl SealTimes {
    /// Records a seal that took `took`.
    pub fn record(&mut self, took: Duration) {
        self.recent[self.next] = took.as_nanos().min(u128::from(u64::MAX)) as u64;
        self.next = (self.next + 1) % KEPT;
    }

    /// How much earlier than the seal instant to start sealing: the slowest recent seal, at
    /// most [`MAX_MARGIN`].
    pub fn margin(&self) -> Nanos {
        let slowest = self.recent.iter().copied().max().unwrap_or(0);
        Nanos(slowest.min(MAX_MARGIN.as_nanos() as u64) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_margin_is_the_slowest_recent_seal_capped() {
        let mut t = SealTimes::default();
        assert_eq!(t.margin(), Nanos(0));
        t.record(Duration::from_millis(3));
        t.record(Duration::from_millis(40));
        t.record(Duration::from_millis(5));
        assert_eq!(t.margin(), Nanos::from_millis(40));
        // A slow seal is forgotten after KEPT faster ones.
        for _ in 0..KEPT {
            t.record(Duration::from_millis(2));
        }
        assert_eq!(t.margin(), Nanos::from_millis(2));
        t.record(Duration::from_secs(5));
        assert_eq!(t.margin(), Nanos(MAX_MARGIN.as_nanos() as i64));
    }
}
