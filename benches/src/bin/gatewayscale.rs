//! Gateway scaling: what the ring pays as intake moves from its nodes to 1, 2 and 4 gateways.
//!
//! `cargo build --release -p tickchain-timenode --bin timenode && cargo run --release -p
//! tickchain-benches --bin gatewayscale [-- SECONDS [DIGESTS_PER_SECOND]]` (default 20 s per
//! configuration, 20,000 digests/s offered per intake point; `GATEWAYSCALE_CONFIGS=0,4` picks
//! the gateway counts, default 0,1,2,4). Needs root (network namespaces). It prints the node
//! pids of each measured window on stderr, for a profiler.
//!
//! Each configuration is a fresh network of real processes (`timenode run` ×4 and `timenode
//! gateway` ×G) in network namespaces made for the run:
//! - `ring`: the four nodes, peers on 192.0.2.1 (the ring's own traffic stays on this
//!   namespace's loopback, so its counters measure exactly the ring's bytes);
//! - `cl`: connected to `ring` by a veth pair; with G = 0 the load clients run here and post to
//!   the nodes' APIs (intake at the nodes, as without gateways);
//! - `g0`..: one per gateway, each connected to `ring` by its own veth pair; the gateway and
//!   its load client run inside (the client posts to the gateway's API on that namespace's
//!   loopback), so what crosses the veth is exactly the gateway↔ring traffic.
//!
//! Each intake point gets the same offered load: binary batches of 2,000 digests every 100 ms.
//! Measured over the window, after a 5 s warm-up: the four node processes' CPU per tick (from
//! /proc), the ring's internal bytes per tick (`lo` in `ring`), the bytes per tick between the
//! ring and the gateways (their veth links), batches per tick, and digests accepted per second
//! per intake point. Bounded: every process is stopped by pid and every namespace removed.

#[path = "../../../timenode/tests/ringkit/netns.rs"]
#[allow(dead_code, missing_docs)]
mod netns;

use netns::{NetLab, Netns};
use std::net::Ipv4Addr;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tickchain_benches::cpu_time_of;
use tickchain_timenode::localnet;

const RING_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const NODES: usize = 4;
const DIGESTS_PER_REQUEST: usize = 2_000;

