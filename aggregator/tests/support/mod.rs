//! Test harness for real time-source fixtures: chronyd NTP servers on loopback and gpsd fed by a
//! live NMEA emitter over UDP.
//!
//! Owns: temp dirs, free ports, fixture processes (pid recorded, polled until ready, killed by
//! pid on drop, also on panic). Never: mocks a source, or skips a test when a fixture is
//! missing: it fails with the command that installs it.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tickchain_aggregator::drivers::{Probe, gpsd::GpsdSession, ntp};
use tickchain_aggregator::gpsd_json::LatencyBounds;
use tickchain_aggregator::{Span, nmea};

/// Fails the test, saying how to install what is missing.
pub fn require_binary(path: &str, package: &str) {
    assert!(
        Path::new(path).exists(),
        "fixture missing: {path} not found; install it with `apt-get install -y {package}`"
    );
}

/// A directory of its own under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates a fresh directory.
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "tickchain-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A free loopback UDP port that no other socket (SO_REUSEPORT included) holds right now.
pub fn free_udp_port() -> u16 {
    loop {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = s.local_addr().unwrap().port();
        drop(s);
        // Also keep it clear of TCP users, so one number serves both when needed.
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A fixture process, killed by its pid when dropped.
pub struct Process {
    pub name: String,
    pub child: Child,
}

impl Process {
    fn spawn(name: &str, cmd: &mut Command) -> Self {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("expected to start {name}, got {e}"));
        Process {
            name: name.into(),
            child,
        }
    }

    /// The recorded pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "fixture {} (pid {}) exited early: {status}",
                self.name,
                self.pid()
            );
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Child::kill signals exactly this pid (SIGKILL); then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `f` to completion on a runtime of its own, in a thread of its own, so the harness
/// works from sync and async tests alike.
fn block_on<F>(f: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
    })
    .join()
    .expect("harness thread")
}

/// What a chronyd fixture serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChronyKind {
    /// `local stratum 1`: the system clock, honestly.
    Honest,
    /// Follows an honest server with `offset 0.5`: serves time 0.5 s ahead.
    LiarAhead { honest_port: u16 },
    /// No reference at all: leap indicator 3.
    Unsynchronised,
    /// Follows an honest server with `offset millis/1000`: serves time that far ahead.
    AheadBy { honest_port: u16, millis: u32 },
}

/// A chronyd serving NTP on `127.0.0.1:port`.
pub struct Chronyd {
    pub addr: SocketAddr,
    pub process: Process,
    _dir: TempDir,
}

/// `_chrony`'s uid and gid from /etc/passwd (chronyd drops root to them, and opens a command
/// socket only in a directory of that user and group).
pub fn chrony_ids() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"_chrony") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .expect("fixture missing: no _chrony user; install chrony with `apt-get install -y chrony`")
}

impl Chronyd {
    /// Starts a chronyd of the given kind and waits until it answers as that kind should.
    pub fn start(kind: ChronyKind) -> Self {
        require_binary("/usr/sbin/chronyd", "chrony");
        let dir = TempDir::new("chronyd");
        std::os::unix::fs::chown(&dir.0, Some(chrony_ids().0), None).expect("chown temp dir");
        let port = free_udp_port();
        let mut conf = format!(
            "port {port}\nbindaddress 127.0.0.1\nallow 127.0.0.1\ncmdport 0\nbindcmdaddress /\npidfile {}/chronyd.pid\n",
            dir.0.display()
        );
        match kind {
            ChronyKind::Honest => conf.push_str("local stratum 1\n"),
            ChronyKind::LiarAhead { honest_port } => conf.push_str(&format!(
                "local stratum 3\nserver 127.0.0.1 port {honest_port} iburst minpoll -2 maxpoll -2 offset 0.5\n"
            )),
            ChronyKind::Unsynchronised => {}
            ChronyKind::AheadBy {
                honest_port,
                millis,
            } => conf.push_str(&format!(
                "local stratum 3\nserver 127.0.0.1 port {honest_port} iburst minpoll -2 maxpoll -2 offset {}\n",
                f64::from(millis) / 1000.0
            )),
        }
        let conf_path = dir.0.join("chronyd.conf");
        std::fs::write(&conf_path, conf).expect("write chronyd.conf");
        let process = Process::spawn(
            "chronyd",
            Command::new("/usr/sbin/chronyd")
                .arg("-x")
                .arg("-d")
                .arg("-f")
                .arg(&conf_path),
        );
        let mut c = Chronyd {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            process,
            _dir: dir,
        };
        c.wait_ready(kind);
        c
    }

