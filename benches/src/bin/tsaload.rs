//! RFC 3161 time-stamping throughput: a node's `POST /v1/tsa` beside `openssl ts -reply` (the
//! stock TSA tool) signing with the same P-256 key and certificate, in one run.
//!
//! `cargo build --release -p tickchain-timenode --bin timenode && cargo run --release -p
//! tickchain-benches --bin tsaload [-- SECONDS]` (default 5 s; needs `openssl`).
//!
//! - In process: `Tsa::issue` (verify the proof against genesis, build the TSTInfo and CMS,
//!   sign with ECDSA P-256) on one thread: tokens per CPU-second of the signing itself.
//! - Over HTTP: a one-node network (declared clock, `[tsa]` from its own root) and 512
//!   concurrent clients on loopback, each posting a fresh SHA-256 request and waiting for its
//!   token (a token waits for the digest's tick to be final: latency is about a second by
//!   design). Reported: tokens/s, latency p50/p99, and tokens per CPU-second of the whole
//!   node process (intake, pool, ring, signing).
//! - openssl: `openssl ts -reply` once per token (its only mode: no server), 100 in a row.
//!
//! Loopback only, bounded: the node is stopped by pid and the temp directory removed.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tickchain_sdk::Digest;
use tickchain_sdk::rfc3161::read::{Reply, read};
use tickchain_sdk::rfc3161::request::TsaRequest;
use tickchain_timenode::localnet;

/// A child stopped (SIGKILL) by pid on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11) + field(12)) as f64 / 100.0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn digest(k: u64) -> Digest {
    Digest(*blake3::hash(&k.to_be_bytes()).as_bytes())
}

