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

/// Runs one node in this process until SIGINT/SIGTERM (the `node` subcommand).
pub fn run_node(config: &Path) -> ExitCode {
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
    match runtime.block_on(tickchain_timenode::node::run(config, shutdown)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("node: {e}");
            ExitCode::from(1)
        }
    }
}

fn spawn(dir: &Path, i: usize, name: &str) -> anyhow::Result<NodeProcess> {
    let node_dir = dir.join(format!("node-{i}"));
    let log_path = node_dir.join("node.log");
    let mut child = Command::new(std::env::current_exe()?)
        .args(["node", "--config"])
        .arg(node_dir.join("node.toml"))
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
    for (i, node) in genesis.nodes.iter().enumerate() {
        match spawn(dir, i, &node.name) {
            Ok(c) => children.push(c),
            Err(e) => {
                stop(&mut children);
                anyhow::bail!("starting {}: {e}", node.name);
            }
        }
    }
    let logs: Vec<PathBuf> = (0..children.len())
        .map(|i| dir.join(format!("node-{i}/node.log")))
        .collect();
    println!(
        "  nodes    {} processes on {}",
        children.len(),
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
    println!("  ntp      {}", net.ntps.join(", "));
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
        let latest: Vec<Latest> = children
            .iter()
            .map(|c| *c.latest.lock().expect("lock"))
            .collect();
        let best = latest
            .iter()
            .max_by_key(|l| l.height)
            .copied()
            .unwrap_or_default();
        let up = children.iter().filter(|c| c.exited.is_none()).count();
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
            println!("  tail -f {}", logs[0].display());
        }
        let (h0, s0) = first_height.expect("set above");
        let skipped = (best.second - s0).saturating_sub(best.height - h0);
        println!(
            "height {:>6}  second {}  lag {:>6.1} ms  skipped {:>3}  nodes up {}/{}",
            best.height,
            best.second,
            best.lag_ms,
            skipped,
            up,
            children.len()
        );
    }
    println!("stopping {} nodes…", children.len());
    stop(&mut children);
    if crashed.is_empty() {
        println!("stopped cleanly");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}
