//! The per-source clock filter: RFC 5905 §10's eight-stage shift register that picks the sample
//! with the least path delay, and the hard bound all its stages imply together.
//!
//! Owns: the recent samples of one source, the choice among them and their intersection.
//! Never: compares sources with each other, and never looks at a clock (the caller passes
//! `now`).
//!
//! ```text
//!   stage 0 (fresh, long path)   |--------*--------|
//!   stage 3 (aged, short path)        |---*---|        each aged to `now` by Φ
//!   stage 5 (aged, asymmetric)      |-----*-----|
//!   bound                             |=====|          every stage holds the truth, so it is here
//! ```

use crate::sample::{OffsetInterval, Sample};
use crate::time::{Ppm, Span, UtcNanos};

/// Number of stages in the register (RFC 5905 §10 "NSTAGE").
pub const NSTAGE: usize = 8;

/// What all the stages of one source say together (see [`ClockFilter::bound`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageBound {
    /// The intersection of every stage's correctness interval: the truth is here if every
    /// retained sample of the source is correct.
    Interval(OffsetInterval),
    /// Two stages' intervals are disjoint, so at least one of the source's samples is wrong:
    /// the source is a falseticker whatever the others say.
    Contradictory,
}

/// Eight-stage minimum-delay clock filter for one source.
#[derive(Clone, Debug, Default)]
pub struct ClockFilter {
    /// Newest first; `None` marks a poll that got no usable reply (RFC 5905 §10 shifts in a
    /// dummy tuple with maximum dispersion for it, which can never be chosen).
    stages: [Option<Sample>; NSTAGE],
}

impl ClockFilter {
    /// An empty filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Shifts a new sample into stage 0, dropping the oldest (RFC 5905 §10).
    pub fn push(&mut self, sample: Sample) {
        self.shift(Some(sample));
    }

    /// Shifts in an empty stage for a poll without a usable reply (RFC 5905 §10).
    pub fn push_miss(&mut self) {
        self.shift(None);
    }

    /// Forgets every stage (RFC 5905 §9.2 "clear" on a reset).
    pub fn clear(&mut self) {
        self.stages = Default::default();
    }

    fn shift(&mut self, stage: Option<Sample>) {
        self.stages.rotate_right(1);
        self.stages[0] = stage;
    }

    /// The sample this source contributes at local time `now`: the stage with the least delay
    /// (RFC 5905 §10: "the sample with minimum delay is selected"), ties broken by the smaller
    /// radius at `now`, so an aged sample loses to a fresh one of equal delay.
    pub fn best(&self, now: UtcNanos, phi: Ppm) -> Option<Sample> {
        self.stages
            .iter()
            .flatten()
            .min_by_key(|s| (s.delay, s.radius_at(now, phi)))
            .copied()
    }

    /// The hard bound of this source at local time `now`: the intersection of every stage's
    /// interval `θᵢ ± λᵢ(now)`, or `None` when no stage holds a sample.
    ///
    /// Each stage's interval holds the truth if the source is correct (`specs/time.md` §3), so
    /// their intersection does too, and it is never wider than the interval of [`Self::best`].
    /// Disjoint stages prove that the source gave at least one wrong sample.
    pub fn bound(&self, now: UtcNanos, phi: Ppm) -> Option<StageBound> {
        let mut stages = self.stages.iter().flatten();
        let first = stages.next()?.interval_at(now, phi);
        let meet = stages.fold(first, |acc, s| {
            let iv = s.interval_at(now, phi);
            OffsetInterval {
                lo: acc.lo.max(iv.lo),
                hi: acc.hi.min(iv.hi),
            }
        });
        Some(if meet.lo <= meet.hi {
            StageBound::Interval(meet)
        } else {
            StageBound::Contradictory
        })
    }

    /// The RMS difference between the chosen offset and the other stages' offsets (RFC 5905
    /// §10 "jitter" ψ). A statistical spread for weighting only, never part of a bound.
    pub fn jitter(&self, now: UtcNanos, phi: Ppm) -> Span {
        let Some(best) = self.best(now, phi) else {
            return Span::ZERO;
        };
        let (mut n, mut sum_sq) = (0usize, 0.0f64);
        for s in self.stages.iter().flatten() {
            let d = (s.offset.0 as f64) - (best.offset.0 as f64);
            n += 1;
            sum_sq += d * d;
        }
        if n < 2 {
            return Span::ZERO;
        }
        // The chosen stage contributes 0, so divide by the number of others.
        Span((sum_sq / (n - 1) as f64).sqrt() as u64)
    }

    /// How many stages hold a sample.
    pub fn len(&self) -> usize {
        self.stages.iter().flatten().count()
    }

    /// Whether no stage holds a sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::LeapIndicator;
    use crate::time::Nanos;

    fn sample(offset_us: i64, delay_us: u64, at_s: i64) -> Sample {
        Sample {
            offset: Nanos::from_micros(offset_us),
            delay: Span::from_micros(delay_us),
            root_delay: Span::ZERO,
            root_dispersion: Span::ZERO,
            precision: Span::ZERO,
            leap: LeapIndicator::NoWarning,
            stratum: 1,
            taken_at: UtcNanos::from_parts(at_s, 0),
        }
    }

    #[test]
    fn filter_selects_the_minimum_delay_stage() {
        let mut f = ClockFilter::new();
        f.push(sample(300, 900, 1));
        f.push(sample(5, 20, 2));
        f.push(sample(-200, 700, 3));
        let best = f.best(UtcNanos::from_parts(4, 0), Ppm(15)).unwrap();
        assert_eq!(best.offset, Nanos::from_micros(5));
    }

    #[test]
    fn bound_is_the_intersection_of_every_aged_stage() {
        let mut f = ClockFilter::new();
        // Radii are half the delay: [-100, 500] µs, then [-50, 150] µs, then [0, 1000] µs.
        f.push(sample(200, 600, 1));
        f.push(sample(50, 200, 2));
        f.push(sample(500, 1_000, 3));
        // At t = 3 s the first two stages have aged by 2 s and 1 s at 1 ppm: 2 µs and 1 µs.
        let b = f.bound(UtcNanos::from_parts(3, 0), Ppm(1)).unwrap();
        let expected = OffsetInterval {
            lo: Nanos::from_micros(0),
            hi: Nanos::from_micros(151),
        };
        assert_eq!(b, StageBound::Interval(expected));
        let best = f.best(UtcNanos::from_parts(3, 0), Ppm(1)).unwrap();
        let best = best.interval_at(UtcNanos::from_parts(3, 0), Ppm(1));
        assert!(best.lo <= expected.lo && expected.hi <= best.hi);
    }

    #[test]
    fn disjoint_stages_make_the_source_contradictory() {
        let mut f = ClockFilter::new();
        f.push(sample(0, 20, 1));
        f.push(sample(100, 20, 1));
        assert_eq!(
            f.bound(UtcNanos::from_parts(1, 0), Ppm(15)),
            Some(StageBound::Contradictory)
        );
        assert_eq!(
            ClockFilter::new().bound(UtcNanos::from_parts(1, 0), Ppm(15)),
            None
        );
    }

    #[test]
    fn filter_forgets_a_sample_after_eight_newer_stages() {
        let mut f = ClockFilter::new();
        f.push(sample(5, 1, 0));
        for i in 0..NSTAGE {
            f.push_miss();
            assert_eq!(f.is_empty(), i + 1 == NSTAGE);
        }
        assert!(f.best(UtcNanos::from_parts(9, 0), Ppm(15)).is_none());
    }
}
