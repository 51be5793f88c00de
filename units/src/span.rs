//! [`Span`]: a non-negative span of time in nanoseconds, for error bounds, delays, dispersions
//! and radii.
//!
//! Owns: the bound-keeping conversions (every lossy one rounds up, so a bound only widens) and
//! saturating arithmetic. Never: represents an offset; signed spans are [`Nanos`].

use crate::nanos::write_scaled;
use crate::{NANOS_PER_MICRO, NANOS_PER_MILLI, NANOS_PER_SECOND, Nanos};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A non-negative span of time in nanoseconds: error bounds, delays, dispersions and radii.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Span(pub u64);

impl Span {
    /// Zero.
    pub const ZERO: Span = Span(0);
    /// The largest representable span; an "unknown, unbounded" error.
    pub const MAX: Span = Span(u64::MAX);

    /// From whole seconds (saturating).
    pub fn from_secs(s: u64) -> Self {
        Span(s.saturating_mul(NANOS_PER_SECOND as u64))
    }
    /// From milliseconds (saturating).
    pub fn from_millis(ms: u64) -> Self {
        Span(ms.saturating_mul(NANOS_PER_MILLI as u64))
    }
    /// From microseconds (saturating).
    pub fn from_micros(us: u64) -> Self {
        Span(us.saturating_mul(NANOS_PER_MICRO as u64))
    }
    /// `2^exp` seconds rounded up to whole nanoseconds: NTP's log2 precision field
    /// (RFC 5905 §7.3 "Precision"). Exponents below −30 round up to 1 ns.
    pub fn from_log2_secs(exp: i8) -> Self {
        match exp {
            e if e >= 33 => Span::MAX,
            e if e >= 0 => Span::from_secs(1u64 << e),
            e if e >= -30 => Span((NANOS_PER_SECOND as u64).div_ceil(1u64 << (-e))),
            _ => Span(1),
        }
    }
    /// An NTP short-format value (16.16 fixed-point seconds, RFC 5905 §6) rounded up.
    pub fn from_ntp_short(v: u32) -> Self {
        let n = (u128::from(v) * NANOS_PER_SECOND as u128).div_ceil(1 << 16);
        Span(u64::try_from(n).unwrap_or(u64::MAX))
    }
    /// As floating-point seconds (display and weighting only, never for bounds).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }
    /// As a signed span (saturating).
    pub fn signed(self) -> Nanos {
        Nanos(i64::try_from(self.0).unwrap_or(i64::MAX))
    }
    /// `self + other` (saturating).
    pub fn plus(self, other: Span) -> Self {
        Span(self.0.saturating_add(other.0))
    }
    /// Half, rounded up (the bound stays hard).
    pub fn half_up(self) -> Self {
        Span(self.0.div_ceil(2))
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Span::MAX {
            return f.write_str("inf");
        }
        write_scaled(f, self.0 as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_short_format_converts_to_nanoseconds_rounding_up() {
        assert_eq!(Span::from_ntp_short(1 << 16), Span::from_secs(1));
        assert_eq!(Span::from_ntp_short(1), Span(15_259));
    }

    #[test]
    fn log2_precision_converts_to_nanoseconds_rounding_up() {
        assert_eq!(Span::from_log2_secs(0), Span::from_secs(1));
        assert_eq!(Span::from_log2_secs(-20), Span(954));
        assert_eq!(Span::from_log2_secs(-100), Span(1));
    }

    #[test]
    fn an_unbounded_span_displays_as_infinity() {
        assert_eq!(Span::MAX.to_string(), "inf");
        assert_eq!(Span(1_500).to_string(), "1.5us");
    }

    #[test]
    fn a_span_too_large_for_a_signed_span_saturates() {
        assert_eq!(Span(u64::MAX).signed(), Nanos(i64::MAX));
    }
}
