//! Fuzz target: gpsd JSON report parsing and the TOFF/PPS → sample conversion must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_aggregator::gpsd_json::{self, GpsdMessage, LatencyBounds};
use tickchain_aggregator::{LeapIndicator, Span};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        match gpsd_json::parse_line(line) {
            Ok(GpsdMessage::Toff(t)) | Ok(GpsdMessage::Pps(t)) => {
                let bounds = LatencyBounds {
                    min: Span::ZERO,
                    max: Span::from_millis(500),
                };
                let _ = t.to_sample(bounds, LeapIndicator::NoWarning);
            }
            Ok(GpsdMessage::Tpv(t)) => {
                let _ = t.time_utc();
            }
            Ok(GpsdMessage::Other) | Err(_) => {}
        }
    }
});
