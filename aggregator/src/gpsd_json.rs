//! gpsd's JSON protocol (gpsd_json(5)): the reports this crate reads, and the conversion of a
//! time-offset report into a [`Sample`].
//!
//! Owns: our own serde types for TPV, TOFF and PPS (`gpsd_proto` has no TOFF). Never: opens a
//! socket, and never panics on input (a fuzz target checks this). Unknown fields are ignored
//! on purpose: gpsd adds fields between releases.

use crate::sample::{LeapIndicator, Sample};
use crate::time::{Span, UtcNanos};
use serde::Deserialize;
use thiserror::Error;

/// The command that starts the JSON stream with PPS reports.
pub const WATCH_COMMAND: &str = "?WATCH={\"enable\":true,\"json\":true,\"pps\":true};\n";

/// One line of gpsd output, by its `class` member.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "class")]
pub enum GpsdMessage {
    /// Time-position-velocity report.
    #[serde(rename = "TPV")]
    Tpv(Tpv),
    /// Time offset between the receiver's in-band time and the host clock at reception.
    #[serde(rename = "TOFF")]
    Toff(TimeOffset),
    /// Time offset measured at a pulse-per-second edge.
    #[serde(rename = "PPS")]
    Pps(TimeOffset),
    /// Any other report (VERSION, DEVICES, WATCH, SKY, …).
    #[serde(other)]
    Other,
}

/// The TPV fields used here.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Tpv {
    /// Device path or URL.
    #[serde(default)]
    pub device: Option<String>,
    /// Fix mode: 0 unknown, 1 no fix, 2 2D, 3 3D.
    #[serde(default)]
    pub mode: u8,
    /// UTC of the fix, RFC 3339.
    #[serde(default)]
    pub time: Option<String>,
    /// Estimated time error, seconds (95 %).
    #[serde(default)]
    pub ept: Option<f64>,
}

/// A TOFF or PPS report: `real` is GNSS time, `clock` the host clock at the same moment.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub struct TimeOffset {
    /// GNSS seconds since the epoch.
    pub real_sec: i64,
    /// GNSS nanoseconds, 0..1e9.
    pub real_nsec: i64,
    /// Host clock seconds since the epoch.
    pub clock_sec: i64,
    /// Host clock nanoseconds, 0..1e9.
    pub clock_nsec: i64,
    /// Receiver precision as log2 seconds, when reported (informational only).
    #[serde(default)]
    pub precision: Option<i8>,
}

/// Why a line is not a usable gpsd report.
#[derive(Debug, Error)]
pub enum GpsdError {
    /// Not JSON, or not a known report shape.
    #[error("expected one gpsd JSON report, got {line:?}: {source}")]
    Json {
        /// The first characters of the line.
        line: String,
        /// The decoder's complaint.
        source: serde_json::Error,
    },
    /// A nanoseconds field outside 0..1e9.
    #[error("expected {field} in 0..1000000000, got {found}")]
    Nanoseconds {
        /// Which field.
        field: &'static str,
        /// Its value.
        found: i64,
    },
    /// A TPV time that is not RFC 3339.
    #[error("expected an RFC 3339 time, got {0:?}")]
    Time(String),
}

/// Parses one line of gpsd output.
pub fn parse_line(line: &str) -> Result<GpsdMessage, GpsdError> {
    serde_json::from_str(line.trim()).map_err(|source| GpsdError::Json {
        line: line.chars().take(60).collect(),
        source,
    })
}

/// How late the receiver's in-band time reaches the host, relative to the second it names.
/// NMEA arrives some time after the second it labels; the truth lies anywhere in between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LatencyBounds {
    /// The earliest the report can arrive after its second.
    pub min: Span,
    /// The latest.
    pub max: Span,
}

impl TimeOffset {
    /// GNSS time.
    pub fn real(&self) -> Result<UtcNanos, GpsdError> {
        nanos("real_nsec", self.real_nsec).map(|n| UtcNanos::from_parts(self.real_sec, n))
    }

    /// Host clock at reception.
    pub fn clock(&self) -> Result<UtcNanos, GpsdError> {
        nanos("clock_nsec", self.clock_nsec).map(|n| UtcNanos::from_parts(self.clock_sec, n))
    }

