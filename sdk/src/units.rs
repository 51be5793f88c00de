//! Typed units: heights, views, node indices, and the shared time units.
//!
//! Owns: the meaning of every non-time integer that crosses a module boundary ([`Height`],
//! [`View`], [`NodeId`]). The time newtypes ([`Second`], [`UtcNanos`], [`Nanos`], [`Span`]) are
//! owned by `tickchain-units` and re-exported here, so `tickchain_sdk::UtcNanos` stays the path
//! downstream code uses. Never: defines a time type of its own, or calendar logic (that is
//! `chrono`'s, at the edges).

use serde::{Deserialize, Serialize};
use std::fmt;

pub use tickchain_units::{NANOS_PER_SECOND, Nanos, Second, Span, UtcNanos};

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
