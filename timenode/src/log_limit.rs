//! Rate-limited logging for events a remote party can cause at will.
//!
//! Owns: deciding whether one more line about a recurring event may be written now, and
//! counting the lines held back so the next written line can say how many. Never: writes logs
//! itself or drops the counters kept elsewhere (metrics count every event; logs only sample).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one line per `every`; the rest are counted.
#[derive(Debug)]
pub struct LogLimit {
    every: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogLimit {
    /// A limit of one line per `every`.
    pub const fn new(every: Duration) -> LogLimit {
        LogLimit {
            every,
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(suppressed)` if a line may be written now (with the number held back since the
    /// last one), `None` if this one is held back.
    pub fn allow(&self) -> Option<u64> {
        self.allow_at(Instant::now())
    }

    fn allow_at(&self, now: Instant) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match s.0 {
            Some(last) if now.duration_since(last) < self.every => {
                s.1 = s.1.saturating_add(1);
                None
            }
            _ => {
                let held = s.1;
                *s = (Some(now), 0);
                Some(held)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_interval_and_the_next_line_counts_what_was_held_back() {
        let limit = LogLimit::new(Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(limit.allow_at(t0), Some(0));
        for i in 1..=1000 {
            assert_eq!(limit.allow_at(t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(limit.allow_at(t0 + Duration::from_secs(10)), Some(1000));
        assert_eq!(limit.allow_at(t0 + Duration::from_secs(11)), None);
    }
}
