//! Per-client rate limits for the NTP server: a token bucket per source address, in a table of
//! bounded size.
//!
//! Owns: whether a request is answered, answered with a RATE kiss, or dropped. Never: grows past
//! its table size (when full, buckets that have refilled are forgotten; if none has, a new
//! client is dropped until one does).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer with the time.
    Answer,
    /// Answer with a RATE kiss-o'-death (the client polls too often).
    Kiss,
    /// No answer.
    Drop,
}

struct Bucket {
    tokens: f64,
    at: Instant,
    last_kiss: Option<Instant>,
}

/// Token buckets by client address.
pub struct RateLimits {
    interval: Duration,
    burst: f64,
    max_clients: usize,
    buckets: HashMap<IpAddr, Bucket>,
}

impl RateLimits {
    /// One request per `interval` on average per address, `burst` at once, `max_clients`
    /// addresses remembered. An `interval` of zero answers everything.
    pub fn new(interval: Duration, burst: u32, max_clients: usize) -> RateLimits {
        RateLimits {
            interval,
            burst: f64::from(burst.max(1)),
            max_clients: max_clients.max(1),
            buckets: HashMap::new(),
        }
    }

    /// Addresses remembered now.
    pub fn clients(&self) -> usize {
        self.buckets.len()
    }

    /// Takes a token for a request from `ip` at `now`.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        if self.interval.is_zero() {
            return Verdict::Answer;
        }
        let rate = 1.0 / self.interval.as_secs_f64();
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= self.max_clients {
            let burst = self.burst;
            self.buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
            if self.buckets.len() >= self.max_clients {
                return Verdict::Drop;
            }
        }
        let b = self.buckets.entry(ip).or_insert(Bucket {
            tokens: self.burst,
            at: now,
            last_kiss: None,
        });
        b.tokens =
            (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(self.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Verdict::Answer;
        }
        // Over the limit: at most one kiss per interval, the rest dropped.
        if b.last_kiss
            .is_none_or(|k| now.saturating_duration_since(k) >= self.interval)
        {
            b.last_kiss = Some(now);
            Verdict::Kiss
        } else {
            Verdict::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn a_burst_is_answered_then_one_kiss_then_silence_until_tokens_return() {
        let mut r = RateLimits::new(Duration::from_secs(1), 4, 10);
        let t = Instant::now();
        let verdicts: Vec<Verdict> = (0..7).map(|_| r.check(ip(1), t)).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Answer,
                Verdict::Answer,
                Verdict::Answer,
                Verdict::Answer,
                Verdict::Kiss,
                Verdict::Drop,
                Verdict::Drop
            ]
        );
        assert_eq!(
            r.check(ip(2), t),
            Verdict::Answer,
            "another client has its own bucket"
        );
        assert_eq!(
            r.check(ip(1), t + Duration::from_millis(1000)),
            Verdict::Answer
        );
    }

    #[test]
    fn the_table_stays_bounded_and_forgets_refilled_buckets_first() {
        let mut r = RateLimits::new(Duration::from_secs(1), 2, 3);
        let t = Instant::now();
        for n in 1..=3 {
            r.check(ip(n), t);
        }
        assert_eq!(r.check(ip(9), t), Verdict::Drop, "full of active clients");
        assert_eq!(r.clients(), 3);
        assert_eq!(
            r.check(ip(9), t + Duration::from_secs(5)),
            Verdict::Answer,
            "refilled buckets make room"
        );
        assert!(r.clients() <= 3);
    }
}
