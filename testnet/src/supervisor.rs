//! Starting, watching and stopping the node processes of a local network.
//!
//! Owns: child processes (recorded by pid, stopped with SIGTERM then SIGKILL), their log files,
//! and the once-a-second status line read from their "final tick" log lines. Never: consensus
//! or storage (the children do it).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_timenode::config::NodeConfig;

/// What a node's log said about its latest final tick.
#[derive(Debug, Clone, Copy, Default)]
struct Latest {
    height: u64,
    second: u64,
    lag_ms: f64,
}

struct NodeProcess {
    name: String,
    child: Child,
    latest: Arc<Mutex<Latest>>,
    exited: Option<std::process::ExitStatus>,
}

/// Runs one node (or gateway) in this process until SIGINT/SIGTERM (the `node` and `gateway`
/// subcommands).
pub fn run_node(config: &Path, gateway: bool) -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .init();
    let config = match NodeConfig::load(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("node: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    let result = if gateway {
        runtime.block_on(tickchain_timenode::gateway::run(config, shutdown))
    } else {
        runtime.block_on(tickchain_timenode::node::run(config, shutdown))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", if gateway { "gateway" } else { "node" });
            ExitCode::from(1)
        }
    }
}

/// What a launched process is: its subcommand, directory prefix and file names.
#[derive(Debug, Clone, Copy)]
enum Role {
    Node,
    Gateway,
}

fn spawn(dir: &Path, i: usize, name: &str, role: Role) -> anyhow::Result<NodeProcess> {
    let (command, prefix, config, log) = match role {
        Role::Node => ("node", "node", "node.toml", "node.log"),
        Role::Gateway => ("gateway", "gateway", "gateway.toml", "gateway.log"),
    };
    let node_dir = dir.join(format!("{prefix}-{i}"));
    let log_path = node_dir.join(log);
    let mut child = Command::new(std::env::current_exe()?)
        .args([command, "--config"])
        .arg(node_dir.join(config))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        // Ctrl-C in the terminal goes to the whole process group; the launcher alone decides
        // when children stop, so put them in their own group.
        .process_group(0)
        .spawn()?;
    let stderr = child.stderr.take().expect("piped");
    let latest = Arc::new(Mutex::new(Latest::default()));
    let seen = latest.clone();
    std::thread::spawn(move || {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_path)
            .ok();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(f) = log.as_mut() {
                let _ = writeln!(f, "{line}");
            }
            if line.contains("final tick") {
                let field = |k: &str| line.split_whitespace().find_map(|w| w.strip_prefix(k));
                let mut l = seen.lock().expect("lock");
                if let (Some(h), Some(s)) = (field("height="), field("second=")) {
                    l.height = h.parse().unwrap_or(l.height);
                    l.second = s.parse().unwrap_or(l.second);
                    l.lag_ms = field("lag_ms=").and_then(|v| v.parse().ok()).unwrap_or(0.0);
                }
            }
        }
    });
    Ok(NodeProcess {
        name: name.to_string(),
        child,
        latest,
        exited: None,
    })
}

