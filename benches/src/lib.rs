//! Shared helpers for tickchain benchmarks and load generators.

use std::path::PathBuf;
use std::time::Duration;
use tickchain_timenode::config::NodeConfig;
use tickchain_timenode::localnet;
use tickchain_timenode::node::{FinalEvent, NodeError, run_observed};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

/// Bytes of every file under `dir`, as allocated on disk (`du -s -B1`; 0 if `du` fails).
pub fn disk_bytes(dir: &std::path::Path) -> u64 {
    let out = std::process::Command::new("du")
        .args(["-s", "-B1", dir.to_str().expect("utf-8 path")])
        .output()
        .expect("run du");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// An in-process ring on loopback: real QUIC, real sled files in a temp directory, the
/// declared system clock (±20 ms), and each node's Timestamp API on its own port.
pub struct LocalRing {
    /// The ring's directory (genesis, keys, data); removed by [`LocalRing::stop`].
    pub root: PathBuf,
    /// Each node's API base URL.
    pub apis: Vec<String>,
    /// Every node's final ticks.
    pub events: broadcast::Sender<FinalEvent>,
    stop: watch::Sender<bool>,
    nodes: JoinSet<Result<(), NodeError>>,
    configs: Vec<PathBuf>,
}

/// `n` free ports of one protocol on 127.0.0.1 (free when this returns).
fn free_ports(n: usize, udp: bool) -> Vec<u16> {
    if udp {
        let s: Vec<_> = (0..n)
            .map(|_| std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp"))
            .collect();
        s.iter()
            .map(|s| s.local_addr().expect("addr").port())
            .collect()
    } else {
        let s: Vec<_> = (0..n)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp"))
            .collect();
        s.iter()
            .map(|s| s.local_addr().expect("addr").port())
            .collect()
    }
}

impl LocalRing {
    /// Writes a fresh `n`-node ring under the temp directory (`label` names it) and starts
    /// every node in the current tokio runtime; `extra` is appended to every node's config.
    pub fn start(label: &str, n: usize, extra: &str) -> LocalRing {
        let root = std::env::temp_dir().join(format!("tc-{label}-{n}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let peers = free_ports(n, true);
        let apis = free_ports(n, false);
        let addresses: Vec<String> = peers.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let (_, config_paths) = localnet::create(&root, label, &addresses, |i| {
            format!(
                "[clock]\ndeclared-system-error-ms = 20\n\n[api]\nlisten = \"127.0.0.1:{}\"\n\
                 rate-per-second = 0\ndigests-per-second = 0\n\
                 max-connections-per-client = 1024\n{extra}",
                apis[i]
            )
        })
        .expect("write the local ring");
        let (events, _) = broadcast::channel(1 << 16);
        let (stop, nodes) = spawn_nodes(&config_paths, &events);
        LocalRing {
            root,
            apis: apis
                .iter()
                .map(|p| format!("http://127.0.0.1:{p}"))
                .collect(),
            events,
            stop,
            nodes,
            configs: config_paths,
        }
    }

    /// Stops every node and starts them again from the same directories (their caches cold,
    /// their stores as they were), in the current tokio runtime.
    pub async fn restart(&mut self) {
        let _ = self.stop.send(true);
        while let Some(r) = self.nodes.join_next().await {
            if let Ok(Err(e)) = r {
                eprintln!("node error: {e}");
            }
        }
        (self.stop, self.nodes) = spawn_nodes(&self.configs, &self.events);
    }

    /// Stops every node, reports any node error, and removes the directory.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while let Some(r) = self.nodes.join_next().await {
            if let Ok(Err(e)) = r {
                eprintln!("node error: {e}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Starts one node per config in the current tokio runtime, stopped when the returned sender
/// sends `true`.
fn spawn_nodes(
    configs: &[PathBuf],
    events: &broadcast::Sender<FinalEvent>,
) -> (watch::Sender<bool>, JoinSet<Result<(), NodeError>>) {
    let (stop, _) = watch::channel(false);
    let mut nodes = JoinSet::new();
    for path in configs {
        let config = NodeConfig::load(path).expect("generated config parses");
        let mut stopped = stop.subscribe();
        let events = events.clone();
        nodes.spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            run_observed(config, shutdown, Some(events)).await
        });
    }
    (stop, nodes)
}

/// Resident memory of this process, in bytes (`VmRSS` of /proc/self/status; 0 if unknown).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The `p`-quantile of ascending `sorted` (NaN when empty).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// User + system CPU of this process, from /proc/self/stat (clock ticks of 10 ms).
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    Duration::from_millis(cpu_ticks(&stat) * 10)
}

/// CPU time (user + system) process `pid` has used so far (zero if it is gone).
pub fn cpu_time_of(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    Duration::from_millis(cpu_ticks(&stat) * 10)
}

/// utime + stime of a /proc/PID/stat line. Fields are counted by position after the command
/// name: state is field 0 there, utime 11 and stime 12 (`tpgid` is -1 without a controlling
/// terminal, so a filter on numeric fields would shift them).
fn cpu_ticks(stat: &str) -> u64 {
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_ticks_are_read_by_position_even_without_a_terminal() {
        // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
        // utime stime ...
        let line = "42 (load gen) S 1 42 42 0 -1 4194560 900 0 0 0 731 95 0 0 20 0 9 0";
        assert_eq!(super::cpu_ticks(line), 731 + 95);
    }
}
