//! Issue 13: faulty ring members in real processes. One misbehaving member of a 4-node ring
//! (and two of a 7-node ring) runs a real consensus core with its genesis key on real QUIC and
//! attacks (`ringkit::byzantine`): invalid, far-future and stale-parent proposals, equivocated
//! proposals and votes, extreme signed clock readings, replayed votes, duplicate-filled
//! fetches, huge co-sign ranges, unsolicited co-signatures, junk frames, unsolicited time replies and stalled 1 MiB
//! streams. The honest `timenode` processes keep ticking (≥ 95% of seconds), never fork, never
//! finalize a tick outside the host clock's window, never crash, keep their memory within 50 MB
//! of an attack-free control run of the same length, count a rejection for every attack kind in
//! `/metrics`, and keep evidence of the equivocations that `Evidence::verify` accepts.
//!
//! Short form in the suite (`BYZANTINE_SECS`, default 60 s per run at n = 4 and 90 s at n = 7); a longer run is
//! `BYZANTINE_SECS=600 cargo test -p tickchain-timenode --release --test byzantine -- --nocapture`.

#[path = "ringkit/byzantine.rs"]
mod byzantine_peer;
mod ringkit;

use byzantine_peer::{Byzantine, Report};
use ringkit::{Node, setup_with_config, stop_and_check_agreement, wait_until};
use std::collections::BTreeMap;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickchain_sdk::{Genesis, Network, NodeId, keys};
use tickchain_timenode::localnet;

/// Which honest counter (a `kind` of `tickchain_peer_rejected_total`) each attack must raise.
const EXPECTED: &[(&str, &[&str])] = &[
    ("proposal_wrapped_second", &["wrapped_second"]),
    ("proposal_far_future_second", &["future_second"]),
    ("proposal_stale_parent", &["stale_parent", "bad_parent"]),
    ("proposal_equivocation", &["equivocation"]),
    ("notarize_equivocation", &["equivocation"]),
    ("finalize_forged_reading", &["untimely_reading"]),
    ("replayed_vote", &["old_view", "duplicate"]),
    ("duplicate_fetch", &["fetch_repeated_entries"]),
    ("junk_frame", &["undecodable"]),
    ("huge_cosign_range", &["cosign_refused"]),
    ("unsolicited_cosign_reply", &["cosign_reply_unsolicited"]),
    ("unsolicited_time_reply", &["time_reply_unsolicited"]),
    ("stalled_stream", &["stalled_stream"]),
];

/// Figures of one run.
#[derive(Debug)]
struct Run {
    /// Seconds in the measured window, and how many of them got a final tick.
    seconds: u64,
    ticked: u64,
    /// Largest lag (second's start → logged final on the honest node) seen, ms.
    max_lag_ms: f64,
    /// Per honest node, RSS growth over the window (kB).
    rss_growth_kb: Vec<i64>,
    /// Summed over the honest nodes: rejections by kind and evidence kept.
    rejected: BTreeMap<String, u64>,
    evidence: u64,
    /// The faulty members' reports.
    reports: Vec<Report>,
}