fn stop(children: &mut [NodeProcess]) {
    for c in children.iter_mut().filter(|c| c.exited.is_none()) {
        // SIGTERM by pid: a graceful stop flushes and closes connections.
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(c.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for c in children.iter_mut().filter(|c| c.exited.is_none()) {
        loop {
            if let Ok(Some(status)) = c.child.try_wait() {
                c.exited = Some(status);
                break;
            }
            if Instant::now() > deadline {
                eprintln!("{} ignored SIGTERM; sending SIGKILL", c.name);
                let _ = c.child.kill();
                c.exited = c.child.wait().ok();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Launches every node, prints status until Ctrl-C (or `seconds`), then stops them.
pub fn supervise(
    dir: &Path,
    net: &crate::layout::Prepared,
    seconds: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let genesis = &net.genesis;
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::spawn(move || {
            rt.block_on(async {
                let mut term =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("SIGTERM handler");
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            });
            flag.store(true, Ordering::SeqCst);
        });
    }
    let mut children = Vec::new();
    let members = genesis.nodes.iter().map(|n| (Role::Node, &n.name));
    let gateways = genesis.gateways.iter().map(|g| (Role::Gateway, &g.name));
    let mut index = BTreeMap::<&str, usize>::new();
    for (role, name) in members.chain(gateways) {
        let kind = match role {
            Role::Node => "node",
            Role::Gateway => "gateway",
        };
        let i = index.entry(kind).or_default();
        match spawn(dir, *i, name, role) {
            Ok(c) => children.push(c),
            Err(e) => {
                stop(&mut children);
                anyhow::bail!("starting {name}: {e}");
            }
        }
        *i += 1;
    }
    let n = genesis.n();
    let logs: Vec<PathBuf> = (0..n)
        .map(|i| dir.join(format!("node-{i}/node.log")))
        .collect();
    println!(
        "  nodes    {} processes on {}",
        n,
        genesis
            .nodes
            .iter()
            .map(|n| n.address.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  pids     {}",
        children
            .iter()
            .map(|c| format!("{}={}", c.name, c.child.id()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  logs     {}",
        logs.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  apis     {}", net.apis.join(", "));
    println!(
        "  dashboard {}",
        net.apis
            .iter()
            .map(|a| format!("{a}/"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let scheme = |addrs: &[String], scheme: &str| {
        addrs
            .iter()
            .map(|a| {
                if a == "off" {
                    a.clone()
                } else {
                    format!("{scheme}://{a}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("  ntp      {}", scheme(&net.ntps, "udp"));
    println!(
        "  roughtime {} (and TCP on the same ports)",
        scheme(&net.roughtimes, "udp")
    );
    println!("  tsa      {}", net.tsas.join(", "));
    if !net.gateway_apis.is_empty() {
        println!(
            "  gateways {} (APIs {}; logs {}/gateway-J/gateway.log)",
            genesis.gateways.len(),
            net.gateway_apis.join(", "),
            dir.display()
        );
    }
    println!("waiting for the first final tick (Ctrl-C stops every node)…");

    let started = Instant::now();
    let mut first_final_at: Option<Duration> = None;
    let mut first_height = None;
    let mut crashed: BTreeMap<String, String> = BTreeMap::new();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if interrupted.load(Ordering::SeqCst)
            || seconds.is_some_and(|s| started.elapsed() >= Duration::from_secs(s))
        {
            break;
        }
        for c in children.iter_mut().filter(|c| c.exited.is_none()) {
            if let Ok(Some(status)) = c.child.try_wait() {
                c.exited = Some(status);
                let msg = format!(
                    "{} exited unexpectedly ({status}); see its node.log",
                    c.name
                );
                eprintln!("{msg}");
                crashed.insert(c.name.clone(), msg);
            }
        }
        let latest: Vec<Latest> = children[..n]
            .iter()
            .map(|c| *c.latest.lock().expect("lock"))
            .collect();
        let best = latest
            .iter()
            .max_by_key(|l| l.height)
            .copied()
            .unwrap_or_default();
        let up = children[..n].iter().filter(|c| c.exited.is_none()).count();
        let gateways_up = match children.len() - n {
            0 => String::new(),
            g => format!(
                "  gateways up {}/{g}",
                children[n..].iter().filter(|c| c.exited.is_none()).count()
            ),
        };
        if best.height == 0 {
            continue;
        }
        if first_final_at.is_none() {
            first_final_at = Some(started.elapsed());
            first_height = Some((best.height, best.second));
            println!(
                "first final tick after {:.1} s; try:",
                started.elapsed().as_secs_f64()
            );
            let api = &net.apis[0];
            println!("  curl -s {api}/v1/ticks/latest");
            println!(
                "  curl -s -X POST -H 'content-type: application/json' \\\n    -d '{{\"digests\":[\"'$(sha256sum README.md | cut -d' ' -f1)'\"]}}' '{api}/v1/timestamps?wait=true'"
            );
            println!(
                "  cargo run -q -p tickchain-sdk --bin tickchain -- stamp README.md --api {api} --wait"
            );
            println!(
                "  cargo run -q -p tickchain-sdk --bin tickchain -- verify README.md.tcproof --genesis {} --file README.md",
                net.genesis_path.display()
            );
            if let Some(gw) = net.gateway_apis.first() {
                println!(
                    "  cargo run -q -p tickchain-sdk --bin tickchain -- stamp README.md --api {gw} --wait   # through gateway-0"
                );
            }
            if let Some(addr) = net.ntps.first().filter(|a| *a != "off") {
                let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "123"));
                println!(
                    "  chronyd -Q -t 15 \"server {host} port {port} iburst maxsamples 1\"   # NTP, any client (-Q: never sets the clock)"
                );
            }
            if let Some(addr) = net.roughtimes.first().filter(|a| *a != "off") {
                let (host, port) = addr.rsplit_once(':').unwrap_or((addr.as_str(), "2002"));
                println!(
                    "  roughenough_client {host} {port} -k {}   # Roughtime, node-0's genesis key",
                    genesis.nodes[0].public_key
                );
            }
            if let (Some(tsa), Some(root)) = (
                net.tsas.first().filter(|a| *a != "off"),
                net.tsa_root.as_ref(),
            ) {
                println!(
                    "  openssl ts -query -data README.md -sha256 -cert -out q.tsq && curl -s -H 'content-type: application/timestamp-query' --data-binary @q.tsq {tsa} -o r.tsr \\\n    && openssl ts -verify -in r.tsr -queryfile q.tsq -CAfile {}   # RFC 3161",
                    root.display()
                );
                println!(
                    "  cargo run -q -p tickchain-sdk --bin tickchain -- verify r.tsr --genesis {} --file README.md   # the tickchain proof inside the token",
                    net.genesis_path.display()
                );
            }
            println!("  tail -f {}", logs[0].display());
        }
        let (h0, s0) = first_height.expect("set above");
        let skipped = (best.second - s0).saturating_sub(best.height - h0);
        println!(
            "height {:>6}  second {}  lag {:>6.1} ms  skipped {:>3}  nodes up {}/{}{gateways_up}",
            best.height, best.second, best.lag_ms, skipped, up, n
        );
    }
    println!("stopping {} processes…", children.len());
    stop(&mut children);
    if crashed.is_empty() {
        println!("stopped cleanly");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
