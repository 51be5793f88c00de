//! Typed units: seconds, nanoseconds, heights, views, node indices.
//!
//! Owns the meaning of every integer that crosses a module boundary. Never: calendar logic
//! (that is `chrono`'s, at the edges).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A POSIX second (seconds since 1970-01-01T00:00:00Z, leap seconds not counted).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Second(pub u64);

impl Second {
    /// The first instant of this second.
    pub fn start(self) -> UtcNanos {
        UtcNanos(self.0 as i64 * NANOS_PER_SECOND)
    }
}

impl fmt::Display for Second {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Nanoseconds in one second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// An instant in UTC: nanoseconds since the Unix epoch (POSIX time scale).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UtcNanos(pub i64);

impl UtcNanos {
    /// This instant moved by `d` (saturating).
    pub fn saturating_add(self, d: Nanos) -> UtcNanos {
        UtcNanos(self.0.saturating_add(d.0))
    }

    /// This instant moved back by `d` (saturating).
    pub fn saturating_sub(self, d: Nanos) -> UtcNanos {
        UtcNanos(self.0.saturating_sub(d.0))
    }

    /// The POSIX second this instant falls in (floor).
    pub fn second_floor(self) -> i64 {
        self.0.div_euclid(NANOS_PER_SECOND)
    }
}

/// A signed span of time in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Nanos(pub i64);

impl Nanos {
    /// `ms` milliseconds.
    pub const fn from_millis(ms: i64) -> Nanos {
        Nanos(ms * 1_000_000)
    }
}

/// A position in the chain: the first tick after genesis has height 1.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Height(pub u64);

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A consensus view (Simplex round). Views are not seconds: several views may pass in one second.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct View(pub u64);

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A node's position in the genesis node list (0-based). Its key is `genesis.nodes[id]`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct NodeId(pub u16);

impl NodeId {
    /// The index into the genesis node list.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
