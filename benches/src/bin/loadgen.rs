//! Load generator for the Timestamp API: a 4-node in-process ring on loopback (real QUIC, real
//! sled files with a flush per group commit, real HTTP), loaded through every node's API.
//!
//! `cargo run --release -p tickchain-benches --bin loadgen [-- SECONDS [BATCH_CLIENTS
//! [SINGLE_CLIENTS]]]` (default 10 s per phase, 4 batch clients, 128 single clients).
//!
//! - Phase `batch`: each batch client POSTs 10,000 fresh digests per request to node
//!   (client % 4), back to back, as `application/octet-stream` (32 bytes each); reports digests
//!   accepted (`202`) per second and the process's CPU-seconds per million digests.
//! - Phase `json`: the same with JSON bodies (hex digests).
//! - Phase `paced`: binary batches offered at 250,000 digests/s in total (the intake goal), so
//!   the ring's lag and the time to a proof are measured at that load, not at saturation.
//! - Load clients connect from 127.0.0.2 to 127.0.0.9 (the API's quotas are off in this ring
//!   anyway: `rate-per-second = 0`, `digests-per-second = 0`).
//! - Phase `single`: each single client POSTs one fresh digest per request; reports requests
//!   accepted per second and the request latency.
//! - The clients of both phases are tasks on one thread (current-thread tokio runtime), each
//!   with a keep-alive connection and hand-written HTTP/1.1, so the generator takes little of
//!   the machine the ring runs on.
//! - Phase `proofs`: the ring restarts (every node's proof cache cold), then 16 clients read
//!   the proofs of 500 digests in each of 20 large batches of the batch phase, the batches
//!   interleaved; reports proof reads per second and the process's memory growth.
//! - In both load phases, 4 probe clients submit one digest at a random instant (uniform within a
//!   second after the previous probe's proof) and poll `GET /v1/proofs/{digest}` every 5 ms
//!   from the acknowledgement until the proof is served; reports time from acknowledgement to
//!   available proof (p50/p99/max, 5 ms resolution).
//!
//! `LOADGEN_PHASES=batch,paced` runs only the named phases (`proofs` included only if named);
//! `LOADGEN_CONFIG` is appended to every node's config (e.g. `[pool]` with `seal-lead-ms`).
//!
//! Loopback only, bounded: it stops by itself and removes its temp directory.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_benches::{LocalRing, cpu_time, pct};

/// Digests per batch request (the API's default `max-digests`).
const BATCH: usize = 10_000;
/// Digests per second offered in the `paced` phase: the intake goal, at which the ring's lag
/// and the time to a proof are measured.
const PACED_RATE: f64 = 250_000.0;

/// A source of distinct digests: BLAKE3 of (run, client, counter).
#[derive(Clone)]
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

    fn next_raw(&mut self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(&self.prefix);
        h.update(&self.next.to_be_bytes());
        self.next += 1;
        *h.finalize().as_bytes()
    }

    fn next_hex(&mut self) -> String {
        hex::encode(self.next_raw())
    }

    /// `n` digests as an `application/octet-stream` body: 32 bytes each, back to back.
    fn binary_body(&mut self, n: usize) -> Vec<u8> {
        let mut body = Vec::with_capacity(n * 32);
        for _ in 0..n {
            body.extend_from_slice(&self.next_raw());
        }
        body
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

/// POSTs `body` with ureq; returns the status (0 on a transport error).
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
    /// Accepted batch requests: the node's API and the digest source as it was before the
    /// request (so its digests can be generated again).
    accepted: Mutex<Vec<(String, Digests)>>,
}

