//! The NTPv4 server (RFC 5905 server mode) a node can run: the node's measured time for stock
//! NTP clients, with an honest error bound (`specs/time.md` § NTP server).
//!
//! Owns: the UDP socket, its thread, and turning the node's clock into replies. Never: answers
//! while the node's clock is unsynchronised, replies with more bytes than the request, or lets
//! one client take more than its rate (a RATE kiss-o'-death, then silence); never runs above
//! the intake priority (work clients cause stays below the consensus thread).

pub mod rate;

use crate::facade_stats::FacadeCounters;
use crate::node::clock::{NodeClock, ServedTime};
use rate::{RateLimits, Verdict};
use serde::Deserialize;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tickchain_aggregator::ntp_packet::{ServerState, decode_request, encode_kiss, encode_reply};
use tickchain_sdk::{Nanos, UtcNanos};
use tracing::{debug, info, warn};

/// The reference id every reply carries ("TICK"; read as an IPv4 address it is 84.73.67.75,
/// which no client is likely to have, so clients' loop detection never misfires).
pub const REFERENCE_ID: [u8; 4] = *b"TICK";

/// `[ntp]`: the NTP server (off unless `listen` is set).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NtpSection {
    /// UDP address to serve on (e.g. `127.0.0.1:7400`); unset: no NTP server.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// Each client address may send one request per this many milliseconds on average (0: no
    /// limit). Default 1000 (chrony and ntpd clients poll every 64 s or slower by default).
    #[serde(default = "default_interval_ms")]
    pub min_interval_ms: u64,
    /// Requests a client may send at once before the average applies. Default 16.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Client addresses remembered for rate limits (a new one evicts the oldest). Default
    /// 65,536.
    #[serde(default = "default_max_clients")]
    pub max_clients: usize,
    /// Replies per second in all, whatever the addresses (bounds the work and any reflected
    /// traffic a flood of spoofed addresses can cause). Default 20,000.
    #[serde(default = "default_max_replies")]
    pub max_replies_per_second: u32,
}

fn default_interval_ms() -> u64 {
    1000
}
fn default_burst() -> u32 {
    16
}
fn default_max_clients() -> usize {
    65_536
}
fn default_max_replies() -> u32 {
    20_000
}

impl Default for NtpSection {
    fn default() -> Self {
        NtpSection {
            listen: None,
            min_interval_ms: default_interval_ms(),
            burst: default_burst(),
            max_clients: default_max_clients(),
            max_replies_per_second: default_max_replies(),
        }
    }
}

/// A running NTP server; stopped (and its thread joined) on drop.
pub struct NtpServer {
    /// The address it serves on.
    pub local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl NtpServer {
    /// Binds `section.listen` and serves `clock` on a thread of its own; `None` when no
    /// address is configured.
    pub fn start(
        section: &NtpSection,
        clock: NodeClock,
        stats: Arc<FacadeCounters>,
    ) -> std::io::Result<Option<NtpServer>> {
        let Some(listen) = section.listen else {
            return Ok(None);
        };
        let socket = UdpSocket::bind(listen)?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        let local_addr = socket.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let limits = RateLimits::new(
            Duration::from_millis(section.min_interval_ms),
            section.burst,
            section.max_clients,
            section.max_replies_per_second,
        );
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ntp".into())
            .spawn(move || {
                crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
                serve(&socket, &clock, limits, &flag, &stats);
            })?;
        info!(ntp = %local_addr, "NTP server listening");
        Ok(Some(NtpServer {
            local_addr,
            stop,
            thread: Some(thread),
        }))
    }
}

impl Drop for NtpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            warn!(ntp = %self.local_addr, "the NTP server thread had panicked");
        }
    }
}

/// How long one reading of the node's clock serves requests before it is taken again (the
/// aggregator's lock is shared with the consensus thread, so a flood must not take it per
/// packet).
const CACHE_FOR: Duration = Duration::from_millis(100);
/// How fast the cached interval widens while it is reused: far above any oscillator's drift
/// (the aggregator's own tolerance is 15 ppm by default), 100 ppm.
const CACHE_WIDEN_PPM: i64 = 100;

