//! Running rings of real `timenode` processes for tests: keys, genesis and configs in a temp
//! directory (each node with its own API port), processes started (possibly inside a network
//! namespace, [`netns`]) and stopped by pid, their logged final ticks, their stored chains read
//! back and verified, and a userspace UDP relay for delay, loss and partitions ([`relay`]).
// Each test crate that declares `mod ringkit;` uses a subset of these helpers.
#![allow(dead_code)]

pub mod netns;
pub mod relay;

use netns::Netns;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_sdk::{Genesis, Height, Network};
use tickchain_timenode::localnet;
use tickchain_timenode::node::records;
use tickchain_timenode::store::{ChainStore, Store};

/// A `[clock]` section trusting the system clock to ±20 ms (local test networks only).
pub const DECLARED_CLOCK: &str = "[clock]\ndeclared-system-error-ms = 20\n";

/// One final tick as a node logged it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The tick's UTC second.
    pub second: u64,
    /// When the test read the node's `final tick` log line.
    pub at: Instant,
}

/// Final ticks a node has logged: height → what and when it was first seen (a restarted
/// node that logs a height again keeps the first sighting).
pub type Finals = Arc<Mutex<BTreeMap<u64, Seen>>>;

/// A `timenode run` process, optionally inside a network namespace; killed by pid on drop.
pub struct Node {
    /// The node's directory (`node.toml`, `node.key`, `data/`, `log`).
    pub dir: PathBuf,
    /// The namespace it runs in (`None`: the test's own).
    pub ns: Option<Netns>,
    /// The running process, if started.
    child: Option<Child>,
    /// Final ticks it logged, over every start.
    pub finals: Finals,
    /// Its Timestamp API base URL (empty when the test did not configure one).
    pub api: String,
    /// Extra environment variables for the next start (e.g. a test hook).
    pub env: Vec<(String, String)>,
    /// A gateway (`timenode gateway --config DIR/gateway.toml`) rather than a ring member.
    pub gateway: bool,
}

impl Node {
    /// A node for the directory `dir` (made by `localnet::create`), not started.
    pub fn new(dir: PathBuf, ns: Option<Netns>) -> Node {
        Node {
            dir,
            ns,
            child: None,
            finals: Finals::default(),
            api: String::new(),
            env: Vec::new(),
            gateway: false,
        }
    }

    /// Starts `timenode run --config DIR/node.toml`, appending its log to `DIR/log` and
    /// recording each `final tick` line. Inside a namespace, checks that the pid it holds is
    /// the node itself (`ip netns exec` execs in place), so kills reach the node.
    pub fn start(&mut self) {
        assert!(
            self.child.is_none(),
            "node in {} already runs",
            self.dir.display()
        );
        let bin = env!("CARGO_BIN_EXE_timenode");
        let mut cmd = match &self.ns {
            Some(ns) => ns.command(bin),
            None => Command::new(bin),
        };
        let (command, config) = if self.gateway {
            ("gateway", "gateway.toml")
        } else {
            ("run", "node.toml")
        };
        let mut child = cmd
            .args([command, "--config", self.dir.join(config).to_str().unwrap()])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn timenode");
        let stderr = child.stderr.take().unwrap();
        let pid = child.id();
        self.child = Some(child);
        if self.ns.is_some() {
            wait_until(
                "ip netns exec to exec timenode",
                Duration::from_secs(5),
                || {
                    std::fs::read_link(format!("/proc/{pid}/exe"))
                        .is_ok_and(|p| p.file_name().is_some_and(|f| f == "timenode"))
                },
            );
        }
        let finals = self.finals.clone();
        let log = self.dir.join("log");
        std::thread::spawn(move || {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .unwrap();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let at = Instant::now();
                let _ = writeln!(out, "{line}");
                if line.contains("final tick") {
                    let field = |k: &str| {
                        line.split_whitespace()
                            .find_map(|w| w.strip_prefix(k))
                            .and_then(|v| v.parse::<u64>().ok())
                    };
                    if let (Some(h), Some(second)) = (field("height="), field("second=")) {
                        finals
                            .lock()
                            .unwrap()
                            .entry(h)
                            .or_insert(Seen { second, at });
                    }
                }
            }
        });
    }

    /// The pid of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILLs the process by pid and reaps it.
    pub fn sigkill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM by pid and waits up to 10 s for a clean exit (then SIGKILL and panic).
    pub fn sigterm(&mut self) {
        if let Some(mut c) = self.child.take() {
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
            let _ = c.kill();
            let _ = c.wait();
            panic!("node in {} ignored SIGTERM for 10 s", self.dir.display());
        }
    }

    /// Waits up to `limit` for the process to exit by itself and reaps it; panics if it is
    /// still running then.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("a started node");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            if Instant::now() >= deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!("node in {} still ran after {limit:?}", self.dir.display());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The highest final height logged (0 if none).
    pub fn top(&self) -> u64 {
        self.finals
            .lock()
            .unwrap()
            .keys()
            .next_back()
            .copied()
            .unwrap_or(0)
    }

    /// A copy of the final ticks logged so far.
    pub fn finals(&self) -> BTreeMap<u64, Seen> {
        self.finals.lock().unwrap().clone()
    }

    /// How the started process ended, if it has exited by itself (`None` while it runs or when
    /// it was not started). The process stays held, so `sigkill` or drop still clean up.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().unwrap())
    }

    /// The last `lines` lines of the node's log (over every start), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// Polls `done` every 50 ms; panics naming `what` if it is not true within `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops every node with SIGTERM, reads each one's verified chain, and checks that they agree