    fn wait_ready(&mut self, kind: ChronyKind) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = None;
        while Instant::now() < deadline {
            self.process.assert_running();
            let p = block_on(ntp::query(self.addr, Duration::from_millis(300)));
            let ready = match (&p, kind) {
                (Probe::Sample(_), ChronyKind::Honest) => true,
                (Probe::Sample(s), ChronyKind::LiarAhead { .. }) => s.offset.0 > 400_000_000,
                (Probe::Sample(s), ChronyKind::AheadBy { millis, .. }) => {
                    s.offset.0 > i64::from(millis) * 900_000
                }
                (Probe::Unsynchronised(_), ChronyKind::Unsynchronised) => true,
                _ => false,
            };
            if ready {
                return;
            }
            last = Some(p);
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!(
            "chronyd {kind:?} (pid {}) on {} not ready within 30 s; last probe {last:?}",
            self.process.pid(),
            self.addr
        );
    }
}

/// Sends `$GPRMC`, `$GPGGA` and `$GPZDA` for each UTC second, ~10 ms after it starts, in one
/// datagram to `feed`, with its time shifted by `fault`. Stops on drop.
pub struct NmeaEmitter {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// When the emitter sends, after the second it names.
pub const EMIT_DELAY: Duration = Duration::from_millis(10);

/// The latency bounds that honestly describe this emitter plus gpsd on loopback.
pub fn emitter_latency() -> LatencyBounds {
    LatencyBounds {
        min: Span::from_millis(10),
        max: Span::from_millis(110),
    }
}

/// The NMEA sentences for UTC second `secs`.
pub fn nmea_datagram(secs: i64) -> String {
    let t = chrono::DateTime::from_timestamp(secs, 0).expect("in range");
    let hms = t.format("%H%M%S.00");
    let mut out = String::new();
    out.push_str(&nmea::frame(&format!(
        "GPRMC,{hms},A,4807.038,N,01131.000,E,000.0,000.0,{},,,A",
        t.format("%d%m%y")
    )));
    out.push_str(&nmea::frame(&format!(
        "GPGGA,{hms},4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
    )));
    out.push_str(&nmea::frame(&format!(
        "GPZDA,{hms},{},00,00",
        t.format("%d,%m,%Y")
    )));
    out
}

impl NmeaEmitter {
    /// Starts emitting to `feed`.
    pub fn start(feed: SocketAddr, fault: Duration, fault_ahead: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("emitter socket");
            while !flag.load(Ordering::Relaxed) {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                let next = Duration::from_secs(now.as_secs() + 1) + EMIT_DELAY;
                std::thread::sleep(next - now);
                let second = i64::try_from(now.as_secs() + 1).unwrap();
                let shift = i64::try_from(fault.as_secs()).unwrap();
                let label = if fault_ahead {
                    second + shift
                } else {
                    second - shift
                };
                let _ = sock.send_to(nmea_datagram(label).as_bytes(), feed);
            }
        });
        NmeaEmitter {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for NmeaEmitter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// gpsd reading a live NMEA emitter over UDP, serving JSON on `addr`.
pub struct Gpsd {
    pub addr: SocketAddr,
    _emitter: NmeaEmitter,
    pub process: Process,
    _dir: TempDir,
}

impl Gpsd {
    /// Starts gpsd and an emitter whose time is `fault` ahead (or behind) the system clock, and
    /// waits until gpsd reports a time offset.
    pub fn start(fault: Duration, fault_ahead: bool) -> Self {
        require_binary("/usr/sbin/gpsd", "gpsd gpsd-clients");
        let dir = TempDir::new("gpsd");
        let feed_port = free_udp_port();
        let gpsd_port = free_udp_port();
        let process = Process::spawn(
            "gpsd",
            Command::new("/usr/sbin/gpsd")
                .args(["-N", "-n", "-b", "-S", &gpsd_port.to_string(), "-F"])
                .arg(dir.0.join("gpsd.sock"))
                .arg(format!("udp://127.0.0.1:{feed_port}")),
        );
        let feed = SocketAddr::from(([127, 0, 0, 1], feed_port));
        let mut g = Gpsd {
            addr: SocketAddr::from(([127, 0, 0, 1], gpsd_port)),
            _emitter: NmeaEmitter::start(feed, fault, fault_ahead),
            process,
            _dir: dir,
        };
        g.wait_ready();
        g
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.addr).is_err() {
            self.process.assert_running();
            assert!(
                Instant::now() < deadline,
                "gpsd (pid {}) never listened on {}",
                self.process.pid(),
                self.addr
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let addr = self.addr;
        let got = block_on(async move {
            let mut s = GpsdSession::connect(addr, emitter_latency()).await.ok()?;
            for _ in 0..10 {
                if let Probe::Sample(s) = s.next_probe(Duration::from_secs(3)).await {
                    return Some(s);
                }
            }
            None
        });
        assert!(
            got.is_some(),
            "gpsd (pid {}) on {} never reported a TOFF",
            self.process.pid(),
            self.addr
        );
    }
}
