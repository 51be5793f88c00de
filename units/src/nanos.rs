//! [`Nanos`]: a signed span of time in nanoseconds (clock offsets, lags, configured delays).
//!
//! Owns: the signed span's constructors, arithmetic and `chronyc`-style display. Never: reads a
//! clock. The non-negative spans of error bounds are [`Span`], a different type.

use crate::{NANOS_PER_MICRO, NANOS_PER_MILLI, NANOS_PER_SECOND, Span};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A signed span of time in nanoseconds; a clock offset is `true UTC − local clock`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// Zero.
    pub const ZERO: Nanos = Nanos(0);

    /// `ms` milliseconds (unchecked, usable in `const`: for configured constants).
    pub const fn from_millis(ms: i64) -> Nanos {
        Nanos(ms * 1_000_000)
    }
    /// `ms` milliseconds (saturating: for values that arrive from outside).
    pub fn saturating_from_millis(ms: i64) -> Self {
        Nanos(ms.saturating_mul(NANOS_PER_MILLI))
    }
    /// From whole seconds (saturating).
    pub fn from_secs(s: i64) -> Self {
        Nanos(s.saturating_mul(NANOS_PER_SECOND))
    }
    /// From microseconds (saturating).
    pub fn from_micros(us: i64) -> Self {
        Nanos(us.saturating_mul(NANOS_PER_MICRO))
    }
    /// As floating-point seconds (display and weighting only, never for bounds).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SECOND as f64
    }
    /// The magnitude as a non-negative span.
    pub fn abs(self) -> Span {
        Span(self.0.unsigned_abs())
    }
    /// Zero if negative, else the same value as a non-negative span.
    pub fn clamp_non_negative(self) -> Span {
        Span(u64::try_from(self.0).unwrap_or(0))
    }
    /// `self + d` (saturating).
    pub fn plus(self, d: Span) -> Self {
        Nanos(
            self.0
                .saturating_add(i64::try_from(d.0).unwrap_or(i64::MAX)),
        )
    }
    /// `self − d` (saturating).
    pub fn minus(self, d: Span) -> Self {
        Nanos(
            self.0
                .saturating_sub(i64::try_from(d.0).unwrap_or(i64::MAX)),
        )
    }
    /// `self + other` (saturating).
    pub fn saturating_add(self, other: Nanos) -> Self {
        Nanos(self.0.saturating_add(other.0))
    }
    /// `self − other` (saturating).
    pub fn saturating_sub(self, other: Nanos) -> Self {
        Nanos(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0 as f64)
    }
}

/// Human units in the style of `chronyc sources`: ns, us, ms or s with the sign kept.
pub(crate) fn write_scaled(f: &mut fmt::Formatter<'_>, nanos: f64) -> fmt::Result {
    let a = nanos.abs();
    if a < 1e3 {
        write!(f, "{nanos:.0}ns")
    } else if a < 1e6 {
        write!(f, "{:.1}us", nanos / 1e3)
    } else if a < 1e9 {
        write!(f, "{:.3}ms", nanos / 1e6)
    } else {
        write!(f, "{:.3}s", nanos / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_const_millisecond_constructor_is_unchecked_and_the_other_saturates() {
        assert_eq!(Nanos::from_millis(-3), Nanos(-3_000_000));
        assert_eq!(Nanos::saturating_from_millis(-3), Nanos(-3_000_000));
        assert_eq!(Nanos::saturating_from_millis(i64::MAX), Nanos(i64::MAX));
    }

    #[test]
    fn adding_a_span_saturates_instead_of_wrapping() {
        assert_eq!(Nanos(i64::MAX - 1).plus(Span(5)), Nanos(i64::MAX));
        assert_eq!(Nanos(0).minus(Span(u64::MAX)), Nanos(-i64::MAX));
        assert_eq!(Nanos(-7).abs(), Span(7));
        assert_eq!(Nanos(-7).clamp_non_negative(), Span::ZERO);
    }

    #[test]
    fn display_scales_like_chronyc_and_keeps_the_sign() {
        assert_eq!(Nanos(-999).to_string(), "-999ns");
        assert_eq!(Nanos(1_500).to_string(), "1.5us");
        assert_eq!(Nanos(-2_000_000).to_string(), "-2.000ms");
        assert_eq!(Nanos(3_000_000_000).to_string(), "3.000s");
    }

    #[test]
    fn serde_form_is_a_bare_integer() {
        assert_eq!(serde_json::to_string(&Nanos(-5)).unwrap(), "-5");
        assert_eq!(serde_json::from_str::<Nanos>("-5").unwrap(), Nanos(-5));
    }
}