/// on their common prefix (no fork); returns the chains, in node order.
pub fn stop_and_check_agreement(
    nodes: &mut [Node],
    network: &Network,
) -> Vec<Vec<(u64, tickchain_sdk::Hash)>> {
    for n in nodes.iter_mut() {
        n.sigterm();
    }
    let chains: Vec<_> = nodes
        .iter()
        .map(|n| verified_chain(&n.dir, network))
        .collect();
    let shortest = chains.iter().map(Vec::len).min().unwrap_or(0);
    for (i, chain) in chains.iter().enumerate() {
        assert_eq!(
            chain[..shortest],
            chains[0][..shortest],
            "node {i} forked from node 0"
        );
    }
    chains
}

/// Checks that no signer finalized two ticks in one view across every certificate stored by
/// the stopped `nodes` (no equivocation survives into any chain); returns the number of
/// (signer, view) finalize votes seen.
pub fn assert_no_equivocation(nodes: &[Node]) -> usize {
    let mut votes: BTreeMap<(u16, u64), tickchain_sdk::Hash> = BTreeMap::new();
    for n in nodes {
        let store = Store::open(&n.dir.join("data")).unwrap();
        for (_, bytes) in store.finals_from(Height(1), usize::MAX).unwrap() {
            let t = records::decode_final(&bytes).unwrap();
            if let Some(cert) = t.certificate {
                for v in cert.votes {
                    let prev = votes.insert((v.signer.0, cert.view.0), cert.tick_hash);
                    assert!(
                        prev.is_none_or(|h| h == cert.tick_hash),
                        "signer {} finalized two ticks in view {}",
                        v.signer.0,
                        cert.view.0
                    );
                }
            }
        }
    }
    votes.len()
}

/// Reads a stopped node's chain and checks links, strictly increasing seconds and every
/// certificate with the sdk; returns (height, tick hash) in height order.
pub fn verified_chain(dir: &Path, network: &Network) -> Vec<(u64, tickchain_sdk::Hash)> {
    chain(dir, network)
        .into_iter()
        .map(|(h, _, hash)| (h, hash))
        .collect()
}

/// Like [`verified_chain`], with each tick's second: (height, second, tick hash).
pub fn chain(dir: &Path, network: &Network) -> Vec<(u64, u64, tickchain_sdk::Hash)> {
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
        out.push((h.0, t.tick.second.0, prev));
    }
    out
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

pub fn setup(root: &Path, n: usize) -> (Genesis, Vec<Node>) {
    setup_with(root, n, |_| DECLARED_CLOCK.to_string())
}

/// Like `setup`, with `extra(i)` appended to node i's config after the declared clock (e.g. a
/// `[consensus]` section).
pub fn setup_with_config(
    root: &Path,
    n: usize,
    extra: impl Fn(usize) -> String,
) -> (Genesis, Vec<Node>) {
    setup_with(root, n, |i| format!("{DECLARED_CLOCK}\n{}\n", extra(i)))
}

