//! Source pollers: the one polling loop per source kind (NTP, gpsd, kernel clock), shared by the
//! running node and `timenode sources`.
//!
//! Owns: resolving addresses, keeping a gpsd session open between polls, the pause between
//! polls, and the text of every "could not reach the source" outcome. Never: decides what a
//! probe means (the core does, through [`Probe::feed`]) or holds the aggregator's lock across a
//! wait; the caller chooses where each [`Probe`] goes.
//!
//! Schedule: a poller waits `interval` between two polls, except while a gpsd session is open,
//! whose reports arrive at the receiver's own pace (each poll waits for the next one). A gpsd
//! session that yields no report is dropped and reconnected at the next poll.

use super::gpsd::GpsdSession;
use super::{Probe, kernel, ntp};
use crate::gpsd_json::LatencyBounds;
use crate::sample::SourceClass;
use std::net::SocketAddr;
use std::time::Duration;

/// One configured time source, as a poller needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// An NTP server.
    Ntp {
        /// `host:port`, resolved again at every poll.
        address: String,
        /// How long to wait for one reply.
        timeout: Duration,
    },
    /// A GNSS receiver behind gpsd.
    Gnss {
        /// `host:port` of gpsd, resolved at every (re)connect.
        address: String,
        /// How long to wait for one TOFF or PPS report.
        timeout: Duration,
        /// How late in-band (NMEA) time reaches the host after the second it names.
        latency: LatencyBounds,
    },
    /// The kernel clock's own error bound (`adjtimex`).
    Kernel,
}

impl SourceSpec {
    /// The class the aggregator files this source under.
    pub fn class(&self) -> SourceClass {
        match self {
            SourceSpec::Ntp { .. } => SourceClass::Ntp,
            SourceSpec::Gnss { .. } => SourceClass::Gnss,
            SourceSpec::Kernel => SourceClass::Kernel,
        }
    }
}

/// Polls one source, one [`Probe`] per poll.
pub struct SourcePoller {
    spec: SourceSpec,
    gpsd: Option<GpsdSession>,
}

impl SourcePoller {
    /// A poller for `spec`; nothing is opened until the first poll.
    pub fn new(spec: SourceSpec) -> Self {
        SourcePoller { spec, gpsd: None }
    }

    /// Takes one measurement. For gpsd this connects first when no session is open, and drops
    /// the session when it yields no report.
    pub async fn poll(&mut self) -> Probe {
        match &self.spec {
            SourceSpec::Ntp { address, timeout } => match resolve(address).await {
                Ok(addr) => ntp::query(addr, *timeout).await,
                Err(got) => Probe::NoReply(format!("expected {address} to resolve, got {got}")),
            },
            SourceSpec::Kernel => kernel::query(),
            SourceSpec::Gnss {
                address,
                timeout,
                latency,
            } => {
                let mut session = match self.gpsd.take() {
                    Some(s) => s,
                    None => match connect_gpsd(address, *latency).await {
                        Ok(s) => s,
                        Err(got) => {
                            return Probe::NoReply(format!(
                                "expected gpsd at {address}, got {got}"
                            ));
                        }
                    },
                };
                let probe = session.next_probe(*timeout).await;
                if !matches!(probe, Probe::NoReply(_)) {
                    self.gpsd = Some(session);
                }
                probe
            }
        }
    }

    /// Whether the next poll paces itself (an open gpsd session waits for the next report), so
    /// no pause is due before it.
    pub fn paces_itself(&self) -> bool {
        self.gpsd.is_some()
    }

    /// Polls `polls` times, pausing `interval` between polls, and returns the outcomes in order
    /// (`timenode sources`).
    pub async fn poll_times(mut self, polls: usize, interval: Duration) -> Vec<Probe> {
        let mut probes = Vec::with_capacity(polls);
        for round in 0..polls {
            if round > 0 && !self.paces_itself() {
                tokio::time::sleep(interval).await;
            }
            probes.push(self.poll().await);
        }
        probes
    }

    /// Polls forever, pausing `interval` between polls, handing each outcome to `deliver` as
    /// soon as it is taken (the running node).
    pub async fn poll_forever(mut self, interval: Duration, mut deliver: impl FnMut(Probe)) {
        loop {
            deliver(self.poll().await);
            if !self.paces_itself() {
                tokio::time::sleep(interval).await;
            }
        }
    }
}

/// The first address `address` resolves to, or why there is none.
async fn resolve(address: &str) -> Result<SocketAddr, String> {
    match tokio::net::lookup_host(address).await.map(|mut a| a.next()) {
        Ok(Some(addr)) => Ok(addr),
        Ok(None) => Err("no address".to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn connect_gpsd(address: &str, latency: LatencyBounds) -> Result<GpsdSession, String> {
    let addr = resolve(address).await?;
    GpsdSession::connect(addr, latency)
        .await
        .map_err(|e| e.to_string())
}
