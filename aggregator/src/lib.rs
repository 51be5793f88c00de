//! Time sources and the clock model (see `specs/time.md`).
//!
//! Owns: samples from NTP, GNSS, the kernel clock and peers, and their intersection into one UTC
//! interval with a hard error bound. Never: signs, stores, or talks consensus.
//!
//! The core (every module except `drivers`) is sans-IO: no sockets, no clock reads, no tasks.
//! Drivers (feature `drivers`, on by default) are thin tokio shells that take measurements and
//! hand them to the core.

pub mod aggregator;
pub mod combine;
pub mod estimate;
pub mod filter;
pub mod gpsd_json;
pub mod leap;
pub mod nmea;
pub mod ntp_packet;
pub mod peer;
pub mod reach;
pub mod sample;
pub mod select;
pub mod time;
pub mod tolerance;

#[cfg(feature = "drivers")]
pub mod drivers;

pub use aggregator::{Aggregator, AggregatorConfig, SourceId};
pub use estimate::{Estimate, SourceReport, TimeEstimate, UnsyncReason, Verdict};
pub use leap::LeapPending;
pub use sample::{LeapIndicator, OffsetInterval, Sample, SourceClass};
pub use time::{Nanos, Ppm, Span, UtcNanos};
pub use tolerance::MaxFalsetickers;
