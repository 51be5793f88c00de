//! One measurement of the local clock against a source, and the correctness interval it implies.
//!
//! Owns: the sample model and the radius formula `λ(t)` (RFC 5905 §10 "root distance" with the
//! path delay halved). Never: decides whether a source is right; that is selection's job.

use crate::time::{Nanos, Ppm, Span, UtcNanos};
use serde::Serialize;
use std::fmt;

/// What kind of source produced a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceClass {
    /// An NTP server (RFC 5905), queried over UDP.
    Ntp,
    /// A GNSS receiver, read through gpsd.
    Gnss,
    /// The local kernel clock's own error estimate (`adjtimex`).
    Kernel,
    /// Another tickchain node, through a four-timestamp exchange.
    Peer,
}

impl fmt::Display for SourceClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceClass::Ntp => "ntp",
            SourceClass::Gnss => "gnss",
            SourceClass::Kernel => "kernel",
            SourceClass::Peer => "peer",
        })
    }
}

/// The two-bit NTP leap indicator (RFC 5905 §7.3 "LI").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeapIndicator {
    /// 0: no leap second pending.
    #[default]
    NoWarning,
    /// 1: the last minute of the day has 61 seconds.
    InsertSecond,
    /// 2: the last minute of the day has 59 seconds.
    DeleteSecond,
    /// 3: the source's clock is not synchronised.
    Unsynchronised,
}

impl LeapIndicator {
    /// Decodes the two-bit wire value; only the low two bits are read.
    pub fn from_bits(li: u8) -> Self {
        match li & 3 {
            0 => LeapIndicator::NoWarning,
            1 => LeapIndicator::InsertSecond,
            2 => LeapIndicator::DeleteSecond,
            _ => LeapIndicator::Unsynchronised,
        }
    }
}

/// One measurement: at local clock reading `taken_at`, true UTC minus the local clock was
/// `offset`, give or take the radius computed by [`Sample::radius_at`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// θ: true time minus local clock, as measured (RFC 5905 §8 "offset").
    pub offset: Nanos,
    /// δ: round-trip path delay of the measurement (RFC 5905 §8 "delay"). The truth lies within
    /// δ/2 of θ when the path is arbitrarily asymmetric.
    pub delay: Span,
    /// The source's own round-trip delay to its primary reference (RFC 5905 §7.3).
    pub root_delay: Span,
    /// The source's own error bound relative to its primary reference (RFC 5905 §7.3).
    pub root_dispersion: Span,
    /// Reading granularity of both clocks involved, added once (RFC 5905 §7.3 "Precision").
    pub precision: Span,
    /// The source's leap indicator.
    pub leap: LeapIndicator,
    /// The source's stratum (1 = primary reference, 16 = unsynchronised).
    pub stratum: u8,
    /// The local clock reading when the sample was taken.
    pub taken_at: UtcNanos,
}

impl Sample {
    /// The radius λ(t) = δ/2 + root_delay/2 + root_dispersion + precision + Φ·(t − t_sample).
    ///
    /// This is RFC 5905 §10's root synchronization distance, with two changes for a hard bound:
    /// the halves round up, and the aging term uses the configured tolerance Φ. `now` before
    /// `taken_at` ages nothing.
    pub fn radius_at(&self, now: UtcNanos, phi: Ppm) -> Span {
        self.delay
            .half_up()
            .plus(self.root_delay.half_up())
            .plus(self.root_dispersion)
            .plus(self.precision)
            .plus(phi.over(now.elapsed_since(self.taken_at)))
    }

    /// The correctness interval in offset space at local time `now`.
    pub fn interval_at(&self, now: UtcNanos, phi: Ppm) -> OffsetInterval {
        OffsetInterval::around(self.offset, self.radius_at(now, phi))
    }
}

/// A closed interval of offsets `[lo, hi]` (true UTC minus local clock) known to contain the
/// truth if the source is correct.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OffsetInterval {
    /// Lowest possible offset.
    pub lo: Nanos,
    /// Highest possible offset.
    pub hi: Nanos,
}

impl OffsetInterval {
    /// `[centre − radius, centre + radius]`.
    pub fn around(centre: Nanos, radius: Span) -> Self {
        OffsetInterval {
            lo: centre.minus(radius),
            hi: centre.plus(radius),
        }
    }

    /// Whether `x` lies in the closed interval.
    pub fn contains(&self, x: Nanos) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// The midpoint, rounded towards negative infinity.
    pub fn midpoint(&self) -> Nanos {
        Nanos(((i128::from(self.lo.0) + i128::from(self.hi.0)).div_euclid(2)) as i64)
    }

    /// Half the width, rounded up.
    pub fn radius(&self) -> Span {
        Span((self.hi.0.abs_diff(self.lo.0)).div_ceil(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        Sample {
            offset: Nanos::from_micros(10),
            delay: Span::from_micros(40),
            root_delay: Span::from_micros(100),
            root_dispersion: Span::from_micros(7),
            precision: Span(954),
            leap: LeapIndicator::NoWarning,
            stratum: 2,
            taken_at: UtcNanos::from_parts(1_000, 0),
        }
    }

    #[test]
    fn radius_adds_half_delays_dispersion_precision_and_phi_aging() {
        let s = sample();
        let later = UtcNanos::from_parts(1_010, 0);
        // 20 us + 50 us + 7 us + 954 ns + 15 ppm * 10 s (150 us)
        assert_eq!(
            s.radius_at(later, Ppm(15)),
            Span(20_000 + 50_000 + 7_000 + 954 + 150_000)
        );
    }

    #[test]
    fn radius_does_not_age_backwards_in_time() {
        let s = sample();
        let before = UtcNanos::from_parts(999, 0);
        assert_eq!(
            s.radius_at(before, Ppm(15)),
            s.radius_at(s.taken_at, Ppm(15))
        );
    }

    #[test]
    fn leap_indicator_reads_only_two_bits() {
        assert_eq!(
            LeapIndicator::from_bits(0b111),
            LeapIndicator::Unsynchronised
        );
        assert_eq!(LeapIndicator::from_bits(0b101), LeapIndicator::InsertSecond);
    }
}
