//! The parsers the fuzz targets drive never panic on arbitrary input (stable-toolchain stand-in
//! for `fuzz/fuzz_targets/{gpsd_json,nmea}.rs`), and accept what they should.

use proptest::prelude::*;
use tickchain_aggregator::gpsd_json::{self, GpsdMessage};
use tickchain_aggregator::nmea::{self, NmeaSentence};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn gpsd_parser_never_panics_on_arbitrary_text(s in ".{0,200}") {
        let _ = gpsd_json::parse_line(&s);
    }

    #[test]
    fn gpsd_parser_never_panics_on_json_shaped_text(
        class in prop::sample::select(vec!["TPV", "TOFF", "PPS", "VERSION", ""]),
        a in any::<i64>(), b in any::<i64>(), c in any::<i64>(), d in any::<i64>(),
        time in ".{0,30}",
    ) {
        let line = format!(
            r#"{{"class":"{class}","real_sec":{a},"real_nsec":{b},"clock_sec":{c},"clock_nsec":{d},"mode":3,"time":{time:?}}}"#
        );
        if let Ok(m) = gpsd_json::parse_line(&line) {
            match m {
                GpsdMessage::Toff(t) | GpsdMessage::Pps(t) => {
                    let bounds = gpsd_json::LatencyBounds {
                        min: tickchain_aggregator::Span(0),
                        max: tickchain_aggregator::Span(u64::MAX),
                    };
                    let _ = t.to_sample(bounds, tickchain_aggregator::LeapIndicator::NoWarning);
                }
                GpsdMessage::Tpv(t) => {
                    let _ = t.time_utc();
                }
                GpsdMessage::Other => {}
            }
        }
    }

    #[test]
    fn nmea_parser_never_panics_on_arbitrary_text(s in ".{0,120}") {
        let _ = nmea::parse_sentence(&s);
    }

    #[test]
    fn nmea_parser_never_panics_on_framed_field_soup(
        kind in prop::sample::select(vec!["GPRMC", "GNZDA", "GPGGA", "GPXXX", "G"]),
        fields in prop::collection::vec("[0-9A-Z.]{0,12}", 0..14),
    ) {
        let body = format!("{kind},{}", fields.join(","));
        let _ = nmea::parse_sentence(&nmea::frame(&body));
    }

    #[test]
    fn every_valid_zda_round_trips_through_frame_and_parse(
        secs in 0i64..4_102_444_800, centis in 0u32..100,
    ) {
        let t = chrono::DateTime::from_timestamp(secs, 0).unwrap();
        let body = format!("GPZDA,{}.{centis:02},{},00,00", t.format("%H%M%S"), t.format("%d,%m,%Y"));
        let parsed = nmea::parse_sentence(&nmea::frame(&body)).unwrap();
        let want = tickchain_aggregator::UtcNanos::from_parts(secs, centis * 10_000_000);
        prop_assert_eq!(parsed, NmeaSentence::Zda { time: want });
    }
}