/// The node's served time, read at most every [`CACHE_FOR`] and carried forward in between
/// (the NTP and Roughtime servers' threads each keep one).
pub(crate) struct Cached<'a> {
    clock: &'a NodeClock,
    read: Option<(Instant, Option<ServedTime>)>,
}

impl<'a> Cached<'a> {
    /// Nothing read yet.
    pub(crate) fn new(clock: &'a NodeClock) -> Cached<'a> {
        Cached { clock, read: None }
    }

    /// The served time at the instant `at` (`None`: unsynchronised).
    pub(crate) fn at(&mut self, at: Instant) -> Option<ServedTime> {
        let fresh = self
            .read
            .is_some_and(|(when, _)| at.saturating_duration_since(when) < CACHE_FOR);
        if !fresh {
            self.read = Some((Instant::now(), self.clock.served()));
        }
        let (when, time) = self.read.expect("just read");
        let mut t = time?;
        let d = at.saturating_duration_since(when).as_nanos() as i64;
        let widen = d * CACHE_WIDEN_PPM / 1_000_000 + 1;
        t.now = t.now.saturating_add(Nanos(d));
        t.earliest = t.earliest.saturating_add(Nanos(d - widen));
        t.latest = t.latest.saturating_add(Nanos(d + widen));
        Some(t)
    }
}

fn serve(
    socket: &UdpSocket,
    clock: &NodeClock,
    mut limits: RateLimits,
    stop: &AtomicBool,
    stats: &FacadeCounters,
) {
    let mut buf = [0u8; 1024];
    let mut cache = Cached::new(clock);
    while !stop.load(Ordering::Relaxed) {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(e) => {
                warn!(error = %e, "NTP socket error");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let received = Instant::now();
        FacadeCounters::add(&stats.requests, 1);
        let request = match decode_request(&buf[..n]) {
            Ok(r) => r,
            Err(why) => {
                FacadeCounters::add(&stats.dropped, 1);
                debug!(client = %from, %why, "NTP datagram ignored");
                continue;
            }
        };
        let verdict = limits.check(from.ip(), received);
        if verdict == Verdict::Drop {
            FacadeCounters::add(&stats.dropped, 1);
            continue;
        }
        // Unsynchronised: no answer at all, so no client takes this time (not even a kiss's).
        let Some(time) = cache.at(received) else {
            FacadeCounters::add(&stats.dropped, 1);
            continue;
        };
        let reply = match verdict {
            Verdict::Kiss => encode_kiss(&request, b"RATE", time.now),
            _ => {
                let state = state_of(&time);
                // Sent this much later than received: both read on one monotonic clock.
                let transmit = time
                    .now
                    .saturating_add(Nanos(received.elapsed().as_nanos() as i64));
                encode_reply(&request, &state, time.now, transmit)
            }
        };
        // 48 bytes, never more than the request (which had at least 48).
        if socket.send_to(&reply, from).is_ok() {
            FacadeCounters::add(&stats.responses, 1);
        }
    }
}

/// The reply header's view of the node's time: the error bound becomes root dispersion (root
/// delay is zero, as the interval already contains every path's delay), so a client's bound
/// `root delay / 2 + root dispersion` covers the node's whole interval.
fn state_of(time: &ServedTime) -> ServerState {
    let after = time.latest.0.saturating_sub(time.now.0).max(0) as u64;
    let before = time.now.0.saturating_sub(time.earliest.0).max(0) as u64;
    ServerState {
        leap: time.leap,
        stratum: time.stratum,
        root_delay_ns: 0,
        root_dispersion_ns: after.max(before),
        reference_id: REFERENCE_ID,
        reference: UtcNanos(time.now.0 - time.now.0.rem_euclid(1_000_000_000)),
    }
}
