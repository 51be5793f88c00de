//! `ntpload`: the node's NTP server and a chronyd server on loopback, driven in one run by the
//! same load generator: replies per second, replies per CPU-second of the server, and the
//! round trip p50 / p99 of single requests.
//!
//! Usage: `cargo run --release -p tickchain-benches --bin ntpload [SECONDS]` (default 5 per
//! phase). Needs Debian `chrony` and root (chronyd drops privileges to `_chrony`). Our server
//! runs in this process on the declared system clock (its thread's CPU is read from
//! `/proc/self/task/*/schedstat`); chronyd runs `local stratum 1` (its CPU from
//! `/proc/PID/schedstat`). Rate limits are off on both.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickchain_sdk::Nanos;
use tickchain_timenode::node::clock::NodeClock;
use tickchain_timenode::ntp::{NtpSection, NtpServer};

fn schedstat_ns(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU of this process's thread named `name`, in ns.
fn thread_cpu(name: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let dir = task.path();
        if std::fs::read_to_string(dir.join("comm")).is_ok_and(|c| c.trim() == name) {
            total += schedstat_ns(dir.join("schedstat").to_str().unwrap());
        }
    }
    total
}

fn request() -> [u8; 48] {
    let mut r = [0u8; 48];
    r[0] = 4 << 3 | 3;
    r[40..48].copy_from_slice(&[9; 8]);
    r
}

/// Replies in `seconds` with up to 32 requests outstanding.
fn throughput(server: SocketAddr, seconds: u64) -> u64 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let req = request();
    let mut buf = [0u8; 128];
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut replies = 0;
    while Instant::now() < end {
        for _ in 0..32 {
            let _ = sock.send_to(&req, server);
        }
        for _ in 0..32 {
            if sock.recv(&mut buf).is_err() {
                break;
            }
            replies += 1;
        }
    }
    replies
}

/// Round trips of single requests, sorted (µs).
fn round_trips(server: SocketAddr, n: usize) -> Vec<f64> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let req = request();
    let mut buf = [0u8; 128];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        sock.send_to(&req, server).unwrap();
        if sock.recv(&mut buf).is_ok() {
            out.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

fn report(name: &str, server: SocketAddr, seconds: u64, cpu: impl Fn() -> u64) -> f64 {
    let rtt = round_trips(server, 2000);
    let before = cpu();
    let replies = throughput(server, seconds);
    let used = (cpu() - before) as f64 / 1e9;
    let per_cpu = replies as f64 / used.max(1e-9);
    let pct = |p: f64| rtt[((rtt.len() - 1) as f64 * p) as usize];
    println!(
        "{name:<10} {:>9.0} replies/s  server CPU {used:.2} s  {per_cpu:>9.0} replies/CPU-s  \
         RTT p50 {:.0} µs  p99 {:.0} µs",
        replies as f64 / seconds as f64,
        pct(0.5),
        pct(0.99)
    );
    per_cpu
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chronyd() -> (Killed, SocketAddr, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("ntpload-chronyd-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    let (uid, gid) = passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f[0] == "_chrony").then(|| (f[2].parse().unwrap(), f[3].parse().unwrap()))
        })
        .expect("needs chrony (apt-get install -y chrony)");
    std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let conf = dir.join("c.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 1\ncmdport 0\n\
             bindcmdaddress /\npidfile {}/c.pid\n",
            dir.display()
        ),
    )
    .unwrap();
    let child = Command::new("/usr/sbin/chronyd")
        .args(["-x", "-d", "-f"])
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Killed(child), SocketAddr::from(([127, 0, 0, 1], port)), dir)
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!(
        "ntpload: {seconds} s per server, one client thread, 32 requests in flight, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let section = NtpSection {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        min_interval_ms: 0,
        max_replies_per_second: u32::MAX,
        ..NtpSection::default()
    };
    let ours = NtpServer::start(
        &section,
        NodeClock::Declared {
            error: Nanos::from_millis(20),
        },
        std::sync::Arc::default(),
    )
    .unwrap()
    .expect("listen is set");
    let mine = report("tickchain", ours.local_addr, seconds, || thread_cpu("ntp"));

    let (child, addr, dir) = chronyd();
    let pid = child.0.id();
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while probe.send_to(&request(), addr).is_ok() && probe.recv(&mut [0u8; 128]).is_err() {
        assert!(Instant::now() < deadline, "chronyd did not answer");
    }
    let theirs = report("chronyd", addr, seconds, || {
        schedstat_ns(&format!("/proc/{pid}/schedstat"))
    });
    println!(
        "replies per CPU-second, tickchain / chronyd: {:.2}",
        mine / theirs
    );
    drop(child);
    let _ = std::fs::remove_dir_all(dir);
}
