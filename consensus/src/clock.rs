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
    /// Too early, but within reach: `earliest < second_start - max_early` while
    /// `second_start - max_early <= latest`; a narrower or later reading may be timely.
    Early,
    /// Too late: `latest > second_start + max_late`; it will never be timely again.
    Late,
    /// Ahead of the clock: `second_start - max_early > latest`, or the second is past
    /// [`Second::MAX`] and has no start at all. No leader with a timely reading of a true clock
    /// can have proposed it yet, so a voter rejects it at once (`specs/consensus.md` §2).
    Ahead,
    /// The clock is not synchronised.
    Unsynchronized,
}

impl Tolerance {
    /// The voter's rule (`specs/consensus.md` §2): synchronised, `earliest >= start - max_early`
    /// and `latest <= start + max_late`; a second past [`Second::MAX`], or one starting after
    /// `latest + max_early`, is [`Timeliness::Ahead`].
    pub fn check(&self, clock: &LocalClock, second: Second) -> Timeliness {
        if !clock.synchronized {
            return Timeliness::Unsynchronized;
        }
        // Checked, never saturated or wrapped: `real + 2^55` wraps to `real`'s start (issue 13).
        let Some(start) = second.checked_start() else {
            return Timeliness::Ahead;
        };
        let start = i128::from(start.0);
        let earliest_allowed = start - i128::from(self.max_early.0);
        let latest = i128::from(clock.reading.latest.0);
        if latest > start + i128::from(self.max_late.0) {
            Timeliness::Late
        } else if earliest_allowed > latest {
            Timeliness::Ahead
        } else if i128::from(clock.reading.earliest.0) < earliest_allowed {
            Timeliness::Early
        } else {
            Timeliness::Timely
        }
    }

    /// The midpoint instant at which a reading of the current width first becomes timely for
    /// `second` (the recheck time for an early proposal). Only meaningful for a second that
    /// [`Tolerance::check`] found [`Timeliness::Early`], which has a start.
    pub fn timely_from(&self, clock: &LocalClock, second: Second) -> UtcNanos {
        second
            .start()
            .saturating_sub(self.max_early)
            .saturating_add(clock.radius())
    }
}

/// The second a leader proposes: the next second boundary not before the parent's successor,
/// `max(parent + 1, ceil(now))` (saturating; the leader checks the result has a start).
pub fn proposal_second(parent: Second, now: UtcNanos) -> Second {
    let ceil =
        now.0.div_euclid(NANOS_PER_SECOND) + i64::from(now.0.rem_euclid(NANOS_PER_SECOND) != 0);
    Second(parent.0.saturating_add(1).max(ceil.max(0) as u64))
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
    fn a_second_starting_after_latest_plus_max_early_is_ahead_not_early() {
        // latest = 9_520 ms: second 10 starts 480 ms later, within max_early (500 ms).
        assert_eq!(TOL.check(&clock(9_500, 20), Second(10)), Timeliness::Early);
        // latest = 9_499 ms: second 10 starts 501 ms later.
        assert_eq!(TOL.check(&clock(9_479, 20), Second(10)), Timeliness::Ahead);
        assert_eq!(
            TOL.check(&clock(10_050, 20), Second(10 + 86_400)),
            Timeliness::Ahead
        );
    }

    #[test]
    fn a_second_without_a_start_is_ahead_and_never_wraps_into_the_clock() {
        let now = clock(1_764_000_010_050, 20);
        assert_eq!(TOL.check(&now, Second(1_764_000_010)), Timeliness::Timely);
        for second in [
            Second(1_764_000_010 + (1 << 55)),
            Second(Second::MAX.0 + 1),
            Second(u64::MAX),
        ] {
            assert_eq!(TOL.check(&now, second), Timeliness::Ahead, "{second}");
        }
    }

    #[test]
    fn proposal_second_saturates_instead_of_overflowing() {
        assert_eq!(
            proposal_second(Second(u64::MAX), UtcNanos(0)),
            Second(u64::MAX)
        );
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
