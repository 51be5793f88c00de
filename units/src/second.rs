//! [`Second`]: a whole POSIX second, the label a tick carries.
//!
//! Owns: the second's serde form and its first instant. Never: calendar logic.

use crate::{NANOS_PER_SECOND, UtcNanos};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A POSIX second (seconds since 1970-01-01T00:00:00Z, leap seconds not counted).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Second(pub u64);

impl Second {
    /// The first instant of this second (unchecked: seconds past year 2262 wrap).
    pub fn start(self) -> UtcNanos {
        UtcNanos(self.0 as i64 * NANOS_PER_SECOND)
    }
}

impl fmt::Display for Second {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
