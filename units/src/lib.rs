//! Time newtypes shared by every tickchain crate, so a nanosecond is never confused with a
//! second and an instant never with a span (`specs/time.md` §1).
//!
//! Owns: [`Second`], [`UtcNanos`], [`Nanos`], [`Span`], [`Ppm`], their arithmetic, unit
//! conversions and human formatting. Never: reads a clock, and never depends on anything but
//! serde: the sans-IO aggregator and the offline verifier both build on it.
//!
//! Arithmetic is as each method documents it: most of it saturates, so a hostile sample can make
//! an interval huge but never wrap it around; [`Nanos::from_millis`] is the plain (unchecked)
//! constructor used for configured constants. A [`Second`] is valid up to [`Second::MAX`]:
//! [`Second::checked_start`] says whether it is, and [`Second::start`] saturates.

mod nanos;
mod ppm;
mod second;
mod span;
mod utc;

pub use nanos::Nanos;
pub use ppm::Ppm;
pub use second::Second;
pub use span::Span;
pub use utc::UtcNanos;

/// Nanoseconds in one second.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds in one millisecond.
pub(crate) const NANOS_PER_MILLI: i64 = 1_000_000;
/// Nanoseconds in one microsecond.
pub(crate) const NANOS_PER_MICRO: i64 = 1_000;
