//! Typed time for the clock model: instants on the UTC (POSIX) axis, signed and unsigned
//! durations in nanoseconds, and frequency tolerances in parts per million.
//!
//! Owns: the arithmetic and unit conversions every other module uses. Never: reads a clock. All
//! arithmetic saturates, so a hostile sample can make an interval huge but never wrap it around.

use serde::Serialize;
use std::fmt;

const NANOS_PER_MICRO: i64 = 1_000;
const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// An instant: nanoseconds since 1970-01-01T00:00:00 UTC on the POSIX time scale (leap seconds
/// are not counted, exactly like `CLOCK_REALTIME`). Covers the years 1678–2262.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct UtcNanos(pub i64);

/// A signed duration in nanoseconds, used for clock offsets (`true UTC − local clock`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct SignedNanos(pub i64);

/// A non-negative duration in nanoseconds, used for delays, dispersions and error radii.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Nanos(pub u64);

/// A frequency tolerance in parts per million: how fast an error bound grows per unit of
/// elapsed time (RFC 5905 §7.2 calls this PHI; 15 ppm there).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Ppm(pub u32);

impl Ppm {
    /// RFC 5905 §7.2 default frequency tolerance PHI: 15 ppm.
    pub const RFC5905_PHI: Ppm = Ppm(15);

    /// The error accumulated over `elapsed` at this tolerance, rounded up so bounds stay hard.
    pub fn over(self, elapsed: Nanos) -> Nanos {
        let product = u128::from(elapsed.0) * u128::from(self.0);
        let rounded_up = product.div_ceil(1_000_000);
        Nanos(u64::try_from(rounded_up).unwrap_or(u64::MAX))
    }
}

impl Default for Ppm {
    fn default() -> Self {
        Self::RFC5905_PHI
    }
}

impl UtcNanos {
    /// The instant `secs` seconds plus `nanos` nanoseconds after the epoch (saturating).
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        UtcNanos(
            secs.saturating_mul(NANOS_PER_SEC)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// Whole POSIX seconds (floor), the label a tick carries.
    pub fn posix_second(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SEC)
    }

    /// Shifts the instant by a signed offset (saturating).
    pub fn shifted(self, by: SignedNanos) -> Self {
        UtcNanos(self.0.saturating_add(by.0))
    }

    /// Signed time from `earlier` to `self` (saturating).
    pub fn since(self, earlier: UtcNanos) -> SignedNanos {
        SignedNanos(self.0.saturating_sub(earlier.0))
    }

    /// Non-negative time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn elapsed_since(self, earlier: UtcNanos) -> Nanos {
        self.since(earlier).clamp_non_negative()
    }

    /// RFC 3339 text with nanoseconds, for humans; `None` outside chrono's range.
    pub fn to_rfc3339(self) -> Option<String> {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = u32::try_from(self.0.rem_euclid(NANOS_PER_SEC)).ok()?;
        chrono::DateTime::from_timestamp(secs, nanos)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
    }
}

impl SignedNanos {
    /// Zero offset.
    pub const ZERO: SignedNanos = SignedNanos(0);

    /// From whole seconds.
    pub fn from_secs(s: i64) -> Self {
        SignedNanos(s.saturating_mul(NANOS_PER_SEC))
    }
    /// From milliseconds.
    pub fn from_millis(ms: i64) -> Self {
        SignedNanos(ms.saturating_mul(NANOS_PER_MILLI))
    }
    /// From microseconds.
    pub fn from_micros(us: i64) -> Self {
        SignedNanos(us.saturating_mul(NANOS_PER_MICRO))
    }
    /// As floating-point seconds (display and weighting only, never for bounds).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// The magnitude as an unsigned duration.
    pub fn abs(self) -> Nanos {
        Nanos(self.0.unsigned_abs())
    }
    /// Zero if negative, else the same value unsigned.
    pub fn clamp_non_negative(self) -> Nanos {
        Nanos(u64::try_from(self.0).unwrap_or(0))
    }
    /// `self + d` (saturating).
    pub fn plus(self, d: Nanos) -> Self {
        SignedNanos(
            self.0
                .saturating_add(i64::try_from(d.0).unwrap_or(i64::MAX)),
        )
    }
    /// `self − d` (saturating).
    pub fn minus(self, d: Nanos) -> Self {
        SignedNanos(
            self.0
                .saturating_sub(i64::try_from(d.0).unwrap_or(i64::MAX)),
        )
    }
    /// `self + other` (saturating).
    pub fn saturating_add(self, other: SignedNanos) -> Self {
        SignedNanos(self.0.saturating_add(other.0))
    }
    /// `self − other` (saturating).
    pub fn saturating_sub(self, other: SignedNanos) -> Self {
        SignedNanos(self.0.saturating_sub(other.0))
    }
}