/// Like `setup`, with node i's clock and source sections from `clock(i)`.
pub fn setup_with(root: &Path, n: usize, clock: impl Fn(usize) -> String) -> (Genesis, Vec<Node>) {
    setup_with_api(root, n, clock, |_| UNLIMITED_API.to_string())
}

/// `[api]` lines of ring tests: no per-client quotas (every test client is on 127.0.0.1).
pub const UNLIMITED_API: &str = "rate-per-second = 0\ndigests-per-second = 0\n";

/// Like `setup_with`, with node i's `[api]` lines (after `listen`) from `api(i)`.
pub fn setup_with_api(
    root: &Path,
    n: usize,
    clock: impl Fn(usize) -> String,
    api: impl Fn(usize) -> String,
) -> (Genesis, Vec<Node>) {
    let _ = std::fs::remove_dir_all(root);
    let addresses: Vec<String> = free_udp_ports(n)
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let api_ports = free_tcp_ports(n);
    let (genesis, _) = localnet::create(root, "ring-test", &addresses, |i| {
        format!(
            "{}\n[api]\nlisten = \"127.0.0.1:{}\"\n{}",
            clock(i),
            api_ports[i],
            api(i)
        )
    })
    .unwrap();
    let nodes = (0..n)
        .map(|i| {
            let mut node = Node::new(localnet::node_dir(root, i), None);
            node.api = format!("http://127.0.0.1:{}", api_ports[i]);
            node
        })
        .collect();
    (genesis, nodes)
}

/// A ring of `n` nodes and `g` gateways (a version 3 genesis), each with its own API port and
/// the declared clock; nothing started.
pub fn setup_with_gateways(root: &Path, n: usize, g: usize) -> (Genesis, Vec<Node>, Vec<Node>) {
    setup_network(root, n, g, false)
}

/// As [`setup_with_gateways`]; with `tsa`, the network has an RFC 3161 root in genesis and
/// every node a TSA key and certificate (`localnet::create_network`).
pub fn setup_network(
    root: &Path,
    n: usize,
    g: usize,
    tsa: bool,
) -> (Genesis, Vec<Node>, Vec<Node>) {
    let _ = std::fs::remove_dir_all(root);
    let addresses: Vec<String> = free_udp_ports(n)
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let api_ports = free_tcp_ports(n + g);
    let section = |port: u16| {
        format!("{DECLARED_CLOCK}\n[api]\nlisten = \"127.0.0.1:{port}\"\n{UNLIMITED_API}")
    };
    let (genesis, _, _) = localnet::create_network(
        root,
        "ring-test",
        &addresses,
        g,
        tsa,
        |i| section(api_ports[i]),
        |j| section(api_ports[n + j]),
    )
    .unwrap();
    let node = |dir: PathBuf, port: u16, gateway: bool| {
        let mut node = Node::new(dir, None);
        node.api = format!("http://127.0.0.1:{port}");
        node.gateway = gateway;
        node
    };
    let nodes = (0..n)
        .map(|i| node(localnet::node_dir(root, i), api_ports[i], false))
        .collect();
    let gateways = (0..g)
        .map(|j| node(localnet::gateway_dir(root, j), api_ports[n + j], true))
        .collect();
    (genesis, nodes, gateways)
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

/// The highest final height any node but `except` has logged.
pub fn ring_top(nodes: &[Node], except: usize) -> u64 {
    nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != except)
        .map(|(_, n)| n.top())
        .max()
        .unwrap_or(0)
}

/// Panics with the node's log tail if any node has exited by itself.
pub fn assert_all_running(nodes: &mut [Node]) {
    for (i, n) in nodes.iter_mut().enumerate() {
        if let Some(status) = n.exited() {
            panic!(
                "node {i} exited by itself ({status}); its log ends:\n{}",
                n.log_tail(30)
            );
        }
    }
}

/// `n` distinct digests for a test run: BLAKE3 of `label/i` (any 32 bytes are a digest to the
/// API).
pub fn digests(label: &str, n: usize) -> Vec<tickchain_sdk::Digest> {
    (0..n)
        .map(|i| tickchain_sdk::Digest(*blake3::hash(format!("{label}/{i}").as_bytes()).as_bytes()))
        .collect()
}
