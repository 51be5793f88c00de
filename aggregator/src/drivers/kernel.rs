//! The kernel clock probe: the local clock's own error bound from `adjtimex(2)`, as maintained
//! by whatever daemon disciplines it (chronyd, ntpd, timesyncd).
//!
//! Owns: mapping kernel status bits to a [`Probe`]. Never: changes the kernel clock.
//!
//! The kernel clock is the local clock, so its offset is 0 and its radius is `maxerror`, which
//! the kernel itself grows at 500 ppm (`MAXFREQ`) between updates. Caveat: it is only as
//! independent as the daemon's own sources.

use super::{Probe, kernel_sys, local_now};
use crate::sample::{LeapIndicator, Sample};
use crate::time::{Nanos, Span};

/// `STA_UNSYNC` (clock not synchronised) in `timex.status`.
const STA_UNSYNC: i32 = 0x0040;
/// `STA_INS` (insert a leap second at the end of the day).
const STA_INS: i32 = 0x0010;
/// `STA_DEL` (delete a leap second at the end of the day).
const STA_DEL: i32 = 0x0020;
/// `TIME_ERROR` clock state.
const TIME_ERROR: i32 = 5;

/// Reads the kernel clock once.
pub fn query() -> Probe {
    match kernel_sys::read() {
        Err(e) => Probe::NoReply(format!("expected adjtimex to succeed, got {e}")),
        Ok(tx) => from_timex(tx.state, tx.status, tx.maxerror_us, tx.precision_us),
    }
}

/// Maps a kernel status to a probe outcome; separate from the syscall so it can be tested.
pub fn from_timex(state: i32, status: i32, maxerror_us: i64, precision_us: i64) -> Probe {
    if status & STA_UNSYNC != 0 || state == TIME_ERROR {
        return Probe::Unsynchronised(format!(
            "expected a synchronised kernel clock, got state {state}, status {status:#06x} (STA_UNSYNC), maxerror {maxerror_us} us"
        ));
    }
    let leap = if status & STA_INS != 0 {
        LeapIndicator::InsertSecond
    } else if status & STA_DEL != 0 {
        LeapIndicator::DeleteSecond
    } else {
        LeapIndicator::NoWarning
    };
    let us = |v: i64| Span::from_micros(u64::try_from(v).unwrap_or(u64::MAX / 1_000));
    Probe::Sample(Sample {
        offset: Nanos::ZERO,
        delay: Span::ZERO,
        root_delay: Span::ZERO,
        root_dispersion: us(maxerror_us),
        precision: us(precision_us).plus(Span(1)),
        leap,
        stratum: 2,
        taken_at: local_now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sta_unsync_means_unsynchronised() {
        assert!(matches!(
            from_timex(5, 0x0041, 16_000_000, 1),
            Probe::Unsynchronised(_)
        ));
    }

    #[test]
    fn synchronised_kernel_clock_gives_maxerror_as_its_radius() {
        let Probe::Sample(s) = from_timex(0, 0x2001, 1_500, 1) else {
            panic!("expected a sample")
        };
        assert_eq!(s.root_dispersion, Span::from_micros(1_500));
        assert_eq!(s.offset, Nanos::ZERO);
    }
}
