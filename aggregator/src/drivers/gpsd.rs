//! The GNSS probe: a gpsd client on TCP that watches the JSON stream and turns each TOFF (or
//! PPS) report into a [`Probe`].
//!
//! Owns: one TCP session with gpsd and the latest fix state. Never: parses JSON itself (see
//! `gpsd_json`) and never judges the receiver against other sources.

use super::Probe;
use crate::gpsd_json::{GpsdMessage, LatencyBounds, WATCH_COMMAND, parse_line};
use crate::sample::LeapIndicator;
use crate::time::Span;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tracing::{debug, trace};

/// A PPS edge reaches the host within interrupt latency; 1 ms is a generous hard bound.
pub const PPS_LATENCY: LatencyBounds = LatencyBounds {
    min: Span::ZERO,
    max: Span(1_000_000),
};

/// A watching connection to gpsd.
pub struct GpsdSession {
    lines: tokio::io::Lines<BufReader<OwnedReadHalf>>,
    // Kept so gpsd does not see the connection half-closed.
    _writer: tokio::net::tcp::OwnedWriteHalf,
    latency: LatencyBounds,
    has_fix: Option<bool>,
}

impl GpsdSession {
    /// Connects to gpsd at `addr` and enables the JSON watch with PPS. `latency` bounds how
    /// late in-band (NMEA) time reaches the host after the second it names.
    pub async fn connect(addr: SocketAddr, latency: LatencyBounds) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        let (read, mut write) = stream.into_split();
        write.write_all(WATCH_COMMAND.as_bytes()).await?;
        Ok(GpsdSession {
            lines: BufReader::new(read).lines(),
            _writer: write,
            latency,
            has_fix: None,
        })
    }

    /// Waits up to `timeout` for the next TOFF or PPS report.
    pub async fn next_probe(&mut self, timeout: Duration) -> Probe {
        match tokio::time::timeout(timeout, self.next_report()).await {
            Ok(p) => p,
            Err(_) => Probe::NoReply(format!(
                "expected a TOFF or PPS report from gpsd within {timeout:?}, got none"
            )),
        }
    }

    async fn next_report(&mut self) -> Probe {
        loop {
            let line = match self.lines.next_line().await {
                Ok(Some(l)) => l,
                Ok(None) => {
                    return Probe::NoReply("expected gpsd reports, got end of stream".into());
                }
                Err(e) => return Probe::NoReply(format!("expected gpsd reports, got {e}")),
            };
            trace!(%line, "gpsd");
            let message = match parse_line(&line) {
                Ok(m) => m,
                Err(e) => {
                    debug!(error = %e, "skipping gpsd line");
                    continue;
                }
            };
            let (report, latency) = match message {
                GpsdMessage::Tpv(t) => {
                    self.has_fix = Some(t.has_fix());
                    continue;
                }
                GpsdMessage::Toff(t) => (t, self.latency),
                GpsdMessage::Pps(t) => (t, PPS_LATENCY),
                GpsdMessage::Other => continue,
            };
            if self.has_fix == Some(false) {
                return Probe::Unsynchronised(
                    "expected a GNSS fix (TPV mode >= 2), got none".into(),
                );
            }
            return match report.to_sample(latency, LeapIndicator::NoWarning) {
                Ok(s) => Probe::Sample(s),
                Err(e) => Probe::NoReply(e.to_string()),
            };
        }
    }
}
