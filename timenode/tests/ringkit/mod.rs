//! Running a ring of real `timenode` processes on loopback for tests: keys, genesis and
//! configs in a temp directory, processes started and killed by pid, logs parsed for final
//! ticks, stored chains read back and verified.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_sdk::{Genesis, Height, Network};
use tickchain_timenode::localnet;
use tickchain_timenode::node::records;
use tickchain_timenode::store::{ChainStore, Store};

/// Final ticks a node has logged: height → second.
pub type Finals = Arc<Mutex<BTreeMap<u64, u64>>>;

pub struct Node {
    /// The node's directory (`node.toml`, `node.key`, `data/`, `log`).
    pub dir: PathBuf,
    /// The running process, if started.
    pub child: Option<Child>,
    /// Final ticks it logged.
    pub finals: Finals,
    /// Its Timestamp API base URL.
    pub api: String,
}

impl Node {
    pub fn start(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_timenode"))
            .args([
                "run",
                "--config",
                self.dir.join("node.toml").to_str().unwrap(),
            ])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn timenode");
        let stderr = child.stderr.take().unwrap();
        let finals = self.finals.clone();
        let log = self.dir.join("log");
        std::thread::spawn(move || {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                use std::io::Write;
                let _ = writeln!(out, "{line}");
                if line.contains("final tick") {
                    let field = |k: &str| {
                        line.split_whitespace()
                            .find_map(|w| w.strip_prefix(k))
                            .and_then(|v| v.parse::<u64>().ok())
                    };
                    if let (Some(h), Some(s)) = (field("height="), field("second=")) {
                        finals.lock().unwrap().insert(h, s);
                    }
                }
            }
        });
        self.child = Some(child);
    }

    pub fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap(); // SIGKILL
            c.wait().unwrap();
        }
    }

    pub fn sigterm(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY-free: the kill(1) command sends SIGTERM to the pid we started.
            Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if c.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            c.kill().unwrap();
            c.wait().unwrap();
            panic!("node in {} ignored SIGTERM for 10 s", self.dir.display());
        }
    }

    pub fn top(&self) -> u64 {
        self.finals
            .lock()
            .unwrap()
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.sigkill();
    }
}

pub fn free_udp_ports(n: usize) -> Vec<u16> {
    let sockets: Vec<std::net::UdpSocket> = (0..n)
        .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    sockets
        .iter()
        .map(|s| s.local_addr().unwrap().port())
        .collect()
}

pub const DECLARED_CLOCK: &str = "[clock]\ndeclared-system-error-ms = 20\n";

pub fn setup(root: &Path, n: usize) -> (Genesis, Vec<Node>) {
    setup_with(root, n, |_| DECLARED_CLOCK.to_string())
}

/// Like `setup`, with node i's clock and source sections from `clock(i)`.
pub fn setup_with(root: &Path, n: usize, clock: impl Fn(usize) -> String) -> (Genesis, Vec<Node>) {
    let _ = std::fs::remove_dir_all(root);
    let addresses: Vec<String> = free_udp_ports(n)
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let api_ports = free_tcp_ports(n);
    let (genesis, _) = localnet::create(root, "ring-test", &addresses, |i| {
        format!(
            "{}\n[api]\nlisten = \"127.0.0.1:{}\"\nrate-per-second = 0\n",
            clock(i),
            api_ports[i]
        )
    })
    .unwrap();
    let nodes = (0..n)
        .map(|i| Node {
            dir: localnet::node_dir(root, i),
            child: None,
            finals: Arc::default(),
            api: format!("http://127.0.0.1:{}", api_ports[i]),
        })
        .collect();
    (genesis, nodes)
}

/// `n` distinct free TCP ports on loopback (free when this returns).
pub fn free_tcp_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Reads a stopped node's chain and checks links and certificates with the sdk.
pub fn verified_chain(dir: &Path, network: &Network) -> Vec<(u64, tickchain_sdk::Hash)> {
    let store = Store::open(&dir.join("data")).unwrap();
    let gh = network.genesis().hash;
    let mut prev = gh;
    let mut out = Vec::new();
    let mut last_second = network.genesis().genesis_second;
    for (h, bytes) in store.finals_from(Height(1), usize::MAX).unwrap() {
        let t = records::decode_final(&bytes).unwrap();
        assert_eq!(t.tick.height, h);
        assert_eq!(
            t.tick.prev_hash, prev,
            "height {} does not link to its parent",
            h.0
        );
        assert!(t.tick.second > last_second, "seconds strictly increase");
        if let Some(cert) = &t.certificate {
            network
                .verify_certificate(&t.tick, cert)
                .unwrap_or_else(|e| panic!("height {}: {e}", h.0));
        }
        prev = t.tick.hash(&gh);
        last_second = t.tick.second;
        out.push((h.0, prev));
    }
    out
}

/// The `tickchain` CLI next to the `timenode` binary, built first if this test run did not
/// build it (it lives in the `tickchain-sdk` package).
pub fn tickchain_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_timenode")).with_file_name("tickchain");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "tickchain-sdk", "--bin", "tickchain"])
            .status()
            .expect("run cargo to build the tickchain CLI");
        assert!(
            status.success() && bin.exists(),
            "expected the tickchain CLI at {} (build it with `cargo build -p tickchain-sdk --bin tickchain`)",
            bin.display()
        );
    }
    bin
}

/// Starts every node and waits until each has logged `ticks` final ticks.
pub fn start_all(nodes: &mut [Node], ticks: u64, limit: Duration) {
    for n in nodes.iter_mut() {
        n.start();
    }
    wait_until(&format!("{ticks} final ticks on every node"), limit, || {
        nodes.iter().all(|n| n.top() >= ticks)
    });
}
