//! [`UtcNanos`]: an instant on the POSIX (UTC, leap seconds not counted) time scale.
//!
//! Owns: moving instants by spans, the span between two instants, and RFC 3339 text. Never:
//! reads a clock or knows about leap seconds (the aggregator's `leap` module does).

use crate::{NANOS_PER_SECOND, Nanos, Span};
use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant in UTC: nanoseconds since 1970-01-01T00:00:00Z on the POSIX time scale (leap
/// seconds are not counted, exactly like `CLOCK_REALTIME`). Covers the years 1677–2262.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UtcNanos(pub i64);

impl UtcNanos {
    /// The instant `secs` seconds plus `nanos` nanoseconds after the epoch (saturating).
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        UtcNanos(
            secs.saturating_mul(NANOS_PER_SECOND)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// This instant moved by `d` (saturating).
    pub fn saturating_add(self, d: Nanos) -> UtcNanos {
        UtcNanos(self.0.saturating_add(d.0))
    }

    /// This instant moved back by `d` (saturating).
    pub fn saturating_sub(self, d: Nanos) -> UtcNanos {
        UtcNanos(self.0.saturating_sub(d.0))
    }

    /// Shifts the instant by a signed offset (saturating; the same as
    /// [`UtcNanos::saturating_add`], the name the clock model reads best with).
    pub fn shifted(self, by: Nanos) -> Self {
        UtcNanos(self.0.saturating_add(by.0))
    }

    /// The POSIX second this instant falls in (floor).
    pub fn second_floor(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SECOND)
    }

    /// Whole POSIX seconds (floor), the label a tick carries; the same as
    /// [`UtcNanos::second_floor`].
    pub fn posix_second(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SECOND)
    }

    /// Signed time from `earlier` to `self` (saturating).
    pub fn since(self, earlier: UtcNanos) -> Nanos {
        Nanos(self.0.saturating_sub(earlier.0))
    }

    /// Non-negative time elapsed from `earlier` to `self`; zero if `earlier` is later.
    pub fn elapsed_since(self, earlier: UtcNanos) -> Span {
        self.since(earlier).clamp_non_negative()
    }

    /// RFC 3339 text with nanoseconds and a `Z`, for humans, e.g.
    /// `2025-01-02T03:04:05.000000006Z`. Every `i64` instant has one, so this is always `Some`.
    pub fn to_rfc3339(self) -> Option<String> {
        let secs = self.0.div_euclid(NANOS_PER_SECOND);
        let nanos = self.0.rem_euclid(NANOS_PER_SECOND);
        let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        Some(format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
            second_of_day / 3_600,
            second_of_day / 60 % 60,
            second_of_day % 60
        ))
    }
}

/// The proleptic Gregorian date of `days` since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of the 400-year era, [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for UtcNanos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_rfc3339() {
            Some(s) => f.write_str(&s),
            None => write!(f, "{}ns", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono_rfc3339(t: UtcNanos) -> String {
        let secs = t.0.div_euclid(NANOS_PER_SECOND);
        let nanos = u32::try_from(t.0.rem_euclid(NANOS_PER_SECOND)).unwrap();
        chrono::DateTime::from_timestamp(secs, nanos)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
    }

    #[test]
    fn posix_second_floors_before_the_epoch() {
        assert_eq!(UtcNanos(-1).posix_second(), -1);
        assert_eq!(UtcNanos(1_999_999_999).posix_second(), 1);
        assert_eq!(UtcNanos(-1).second_floor(), -1);
    }

    #[test]
    fn rfc3339_text_matches_chrono_at_the_edges() {
        for t in [
            i64::MIN,
            i64::MIN + 1,
            -NANOS_PER_SECOND * 86_400 - 1,
            -1,
            0,
            1,
            951_782_400 * NANOS_PER_SECOND, // 2000-02-29
            4_107_542_400 * NANOS_PER_SECOND - 1,
            i64::MAX,
        ] {
            assert_eq!(
                UtcNanos(t).to_rfc3339().unwrap(),
                chrono_rfc3339(UtcNanos(t))
            );
        }
        assert_eq!(UtcNanos(6).to_string(), "1970-01-01T00:00:00.000000006Z");
    }

    proptest! {
        #[test]
        fn rfc3339_text_matches_chrono_for_every_instant(t in any::<i64>()) {
            prop_assert_eq!(UtcNanos(t).to_rfc3339().unwrap(), chrono_rfc3339(UtcNanos(t)));
        }
    }

    #[test]
    fn moving_an_instant_saturates() {
        assert_eq!(UtcNanos(i64::MAX).shifted(Nanos(1)), UtcNanos(i64::MAX));
        assert_eq!(
            UtcNanos(i64::MIN).saturating_sub(Nanos(1)),
            UtcNanos(i64::MIN)
        );
        assert_eq!(UtcNanos(5).elapsed_since(UtcNanos(9)), Span::ZERO);
        assert_eq!(UtcNanos(9).since(UtcNanos(5)), Nanos(4));
    }
}
