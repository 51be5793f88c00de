//! The local clock as the core sees it, and the timeliness rule for a tick's second.
//!
//! Owns: the voter's window check (`specs/consensus.md` § Timeliness), which is exactly the
//! check the sdk verifier applies to a certificate window, and the choice of a proposal's
//! second. Never: reads a clock (the caller passes every reading in).

use tickchain_sdk::votes::ClockReading;
use tickchain_sdk::{NANOS_PER_SECOND, Nanos, Second, UtcNanos};

/// The caller's clock at the moment it hands the core an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    /// The `[earliest, latest]` bound on true UTC.
    pub reading: ClockReading,
    /// Whether the aggregator currently has a majority of agreeing sources; an unsynchronised
    /// node never votes for a tick.
    pub synchronized: bool,
}

impl LocalClock {
    /// A synchronised reading `mid ± radius`.
    pub fn synced(mid: UtcNanos, radius: Nanos) -> LocalClock {
        LocalClock {
            reading: ClockReading {
                earliest: mid.saturating_sub(radius),
                latest: mid.saturating_add(radius),
            },
            synchronized: true,
        }
    }

    /// The best single estimate of now: the middle of the reading. Timers are in this scale.
    pub fn mid(&self) -> UtcNanos {
        let e = self.reading.earliest.0 as i128;
        let l = self.reading.latest.0 as i128;
        UtcNanos(((e + l) / 2) as i64)
    }

    /// Half the reading's width.
    pub fn radius(&self) -> Nanos {
        Nanos(((self.reading.latest.0 as i128 - self.reading.earliest.0 as i128) / 2) as i64)
    }
}

/// The genesis tolerances on a tick's second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tolerance {
    /// How far before the second's start a reading's `earliest` may be (`max_early_ms`).
    pub max_early: Nanos,
    /// How far after the second's start a reading's `latest` may be (`max_late_ms`).
    pub max_late: Nanos,
}

/// Where a clock reading places a tick's second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeliness {
    /// Within tolerance: the voter may sign.
    Timely,
    /// Too early: `earliest < second_start - max_early`.
    Early,
    /// Too late: `latest > second_start + max_late`; it will never be timely again.
    Late,
    /// The clock is not synchronised.
    Unsynchronized,
}

impl Tolerance {
    /// The voter's rule: synchronised, `earliest >= start - max_early` and
    /// `latest <= start + max_late`.
    pub fn check(&self, clock: &LocalClock, second: Second) -> Timeliness {
        if !clock.synchronized {
            return Timeliness::Unsynchronized;
        }
        let start = second.start().0 as i128;
        if (clock.reading.latest.0 as i128) > start + self.max_late.0 as i128 {
            Timeliness::Late
        } else if (clock.reading.earliest.0 as i128) < start - self.max_early.0 as i128 {
            Timeliness::Early
        } else {
            Timeliness::Timely
        }
    }

    /// The midpoint instant at which a reading of the current width first becomes timely for
    /// `second` (the recheck time for an early proposal).
    pub fn timely_from(&self, clock: &LocalClock, second: Second) -> UtcNanos {
        second
            .start()
            .saturating_sub(self.max_early)
            .saturating_add(clock.radius())
    }
}

/// The second a leader proposes: the next second boundary not before the parent's successor,
/// `max(parent + 1, ceil(now))`.
pub fn proposal_second(parent: Second, now: UtcNanos) -> Second {
    let ceil =
        now.0.div_euclid(NANOS_PER_SECOND) + i64::from(now.0.rem_euclid(NANOS_PER_SECOND) != 0);
    Second((parent.0 + 1).max(ceil.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(mid_ms: i64, radius_ms: i64) -> LocalClock {
        LocalClock::synced(UtcNanos(mid_ms * 1_000_000), Nanos::from_millis(radius_ms))
    }

    const TOL: Tolerance = Tolerance {
        max_early: Nanos::from_millis(500),
        max_late: Nanos::from_millis(1000),
    };

    #[test]
    fn a_reading_inside_both_tolerances_is_timely() {
        assert_eq!(
            TOL.check(&clock(10_050, 20), Second(10)),
            Timeliness::Timely
        );
        assert_eq!(TOL.check(&clock(9_520, 20), Second(10)), Timeliness::Timely);
    }

    #[test]
    fn a_reading_whose_latest_passes_max_late_is_late() {
        assert_eq!(TOL.check(&clock(10_990, 20), Second(10)), Timeliness::Late);
    }

    #[test]
    fn a_reading_whose_earliest_precedes_max_early_is_early() {
        assert_eq!(TOL.check(&clock(9_510, 20), Second(10)), Timeliness::Early);
    }

    #[test]
    fn an_unsynchronised_clock_is_never_timely() {
        let mut c = clock(10_050, 20);
        c.synchronized = false;
        assert_eq!(TOL.check(&c, Second(10)), Timeliness::Unsynchronized);
    }

    #[test]
    fn proposal_second_is_the_next_boundary_after_the_parent() {
        assert_eq!(
            proposal_second(Second(5), UtcNanos(9_100_000_000)),
            Second(10)
        );
        assert_eq!(
            proposal_second(Second(5), UtcNanos(10_000_000_000)),
            Second(10)
        );
        assert_eq!(
            proposal_second(Second(12), UtcNanos(9_100_000_000)),
            Second(13)
        );
    }
}
