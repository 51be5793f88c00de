//! What the aggregator publishes: a UTC interval with its best guess and per-source verdicts, or
//! the reason there is none.
//!
//! Owns: the output types and their widening at Φ between updates (TrueTime semantics).
//! Never: computes an estimate from samples (see `aggregator`).

use crate::leap::LeapPending;
use crate::reach::Reach;
use crate::sample::{LeapIndicator, SourceClass};
use crate::select::SelectError;
use crate::time::{Nanos, Ppm, Span, UtcNanos};
use serde::Serialize;
use std::fmt;

/// How selection judged one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Its interval meets the agreed interval; it is averaged in.
    Truechimer,
    /// Its interval misses the agreed interval; it is reported, never averaged in.
    Falseticker,
    /// None of its last eight polls was answered, or it has no sample yet.
    Unreachable,
    /// It answers but says it is not synchronised (leap indicator 3, stratum 0 or 16, a kiss
    /// code), or its radius exceeds the configured maximum.
    Unsynchronised,
    /// It was usable but no majority formed, so no verdict could be reached.
    Undecided,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Truechimer => "truechimer",
            Verdict::Falseticker => "falseticker",
            Verdict::Unreachable => "unreachable",
            Verdict::Unsynchronised => "unsynchronised",
            Verdict::Undecided => "undecided",
        })
    }
}

/// One source's line in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceReport {
    /// The operator's label for the source.
    pub label: String,
    /// What kind of source it is.
    pub class: SourceClass,
    /// The selection verdict.
    pub verdict: Verdict,
    /// The filtered offset θ (true UTC − local clock), when a sample exists.
    pub offset: Option<Nanos>,
    /// The filtered sample's path delay δ.
    pub delay: Option<Span>,
    /// The radius λ at the estimate's time.
    pub radius: Option<Span>,
    /// The source's stratum from its latest sample.
    pub stratum: Option<u8>,
    /// The source's leap indicator from its latest sample.
    pub leap: Option<LeapIndicator>,
    /// Reachability register, newest poll in bit 0.
    pub reach: Reach,
    /// Why the source is unsynchronised or unreachable, in words.
    pub detail: Option<String>,
}

/// A synchronised estimate of UTC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// The local clock reading the estimate was computed for.
    pub computed_at: UtcNanos,
    /// The earliest UTC instant it may be at `computed_at`.
    pub earliest: UtcNanos,
    /// The latest UTC instant it may be at `computed_at`.
    pub latest: UtcNanos,
    /// The combined best-guess offset (true UTC − local clock), inside the interval.
    pub offset: Nanos,
    /// The most sources that agree on one point.
    pub agreeing: usize,
    /// The leap second the majority of truechimers announce.
    pub leap: LeapPending,
    /// Every configured source with its verdict.
    pub sources: Vec<SourceReport>,
}

impl Estimate {
    /// Half the width of `[earliest, latest]`.
    pub fn radius(&self) -> Span {
        Span(self.latest.0.abs_diff(self.earliest.0).div_ceil(2))
    }

    /// The interval at a later local clock reading `now`: it moves with the local clock and
    /// widens by Φ·(now − computed_at) on both sides, because the local oscillator may drift
    /// that fast since the estimate was made. A `now` before `computed_at` is treated as
    /// `computed_at`.
    pub fn interval_at(&self, now: UtcNanos, phi: Ppm) -> (UtcNanos, UtcNanos) {
        let elapsed = now.elapsed_since(self.computed_at);
        let drift = phi.over(elapsed);
        let moved = elapsed.signed();
        (
            self.earliest
                .shifted(moved)
                .shifted(Nanos::ZERO.minus(drift)),
            self.latest.shifted(moved).shifted(drift.signed()),
        )
    }
}

/// Why there is no estimate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "kebab-case")]
pub enum UnsyncReason {
    /// Selection found no agreed interval.
    #[error(transparent)]
    Selection(SelectError),
}

/// The aggregator's answer at one instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum TimeEstimate {
    /// UTC is known to lie in `[earliest, latest]`.
    Synchronised(Estimate),
    /// UTC is not known with a hard bound; the node must not vote.
    Unsynchronised {
        /// Why.
        reason: UnsyncReason,
        /// Every configured source with its verdict.
        sources: Vec<SourceReport>,
    },
}

impl TimeEstimate {
    /// The per-source reports, whichever the state.
    pub fn sources(&self) -> &[SourceReport] {
        match self {
            TimeEstimate::Synchronised(e) => &e.sources,
            TimeEstimate::Unsynchronised { sources, .. } => sources,
        }
    }

    /// The estimate, if synchronised.
    pub fn estimate(&self) -> Option<&Estimate> {
        match self {
            TimeEstimate::Synchronised(e) => Some(e),
            TimeEstimate::Unsynchronised { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_interval_widens_at_phi_between_updates() {
        let e = Estimate {
            computed_at: UtcNanos::from_parts(100, 0),
            earliest: UtcNanos::from_parts(100, 0),
            latest: UtcNanos::from_parts(100, 2_000),
            offset: Nanos(1_000),
            agreeing: 3,
            leap: LeapPending::None,
            sources: vec![],
        };
        let (lo, hi) = e.interval_at(UtcNanos::from_parts(110, 0), Ppm(15));
        assert_eq!(lo, UtcNanos::from_parts(109, 1_000_000_000 - 150_000));
        assert_eq!(hi, UtcNanos::from_parts(110, 2_000 + 150_000));
    }
}
