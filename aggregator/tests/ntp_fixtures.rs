//! The NTP probe and the aggregator against real chronyd servers on loopback.
//! Needs Debian `chrony` (`apt-get install -y chrony`) and root (chronyd drops to `_chrony`).

mod support;

use std::time::Duration;
use support::{ChronyKind, Chronyd};
use tickchain_aggregator::drivers::{Probe, local_now, ntp};
use tickchain_aggregator::{
    Aggregator, AggregatorConfig, Nanos, SourceClass, TimeEstimate, Verdict,
};

const TIMEOUT: Duration = Duration::from_millis(500);

async fn poll(agg: &mut Aggregator, servers: &[&Chronyd], rounds: usize) {
    for _ in 0..rounds {
        for (i, c) in servers.iter().enumerate() {
            ntp::query(c.addr, TIMEOUT)
                .await
                .feed(agg, tickchain_aggregator::SourceId(i));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn good_chronyd_reads_under_a_millisecond_and_its_interval_holds_the_system_clock() {
    let good = Chronyd::start(ChronyKind::Honest);
    let mut agg = Aggregator::new(AggregatorConfig {
        min_agreeing: 1,
        ..AggregatorConfig::default()
    });
    agg.add_source("good", SourceClass::Ntp);
    poll(&mut agg, &[&good], 4).await;

    let now = local_now();
    let TimeEstimate::Synchronised(e) = agg.estimate(now) else {
        panic!("expected synchronised, got {:?}", agg.estimate(now));
    };
    // chronyd serves this machine's own clock, so the truth is the system clock itself.
    assert!(e.offset.abs().0 < 1_000_000, "offset {}", e.offset);
    assert!(
        e.earliest <= now && now <= e.latest,
        "[{}, {}] misses {now}",
        e.earliest,
        e.latest
    );
    assert_eq!(e.sources[0].verdict, Verdict::Truechimer);
}

#[tokio::test]
async fn chronyd_serving_half_a_second_ahead_is_a_falseticker_within_three_polls() {
    let a = Chronyd::start(ChronyKind::Honest);
    let b = Chronyd::start(ChronyKind::Honest);
    let c = Chronyd::start(ChronyKind::Honest);
    let liar = Chronyd::start(ChronyKind::LiarAhead {
        honest_port: a.addr.port(),
    });
    let mut agg = Aggregator::new(AggregatorConfig::default());
    for l in ["a", "b", "c", "liar"] {
        agg.add_source(l, SourceClass::Ntp);
    }
    poll(&mut agg, &[&a, &b, &c, &liar], 3).await;

    let now = local_now();
    let est = agg.estimate(now);
    let e = est
        .estimate()
        .unwrap_or_else(|| panic!("expected synchronised, got {est:?}"));
    let verdicts: Vec<_> = e.sources.iter().map(|s| s.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Truechimer,
            Verdict::Truechimer,
            Verdict::Truechimer,
            Verdict::Falseticker
        ]
    );
    let liar_offset = e.sources[3].offset.expect("liar answered");
    assert!(
        liar_offset > Nanos::saturating_from_millis(400),
        "liar read {liar_offset}"
    );
    assert!(e.earliest <= now && now <= e.latest);
}

#[tokio::test]
async fn only_unsynchronised_servers_leave_the_node_unsynchronised() {
    let servers: Vec<_> = (0..3)
        .map(|_| Chronyd::start(ChronyKind::Unsynchronised))
        .collect();
    let mut agg = Aggregator::new(AggregatorConfig::default());
    for i in 0..3 {
        agg.add_source(format!("unsync{i}"), SourceClass::Ntp);
    }
    let refs: Vec<&Chronyd> = servers.iter().collect();
    poll(&mut agg, &refs, 2).await;

    let est = agg.estimate(local_now());
    assert!(
        matches!(est, TimeEstimate::Unsynchronised { .. }),
        "{est:?}"
    );
    assert!(
        est.sources()
            .iter()
            .all(|s| s.verdict == Verdict::Unsynchronised)
    );
}

#[tokio::test]
async fn silent_port_is_reported_as_no_reply() {
    let port = support::free_udp_port();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let p = ntp::query(addr, Duration::from_millis(200)).await;
    assert!(matches!(p, Probe::NoReply(_)), "{p:?}");
}
