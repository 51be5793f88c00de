//! Load generator for the Timestamp API: a 4-node in-process ring on loopback (real QUIC, real
//! sled files with a flush per group commit, real HTTP), loaded through every node's API.
//!
//! `cargo run --release -p tickchain-benches --bin loadgen [-- SECONDS [BATCH_CLIENTS
//! [SINGLE_CLIENTS]]]` (default 10 s per phase, 4 batch clients, 32 single clients).
//!
//! - Phase `batch`: each batch client POSTs 10,000 fresh digests per request to node
//!   (client % 4), back to back; reports digests accepted (`202`) per second.
//! - Phase `single`: each single client POSTs one fresh digest per request; reports requests
//!   accepted per second and the request latency.
//! - In both phases, 4 probe clients submit one digest at a random instant (uniform within a
//!   second after the previous probe's proof) and poll `GET /v1/proofs/{digest}` every 5 ms
//!   from the acknowledgement until the proof is served; reports time from acknowledgement to
//!   available proof (p50/p99/max, 5 ms resolution).
//!
//! Loopback only, bounded: it stops by itself and removes its temp directory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_benches::{LocalRing, cpu_time, pct};

/// Digests per batch request (the API's default `max-digests`).
const BATCH: usize = 10_000;

/// A source of distinct digests: BLAKE3 of (run, client, counter).
struct Digests {
    prefix: [u8; 16],
    next: u64,
}

impl Digests {
    fn new(client: u64) -> Digests {
        let mut prefix = [0u8; 16];
        prefix[..8].copy_from_slice(&(std::process::id() as u64).to_be_bytes());
        prefix[8..].copy_from_slice(&client.to_be_bytes());
        Digests { prefix, next: 0 }
    }

