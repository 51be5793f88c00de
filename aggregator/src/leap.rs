//! Leap seconds: a majority vote over the truechimers' leap indicators, and the widening of the
//! published interval around a pending leap.
//!
//! Owns: the decision whether a leap second is pending and what it does to `[earliest, latest]`.
//! Never: steps or smears a clock. Ticks are labelled with POSIX seconds, which repeat (insert)
//! or skip (delete) the last second of the day; sources step at slightly different moments, so
//! near the leap the interval is widened by one second on the side the step moves time.

use crate::sample::LeapIndicator;
use crate::time::{Nanos, UtcNanos};
use chrono::{Datelike, Duration as ChronoDuration};
use serde::Serialize;

/// The leap second the majority of truechimers announce.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LeapPending {
    /// No leap second at the end of this day.
    #[default]
    None,
    /// 23:59:60 will be inserted: POSIX time repeats 23:59:59.
    Insert,
    /// 23:59:59 will be deleted: POSIX time skips it.
    Delete,
}

impl std::fmt::Display for LeapPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LeapPending::None => "none",
            LeapPending::Insert => "insert",
            LeapPending::Delete => "delete",
        })
    }
}

/// A strict majority of the truechimers' indicators decides (RFC 5905 §11.2.3 takes the system
/// peer's indicator; a vote cannot be swayed by a single falseticker). No majority: `None`.
pub fn vote(indicators: &[LeapIndicator]) -> LeapPending {
    let n = indicators.len();
    let count = |li| indicators.iter().filter(|&&x| x == li).count();
    if count(LeapIndicator::InsertSecond) * 2 > n {
        LeapPending::Insert
    } else if count(LeapIndicator::DeleteSecond) * 2 > n {
        LeapPending::Delete
    } else {
        LeapPending::None
    }
}

/// Widens `[earliest, latest]` by one second when a leap is pending and the interval, padded by
/// one second, reaches a UTC midnight that ends a month (leap seconds only happen there): an
/// insert widens `earliest` (a clock that already stepped reads one second less), a delete widens
/// `latest`.
pub fn widen(earliest: UtcNanos, latest: UtcNanos, pending: LeapPending) -> (UtcNanos, UtcNanos) {
    if pending == LeapPending::None {
        return (earliest, latest);
    }
    let one = Nanos::from_secs(1);
    let from = earliest.shifted(Nanos(-one.0)).posix_second();
    let to = latest.shifted(one).posix_second();
    let first_midnight = from.div_euclid(86_400) * 86_400 + 86_400;
    let mut midnight = first_midnight;
    let mut affected = false;
    while midnight <= to {
        if ends_a_month(midnight) {
            affected = true;
            break;
        }
        midnight += 86_400;
    }
    if !affected {
        return (earliest, latest);
    }
    match pending {
        LeapPending::Insert => (earliest.shifted(Nanos(-one.0)), latest),
        LeapPending::Delete => (earliest, latest.shifted(one)),
        LeapPending::None => (earliest, latest),
    }
}

fn ends_a_month(posix_midnight: i64) -> bool {
    chrono::DateTime::from_timestamp(posix_midnight, 0)
        .map(|t| t.day() == 1 && (t - ChronoDuration::days(1)).month() != t.month())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2017-01-01T00:00:00Z, right after the last leap second so far.
    const NEW_YEAR_2017: i64 = 1_483_228_800;

    #[test]
    fn a_single_falseticker_cannot_announce_a_leap() {
        use LeapIndicator::*;
        assert_eq!(
            vote(&[InsertSecond, NoWarning, NoWarning]),
            LeapPending::None
        );
        assert_eq!(
            vote(&[InsertSecond, InsertSecond, NoWarning]),
            LeapPending::Insert
        );
        assert_eq!(
            vote(&[DeleteSecond, DeleteSecond, NoWarning]),
            LeapPending::Delete
        );
    }

    #[test]
    fn insert_widens_earliest_by_one_second_only_around_month_end_midnight() {
        let e = UtcNanos::from_parts(NEW_YEAR_2017 - 1, 0);
        let l = UtcNanos::from_parts(NEW_YEAR_2017 - 1, 1_000);
        let (we, wl) = widen(e, l, LeapPending::Insert);
        assert_eq!((we, wl), (UtcNanos::from_parts(NEW_YEAR_2017 - 2, 0), l));
        let mid_day = UtcNanos::from_parts(NEW_YEAR_2017 - 43_200, 0);
        assert_eq!(
            widen(mid_day, mid_day, LeapPending::Insert),
            (mid_day, mid_day)
        );
    }

    #[test]
    fn delete_widens_latest_by_one_second() {
        let e = UtcNanos::from_parts(NEW_YEAR_2017 - 1, 0);
        let (_, wl) = widen(e, e, LeapPending::Delete);
        assert_eq!(wl, UtcNanos::from_parts(NEW_YEAR_2017, 0));
    }

    #[test]
    fn midnight_inside_a_month_is_never_a_leap() {
        let mid_month = NEW_YEAR_2017 + 14 * 86_400;
        let t = UtcNanos::from_parts(mid_month, 0);
        assert_eq!(widen(t, t, LeapPending::Insert), (t, t));
    }
}
