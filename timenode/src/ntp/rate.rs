//! Rate limits for the NTP server: a token bucket per client (an IPv4 address, or an IPv6 /64,
//! which one host can fill), in a table of bounded size, under a global budget.
//!
//! Owns: whether a request is answered, answered with a RATE kiss, or dropped. Never: grows past
//! its table size (a new client evicts the oldest-admitted one in O(1), so a flood of spoofed
//! addresses can neither fill the table against real clients nor make a packet cost more than
//! O(1)), and never answers more than the global budget per second, whatever the addresses.

use std::collections::{HashMap, VecDeque};
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

/// A client's key: the IPv4 address, or the /64 prefix of an IPv6 address.
fn client_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => (u128::from(v6) >> 64) << 64 | 1 << 63,
        },
    }
}

/// Token buckets by client, and the global budget.
pub struct RateLimits {
    interval: Duration,
    burst: f64,
    max_clients: usize,
    buckets: HashMap<u128, Bucket>,
    /// Clients in the order they were admitted (each once), for eviction.
    admitted: VecDeque<u128>,
    /// Replies of any kind allowed per second, all clients together.
    global_rate: f64,
    global_tokens: f64,
    global_at: Option<Instant>,
}

impl RateLimits {
    /// One request per `interval` on average per client, `burst` at once, `max_clients`
    /// clients remembered, at most `global_per_second` replies in all. An `interval` of zero
    /// lifts the per-client limit.
    pub fn new(
        interval: Duration,
        burst: u32,
        max_clients: usize,
        global_per_second: u32,
    ) -> RateLimits {
        RateLimits {
            interval,
            burst: f64::from(burst.max(1)),
            max_clients: max_clients.max(1),
            buckets: HashMap::new(),
            admitted: VecDeque::new(),
            global_rate: f64::from(global_per_second.max(1)),
            global_tokens: f64::from(global_per_second.max(1)),
            global_at: None,
        }
    }

    /// Clients remembered now.
    pub fn clients(&self) -> usize {
        self.buckets.len()
    }

    /// Takes a token for a request from `ip` at `now`.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Verdict {
        let verdict = self.per_client(client_key(ip), now);
        if verdict == Verdict::Drop {
            return verdict;
        }
        let elapsed = self
            .global_at
            .map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
        self.global_at = Some(now);
        self.global_tokens =
            (self.global_tokens + elapsed * self.global_rate).min(self.global_rate);
        if self.global_tokens < 1.0 {
            return Verdict::Drop;
        }
        self.global_tokens -= 1.0;
        verdict
    }

    fn per_client(&mut self, key: u128, now: Instant) -> Verdict {
        if self.interval.is_zero() {
            return Verdict::Answer;
        }
        if !self.buckets.contains_key(&key) {
            while self.buckets.len() >= self.max_clients {
                let Some(oldest) = self.admitted.pop_front() else {
                    break;
                };
                self.buckets.remove(&oldest);
            }
            self.admitted.push_back(key);
        }
        let rate = 1.0 / self.interval.as_secs_f64();
        let burst = self.burst;
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
            last_kiss: None,
        });
        b.tokens = (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(burst);
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
        let mut r = RateLimits::new(Duration::from_secs(1), 4, 10, 1000);
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
    fn the_table_stays_bounded_and_a_newcomer_evicts_the_oldest() {
        let mut r = RateLimits::new(Duration::from_secs(1), 2, 3, 1000);
        let t = Instant::now();
        for n in 1..=3 {
            r.check(ip(n), t);
            r.check(ip(n), t);
        }
        assert_eq!(
            r.check(ip(9), t),
            Verdict::Answer,
            "a new client is admitted"
        );
        assert_eq!(r.clients(), 3);
        // ip(1) was evicted: it comes back with a full bucket; ip(3) is still limited.
        assert_eq!(r.check(ip(1), t), Verdict::Answer);
        assert_eq!(r.check(ip(3), t), Verdict::Kiss);
        assert!(r.clients() <= 3);
    }

    #[test]
    fn one_ipv6_host_is_one_client_and_the_global_budget_caps_everyone() {
        let mut r = RateLimits::new(Duration::from_secs(1), 1, 100, 1000);
        let t = Instant::now();
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::2:3".parse().unwrap();
        assert_eq!(r.check(a, t), Verdict::Answer);
        assert_eq!(r.check(b, t), Verdict::Kiss, "the same /64 shares a bucket");

        let mut g = RateLimits::new(Duration::from_secs(1), 1, 10_000, 5);
        let answered = (0..50u8)
            .filter(|n| g.check(IpAddr::from([10, 0, 0, *n]), t) != Verdict::Drop)
            .count();
        assert_eq!(answered, 5, "at most the global budget per second");
    }
}
