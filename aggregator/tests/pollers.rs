//! The source pollers (`drivers::poll`) against real chronyd and gpsd instances, and against
//! sources that cannot be reached: the one loop the node and `timenode sources` both run.
//! Needs Debian `gpsd` and `chrony` (`apt-get install -y chrony gpsd gpsd-clients`).

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};
use support::{ChronyKind, Chronyd, Gpsd, emitter_latency};
use tickchain_aggregator::drivers::Probe;
use tickchain_aggregator::drivers::poll::{SourcePoller, SourceSpec};
use tickchain_aggregator::{SourceClass, Span};

fn gnss(address: String) -> SourceSpec {
    SourceSpec::Gnss {
        address,
        timeout: Duration::from_secs(3),
        latency: emitter_latency(),
    }
}

#[tokio::test]
async fn an_ntp_poller_takes_one_sample_per_poll_from_an_honest_server() {
    let server = Chronyd::start(ChronyKind::Honest);
    let spec = SourceSpec::Ntp {
        address: server.addr.to_string(),
        timeout: Duration::from_millis(500),
    };
    assert_eq!(spec.class(), SourceClass::Ntp);
    let probes = SourcePoller::new(spec)
        .poll_times(2, Duration::from_millis(50))
        .await;
    assert_eq!(probes.len(), 2);
    assert!(
        probes.iter().all(|p| matches!(p, Probe::Sample(_))),
        "{probes:?}"
    );
}

#[tokio::test]
async fn an_ntp_address_that_does_not_resolve_is_a_no_reply_naming_it() {
    let spec = SourceSpec::Ntp {
        address: "127.0.0.1".into(),
        timeout: Duration::from_millis(500),
    };
    let probe = SourcePoller::new(spec).poll().await;
    let Probe::NoReply(why) = probe else {
        panic!("expected no reply, got {probe:?}");
    };
    assert!(
        why.starts_with("expected 127.0.0.1 to resolve, got "),
        "{why}"
    );
}

#[tokio::test]
async fn a_gpsd_session_stays_open_and_paces_the_polls_itself() {
    let gps = Gpsd::start(Duration::ZERO, true);
    let mut poller = SourcePoller::new(gnss(gps.addr.to_string()));
    assert!(
        !poller.paces_itself(),
        "nothing is opened before the first poll"
    );
    for _ in 0..2 {
        let probe = poller.poll().await;
        assert!(matches!(probe, Probe::Sample(_)), "{probe:?}");
        assert!(poller.paces_itself(), "the session stays open");
    }
}

#[tokio::test]
async fn an_unreachable_gpsd_is_a_no_reply_per_poll_with_the_interval_between() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let probes = SourcePoller::new(gnss(address.clone()))
        .poll_times(3, Duration::from_millis(100))
        .await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(probes.len(), 3);
    for p in probes {
        let Probe::NoReply(why) = p else {
            panic!("expected no reply, got {p:?}");
        };
        assert!(
            why.starts_with(&format!("expected gpsd at {address}, got ")),
            "{why}"
        );
    }
}

#[tokio::test]
async fn the_kernel_poller_reads_the_kernel_clock_every_poll() {
    let probes = SourcePoller::new(SourceSpec::Kernel)
        .poll_times(2, Duration::from_millis(10))
        .await;
    assert_eq!(probes.len(), 2);
    for p in probes {
        // Synchronised or not depends on the host; a read never fails on Linux.
        if let Probe::Sample(s) = p {
            assert!(s.precision >= Span(1));
        } else {
            assert!(matches!(p, Probe::Unsynchronised(_)), "{p:?}");
        }
    }
}
