//! Typed time for the clock model: instants on the UTC (POSIX) axis, signed and non-negative
//! spans in nanoseconds, and frequency tolerances in parts per million.
//!
//! Owns: nothing of its own; the types live in `tickchain-units` (shared with the sdk, so the
//! node never converts between two `UtcNanos`) and are re-exported here for the core's modules.
//! Never: reads a clock.
//!
//! Signed offsets are [`Nanos`]; delays, dispersions and error radii are [`Span`]. The
//! arithmetic the core uses saturates, so a hostile sample can make an interval huge but never
//! wrap it around.

pub use tickchain_units::{Nanos, Ppm, Span, UtcNanos};
