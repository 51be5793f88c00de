//! The gpsd probe and the aggregator against real gpsd instances fed by live NMEA emitters.
//! Needs Debian `gpsd` and `chrony` (`apt-get install -y chrony gpsd gpsd-clients`).

mod support;

use std::time::Duration;
use support::{ChronyKind, Chronyd, Gpsd, emitter_latency};
use tickchain_aggregator::drivers::gpsd::GpsdSession;
use tickchain_aggregator::drivers::{Probe, local_now, ntp};
use tickchain_aggregator::{Aggregator, AggregatorConfig, Nanos, SourceClass, SourceId, Verdict};

#[tokio::test]
async fn gpsd_toff_interval_from_a_correct_feed_holds_the_system_clock() {
    let gps = Gpsd::start(Duration::ZERO, true);
    let mut session = GpsdSession::connect(gps.addr, emitter_latency())
        .await
        .unwrap();
    let Probe::Sample(s) = session.next_probe(Duration::from_secs(3)).await else {
        panic!("expected a TOFF sample");
    };
    let iv = s.interval_at(s.taken_at, tickchain_aggregator::Ppm::RFC5905_PHI);
    assert!(iv.contains(Nanos::ZERO), "{iv:?} should hold offset 0");
}

#[tokio::test]
async fn gnss_feed_two_seconds_wrong_is_a_falseticker_within_three_polls() {
    let ntp_servers = [
        Chronyd::start(ChronyKind::Honest),
        Chronyd::start(ChronyKind::Honest),
        Chronyd::start(ChronyKind::Honest),
    ];
    let good = Gpsd::start(Duration::ZERO, true);
    let wrong = Gpsd::start(Duration::from_secs(2), true);

    let mut agg = Aggregator::new(AggregatorConfig::default());
    for l in ["ntp-a", "ntp-b", "ntp-c"] {
        agg.add_source(l, SourceClass::Ntp);
    }
    let good_id = agg.add_source("gnss-good", SourceClass::Gnss);
    let wrong_id = agg.add_source("gnss-wrong", SourceClass::Gnss);
    let mut good_session = GpsdSession::connect(good.addr, emitter_latency())
        .await
        .unwrap();
    let mut wrong_session = GpsdSession::connect(wrong.addr, emitter_latency())
        .await
        .unwrap();

    for _ in 0..3 {
        for (i, c) in ntp_servers.iter().enumerate() {
            ntp::query(c.addr, Duration::from_millis(500))
                .await
                .feed(&mut agg, SourceId(i));
        }
        let (g, w) = tokio::join!(
            good_session.next_probe(Duration::from_secs(3)),
            wrong_session.next_probe(Duration::from_secs(3))
        );
        g.feed(&mut agg, good_id);
        w.feed(&mut agg, wrong_id);
    }

    let now = local_now();
    let est = agg.estimate(now);
    let e = est
        .estimate()
        .unwrap_or_else(|| panic!("expected synchronised, got {est:?}"));
    assert_eq!(
        e.sources[wrong_id.0].verdict,
        Verdict::Falseticker,
        "{:#?}",
        e.sources
    );
    assert_eq!(
        e.sources[good_id.0].verdict,
        Verdict::Truechimer,
        "{:#?}",
        e.sources
    );
    let wrong_offset = e.sources[wrong_id.0].offset.unwrap();
    assert!(
        wrong_offset > Nanos::saturating_from_millis(1_800),
        "wrong feed read {wrong_offset}"
    );
    assert!(e.earliest <= now && now <= e.latest);
}