/// One HTTP/1.1 POST of `body` to `/v1/tsa`; the reply's body.
fn post(api: std::net::SocketAddr, body: &[u8]) -> Option<Vec<u8>> {
    let mut s = std::net::TcpStream::connect(api).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(
        s,
        "POST /v1/tsa HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .ok()?;
    s.write_all(body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    raw.starts_with(b"HTTP/1.1 200")
        .then(|| raw[split + 4..].to_vec())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let root = std::env::temp_dir().join(format!("tc-tsaload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let bin = std::env::current_exe().unwrap().with_file_name("timenode");
    assert!(
        bin.exists(),
        "build it first: cargo build --release -p tickchain-timenode --bin timenode"
    );
    let api_port = free_port();
    let (genesis, _, _) = localnet::create_network(
        &root,
        "tsa-bench",
        &[format!("127.0.0.1:{}", free_port())],
        0,
        true,
        |_| {
            format!(
                "[clock]\ndeclared-system-error-ms = 20\n[api]\nlisten = \"127.0.0.1:{api_port}\"\n\
                 rate-per-second = 0\ndigests-per-second = 0\nmax-waiters = 4096\n\
                 max-waiters-per-client = 4096\nmax-connections = 4096\n\
                 max-connections-per-client = 4096\nnetwork-share-percent = 100\n"
            )
        },
        |_| String::new(),
    )
    .unwrap();
    let node_dir = localnet::node_dir(&root, 0);
    println!(
        "tsaload: {secs} s per measurement on {} cores; loopback",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    // In process: the signing path alone.
    let tsa = tickchain_timenode::tsa::Tsa::open(
        &tickchain_timenode::tsa::TsaSection {
            key_file: Some(node_dir.join("tsa.key")),
            certificate_file: Some(node_dir.join("tsa.pem")),
        },
        &genesis,
        Arc::default(),
    )
    .unwrap()
    .unwrap();
    let node = Proc(
        Command::new(&bin)
            .args(["run", "--config"])
            .arg(node_dir.join("node.toml"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let api = std::net::SocketAddr::from(([127, 0, 0, 1], api_port));
    // Ready: the first token.
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let q = TsaRequest::encode(&digest(u64::MAX), Some(1), true);
        if let Some(reply) = post(api, &q)
            && let Ok(Reply::Token(_)) = read(&reply)
        {
            break reply;
        }
        assert!(Instant::now() < deadline, "the node never granted a token");
        std::thread::sleep(Duration::from_millis(200));
    };
    let (_, proof, _) =
        tickchain_sdk::rfc3161::verify_token(&tickchain_sdk::Network::new(genesis.clone()), &first)
            .unwrap();
    let request = TsaRequest::parse(&TsaRequest::encode(&digest(u64::MAX), Some(1), true)).unwrap();
    use tickchain_api::tsa::TsaSigner;
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed().as_secs_f64() < secs.min(3.0) {
        tsa.issue(&request, &proof).unwrap();
        n += 1;
    }
    let in_process = n as f64 / t0.elapsed().as_secs_f64();

    // Over HTTP: 512 clients, each a thread with one request in flight.
    let stop = Arc::new(AtomicBool::new(false));
    let granted = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<f64>::new()));
    let measuring = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..512u64)
        .map(|c| {
            let (stop, granted, latencies, measuring) = (
                stop.clone(),
                granted.clone(),
                latencies.clone(),
                measuring.clone(),
            );
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    let mut k = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        k += 1;
                        let q = TsaRequest::encode(&digest(c << 32 | k), Some(k), true);
                        let started = Instant::now();
                        let Some(reply) = post(api, &q) else {
                            std::thread::sleep(Duration::from_millis(50));
                            continue;
                        };
                        if matches!(read(&reply), Ok(Reply::Token(_)))
                            && measuring.load(Ordering::Relaxed)
                        {
                            granted.fetch_add(1, Ordering::Relaxed);
                            latencies
                                .lock()
                                .unwrap()
                                .push(started.elapsed().as_secs_f64() * 1000.0);
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    measuring.store(true, Ordering::Relaxed);
    let (c0, t0) = (cpu_seconds(node.0.id()), Instant::now());
    std::thread::sleep(Duration::from_secs_f64(secs));
    measuring.store(false, Ordering::Relaxed);
    let (c1, elapsed) = (cpu_seconds(node.0.id()), t0.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let tokens = granted.load(Ordering::Relaxed) as f64;
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    drop(node);

    // openssl ts -reply, one process per token, with the node's key and certificate.
    let cnf = root.join("tsa.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[tsa]\ndefault_tsa = t\n[t]\nserial = {serial}\nsigner_cert = {cert}\nsigner_key = {key}\n\
             signer_digest = sha256\ndefault_policy = {policy}\ndigests = sha256\naccuracy = secs:1\n\
             ess_cert_id_alg = sha256\n",
            serial = root.join("serial").display(),
            cert = node_dir.join("tsa.pem").display(),
            key = node_dir.join("tsa.key").display(),
            policy = tickchain_sdk::rfc3161::POLICY,
        ),
    )
    .unwrap();
    std::fs::write(root.join("serial"), "01\n").unwrap();
    let query = root.join("q.tsq");
    std::fs::write(&query, TsaRequest::encode(&digest(7), Some(7), true)).unwrap();
    let runs = 100;
    let t0 = Instant::now();
    for _ in 0..runs {
        let out = Command::new("openssl")
            .args(["ts", "-reply", "-queryfile"])
            .arg(&query)
            .arg("-config")
            .arg(&cnf)
            .arg("-out")
            .arg(root.join("r.tsr"))
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(out.success());
    }
    let openssl = runs as f64 / t0.elapsed().as_secs_f64();
    let Ok(Reply::Token(_)) = read(&std::fs::read(root.join("r.tsr")).unwrap()) else {
        panic!("openssl did not grant: check {}", cnf.display());
    };
    let _ = std::fs::remove_dir_all(&root);

    println!(
        "{:<44}{:>12}{:>16}{:>22}",
        "", "tokens/s", "tokens/CPU-s", "latency p50/p99 ms"
    );
    println!(
        "{:<44}{:>12.0}{:>16.0}{:>22}",
        "tickchain Tsa::issue, in process (1 thread)", in_process, in_process, "-"
    );
    println!(
        "{:<44}{:>12.0}{:>16.0}{:>22}",
        "tickchain POST /v1/tsa, 512 clients",
        tokens / elapsed,
        tokens / (c1 - c0).max(0.01),
        format!("{:.0}/{:.0}", percentile(&lat, 0.5), percentile(&lat, 0.99))
    );
    println!(
        "{:<44}{:>12.0}{:>16}{:>22}",
        "openssl ts -reply, a process per token", openssl, "(= tokens/s)", "-"
    );
    println!(
        "tokens per CPU-second, node over HTTP / openssl: {:.1}x",
        tokens / (c1 - c0).max(0.01) / openssl
    );
}
