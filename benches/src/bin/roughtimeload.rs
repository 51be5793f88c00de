//! Roughtime throughput and latency, ours beside the stock `roughenough_server` 2.2, with one
//! load generator in one run.
//!
//! `cargo build --release -p tickchain-timenode --bin timenode && cargo run --release -p
//! tickchain-benches --bin roughtimeload [-- SECONDS]` (default 5 s per measurement; needs
//! `roughenough_server` 2.2 on the PATH or in `~/.cargo/bin`, as `scripts/install-deps`
//! installs it).
//!
//! - Servers: a one-node tickchain network (declared clock, `[roughtime]` with no rate limit,
//!   `batch-size` 64 or 1) and `roughenough_server -j 1 -b 64|1` on loopback.
//! - Load: two client threads, each keeping 64 distinct 1024-byte version-1 requests in flight
//!   (closed loop, a request re-sent after a 200 ms silence); every answer's nonce is matched.
//! - CPU: ours is the `roughtime` thread of the node process (`/proc/PID/task/TID/stat`), the
//!   rest of the node (consensus, API) not counted; roughenough's is its whole process (its
//!   worker does all the work). Reported as signed responses per CPU-second.
//! - Latency: one request in flight, round trip p50 / p99 over the window.
//!
//! Loopback only, bounded: every server is stopped by pid and the temp directory removed.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tickchain_sdk::roughtime::request;

/// A child stopped (SIGKILL) by pid on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ticks(stat: &str) -> u64 {
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// CPU seconds of `pid`'s threads named `thread`, or of the whole process when `None`.
fn cpu(pid: u32, thread: Option<&str>) -> f64 {
    let t = match thread {
        None => ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default()),
        Some(name) => std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_to_string(e.path().join("comm"))
                            .is_ok_and(|c| c.trim() == name)
                    })
                    .map(|e| {
                        ticks(&std::fs::read_to_string(e.path().join("stat")).unwrap_or_default())
                    })
                    .sum()
            })
            .unwrap_or(0),
    };
    t as f64 / 100.0
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn installed(name: &str) -> std::path::PathBuf {
    let home =
        std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo/bin").join(name));
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .chain(home)
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name} not found (scripts/install-deps installs it)"))
}

/// Our server: a one-node network serving Roughtime with `batch` requests per signature.
fn ours(root: &std::path::Path, batch: usize) -> (Proc, SocketAddr) {
    let bin = std::env::current_exe().unwrap().with_file_name("timenode");
    assert!(
        bin.exists(),
        "build it first: cargo build --release -p tickchain-timenode --bin timenode"
    );
    let dir = root.join(format!("ours-{batch}"));
    let port = free_port();
    let api = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    tickchain_timenode::localnet::create(&dir, "roughtime-bench", &[format!("127.0.0.1:{}", free_port())], |_| {
        format!(
            "[clock]\ndeclared-system-error-ms = 20\n[api]\nlisten = \"127.0.0.1:{api}\"\n\
             [roughtime]\nlisten = \"127.0.0.1:{port}\"\nbatch-size = {batch}\nmin-interval-ms = 0\n\
             max-replies-per-second = 4000000\n"
        )
    })
    .unwrap();
    let child = Command::new(bin)
        .args(["run", "--config"])
        .arg(tickchain_timenode::localnet::node_dir(&dir, 0).join("node.toml"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Proc(child), SocketAddr::from(([127, 0, 0, 1], port)))
}

/// roughenough_server 2.2 with one worker and `batch` requests per signature.
fn theirs(batch: usize) -> (Proc, SocketAddr) {
    let port = free_port();
    let child = Command::new(installed("roughenough_server"))
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-j",
            "1",
            "-b",
            &batch.to_string(),
        ])
        .args(["--insecure-zero-seed", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Proc(child), SocketAddr::from(([127, 0, 0, 1], port)))
}

