//! Peer samples: the NTP-style four-timestamp exchange between two tickchain nodes, which the
//! consensus ring's transport will carry.
//!
//! Owns: turning `t1..t4` plus the peer's own error bound into a [`Sample`]. Never: sends,
//! receives or authenticates anything; the ring's transport does that and calls in here.

use crate::sample::{LeapIndicator, Sample};
use crate::time::{Nanos, Span, UtcNanos};
use thiserror::Error;

/// One completed exchange, RFC 5905 §8 naming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerExchange {
    /// T1: our clock when the request left.
    pub t1: UtcNanos,
    /// T2: the peer's clock when the request arrived.
    pub t2: UtcNanos,
    /// T3: the peer's clock when the reply left.
    pub t3: UtcNanos,
    /// T4: our clock when the reply arrived.
    pub t4: UtcNanos,
    /// Half the width of the peer's own published interval when it sent T3; it becomes the
    /// sample's root dispersion.
    pub peer_radius: Span,
    /// The peer's leap indicator (3 when the peer is unsynchronised).
    pub peer_leap: LeapIndicator,
    /// The peer's stratum.
    pub peer_stratum: u8,
    /// Timestamp granularity of both clocks.
    pub precision: Span,
}

/// An exchange whose timestamps cannot come from a real round trip.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PeerExchangeError {
    /// T4 before T1 on our own clock.
    #[error("expected t4 >= t1 on the local clock, got t1 = {t1:?}, t4 = {t4:?}")]
    ReplyBeforeRequest {
        /// T1.
        t1: UtcNanos,
        /// T4.
        t4: UtcNanos,
    },
    /// The peer claims it held the request longer than the round trip took.
    #[error(
        "expected the peer's hold time t3 - t2 ({held}) to fit in the round trip t4 - t1 ({round_trip})"
    )]
    NegativeDelay {
        /// T3 − T2.
        held: Nanos,
        /// T4 − T1.
        round_trip: Nanos,
    },
}

impl PeerExchange {
    /// RFC 5905 §8: θ = ((T2 − T1) + (T3 − T4)) / 2 and δ = (T4 − T1) − (T3 − T2). The
    /// sample is taken at T4.
    pub fn to_sample(&self) -> Result<Sample, PeerExchangeError> {
        let round_trip = self.t4.since(self.t1);
        if round_trip.0 < 0 {
            return Err(PeerExchangeError::ReplyBeforeRequest {
                t1: self.t1,
                t4: self.t4,
            });
        }
        let held = self.t3.since(self.t2);
        let delay = round_trip.saturating_sub(held);
        if delay.0 < 0 {
            return Err(PeerExchangeError::NegativeDelay { held, round_trip });
        }
        let out = self.t2.since(self.t1);
        let back = self.t3.since(self.t4);
        let offset = Nanos(((i128::from(out.0) + i128::from(back.0)) / 2) as i64);
        Ok(Sample {
            offset,
            delay: delay.clamp_non_negative(),
            root_delay: Span::ZERO,
            root_dispersion: self.peer_radius,
            precision: self.precision,
            leap: self.peer_leap,
            stratum: self.peer_stratum,
            taken_at: self.t4,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Ppm;

    #[test]
    fn symmetric_exchange_measures_the_peer_offset_exactly() {
        // Peer runs 5 ms ahead; 1 ms each way; the peer holds the request 0.2 ms.
        let ms = |m: i64| UtcNanos(1_000_000_000_000 + m * 1_000_000);
        let x = PeerExchange {
            t1: ms(0),
            t2: ms(6),
            t3: UtcNanos(ms(6).0 + 200_000),
            t4: UtcNanos(ms(2).0 + 200_000),
            peer_radius: Span::from_micros(30),
            peer_leap: LeapIndicator::NoWarning,
            peer_stratum: 2,
            precision: Span(1),
        };
        let s = x.to_sample().unwrap();
        assert_eq!(s.offset, Nanos::saturating_from_millis(5));
        assert_eq!(s.delay, Span::from_millis(2));
        assert!(
            s.interval_at(s.taken_at, Ppm(15))
                .contains(Nanos::saturating_from_millis(5))
        );
    }

    #[test]
    fn exchange_with_a_hold_longer_than_the_round_trip_is_rejected() {
        let x = PeerExchange {
            t1: UtcNanos(0),
            t2: UtcNanos(0),
            t3: UtcNanos(10),
            t4: UtcNanos(5),
            peer_radius: Span::ZERO,
            peer_leap: LeapIndicator::NoWarning,
            peer_stratum: 2,
            precision: Span(1),
        };
        assert!(matches!(
            x.to_sample(),
            Err(PeerExchangeError::NegativeDelay { .. })
        ));
    }
}