    /// The sample this report gives. The host read `clock` between `min` and `max` after the
    /// true instant `real`, so true UTC − host clock lies in
    /// `[real − clock + min, real − clock + max]`: the offset is that interval's middle, and its
    /// width plays the role of the path delay δ (RFC 5905 §8), so λ includes half of it.
    pub fn to_sample(
        &self,
        latency: LatencyBounds,
        leap: LeapIndicator,
    ) -> Result<Sample, GpsdError> {
        let real = self.real()?;
        let clock = self.clock()?;
        let raw = real.since(clock);
        let (lo, hi) = if latency.min <= latency.max {
            (latency.min, latency.max)
        } else {
            (latency.max, latency.min)
        };
        let width = Span(hi.0 - lo.0);
        let offset = raw.plus(lo).plus(width.half_up());
        Ok(Sample {
            offset,
            delay: width,
            root_delay: Span::ZERO,
            root_dispersion: Span::ZERO,
            // gpsd timestamps in nanoseconds; the receiver's own granularity is inside the
            // latency bounds (gpsd's `precision` member is not reliable for NMEA: often -1).
            precision: Span(1),
            leap,
            // A GNSS receiver is a primary reference, so this host reads it at stratum 1.
            stratum: 1,
            taken_at: clock,
        })
    }
}

impl Tpv {
    /// The fix time, if present.
    pub fn time_utc(&self) -> Result<Option<UtcNanos>, GpsdError> {
        let Some(t) = &self.time else { return Ok(None) };
        let parsed = chrono::DateTime::parse_from_rfc3339(t)
            .map_err(|_| GpsdError::Time(t.chars().take(40).collect()))?;
        let nanos = parsed.timestamp_subsec_nanos();
        Ok(Some(UtcNanos::from_parts(parsed.timestamp(), nanos)))
    }

    /// Whether the receiver has at least a 2D fix.
    pub fn has_fix(&self) -> bool {
        self.mode >= 2
    }
}

fn nanos(field: &'static str, v: i64) -> Result<u32, GpsdError> {
    u32::try_from(v)
        .ok()
        .filter(|n| *n < 1_000_000_000)
        .ok_or(GpsdError::Nanoseconds { field, found: v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Nanos, Ppm};

    #[test]
    fn toff_report_parses_and_its_interval_holds_the_true_offset() {
        let line = r#"{"class":"TOFF","device":"udp://127.0.0.1:5000","real_sec":1700000000,"real_nsec":0,"clock_sec":1700000000,"clock_nsec":30000000,"precision":-1,"shm":"NTP0","mode":1}"#;
        let GpsdMessage::Toff(t) = parse_line(line).unwrap() else {
            panic!("not TOFF")
        };
        let latency = LatencyBounds {
            min: Span::from_millis(10),
            max: Span::from_millis(60),
        };
        let s = t.to_sample(latency, LeapIndicator::NoWarning).unwrap();
        // The host clock is right; the report was 30 ms late, inside [10, 60] ms.
        let iv = s.interval_at(s.taken_at, Ppm(15));
        assert!(iv.contains(Nanos::ZERO), "{iv:?}");
        assert!(s.radius_at(s.taken_at, Ppm(15)) < Span::from_millis(30));
    }

    #[test]
    fn tpv_time_is_rfc3339() {
        let line = r#"{"class":"TPV","device":"x","mode":3,"time":"2023-11-14T22:13:20.000Z","ept":0.005}"#;
        let GpsdMessage::Tpv(t) = parse_line(line).unwrap() else {
            panic!("not TPV")
        };
        assert!(t.has_fix());
        assert_eq!(
            t.time_utc().unwrap(),
            Some(UtcNanos::from_parts(1_700_000_000, 0))
        );
    }

    #[test]
    fn unknown_classes_are_other_and_garbage_is_an_error() {
        assert_eq!(
            parse_line(r#"{"class":"VERSION","release":"3.22"}"#).unwrap(),
            GpsdMessage::Other
        );
        assert!(parse_line("{\"class\":").is_err());
    }

    #[test]
    fn out_of_range_nanoseconds_are_rejected() {
        let t = TimeOffset {
            real_sec: 1,
            real_nsec: 1_000_000_000,
            clock_sec: 1,
            clock_nsec: 0,
            precision: None,
        };
        assert!(matches!(t.real(), Err(GpsdError::Nanoseconds { .. })));
    }
}
