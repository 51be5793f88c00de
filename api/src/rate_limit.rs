//! Per-client rate limiting: one token bucket per client IP address.
//!
//! Owns: the bucket arithmetic (sans-IO: callers pass the instant) and the table of buckets.
//! Never: reads the clock itself inside the bucket, or trusts forwarded-for headers (a proxy in
//! front should limit on its own).

use std::collections::HashMap;
use std::net::IpAddr;
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
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        self.updated = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64(
            (1.0 - self.tokens) / f64::from(rate),
        ))
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
    buckets: Mutex<HashMap<IpAddr, TokenBucket>>,
}

impl RateLimiter {
    /// `rate` requests per second sustained, `burst` at once; `rate == 0` admits everything.
    pub fn new(rate: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            rate,
            burst: burst.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one request from `client` at `now`, or says how long it must wait.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
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
            .take(self.rate, self.burst, now)
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
        let (a, b) = ([127, 0, 0, 1].into(), [127, 0, 0, 2].into());
        assert!(l.check(a, t0).is_ok());
        assert!(l.check(a, t0).is_err());
        assert!(l.check(b, t0).is_ok());
        let off = RateLimiter::new(0, 1);
        assert!((0..100).all(|_| off.check(a, t0).is_ok()));
    }
}
