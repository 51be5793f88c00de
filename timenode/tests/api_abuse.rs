//! One abusive client against a real node (a `timenode` process in a 4-node ring): a slowloris,
//! a digest flooder, a proof-cache thrasher and a metrics-label flooder, each from 127.0.0.2,
//! while a well-behaved client on 127.0.0.1 keeps using the same node. Each attacker is held
//! to its limit (the node's `tickchain_api_limited_total` shows it), every well-behaved request
//! is answered within 2 s, and the digests the node acknowledged become provable (one checked
//! from every accepted request, so from every batch).

#[path = "../../api/tests/support/raw.rs"]
mod raw;
mod ringkit;

use raw::{RawReply, addr_of, closed_by_server, connect_from};
use ringkit::{UNLIMITED_API, digests, setup_with_api, start_all, wait_until};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_sdk::client::{Client, ProofLookup};
use tickchain_sdk::{Digest, Network};

const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const GOOD: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// The well-behaved client's bound on every answer.
const GOOD_WITHIN: Duration = Duration::from_secs(2);

/// Node 0's `[api]` limits under test.
const LIMITS: &str = "rate-per-second = 50\nrate-burst = 100\ndigests-per-second = 5000\n\
                      digests-burst = 10000\nmax-connections-per-client = 16\n\
                      header-timeout-ms = 1500\n";

fn body(d: &[Digest]) -> Vec<u8> {
    let hex: Vec<String> = d.iter().map(Digest::to_hex).collect();
    serde_json::to_vec(&serde_json::json!({ "digests": hex })).unwrap()
}

/// One exchange with a read deadline: `None` if no complete answer arrived within `within`.
fn exchange(
    from: Ipv4Addr,
    to: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
    within: Duration,
) -> Option<RawReply> {
    let mut s = connect_from(from, to).ok()?;
    s.set_read_timeout(Some(within)).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {to}\r\nconnection: close\r\n");
    if method == "POST" {
        head.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    raw::read_reply(&mut s).ok()
}

/// The well-behaved client: `method path` must be answered with `expect` within 2 s.
fn good(to: SocketAddr, method: &str, path: &str, body: &[u8], expect: u16) -> RawReply {
    let start = Instant::now();
    let r = exchange(GOOD, to, method, path, body, GOOD_WITHIN).unwrap_or_else(|| {
        panic!(
            "the well-behaved {method} {path} got no answer within {GOOD_WITHIN:?} ({:?})",
            start.elapsed()
        )
    });
    assert_eq!(r.status, expect, "{method} {path}: {}", r.body);
    r
}

/// `tickchain_api_limited_total{kind}` on the node at `to`.
fn limited(to: SocketAddr, kind: &str) -> u64 {
    let text = good(to, "GET", "/metrics", b"", 200).body;
    raw::labelled(&text, "tickchain_api_limited_total", kind)
}

/// Runs `attack` on `threads` threads until `for_` has passed, while `well_behaved` runs on
/// this thread; returns what the attackers counted.
fn under_attack(
    threads: usize,
    for_: Duration,
    attack: impl Fn(&AtomicU64) + Send + Sync + 'static,
    well_behaved: impl FnOnce(),
) -> u64 {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let attack = Arc::new(attack);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (stop, count, attack) = (stop.clone(), count.clone(), attack.clone());
            std::thread::spawn(move || {
                let end = Instant::now() + for_;
                while !stop.load(Ordering::Relaxed) && Instant::now() < end {
                    attack(&count);
                }
            })
        })
        .collect();
    well_behaved();
    for w in workers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    count.load(Ordering::Relaxed)
}