/// A process started inside a namespace, SIGTERMed (then SIGKILLed) by pid on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.0.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// TX + RX bytes of `dev` in namespace `ns` (from `ip -s link show`).
fn link_bytes(ns: &Netns, dev: &str) -> u64 {
    let out = netns::ip(&["-n", ns.name(), "-s", "link", "show", "dev", dev]);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let mut total = 0;
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        if t.starts_with("RX:") || t.starts_with("TX:") {
            total += lines
                .get(i + 1)
                .and_then(|n| n.split_whitespace().next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    if dev == "lo" { total / 2 } else { total } // loopback counts each byte as TX and RX
}

/// The latest final height node 0 reports, read from inside `cl`.
fn height(cl: &Netns, api: &str) -> u64 {
    let url = format!("{api}/v1/ticks/latest");
    cl.run(move || {
        ureq::get(&url)
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| {
                let at = t.find("\"height\":")? + 9;
                t[at..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    })
}

/// Batches in the ticks `from..=to` (sum of `batch_count`), read from inside `cl`.
fn batches(cl: &Netns, api: &str, from: u64, to: u64) -> u64 {
    let api = api.to_owned();
    cl.run(move || {
        let mut total = 0;
        for h in from..=to {
            let Ok(mut r) = ureq::get(&format!("{api}/v1/ticks/{h}")).call() else {
                continue;
            };
            let t = r.body_mut().read_to_string().unwrap_or_default();
            if let Some(at) = t.find("\"batch_count\":") {
                total += t[at + 14..]
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        total
    })
}

/// One load client: inside `ns`, posts `rate` digests/s to `api` in binary batches until
/// `stop`, counting digests acknowledged (202) into `accepted`.
fn client(
    ns: Netns,
    api: String,
    rate: u64,
    label: u64,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicU64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        ns.run(|| {
            let period = Duration::from_secs_f64(DIGESTS_PER_REQUEST as f64 / rate as f64);
            let url = format!("{api}/v1/timestamps");
            let mut next = Instant::now();
            let mut counter = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut body = Vec::with_capacity(DIGESTS_PER_REQUEST * 32);
                for _ in 0..DIGESTS_PER_REQUEST {
                    let mut h = blake3::Hasher::new();
                    h.update(&(std::process::id() as u64).to_be_bytes());
                    h.update(&label.to_be_bytes());
                    h.update(&counter.to_be_bytes());
                    counter += 1;
                    body.extend_from_slice(h.finalize().as_bytes());
                }
                let ok = ureq::post(&url)
                    .header("content-type", "application/octet-stream")
                    .send(&body[..])
                    .is_ok_and(|r| r.status() == 202);
                if ok {
                    accepted.fetch_add(DIGESTS_PER_REQUEST as u64, Ordering::Relaxed);
                }
                next += period;
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
        })
    })
}

/// What one configuration measured.
struct Row {
    gateways: usize,
    ticks: u64,
    ring_cpu_ms_per_tick: f64,
    ring_bytes_per_tick: f64,
    gateway_bytes_per_tick: f64,
    batches_per_tick: f64,
    accepted_per_point: f64,
}

fn measure(gateways: usize, seconds: u64, rate: u64) -> Row {
    let bin = std::env::current_exe()
        .expect("own path")
        .with_file_name("timenode");
    assert!(
        bin.exists(),
        "expected {} (build it first: cargo build --release -p tickchain-timenode --bin timenode)",
        bin.display()
    );
    let mut lab = NetLab::new();
    let ring = lab.namespace("ring");
    let cl = lab.namespace("cl");
    lab.veth(&ring, RING_IP, &cl, CLIENT_IP);
    let gw_ns: Vec<Netns> = (0..gateways)
        .map(|j| {
            let ns = lab.namespace(&format!("g{j}"));
            lab.veth(&ring, RING_IP, &ns, Ipv4Addr::new(192, 0, 2, 10 + j as u8));
            ns
        })
        .collect();
    let root = std::env::temp_dir().join(format!("tc-gwscale-{}-{gateways}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let addresses: Vec<String> = (0..NODES)
        .map(|i| format!("{RING_IP}:{}", 7100 + i))
        .collect();
    let (_, node_cfgs, gw_cfgs) = localnet::create_with_gateways(
        &root,
        "gateway-scale",
        &addresses,
        gateways,
        |i| {
            format!(
                "[clock]\ndeclared-system-error-ms = 20\n\n[api]\nlisten = \"{RING_IP}:{}\"\n\
                 rate-per-second = 0\ndigests-per-second = 0\n",
                7300 + i
            )
        },
        |_| {
            "[clock]\ndeclared-system-error-ms = 20\n\n[api]\nlisten = \"127.0.0.1:7350\"\n\
             rate-per-second = 0\ndigests-per-second = 0\n"
                .to_string()
        },
    )
    .expect("network files");
    // A gateway dials from its veth address: add `listen` to its [node] section.
    for cfg in &gw_cfgs {
        let text = std::fs::read_to_string(cfg).expect("gateway config");
        let text = text.replacen("[node]\n", "[node]\nlisten = \"0.0.0.0:0\"\n", 1);
        std::fs::write(cfg, text).expect("gateway config");
    }
    let start = |ns: &Netns, cmd: &str, cfg: &std::path::Path| -> Proc {
        let log = std::fs::File::create(cfg.with_extension("log")).expect("log file");
        Proc(
            ns.command(&bin)
                .args([cmd, "--config"])
                .arg(cfg)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn timenode"),
        )
    };
    let nodes: Vec<Proc> = node_cfgs.iter().map(|c| start(&ring, "run", c)).collect();
    let gws: Vec<Proc> = gw_cfgs
        .iter()
        .zip(&gw_ns)
        .map(|(c, ns)| start(ns, "gateway", c))
        .collect();
    let api0 = format!("http://{RING_IP}:7300");
    let deadline = Instant::now() + Duration::from_secs(30);
    while height(&cl, &api0) < 2 {
        assert!(Instant::now() < deadline, "no final tick within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicU64::new(0));
    let points: Vec<(Netns, String)> = if gateways == 0 {
        (0..NODES)
            .map(|i| (cl.clone(), format!("http://{RING_IP}:{}", 7300 + i)))
            .collect()
    } else {
        gw_ns
            .iter()
            .map(|ns| (ns.clone(), "http://127.0.0.1:7350".to_string()))
            .collect()
    };
    // The same total per intake point as one gateway: with G = 0 the nodes share it.
    let per_point = if gateways == 0 {
        rate / NODES as u64
    } else {
        rate
    };
    let clients: Vec<_> = points
        .iter()
        .enumerate()
        .map(|(k, (ns, api))| {
            client(
                ns.clone(),
                api.clone(),
                per_point,
                k as u64,
                stop.clone(),
                accepted.clone(),
            )
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5));
    let pids: Vec<u32> = nodes.iter().map(|p| p.0.id()).collect();
    let pid_list: Vec<String> = pids.iter().map(u32::to_string).collect();
    eprintln!(
        "gatewayscale: {gateways} gateways: measuring; node pids {} (e.g. perf record -p {})",
        pid_list.join(" "),
        pid_list.join(",")
    );
    let cpu = |pids: &[u32]| pids.iter().map(|&p| cpu_time_of(p)).sum::<Duration>();
    let gw_links = |lab: &NetLab| -> u64 {
        let _ = lab;
        (0..gateways)
            .map(|j| link_bytes(&gw_ns[j], &format!("{}b{}", lab.prefix(), j + 1)))
            .sum()
    };
    let (h0, c0, lo0, g0, a0) = (
        height(&cl, &api0),
        cpu(&pids),
        link_bytes(&ring, "lo"),
        gw_links(&lab),
        accepted.load(Ordering::Relaxed),
    );
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let (h1, c1, lo1, g1, a1) = (
        height(&cl, &api0),
        cpu(&pids),
        link_bytes(&ring, "lo"),
        gw_links(&lab),
        accepted.load(Ordering::Relaxed),
    );
    let elapsed = t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let ticks = h1.saturating_sub(h0).max(1);
    let batch_total = batches(&cl, &api0, h0 + 1, h1);
    drop(gws);
    drop(nodes);
    drop(lab);
    let _ = std::fs::remove_dir_all(&root);
    Row {
        gateways,
        ticks,
        ring_cpu_ms_per_tick: (c1 - c0).as_secs_f64() * 1e3 / ticks as f64,
        ring_bytes_per_tick: (lo1 - lo0) as f64 / ticks as f64,
        gateway_bytes_per_tick: (g1 - g0) as f64 / ticks as f64,
        batches_per_tick: batch_total as f64 / ticks as f64,
        accepted_per_point: (a1 - a0) as f64 / elapsed / points.len() as f64,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map_or(20, |s| s.parse().expect("SECONDS"));
    let rate: u64 = args
        .next()
        .map_or(20_000, |s| s.parse().expect("DIGESTS_PER_SECOND"));
    println!(
        "gatewayscale: {seconds} s per configuration, {rate} digests/s offered per intake point \
         (with 0 gateways the 4 nodes share one point's load)"
    );
    println!(
        "{:>8} {:>6} {:>14} {:>16} {:>18} {:>14} {:>18}",
        "gateways",
        "ticks",
        "ring CPU ms/tick",
        "ring bytes/tick",
        "ring<->gw bytes/tick",
        "batches/tick",
        "accepted/s/point"
    );
    let configs: Vec<usize> = std::env::var("GATEWAYSCALE_CONFIGS")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|g| {
                    g.trim()
                        .parse()
                        .expect("GATEWAYSCALE_CONFIGS: gateway counts")
                })
                .collect()
        })
        .unwrap_or_else(|| vec![0, 1, 2, 4]);
    for g in configs {
        let r = measure(g, seconds, rate);
        println!(
            "{:>8} {:>6} {:>14.1} {:>16.0} {:>18.0} {:>14.2} {:>18.0}",
            r.gateways,
            r.ticks,
            r.ring_cpu_ms_per_tick,
            r.ring_bytes_per_tick,
            r.gateway_bytes_per_tick,
            r.batches_per_tick,
            r.accepted_per_point
        );
    }
}