/// One load client: POSTs `per` fresh digests per request over one keep-alive connection
/// (reconnecting after an error) until `stop`.
#[allow(clippy::too_many_arguments)]
async fn load_client(
    api: String,
    per: usize,
    binary: bool,
    rate: Option<f64>,
    from: std::net::Ipv4Addr,
    mut digests: Digests,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) {
    let host = api.trim_start_matches("http://").to_string();
    let mut conn: Option<tokio::io::BufReader<tokio::net::TcpStream>> = None;
    // Paced: request k starts at start + k × per / rate.
    let start = tokio::time::Instant::now();
    let mut sent = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if let Some(rate) = rate {
            let due = start + Duration::from_secs_f64(sent as f64 * per as f64 / rate);
            tokio::time::sleep_until(due).await;
            sent += 1;
        }
        if conn.is_none() {
            match connect_from(from, &host).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    conn = Some(tokio::io::BufReader::new(s));
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let before = (per > 1).then(|| digests.clone());
        let (body, content_type) = if binary {
            (digests.binary_body(per), "application/octet-stream")
        } else {
            (digests.body(per).0.into_bytes(), "application/json")
        };
        let t = Instant::now();
        let conn_ref = conn.as_mut().expect("connected");
        let status = match post_raw(conn_ref, &host, content_type, &body).await {
            Ok(s) => s,
            Err(_) => {
                conn = None;
                0
            }
        };
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if status == 202 {
            counters
                .accepted_digests
                .fetch_add(per as u64, Ordering::Relaxed);
            counters.accepted_requests.fetch_add(1, Ordering::Relaxed);
            counters.latencies_ms.lock().unwrap().push(ms);
            if let Some(before) = before {
                counters
                    .accepted
                    .lock()
                    .unwrap()
                    .push((api.clone(), before));
            }
        } else {
            *counters.refused.lock().unwrap().entry(status).or_default() += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A TCP connection to `host` from the loopback address `from` (so the node sees several
/// clients).
async fn connect_from(
    from: std::net::Ipv4Addr,
    host: &str,
) -> std::io::Result<tokio::net::TcpStream> {
    let to: std::net::SocketAddr = host
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad address"))?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind((from, 0).into())?;
    socket.connect(to).await
}

/// One `POST /v1/timestamps` on a keep-alive connection; returns the status code.
async fn post_raw(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    host: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<u16> {
    let head = format!(
        "POST /v1/timestamps HTTP/1.1\r\nhost: {host}\r\ncontent-type: {content_type}\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    exchange_raw(conn, &head, body).await
}

/// One `GET path` on a keep-alive connection; returns the status code.
async fn get_raw(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    host: &str,
    path: &str,
) -> std::io::Result<u16> {
    let head = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\n\r\n");
    exchange_raw(conn, &head, b"").await
}

/// Sends `head` and `body`, reads the answer (Content-Length framed); returns its status.
async fn exchange_raw(
    conn: &mut tokio::io::BufReader<tokio::net::TcpStream>,
    head: &str,
    body: &[u8],
) -> std::io::Result<u16> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    conn.get_mut().write_all(head.as_bytes()).await?;
    conn.get_mut().write_all(body).await?;
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad response");
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let mut length = 0usize;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(bad());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().map_err(|_| bad())?;
        }
    }
    let mut sink = vec![0u8; length];
    conn.read_exact(&mut sink).await?;
    Ok(status)
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
    /// `application/octet-stream` bodies (else JSON).
    binary: bool,
    /// Digests per second offered in total (else as fast as accepted).
    rate: Option<f64>,
}

/// Runs one load phase; returns the accepted batch requests (API, digest source before).
fn run_phase(
    ring: &LocalRing,
    phase: &Phase,
    seconds: u64,
    client_base: u64,
) -> Vec<(String, Digests)> {
    let apis = &ring.apis;
    let apis_owned: Vec<String> = apis.clone();
    let mut events = ring.events.subscribe();
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let proof_ms = Arc::new(Mutex::new(Vec::new()));
    let probe_failures = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    // The load clients share one OS thread with a current-thread runtime: keep-alive
    // connections with hand-written HTTP/1.1, so the generator costs little of the 2 cores.
    {
        let (apis, counters, stop) = (apis_owned, counters.clone(), stop.clone());
        let (clients, per, binary) = (phase.clients, phase.per_request, phase.binary);
        let rate = phase.rate.map(|r| r / clients as f64);
        threads.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("client runtime");
            rt.block_on(async move {
                let mut tasks = tokio::task::JoinSet::new();
                for c in 0..clients {
                    let api = apis[c % apis.len()].clone();
                    let (counters, stop) = (counters.clone(), stop.clone());
                    let digests = Digests::new(client_base + c as u64);
                    // Clients come from 127.0.0.2 to 127.0.0.9.
                    let from = std::net::Ipv4Addr::new(127, 0, 0, 2 + (c % 8) as u8);
                    tasks.spawn(load_client(
                        api, per, binary, rate, from, digests, counters, stop,
                    ));
                }
                while tasks.join_next().await.is_some() {}
            });
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
        "{:<6} {:>3} clients × {:>5} digests/request: {:>9.0} digests/s accepted, {:>7.0} requests/s \
         ({:.1} CPU-s per million digests); request p50 {:.1} ms p99 {:.1} ms; refused {:?}",
        phase.name,
        phase.clients,
        phase.per_request,
        digests as f64 / elapsed,
        requests as f64 / elapsed,
        cpu / (digests.max(1) as f64 / 1e6),
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
    std::mem::take(&mut *counters.accepted.lock().unwrap())
}

/// Proof reads from cold caches: restarts the ring, then reads the proofs of `PER_BATCH`
/// digests in each of `BATCHES` accepted batch requests spread over the batch phase, the
/// batches interleaved, with 16 keep-alive clients.
fn proof_phase(rt: &tokio::runtime::Runtime, ring: &mut LocalRing, accepted: &[(String, Digests)]) {
    const BATCHES: usize = 20;
    const PER_BATCH: usize = 500;
    const CLIENTS: usize = 16;
    if accepted.len() < BATCHES {
        println!(
            "proofs: only {} batch requests were accepted; skipped",
            accepted.len()
        );
        return;
    }
    // Requests spread evenly over the phase: at most a few share a second's batch.
    let step = accepted.len() / BATCHES;
    let mut reads: Vec<Vec<(String, String)>> = vec![Vec::new(); BATCHES];
    for (b, (api, source)) in accepted.iter().step_by(step).take(BATCHES).enumerate() {
        let mut d = source.clone();
        for _ in 0..PER_BATCH {
            reads[b].push((api.clone(), d.next_hex()));
        }
    }
    // Interleave: the first digest of every batch, then the second of every batch, ...
    let order: Vec<(String, String)> = (0..PER_BATCH)
        .flat_map(|i| reads.iter().map(move |r| r[i].clone()))
        .collect();
    rt.block_on(ring.restart());
    let mut events = ring.events.subscribe();
    rt.block_on(async {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
                break;
            }
        }
    });
    let rss0 = tickchain_benches::rss_bytes();
    let cpu0 = cpu_time();
    let t0 = Instant::now();
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, u64>::new()));
    let order = Arc::new(order);
    let next = Arc::new(AtomicU64::new(0));
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    client_rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..CLIENTS {
            let (order, next, statuses) = (order.clone(), next.clone(), statuses.clone());
            tasks.spawn(async move {
                let mut conns: std::collections::HashMap<
                    String,
                    tokio::io::BufReader<tokio::net::TcpStream>,
                > = std::collections::HashMap::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((api, digest)) = order.get(i) else {
                        break;
                    };
                    let host = api.trim_start_matches("http://").to_string();
                    if !conns.contains_key(api) {
                        let Ok(s) = tokio::net::TcpStream::connect(&host).await else {
                            continue;
                        };
                        let _ = s.set_nodelay(true);
                        conns.insert(api.clone(), tokio::io::BufReader::new(s));
                    }
                    let conn = conns.get_mut(api).expect("connected");
                    let status = get_raw(conn, &host, &format!("/v1/proofs/{digest}"))
                        .await
                        .unwrap_or_else(|_| {
                            conns.remove(api);
                            0
                        });
                    *statuses.lock().unwrap().entry(status).or_default() += 1;
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_time().saturating_sub(cpu0).as_secs_f64();
    let grown = tickchain_benches::rss_bytes().saturating_sub(rss0);
    println!(
        "proofs {CLIENTS} clients, cold caches, {BATCHES} batches × {PER_BATCH} digests: {:.0} proof reads/s \
         ({} reads in {elapsed:.2} s, statuses {:?}); process CPU {:.2} cores; memory grew {:.1} MiB",
        order.len() as f64 / elapsed,
        order.len(),
        statuses.lock().unwrap(),
        cpu / elapsed,
        grown as f64 / (1 << 20) as f64,
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
    let single_clients = arg(3, 128) as usize;
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    println!(
        "loadgen: 4 in-process nodes on 127.0.0.1, {} cores, {seconds} s per phase after 1 s ramp-up",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut ring = rt.block_on(async {
        LocalRing::start(
            "loadgen",
            4,
            &std::env::var("LOADGEN_CONFIG").unwrap_or_default(),
        )
    });
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
            binary: true,
            rate: None,
        },
        Phase {
            name: "json",
            clients: batch_clients,
            per_request: BATCH,
            binary: false,
            rate: None,
        },
        Phase {
            name: "paced",
            clients: batch_clients,
            per_request: BATCH,
            binary: true,
            rate: Some(PACED_RATE),
        },
        Phase {
            name: "single",
            clients: single_clients,
            per_request: 1,
            binary: false,
            rate: None,
        },
    ];
    // `LOADGEN_PHASES=batch,paced` runs only the named phases (the proof phase runs when
    // `proofs` is named, or when the variable is unset).
    let only = std::env::var("LOADGEN_PHASES").ok();
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|p| p == name))
    };
    let mut batch_requests = Vec::new();
    for (i, phase) in phases.iter().enumerate() {
        if !wanted(phase.name) {
            continue;
        }
        let accepted = run_phase(&ring, phase, seconds, (i as u64) << 32);
        if phase.name == "batch" {
            batch_requests = accepted;
        }
    }
    if wanted("proofs") {
        proof_phase(&rt, &mut ring, &batch_requests);
    }
    rt.block_on(ring.stop());
}
