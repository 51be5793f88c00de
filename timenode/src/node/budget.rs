//! Per-peer work budgets: a token bucket for each ring member.
//!
//! Owns: how much of one kind of work each peer may cause per second, with a burst. Never:
//! reads a clock itself (the caller passes the instant) or shares one peer's tokens with
//! another.

use std::time::Instant;
use tickchain_sdk::NodeId;

/// One token bucket per peer.
#[derive(Debug)]
pub struct Budget {
    per_second: f64,
    burst: f64,
    buckets: Vec<(f64, Option<Instant>)>,
}

impl Budget {
    /// `n` peers, each refilled at `per_second` tokens per second up to `burst`.
    pub fn new(n: usize, per_second: f64, burst: f64) -> Budget {
        Budget {
            per_second,
            burst,
            buckets: vec![(burst, None); n],
        }
    }

    /// Takes `cost` tokens from `peer`'s bucket if it holds them; false (and nothing taken)
    /// otherwise, or for a peer outside the ring.
    pub fn take(&mut self, peer: NodeId, cost: f64, now: Instant) -> bool {
        let (per_second, burst) = (self.per_second, self.burst);
        let Some((tokens, last)) = self.buckets.get_mut(peer.index()) else {
            return false;
        };
        if let Some(last) = *last {
            let refill = now.saturating_duration_since(last).as_secs_f64() * per_second;
            *tokens = (*tokens + refill).min(burst);
        }
        *last = Some(now);
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Gives back `cost` tokens taken for work that was then not done.
    pub fn refund(&mut self, peer: NodeId, cost: f64) {
        let burst = self.burst;
        if let Some((tokens, _)) = self.buckets.get_mut(peer.index()) {
            *tokens = (*tokens + cost).min(burst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_peer_gets_its_burst_then_its_rate_and_never_another_peers_tokens() {
        let mut b = Budget::new(2, 10.0, 20.0);
        let t0 = Instant::now();
        assert!((0..20).all(|_| b.take(NodeId(0), 1.0, t0)));
        assert!(!b.take(NodeId(0), 1.0, t0), "burst spent");
        assert!(b.take(NodeId(1), 20.0, t0), "peer 1 has its own bucket");
        let t1 = t0 + Duration::from_millis(500);
        assert!((0..5).all(|_| b.take(NodeId(0), 1.0, t1)));
        assert!(!b.take(NodeId(0), 1.0, t1), "half a second refills five");
        assert!(!b.take(NodeId(7), 1.0, t1), "not a ring member");
    }
}