fn wait_ready(server: SocketAddr) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut req = Vec::new();
    request::build(&mut req, &[1], &[1; 32], None);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 2048];
    loop {
        sock.send_to(&req, server).unwrap();
        if sock.recv(&mut buf).is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "{server} never answered");
    }
}

/// Closed-loop load from two threads with `inflight` requests each for `secs`; answers/s.
fn load(server: SocketAddr, inflight: usize, secs: f64) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..2u64)
        .map(|t| {
            let (stop, answered) = (stop.clone(), answered.clone());
            std::thread::spawn(move || {
                let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
                sock.set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let mut req = Vec::with_capacity(1024);
                let mut counter = 0u64;
                let mut send = |sock: &UdpSocket, req: &mut Vec<u8>| {
                    counter += 1;
                    let mut nonce = [0u8; 32];
                    nonce[..8].copy_from_slice(&t.to_be_bytes());
                    nonce[8..16].copy_from_slice(&counter.to_be_bytes());
                    request::build(req, &[1], &nonce, None);
                    let _ = sock.send_to(req, server);
                };
                for _ in 0..inflight {
                    send(&sock, &mut req);
                }
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    match sock.recv(&mut buf) {
                        Ok(_) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            send(&sock, &mut req);
                        }
                        Err(_) => {
                            for _ in 0..inflight {
                                send(&sock, &mut req);
                            }
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let a0 = answered.load(Ordering::Relaxed);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let a1 = answered.load(Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    (a1 - a0) as f64 / elapsed
}

/// One request in flight for `secs`: round-trip p50 and p99 in µs.
fn latency(server: SocketAddr, secs: f64) -> (f64, f64) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 2048];
    let mut rtts = Vec::new();
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let mut k = 0u64;
    while Instant::now() < end {
        k += 1;
        let mut nonce = [0u8; 32];
        nonce[..8].copy_from_slice(&k.to_be_bytes());
        request::build(&mut req, &[1], &nonce, None);
        let t = Instant::now();
        sock.send_to(&req, server).unwrap();
        if sock.recv(&mut buf).is_ok() {
            rtts.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    rtts.sort_by(f64::total_cmp);
    let p = |q: f64| {
        rtts.get(((rtts.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    (p(0.5), p(0.99))
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .map_or(5.0, |s| s.parse().expect("SECONDS"));
    let root = std::env::temp_dir().join(format!("tc-roughtimeload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    println!(
        "roughtimeload: {secs} s per measurement, 2 client threads x 64 in flight, 1024-byte requests"
    );
    println!(
        "{:<28} {:>12} {:>16} {:>18}",
        "server", "answers/s", "answers/CPU-s", "RTT p50/p99 µs"
    );
    let mut per_cpu = std::collections::BTreeMap::new();
    for batch in [64usize, 1] {
        for who in ["tickchain", "roughenough 2.2"] {
            let (proc_, addr) = if who == "tickchain" {
                ours(&root, batch)
            } else {
                theirs(batch)
            };
            wait_ready(addr);
            let pid = proc_.0.id();
            let thread = (who == "tickchain").then_some("roughtime");
            let c0 = cpu(pid, thread);
            let rate = load(addr, 64, secs);
            let c1 = cpu(pid, thread);
            let (p50, p99) = latency(addr, secs.min(3.0));
            let total = rate * secs;
            let efficiency = total / (c1 - c0).max(0.01);
            per_cpu.insert((batch, who), efficiency);
            println!(
                "{:<28} {:>12.0} {:>16.0} {:>11.1}/{:.1}",
                format!("{who}, batch {batch}"),
                rate,
                efficiency,
                p50,
                p99
            );
            drop(proc_);
        }
    }
    for batch in [64usize, 1] {
        println!(
            "batch {batch}: tickchain / roughenough answers per CPU-second = {:.2}",
            per_cpu[&(batch, "tickchain")] / per_cpu[&(batch, "roughenough 2.2")]
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
