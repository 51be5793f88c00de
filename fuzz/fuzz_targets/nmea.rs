//! Fuzz target: NMEA 0183 sentence parsing must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tickchain_aggregator::nmea;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let _ = nmea::parse_sentence(line);
    }
});
