//! The NTP probe: one SNTP exchange through `sntpc` (RFC 5905 §7.3 packet, §8 on-wire
//! calculations done by sntpc), turned into a [`Sample`].
//!
//! Owns: one UDP socket per query and the mapping of sntpc's results and errors. Never: retries
//! or filters; the caller polls again and the core's clock filter picks.

use super::{Probe, local_now};
use crate::sample::{LeapIndicator, Sample};
use crate::time::{Nanos, Span};
use sntpc::{NtpContext, StdTimestampGen};
use sntpc_net_tokio::UdpSocketWrapper;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::UdpSocket;

/// sntpc timestamps its own T1 and T4 in whole microseconds and reports offset and delay in
/// whole microseconds, so each may be off by up to 2 µs beyond the server's precision.
pub const CLIENT_PRECISION: Span = Span(2_000);

/// Queries the NTP server at `server` once, waiting at most `timeout`.
pub async fn query(server: SocketAddr, timeout: Duration) -> Probe {
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = match UdpSocket::bind(bind).await {
        Ok(s) => UdpSocketWrapper::new(s),
        Err(e) => return Probe::NoReply(format!("expected a local UDP socket, got {e}")),
    };
    let context = NtpContext::new(StdTimestampGen::default());
    let result = tokio::time::timeout(timeout, sntpc::get_time(server, &socket, context)).await;
    let taken_at = local_now();
    match result {
        Err(_) => Probe::NoReply(format!("expected a reply within {timeout:?}, got none")),
        Ok(Err(e)) => classify_error(e),
        Ok(Ok(r)) => Probe::Sample(Sample {
            offset: Nanos::from_micros(r.offset),
            delay: Span::from_micros(r.roundtrip),
            root_delay: Span::from_ntp_short(r.root_delay),
            root_dispersion: Span::from_ntp_short(r.root_dispersion),
            precision: Span::from_log2_secs(r.precision).plus(CLIENT_PRECISION),
            leap: LeapIndicator::from_bits(r.leap_indicator),
            stratum: r.stratum,
            taken_at,
        }),
    }
}

/// An unsynchronised chronyd answers with leap indicator 3 and stratum 0, which sntpc reports
/// as a kiss-of-death or an unsynchronised clock (RFC 5905 §7.4): both mean "answered, but
/// not synchronised".
fn classify_error(e: sntpc::Error) -> Probe {
    use sntpc::Error as E;
    match e {
        E::KissOfDeath(code) => Probe::Unsynchronised(format!(
            "expected a synchronised server, got kiss code {}",
            code.as_str()
        )),
        E::UnsynchronizedClock | E::IncorrectStratumHeaders | E::ExcessiveRootDistance => {
            Probe::Unsynchronised(format!("expected a synchronised server, got {e:?}"))
        }
        other => Probe::NoReply(format!("expected a valid NTP reply, got {other:?}")),
    }
}