    fn next_hex(&mut self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&self.prefix);
        h.update(&self.next.to_be_bytes());
        self.next += 1;
        hex::encode(h.finalize().as_bytes())
    }

    fn body(&mut self, n: usize) -> (String, String) {
        let mut first = String::new();
        let mut body = String::with_capacity(16 + n * 67);
        body.push_str("{\"digests\":[");
        for i in 0..n {
            let d = self.next_hex();
            if i > 0 {
                body.push(',');
            }
            body.push('"');
            body.push_str(&d);
            body.push('"');
            if i == 0 {
                first = d;
            }
        }
        body.push_str("]}");
        (body, first)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// POSTs `body`; returns the status (0 on a transport error).
fn post(agent: &ureq::Agent, api: &str, body: &str) -> u16 {
    match agent
        .post(format!("{api}/v1/timestamps"))
        .header("content-type", "application/json")
        .send(body)
    {
        Ok(mut r) => {
            let status = r.status().as_u16();
            let _ = r.body_mut().read_to_vec();
            status
        }
        Err(_) => 0,
    }
}

#[derive(Default)]
struct Counters {
    accepted_digests: AtomicU64,
    accepted_requests: AtomicU64,
    refused: Mutex<std::collections::BTreeMap<u16, u64>>,
    latencies_ms: Mutex<Vec<f64>>,
}

/// Submits one digest, then polls for its proof; returns ack → proof in milliseconds.
fn probe_once(agent: &ureq::Agent, api: &str, digests: &mut Digests) -> Option<f64> {
    let (body, digest) = digests.body(1);
    if post(agent, api, &body) != 202 {
        return None;
    }
    let acked = Instant::now();
    let url = format!("{api}/v1/proofs/{digest}");
    while acked.elapsed() < Duration::from_secs(20) {
        if let Ok(mut r) = agent.get(&url).call() {
            let status = r.status().as_u16();
            let _ = r.body_mut().read_to_vec();
            if status == 200 {
                return Some(acked.elapsed().as_secs_f64() * 1e3);
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

struct Phase {
    name: &'static str,
    clients: usize,
    per_request: usize,
}

fn run_phase(ring: &LocalRing, phase: &Phase, seconds: u64, client_base: u64) {
    let apis = &ring.apis;
    let mut events = ring.events.subscribe();
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let proof_ms = Arc::new(Mutex::new(Vec::new()));
    let probe_failures = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for c in 0..phase.clients {
        let (api, counters, stop) = (apis[c % apis.len()].clone(), counters.clone(), stop.clone());
        let per = phase.per_request;
        threads.push(std::thread::spawn(move || {
            let agent = agent();
            let mut digests = Digests::new(client_base + c as u64);
            while !stop.load(Ordering::Relaxed) {
                let (body, _) = digests.body(per);
                let t = Instant::now();
                let status = post(&agent, &api, &body);
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if status == 202 {
                    counters
                        .accepted_digests
                        .fetch_add(per as u64, Ordering::Relaxed);
                    counters.accepted_requests.fetch_add(1, Ordering::Relaxed);
                    counters.latencies_ms.lock().unwrap().push(ms);
                } else {
                    *counters.refused.lock().unwrap().entry(status).or_default() += 1;
                    if status == 0 || status == 503 {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }));
    }
    for p in 0..4 {
        let (api, stop, proof_ms, failures) = (
            apis[p % apis.len()].clone(),
            stop.clone(),
            proof_ms.clone(),
            probe_failures.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let agent = agent();
            let mut digests = Digests::new(client_base + 10_000 + p as u64);
            // Probes start at uniformly spread instants within the second (a probe started
            // right after the previous proof would always start just after a tick).
            let mut jitter = 0x9e37_79b9_7f4a_7c15u64 ^ (p as u64 + 1);
            while !stop.load(Ordering::Relaxed) {
                jitter ^= jitter << 13;
                jitter ^= jitter >> 7;
                jitter ^= jitter << 17;
                std::thread::sleep(Duration::from_millis(jitter % 1000));
                match probe_once(&agent, &api, &mut digests) {
                    Some(ms) => proof_ms.lock().unwrap().push(ms),
                    None => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    // One second of ramp-up is not counted.
    std::thread::sleep(Duration::from_secs(1));
    let d0 = counters.accepted_digests.load(Ordering::Relaxed);
    let r0 = counters.accepted_requests.load(Ordering::Relaxed);
    counters.latencies_ms.lock().unwrap().clear();
    proof_ms.lock().unwrap().clear();
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_time().saturating_sub(cpu0).as_secs_f64();
    let mut lags = Vec::new();
    let mut ticked = std::collections::BTreeSet::new();
    while let Ok(e) = events.try_recv() {
        lags.push(e.lag.0 as f64 / 1e6);
        ticked.insert(e.second.0);
    }
    lags.sort_by(f64::total_cmp);
    let span = ticked
        .last()
        .zip(ticked.first())
        .map_or(0, |(l, f)| l - f + 1);
    let digests = counters.accepted_digests.load(Ordering::Relaxed) - d0;
    let requests = counters.accepted_requests.load(Ordering::Relaxed) - r0;
    let mut lat = counters.latencies_ms.lock().unwrap().clone();
    let mut proofs = proof_ms.lock().unwrap().clone();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    lat.sort_by(f64::total_cmp);
    proofs.sort_by(f64::total_cmp);
    println!(
        "{:<6} {:>3} clients × {:>5} digests/request: {:>9.0} digests/s accepted, {:>7.0} requests/s; \
         request p50 {:.1} ms p99 {:.1} ms; refused {:?}",
        phase.name,
        phase.clients,
        phase.per_request,
        digests as f64 / elapsed,
        requests as f64 / elapsed,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        counters.refused.lock().unwrap(),
    );
    println!(
        "       ack → proof over {} probes: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} probes without a proof in 20 s); \
         process CPU {:.2} cores",
        proofs.len(),
        pct(&proofs, 0.5),
        pct(&proofs, 0.99),
        proofs.last().copied().unwrap_or(f64::NAN),
        probe_failures.load(Ordering::Relaxed),
        cpu / elapsed,
    );
    println!(
        "       ring: {} ticks over {span} s, final-tick lag p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (all nodes)",
        ticked.len(),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        lags.last().copied().unwrap_or(f64::NAN),
    );
}

fn main() {
    let arg = |i: usize, default: u64| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let seconds = arg(1, 10);
    let batch_clients = arg(2, 4) as usize;
    let single_clients = arg(3, 32) as usize;
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!(
        "loadgen: 4 in-process nodes on 127.0.0.1, {} cores, {seconds} s per phase after 1 s ramp-up",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let ring = rt.block_on(async { LocalRing::start("loadgen", 4, "") });
    let ready = Instant::now();
    let mut events = ring.events.subscribe();
    rt.block_on(async {
        while ready.elapsed() < Duration::from_secs(20) {
            if let Ok(Ok(e)) = tokio::time::timeout(Duration::from_secs(1), events.recv()).await
                && e.height.0 >= 2
            {
                break;
            }
        }
    });
    let phases = [
        Phase {
            name: "batch",
            clients: batch_clients,
            per_request: BATCH,
        },
        Phase {
            name: "single",
            clients: single_clients,
            per_request: 1,
        },
    ];
    for (i, phase) in phases.iter().enumerate() {
        run_phase(&ring, phase, seconds, (i as u64) << 32);
    }
    rt.block_on(ring.stop());
}
