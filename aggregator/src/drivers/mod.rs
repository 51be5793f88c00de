//! Probe drivers: thin tokio shells that take one measurement from a real source and hand it to
//! the sans-IO core as a [`Probe`].
//!
//! Owns: sockets, timeouts, the polling loops ([`poll`]) and reading the local clock. Never:
//! filters, selects or judges samples; that is the core's job, so simulators run the same
//! decisions.

pub mod gpsd;
pub mod kernel;
#[allow(unsafe_code)] // the one FFI call, with its safety contract in the module
mod kernel_sys;
pub mod ntp;
pub mod poll;

use crate::aggregator::{Aggregator, SourceId};
use crate::sample::Sample;
use crate::time::UtcNanos;
use std::time::{SystemTime, UNIX_EPOCH};

/// The outcome of one poll of one source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A usable measurement.
    Sample(Sample),
    /// The source answered but is not synchronised; the text says how.
    Unsynchronised(String),
    /// The source did not answer usefully; the text says why.
    NoReply(String),
}

impl Probe {
    /// Feeds this outcome into the aggregator as source `id`.
    pub fn feed(self, aggregator: &mut Aggregator, id: SourceId) {
        match self {
            Probe::Sample(s) => aggregator.on_sample(id, s),
            Probe::Unsynchronised(why) => aggregator.on_unsynchronised(id, why),
            Probe::NoReply(why) => aggregator.on_no_reply(id, why),
        }
    }
}

/// The local clock (`CLOCK_REALTIME`) as [`UtcNanos`]; the only clock read in this crate.
pub fn local_now() -> UtcNanos {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => UtcNanos::from_parts(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            UtcNanos(0).shifted(crate::time::Nanos(
                -i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            ))
        }
    }
}
