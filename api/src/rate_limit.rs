//! Per-client rate limiting: one token bucket per client key (requests, or digests).
//!
//! Owns: the bucket arithmetic (sans-IO: callers pass the instant) and the table of buckets.
//! Never: reads the clock itself inside the bucket, or decides who the client is
//! (`client::ClientKey`).

use crate::client::ClientKey;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most clients tracked before idle (full) buckets are dropped.
const MAX_TRACKED: usize = 65_536;

/// A token bucket: `burst` capacity, refilled at `rate` tokens per second.
#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens at `now`.
    pub fn full(burst: u32, now: Instant) -> TokenBucket {
        TokenBucket {
            tokens: f64::from(burst),
            updated: now,
        }
    }

    /// Takes one token at `now`, or returns how long until one is available.
    pub fn take(&mut self, rate: u32, burst: u32, now: Instant) -> Result<(), Duration> {
        self.take_n(1, rate, burst, now)
    }

    /// Takes `n` tokens at `now` (all or none), or returns how long until `n` are available.
    /// `n` above `burst` can never be taken; the caller must refuse such a request outright.
    pub fn take_n(&mut self, n: u32, rate: u32, burst: u32, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        self.updated = now;
        let n = f64::from(n);
        if self.tokens >= n {
            self.tokens -= n;
            return Ok(());
        }
        Err(Duration::from_secs_f64((n - self.tokens) / f64::from(rate)))
    }

    /// Whether `n` tokens could be taken at `now` (or how long until they could), taking none.
    pub fn peek(&self, n: u32, rate: u32, burst: u32, now: Instant) -> Result<(), Duration> {
        self.clone().take_n(n, rate, burst, now)
    }

    fn is_full(&self, rate: u32, burst: u32, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens + elapsed * f64::from(rate) >= f64::from(burst)
    }
}

/// The buckets of every client.
#[derive(Debug)]
pub struct RateLimiter {
    rate: u32,
    burst: u32,
    buckets: Mutex<HashMap<ClientKey, TokenBucket>>,
}

impl RateLimiter {
    /// `rate` tokens per second sustained, `burst` at once; `rate == 0` admits everything.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one request from `client` at `now`, or says how long it must wait.
    pub fn check(&self, client: ClientKey, now: Instant) -> Result<(), Duration> {
        self.check_n(client, 1, now)
    }

    /// Whether `client` could be admitted `n` units at `now`, taking none: a cheap refusal
    /// before work whose exact size is known only later.
    pub fn peek(&self, client: ClientKey, n: u32, now: Instant) -> Result<(), Duration> {
        if self.rate == 0 {
            return Ok(());
        }
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get(&client) {
            Some(b) => b.peek(n, self.rate, self.burst, now),
            None => Ok(()),
        }
    }

    /// Admits `n` units (digests) from `client` at `now`, or says how long it must wait.
    pub fn check_n(&self, client: ClientKey, n: u32, now: Instant) -> Result<(), Duration> {
        if self.rate == 0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| !b.is_full(rate, burst, now));
        }
        buckets
            .entry(client)
            .or_insert_with(|| TokenBucket::full(self.burst, now))
            .take_n(n, self.rate, self.burst, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_admitted_then_refused_until_refilled() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(2, t0);
        assert!(b.take(10, 2, t0).is_ok());
        assert!(b.take(10, 2, t0).is_ok());
        let wait = b.take(10, 2, t0).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100));
        assert!(b.take(10, 2, t0 + Duration::from_millis(100)).is_ok());
    }

    #[test]
    fn clients_have_separate_buckets_and_rate_zero_disables() {
        let t0 = Instant::now();
        let l = RateLimiter::new(1, 1);
        let a = ClientKey::of([127, 0, 0, 1].into());
        let b = ClientKey::of([127, 0, 0, 2].into());
        assert!(l.check(a, t0).is_ok());
        assert!(l.check(a, t0).is_err());
        assert!(l.check(b, t0).is_ok());
        let off = RateLimiter::new(0, 1);
        assert!((0..100).all(|_| off.check(a, t0).is_ok()));
    }

    #[test]
    fn digests_are_taken_all_or_none() {
        let t0 = Instant::now();
        let l = RateLimiter::new(1_000, 5_000);
        let a = ClientKey::of([127, 0, 0, 2].into());
        assert!(l.check_n(a, 4_000, t0).is_ok());
        let wait = l.check_n(a, 2_000, t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1), "1,000 more tokens at 1,000/s");
        assert!(l.check_n(a, 1_000, t0).is_ok(), "a refusal takes nothing");
        assert!(l.check_n(a, 2_000, t0 + Duration::from_secs(2)).is_ok());
    }
}
