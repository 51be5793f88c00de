//! Source selection: the RFC 5905 §11.2.1 intersection algorithm (Marzullo's algorithm as
//! refined for NTP), run at a strict majority so the result is a hard bound.
//!
//! Owns: turning many correctness intervals into one agreed interval and a truechimer /
//! falseticker verdict per interval. Never: reads samples, clocks or configuration; it is a pure
//! function of intervals so a brute-force oracle can check it.
//!
//! ```text
//!   source A   |-------*-------|
//!   source B        |----*----|
//!   source C                 |---*---|
//!   source D                                  |--*--|     (falseticker)
//!   coverage   1    2        3  2    1        1     0
//!   majority (≥3 of 4)       [==]   ← the agreed interval [l, u]
//! ```

use crate::sample::OffsetInterval;
use crate::time::SignedNanos;
use serde::Serialize;
use thiserror::Error;

/// Why no agreed interval exists.
#[derive(Clone, Debug, Error, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SelectError {
    /// There were no usable intervals at all.
    #[error("expected at least {required} usable sources, got none")]
    NoSources {
        /// The configured minimum of agreeing sources.
        required: usize,
    },
    /// No point is covered by a strict majority of the intervals.
    #[error(
        "expected a point shared by a strict majority ({needed} of {sources} sources), but at most {agreeing} agree"
    )]
    NoMajority {
        /// Usable sources.
        sources: usize,
        /// A strict majority of them.
        needed: usize,
        /// The most intervals sharing one point.
        agreeing: usize,
    },
    /// A majority exists but fewer sources agree than configured.
    #[error("expected at least {required} agreeing sources, got {agreeing} (of {sources})")]
    TooFewAgreeing {
        /// The most intervals sharing one point.
        agreeing: usize,
        /// The configured minimum.
        required: usize,
        /// Usable sources.
        sources: usize,
    },
}

/// The agreed interval and how it was reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Intersection {
    /// `[l, u]`: the lowest and highest offsets covered by a strict majority of intervals.
    pub interval: OffsetInterval,
    /// The most intervals sharing a single point (the size of the largest clique).
    pub agreeing: usize,
    /// Per input interval, in input order: `true` for a truechimer (its interval meets
    /// `[l, u]`), `false` for a falseticker.
    pub truechimer: Vec<bool>,
    /// Per input interval: whether its midpoint lies inside `[l, u]`. RFC 5905 §11.2.1 uses the
    /// midpoints to pick the survivors that the combine algorithm averages.
    pub midpoint_inside: Vec<bool>,
}

/// Runs the intersection over `intervals`, requiring a strict majority and at least
/// `min_agreeing` intervals sharing one point.
///
/// RFC 5905 §11.2.1 tries f = 0, 1, … falsetickers and stops at the first f whose `m − f`
/// clique exists. That first clique can exclude the truth when a falseticker overlaps every
/// truechimer, so for a hard bound this runs the sweep once at the largest tolerable f,
/// `f = ⌈m/2⌉ − 1`: `[l, u]` is the hull of all points covered by `⌊m/2⌋ + 1` intervals. The
/// truth is such a point whenever fewer than half the intervals exclude it, so `[l, u]`
/// contains it.
pub fn intersect(
    intervals: &[OffsetInterval],
    min_agreeing: usize,
) -> Result<Intersection, SelectError> {
    let m = intervals.len();
    if m == 0 {
        return Err(SelectError::NoSources {
            required: min_agreeing,
        });
    }
    let needed = m / 2 + 1;

    // RFC 5905 §11.2.1: the endpoint list, each lower edge +1 and upper edge −1. At equal
    // values lower edges sort first because the intervals are closed: touching intervals agree.
    let mut edges: Vec<(SignedNanos, i8)> = Vec::with_capacity(2 * m);
    for iv in intervals {
        edges.push((iv.lo, -1));
        edges.push((iv.hi, 1));
    }
    edges.sort_unstable();

    let mut coverage = 0usize;
    let mut agreeing = 0usize;
    let mut low = None;
    for &(value, kind) in &edges {
        if kind < 0 {
            coverage += 1;
            agreeing = agreeing.max(coverage);
            if coverage >= needed && low.is_none() {
                low = Some(value);
            }
        } else {
            coverage -= 1;
        }
    }
    // The same sweep from the top down finds u.
    let mut coverage = 0usize;
    let mut high = None;
    for &(value, kind) in edges.iter().rev() {
        if kind > 0 {
            coverage += 1;
            if coverage >= needed {
                high = Some(value);
                break;
            }
        } else {
            coverage -= 1;
        }
    }

    let (Some(lo), Some(hi)) = (low, high) else {
        return Err(SelectError::NoMajority {
            sources: m,
            needed,
            agreeing,
        });
    };
    if agreeing < min_agreeing {
        return Err(SelectError::TooFewAgreeing {
            agreeing,
            required: min_agreeing,
            sources: m,
        });
    }
    let agreed = OffsetInterval { lo, hi };
    Ok(Intersection {
        interval: agreed,
        agreeing,
        truechimer: intervals
            .iter()
            .map(|iv| iv.lo <= agreed.hi && agreed.lo <= iv.hi)
            .collect(),
        midpoint_inside: intervals
            .iter()
            .map(|iv| agreed.contains(iv.midpoint()))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(lo: i64, hi: i64) -> OffsetInterval {
        OffsetInterval {
            lo: SignedNanos(lo),
            hi: SignedNanos(hi),
        }
    }

    #[test]
    fn disjoint_liar_is_a_falseticker_and_is_excluded() {
        let r = intersect(&[iv(-10, 10), iv(-5, 15), iv(-8, 8), iv(500, 520)], 3).unwrap();
        assert_eq!(r.interval, iv(-5, 8));
        assert_eq!(r.truechimer, vec![true, true, true, false]);
        assert_eq!(r.agreeing, 3);
    }

    #[test]
    fn liar_overlapping_every_honest_interval_cannot_pull_the_bound_off_the_truth() {
        // The truth is 0; D excludes it yet overlaps A, B and C at [5, 10].
        let r = intersect(&[iv(-10, 10), iv(-10, 10), iv(-10, 10), iv(5, 20)], 3).unwrap();
        assert!(r.interval.contains(SignedNanos(0)));
    }

    #[test]
    fn two_against_two_has_no_majority() {
        let err = intersect(&[iv(0, 1), iv(0, 1), iv(5, 6), iv(5, 6)], 1).unwrap_err();
        assert!(matches!(err, SelectError::NoMajority { needed: 3, .. }));
    }

    #[test]
    fn two_agreeing_sources_are_too_few_by_default() {
        let err = intersect(&[iv(0, 10), iv(5, 15)], 3).unwrap_err();
        assert_eq!(
            err,
            SelectError::TooFewAgreeing {
                agreeing: 2,
                required: 3,
                sources: 2
            }
        );
    }

    #[test]
    fn touching_closed_intervals_agree_at_their_common_endpoint() {
        let r = intersect(&[iv(0, 5), iv(5, 9), iv(5, 5)], 3).unwrap();
        assert_eq!(r.interval, iv(5, 5));
    }
}