#[test]
fn one_abusive_client_is_held_to_its_limits_while_a_good_client_is_served() {
    let root = std::env::temp_dir().join(format!("tc-api-abuse-{}", std::process::id()));
    let (genesis, mut nodes) = setup_with_api(
        &root,
        4,
        |_| ringkit::DECLARED_CLOCK.to_string(),
        |i| {
            if i == 0 {
                LIMITS.to_string()
            } else {
                UNLIMITED_API.to_string()
            }
        },
    );
    start_all(&mut nodes, 2, Duration::from_secs(20));
    let to = addr_of(&nodes[0].api);
    let acknowledged: Arc<Mutex<Vec<Digest>>> = Arc::default();
    // The first digest of every accepted request: every batch has one here.
    let firsts: Arc<Mutex<Vec<Digest>>> = Arc::default();

    // 1. Slowloris: 300 connections that send half a request head, then nothing.
    let mut held = Vec::new();
    for _ in 0..300 {
        if let Ok(mut c) = connect_from(ATTACKER, to) {
            let _ = c.write_all(b"POST /v1/timestamps HTTP/1.1\r\nhost: x\r\ncontent-le");
            held.push(c);
        }
    }
    for i in 0..10 {
        good(to, "GET", "/v1/ticks/latest", b"", 200);
        let d = digests(&format!("good-slowloris-{i}"), 10);
        good(to, "POST", "/v1/timestamps", &body(&d), 202);
        firsts.lock().unwrap().push(d[0]);
        acknowledged.lock().unwrap().extend(d);
    }
    for c in &mut held {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert!(closed_by_server(c), "no half-sent head keeps a connection");
    }
    assert!(limited(to, "connections_per_client") >= 284);
    assert!(limited(to, "header_timeout") >= 1);
    drop(held);

    // 2. Digest flooder: 10,000 digests per request, as fast as two threads can send.
    let (flood_ack, flood_firsts) = (acknowledged.clone(), firsts.clone());
    let round = AtomicU64::new(0);
    let started = Instant::now();
    let accepted = under_attack(
        2,
        Duration::from_secs(6),
        move |count| {
            let r = round.fetch_add(1, Ordering::Relaxed);
            let d = digests(&format!("flood-{r}"), 10_000);
            if let Some(reply) = exchange(
                ATTACKER,
                to,
                "POST",
                "/v1/timestamps",
                &body(&d),
                Duration::from_secs(10),
            ) && reply.status == 202
            {
                count.fetch_add(d.len() as u64, Ordering::Relaxed);
                flood_firsts.lock().unwrap().push(d[0]);
                flood_ack.lock().unwrap().extend(d);
            }
        },
        || {
            for i in 0..20 {
                let d = digests(&format!("good-flood-{i}"), 100);
                good(to, "POST", "/v1/timestamps", &body(&d), 202);
                firsts.lock().unwrap().push(d[0]);
                acknowledged.lock().unwrap().extend(d);
                std::thread::sleep(Duration::from_millis(200));
            }
        },
    );
    let elapsed = started.elapsed().as_secs_f64();
    let allowed = 10_000.0 + 5_000.0 * elapsed;
    assert!(
        (accepted as f64) <= allowed,
        "the flooder got {accepted} digests in {elapsed:.1} s; its share is {allowed:.0}"
    );
    assert!(accepted >= 10_000, "its burst was admitted");
    eprintln!("flooder: {accepted} digests accepted in {elapsed:.1} s (share {allowed:.0})");
    assert!(limited(to, "digests") >= 1);

    // 3. Proof-cache thrasher: proofs of digests spread over many batches, as fast as it can.
    let targets: Vec<Digest> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .step_by(97)
        .copied()
        .collect();
    let targets = Arc::new(targets);
    let next = AtomicU64::new(0);
    let (t, started) = (targets.clone(), Instant::now());
    let served = under_attack(
        2,
        Duration::from_secs(4),
        move |count| {
            let i = next.fetch_add(1, Ordering::Relaxed) as usize % t.len();
            let path = format!("/v1/proofs/{}", t[i].to_hex());
            if let Some(r) = exchange(ATTACKER, to, "GET", &path, b"", Duration::from_secs(10))
                && r.status != 429
            {
                count.fetch_add(1, Ordering::Relaxed);
            }
        },
        || {
            for d in targets.iter().take(20) {
                let path = format!("/v1/proofs/{}", d.to_hex());
                let r = exchange(GOOD, to, "GET", &path, b"", GOOD_WITHIN)
                    .expect("a proof read answered within 2 s");
                assert!(r.status == 200 || r.status == 202, "{}", r.body);
                std::thread::sleep(Duration::from_millis(100));
            }
        },
    );
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        (served as f64) <= 100.0 + 50.0 * elapsed + 10.0,
        "the thrasher was served {served} reads in {elapsed:.1} s"
    );
    assert!(limited(to, "requests") >= 1);
    eprintln!("thrasher: {served} reads served in {elapsed:.1} s");

    // 4. Metrics-label flooder: invented methods and paths.
    for i in 0..300 {
        let _ = exchange(
            ATTACKER,
            to,
            &format!("XMETHOD{i}"),
            &format!("/x{i}"),
            b"",
            Duration::from_secs(5),
        );
        if i % 50 == 0 {
            good(to, "GET", "/v1/network", b"", 200);
        }
    }
    let metrics = good(to, "GET", "/metrics", b"", 200).body;
    let labels = metrics
        .lines()
        .filter(|l| l.starts_with("tickchain_api_requests_total{"))
        .count();
    assert!(!metrics.contains("XMETHOD") && !metrics.contains("/x1"));
    assert!(labels <= 30, "{labels} label sets");

    // What the node acknowledged, to either client, becomes provable: one digest of every
    // accepted request (the well-behaved client is rate limited too, so not all 40,000).
    let network = Network::new(genesis);
    let client = Client::new(&nodes[0].api);
    let mut left: Vec<Digest> = firsts.lock().unwrap().clone();
    wait_until(
        "acknowledged digests provable",
        Duration::from_secs(60),
        || {
            left.retain(|d| match client.proof(d) {
                Ok(ProofLookup::Ready(p)) => {
                    assert_eq!(p.digest, *d);
                    network.verify(&p).expect("a proof the sdk verifies");
                    false
                }
                _ => true,
            });
            left.is_empty()
        },
    );
    // The operator sees the same in `timenode status`.
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["status", "--api", &nodes[0].api])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("refused") && text.contains("connections_per_client 2"),
        "{text}"
    );
    for kind in [
        "connections_per_client",
        "header_timeout",
        "digests",
        "requests",
    ] {
        eprintln!("limited {kind}: {}", limited(to, kind));
    }
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}