impl Nanos {
    /// Zero duration.
    pub const ZERO: Nanos = Nanos(0);
    /// The largest representable duration; an "unknown, unbounded" error.
    pub const MAX: Nanos = Nanos(u64::MAX);

    /// From whole seconds.
    pub fn from_secs(s: u64) -> Self {
        Nanos(s.saturating_mul(NANOS_PER_SEC as u64))
    }
    /// From milliseconds.
    pub fn from_millis(ms: u64) -> Self {
        Nanos(ms.saturating_mul(NANOS_PER_MILLI as u64))
    }
    /// From microseconds.
    pub fn from_micros(us: u64) -> Self {
        Nanos(us.saturating_mul(NANOS_PER_MICRO as u64))
    }
    /// `2^exp` seconds rounded up to whole nanoseconds: NTP's log2 precision field
    /// (RFC 5905 §7.3 "Precision"). Exponents below −30 round up to 1 ns.
    pub fn from_log2_secs(exp: i8) -> Self {
        match exp {
            e if e >= 33 => Nanos::MAX,
            e if e >= 0 => Nanos::from_secs(1u64 << e),
            e if e >= -30 => Nanos((NANOS_PER_SEC as u64).div_ceil(1u64 << (-e))),
            _ => Nanos(1),
        }
    }
    /// An NTP short-format value (16.16 fixed-point seconds, RFC 5905 §6) rounded up.
    pub fn from_ntp_short(v: u32) -> Self {
        let n = (u128::from(v) * NANOS_PER_SEC as u128).div_ceil(1 << 16);
        Nanos(u64::try_from(n).unwrap_or(u64::MAX))
    }
    /// As floating-point seconds (display and weighting only, never for bounds).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
    /// As a signed duration (saturating).
    pub fn signed(self) -> SignedNanos {
        SignedNanos(i64::try_from(self.0).unwrap_or(i64::MAX))
    }
    /// `self + other` (saturating).
    pub fn plus(self, other: Nanos) -> Self {
        Nanos(self.0.saturating_add(other.0))
    }
    /// Half, rounded up (the bound stays hard).
    pub fn half_up(self) -> Self {
        Nanos(self.0.div_ceil(2))
    }
}

impl fmt::Display for SignedNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_scaled(f, self.0 as f64)
    }
}

impl fmt::Display for Nanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Nanos::MAX {
            return f.write_str("inf");
        }
        write_scaled(f, self.0 as f64)
    }
}

impl fmt::Display for UtcNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_rfc3339() {
            Some(s) => f.write_str(&s),
            None => write!(f, "{}ns", self.0),
        }
    }
}

/// Human units in the style of `chronyc sources`: ns, us, ms or s with the sign kept.
fn write_scaled(f: &mut fmt::Formatter<'_>, nanos: f64) -> fmt::Result {
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
    fn phi_error_rounds_up_so_a_bound_never_shrinks() {
        assert_eq!(Ppm(15).over(Nanos::from_secs(1)), Nanos(15_000));
        assert_eq!(Ppm(15).over(Nanos(1)), Nanos(1));
        assert_eq!(Ppm(15).over(Nanos::ZERO), Nanos::ZERO);
    }

    #[test]
    fn ntp_short_format_converts_to_nanoseconds_rounding_up() {
        assert_eq!(Nanos::from_ntp_short(1 << 16), Nanos::from_secs(1));
        assert_eq!(Nanos::from_ntp_short(1), Nanos(15_259));
    }

    #[test]
    fn log2_precision_converts_to_nanoseconds_rounding_up() {
        assert_eq!(Nanos::from_log2_secs(0), Nanos::from_secs(1));
        assert_eq!(Nanos::from_log2_secs(-20), Nanos(954));
        assert_eq!(Nanos::from_log2_secs(-100), Nanos(1));
    }

    #[test]
    fn posix_second_floors_before_the_epoch() {
        assert_eq!(UtcNanos(-1).posix_second(), -1);
        assert_eq!(UtcNanos(1_999_999_999).posix_second(), 1);
    }
}
