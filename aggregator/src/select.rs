//! Source selection: the RFC 5905 §11.2.1 intersection algorithm (Marzullo's algorithm as
//! refined for NTP), run at the largest tolerated number of falsetickers (by default any
//! minority) so the result is a hard bound.
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
use crate::time::Nanos;
use crate::tolerance::MaxFalsetickers;
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
    /// No point is covered by the `m − f` intervals selection needs (by default a strict
    /// majority).
    #[error(
        "expected a point shared by at least {needed} of {sources} usable sources, but at most {agreeing} agree"
    )]
    NoMajority {
        /// Usable sources, including those whose own samples contradict each other.
        sources: usize,
        /// `m − f`: a strict majority by default.
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
    /// `[l, u]`: the lowest and highest offsets covered by at least `m − f` intervals.
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

/// What selection requires of the intervals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectionRule {
    /// Fewest intervals that must share one point (`min-agreeing`, default 3).
    pub min_agreeing: usize,
    /// The `f` selection tolerates (`max-falsetickers`, default any minority).
    pub max_falsetickers: MaxFalsetickers,
}

/// Runs the intersection over `intervals`, requiring a strict majority and at least
/// `min_agreeing` intervals sharing one point: [`select`] with the default falseticker bound
/// and no source known to be faulty.
pub fn intersect(
    intervals: &[OffsetInterval],
    min_agreeing: usize,
) -> Result<Intersection, SelectError> {
    let rule = SelectionRule {
        min_agreeing,
        max_falsetickers: MaxFalsetickers::Minority,
    };
    select(intervals, 0, rule)
}

/// Runs the intersection over `intervals` plus `known_faulty` sources already proven wrong
/// (their own samples contradict each other, [`crate::filter::StageBound::Contradictory`]).
///
/// With `m = intervals.len() + known_faulty` usable sources and `f =
/// rule.max_falsetickers.tolerated(m)`, `[l, u]` is the hull of every point covered by at
/// least `m − f` intervals. If at most `f` of the `m` sources are wrong, the truth is such a
/// point, so `[l, u]` contains it; and every such point is a possible truth (the sources not
/// covering it could be the `f` wrong ones), so no sound interval is narrower. A known-faulty
/// source covers nothing but still counts towards `m` and against `f`.
///
/// RFC 5905 §11.2.1 tries f = 0, 1, … falsetickers and stops at the first f whose `m − f`
/// clique exists. That first clique can exclude the truth when a falseticker overlaps every
/// truechimer, so for a hard bound this runs the sweep once at the largest tolerated f.
pub fn select(
    intervals: &[OffsetInterval],
    known_faulty: usize,
    rule: SelectionRule,
) -> Result<Intersection, SelectError> {
    let min_agreeing = rule.min_agreeing;
    let m = intervals.len() + known_faulty;
    if m == 0 {
        return Err(SelectError::NoSources {
            required: min_agreeing,
        });
    }
    let needed = rule.max_falsetickers.needed(m);

    // RFC 5905 §11.2.1: the endpoint list, each lower edge +1 and upper edge −1. At equal
    // values lower edges sort first because the intervals are closed: touching intervals agree.
    let mut edges: Vec<(Nanos, i8)> = Vec::with_capacity(2 * m);
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
            lo: Nanos(lo),
            hi: Nanos(hi),
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
        assert!(r.interval.contains(Nanos(0)));
    }

    #[test]
    fn two_against_two_has_no_majority() {
        let err = intersect(&[iv(0, 1), iv(0, 1), iv(5, 6), iv(5, 6)], 1).unwrap_err();
        assert!(matches!(err, SelectError::NoMajority { needed: 3, .. }));
    }

    #[test]
    fn a_known_faulty_source_counts_against_the_falseticker_budget() {
        let rule = SelectionRule {
            min_agreeing: 1,
            max_falsetickers: MaxFalsetickers::Minority,
        };
        // Alone, four intervals tolerate one liar: [5, 8] is covered by three of them.
        let four = [iv(0, 10), iv(5, 15), iv(-8, 8), iv(2, 30)];
        assert_eq!(select(&four, 0, rule).unwrap().interval, iv(2, 10));
        // With a fifth source proven wrong, m = 5 and f = 2, of which one is spent: a point
        // still needs three of the four. With three proven wrong (m = 7, f = 3) it needs all
        // four; with four proven wrong the budget is exceeded and no point qualifies.
        assert_eq!(select(&four, 1, rule).unwrap().interval, iv(2, 10));
        assert_eq!(select(&four, 3, rule).unwrap().interval, iv(5, 8));
        assert!(matches!(
            select(&four, 4, rule),
            Err(SelectError::NoMajority {
                sources: 8,
                needed: 5,
                ..
            })
        ));
    }

    #[test]
    fn a_smaller_falseticker_bound_needs_more_agreement() {
        let ivs = [iv(0, 10), iv(5, 15), iv(-8, 8), iv(2, 30), iv(-20, 3)];
        let rule = |max_falsetickers| SelectionRule {
            min_agreeing: 1,
            max_falsetickers,
        };
        // f = 2: points covered by three intervals.
        let minority = select(&ivs, 0, rule(MaxFalsetickers::Minority)).unwrap();
        assert_eq!(minority.interval, iv(0, 10));
        // f = 1: points covered by four.
        let one = select(&ivs, 0, rule(MaxFalsetickers::AtMost(1))).unwrap();
        assert_eq!(one.interval, iv(2, 8));
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
