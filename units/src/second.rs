//! [`Second`]: a whole POSIX second, the label a tick carries.
//!
//! Owns: the second's serde form, its first instant and the range of seconds that have one.
//! Never: calendar logic.

use crate::{NANOS_PER_SECOND, UtcNanos};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A POSIX second (seconds since 1970-01-01T00:00:00Z, leap seconds not counted).
///
/// Only seconds up to [`Second::MAX`] are valid: a later one has no first instant that a
/// [`UtcNanos`] can hold. The `u64` inside can be anything a peer or a proof sends, so code that
/// faces such input asks [`Second::checked_start`] and rejects `None`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Second(pub u64);

impl Second {
    /// The last valid second, 9,223,372,036 (2262-04-11T23:47:16Z): the last whose first
    /// instant in nanoseconds fits in an `i64`.
    pub const MAX: Second = Second((i64::MAX / NANOS_PER_SECOND) as u64);

    /// The first instant of this second, or `None` if the second is past [`Second::MAX`].
    pub fn checked_start(self) -> Option<UtcNanos> {
        i64::try_from(self.0)
            .ok()
            .and_then(|s| s.checked_mul(NANOS_PER_SECOND))
            .map(UtcNanos)
    }

    /// The first instant of this second, saturating: a second past [`Second::MAX`] gives
    /// `UtcNanos(i64::MAX)`, later than every valid second's start, and never wraps around to
    /// an earlier instant. Code that judges a second from outside must not rely on this: it
    /// uses [`Second::checked_start`] and rejects an invalid second explicitly.
    pub fn start(self) -> UtcNanos {
        self.checked_start().unwrap_or(UtcNanos(i64::MAX))
    }
}

impl fmt::Display for Second {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_valid_second_has_a_start_and_the_next_one_has_none() {
        assert_eq!(Second::MAX, Second(9_223_372_036));
        assert_eq!(
            Second::MAX.checked_start(),
            Some(UtcNanos(9_223_372_036_000_000_000))
        );
        assert_eq!(Second(Second::MAX.0 + 1).checked_start(), None);
        assert_eq!(Second(u64::MAX).checked_start(), None);
        assert_eq!(Second(0).checked_start(), Some(UtcNanos(0)));
    }

    /// Issue 13: `real + 2^55` seconds is exactly `real`'s start modulo 2^64 nanoseconds
    /// (10^9 = 2^9 × 5^9), so a wrapping `start()` placed it in the real second.
    #[test]
    fn a_second_that_would_wrap_to_a_real_one_saturates_instead() {
        let real = Second(1_764_000_010);
        let wrapped = Second(real.0 + (1 << 55));
        assert_eq!(wrapped.checked_start(), None);
        assert_eq!(wrapped.start(), UtcNanos(i64::MAX));
        assert!(wrapped.start() > Second::MAX.start());
        assert_eq!(real.start(), UtcNanos(1_764_000_010_000_000_000));
    }
}