fn rss_kb(pid: u32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// `GET path` on `api` (`http://HOST:PORT`), returning the body of a `200`.
fn http_get(api: &str, path: &str) -> String {
    tickchain_sdk::client::Client::new(api)
        .get_text(path)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// `tickchain_peer_rejected_total{kind="K"} N` lines, and the evidence counter.
fn scrape(metrics: &str, rejected: &mut BTreeMap<String, u64>) -> u64 {
    let mut evidence = 0;
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix("tickchain_peer_rejected_total{kind=\"")
            && let Some((kind, value)) = rest.split_once("\"} ")
        {
            *rejected.entry(kind.to_string()).or_default() += value.trim().parse::<u64>().unwrap();
        }
        if let Some(value) = line.strip_prefix("tickchain_misbehaviour_evidence_total ") {
            evidence += value.trim().parse::<u64>().unwrap();
        }
    }
    evidence
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Runs a ring of `n` with the members in `faulty` replaced by [`Byzantine`] ones (attacking
/// when `attack`), for `secs` seconds after the first final ticks.
fn run(name: &str, n: usize, faulty: &[usize], attack: bool, secs: u64) -> Run {
    let root = std::env::temp_dir().join(format!("tc-byz-{name}-{}", std::process::id()));
    // Anchoring on with only an attestation key: the nodes co-sign, so co-sign requests are
    // judged by the co-signing rule.
    let (genesis, nodes) = setup_with_config(&root, n, |i| {
        format!(
            "[anchor]\nattest-key-file = {:?}\n",
            localnet::node_dir(&root, i).join(tickchain_anchor::ATTEST_KEY_FILE)
        )
    });
    let mut honest: Vec<Node> = Vec::new();
    let mut honest_ids = Vec::new();
    for (i, node) in nodes.into_iter().enumerate() {
        if !faulty.contains(&i) {
            honest.push(node);
            honest_ids.push(i);
        }
    }
    for node in &mut honest {
        node.start();
    }
    let byzantine: Vec<Byzantine> = faulty
        .iter()
        .map(|&i| {
            let key = keys::read_secret(&localnet::node_dir(&root, i).join("node.key")).unwrap();
            Byzantine::start(genesis.clone(), NodeId(i as u16), key, attack)
        })
        .collect();
    wait_until("the first final ticks", Duration::from_secs(60), || {
        honest.iter().all(|h| h.top() >= 3)
    });
    // Let start-up settle before the baseline.
    std::thread::sleep(Duration::from_secs(3));
    let rss0: Vec<i64> = honest.iter().map(|h| rss_kb(h.pid().unwrap())).collect();
    let (t0, w0) = (Instant::now(), unix_now());
    let first_second = w0.ceil() as u64;
    std::thread::sleep(Duration::from_secs(secs));
    let last_second = unix_now().floor() as u64 - 2;
    std::thread::sleep(Duration::from_secs(3));

    for (h, node) in honest.iter_mut().enumerate() {
        assert!(
            node.exited().is_none(),
            "honest node {} exited: {}",
            honest_ids[h],
            node.log_tail(30)
        );
    }
    let rss_growth_kb = honest
        .iter()
        .zip(&rss0)
        .map(|(h, r0)| rss_kb(h.pid().unwrap()) - r0)
        .collect();
    // Every final tick an honest node logged lies in the host clock's window: its second
    // started before it was logged, and not long before.
    let mut max_lag_ms = 0f64;
    for (h, node) in honest.iter().enumerate() {
        for (height, seen) in node.finals() {
            if seen.at < t0 {
                continue;
            }
            let logged = w0 + seen.at.duration_since(t0).as_secs_f64();
            let lag = logged - seen.second as f64;
            assert!(
                (-0.1..5.0).contains(&lag),
                "node {} finalized height {height} for second {} at {logged:.3}: outside the \
                 host clock's window",
                honest_ids[h],
                seen.second
            );
            max_lag_ms = max_lag_ms.max(lag * 1e3);
        }
    }
    let ticked = honest[0]
        .finals()
        .values()
        .filter(|s| (first_second..=last_second).contains(&s.second))
        .count() as u64;
    let mut rejected = BTreeMap::new();
    let mut evidence = 0;
    for node in &honest {
        evidence += scrape(&http_get(&node.api, "/metrics"), &mut rejected);
    }
    if attack {
        check_evidence(&genesis, &honest, faulty);
    }
    let reports = byzantine.into_iter().map(Byzantine::stop).collect();
    let network = Network::new(genesis.clone());
    stop_and_check_agreement(&mut honest, &network);
    let _ = std::fs::remove_dir_all(&root);
    Run {
        seconds: last_second - first_second + 1,
        ticked,
        max_lag_ms,
        rss_growth_kb,
        rejected,
        evidence,
        reports,
    }
}

/// Every honest node serves evidence; each item verifies offline against genesis and names a
/// faulty member.
fn check_evidence(genesis: &Genesis, honest: &[Node], faulty: &[usize]) {
    let mut verified = 0;
    for node in honest {
        let body = http_get(&node.api, "/v1/evidence?limit=100");
        let list: serde_json::Value = serde_json::from_str(&body).unwrap();
        let items = list
            .get("evidence")
            .and_then(|e| e.as_array())
            .cloned()
            .or_else(|| list.as_array().cloned())
            .unwrap_or_default();
        for item in items {
            let ev: tickchain_sdk::evidence::Evidence = serde_json::from_value(item).unwrap();
            let ok = ev
                .verify(genesis)
                .expect("served evidence verifies against genesis");
            assert!(
                faulty.contains(&ok.member.index()),
                "evidence names honest member {}",
                ok.member
            );
            verified += 1;
        }
    }
    assert!(verified > 0, "the equivocations left no evidence");
}

fn report(label: &str, control: &Run, attacked: &Run) {
    eprintln!(
        "{label}: control ticked {}/{} s, attacked ticked {}/{} s ({:.1}%), max lag {:.0} ms \
         (control {:.0} ms), RSS growth attacked {:?} kB vs control {:?} kB, evidence {}, \
         led views {:?} of leader turns {:?} (control: led {:?})",
        control.ticked,
        control.seconds,
        attacked.ticked,
        attacked.seconds,
        100.0 * attacked.ticked as f64 / attacked.seconds as f64,
        attacked.max_lag_ms,
        control.max_lag_ms,
        attacked.rss_growth_kb,
        control.rss_growth_kb,
        attacked.evidence,
        attacked
            .reports
            .iter()
            .map(|r| r.led_views)
            .collect::<Vec<_>>(),
        attacked
            .reports
            .iter()
            .map(|r| r.leader_turns)
            .collect::<Vec<_>>(),
        control
            .reports
            .iter()
            .map(|r| r.led_views)
            .collect::<Vec<_>>()
    );
    eprintln!("{label}: attacks {:?}", attacked.reports);
    eprintln!("{label}: rejections {:?}", attacked.rejected);
}

fn check(label: &str, control: &Run, attacked: &Run) {
    report(label, control, attacked);
    assert!(
        attacked.ticked * 100 >= attacked.seconds * 95,
        "{label}: only {} of {} seconds ticked under attack",
        attacked.ticked,
        attacked.seconds
    );
    for r in &attacked.reports {
        assert!(
            r.led_views >= 10,
            "{label}: the faulty member led only {} views",
            r.led_views
        );
    }
    let growth = |r: &Run| r.rss_growth_kb.iter().copied().max().unwrap_or(0);
    assert!(
        growth(attacked) - growth(control) <= 50 * 1024,
        "{label}: RSS grew {} kB under attack against {} kB in the control run",
        growth(attacked),
        growth(control)
    );
    let mut sent: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &attacked.reports {
        for (k, v) in &r.attacks {
            *sent.entry(k).or_default() += v;
        }
    }
    for (attack, counters) in EXPECTED {
        assert!(
            sent.get(attack).copied().unwrap_or(0) > 0,
            "{label}: attack {attack} never happened"
        );
        let seen: u64 = counters
            .iter()
            .map(|c| attacked.rejected.get(*c).copied().unwrap_or(0))
            .sum();
        assert!(
            seen > 0,
            "{label}: attack {attack} raised none of {counters:?} (counters: {:?})",
            attacked.rejected
        );
    }
    assert!(attacked.evidence > 0, "{label}: no evidence counted");
}

/// Seconds per run: `BYZANTINE_SECS`, or `default` (long enough for each faulty member to lead
/// at least 10 views).
fn secs(default: u64) -> u64 {
    std::env::var("BYZANTINE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The two tests run one after the other: each needs the machine's cores to itself for its
/// tick rate to mean anything.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn one_faulty_member_of_four_cannot_stop_fork_mistime_crash_or_bloat_the_honest_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let secs = secs(60);
    let control = run("4-control", 4, &[3], false, secs);
    let attacked = run("4-attack", 4, &[3], true, secs);
    check("n=4, f=1", &control, &attacked);
}

#[test]
fn two_faulty_members_of_seven_cannot_stop_fork_mistime_crash_or_bloat_the_honest_nodes() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let secs = secs(90);
    let control = run("7-control", 7, &[5, 6], false, secs);
    let attacked = run("7-attack", 7, &[5, 6], true, secs);
    check("n=7, f=2", &control, &attacked);
}
