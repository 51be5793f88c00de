//! `timenode`: the tickchain node daemon.
//!
//! Owns: the command line and process exit codes. Never: holds logic a library test could not
//! reach; each subcommand calls into the `tickchain_timenode` library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tickchain_sdk::Second;
use tickchain_timenode::config::NodeConfig;
use tickchain_timenode::{identity_cmd, sources_cmd};

/// The tickchain node daemon.
#[derive(Parser)]
#[command(name = "timenode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Every `timenode` subcommand.
#[derive(Subcommand)]
enum Command {
    /// Poll every configured time source and report offsets, radii and verdicts.
    ///
    /// Exit status: 0 synchronised, 1 unsynchronised, 2 configuration or usage error.
    Sources {
        /// Path to the node configuration (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the node: join the ring in genesis and sign one tick per second.
    ///
    /// Stops cleanly on SIGINT or SIGTERM. Exit status: 0 after a clean stop, 2 on a
    /// configuration error, 1 when the node had to stop.
    Run {
        /// Path to the node configuration (TOML, with a `[node]` section).
        #[arg(long)]
        config: PathBuf,
    },
    /// Run a gateway: a non-voting intake process whose key a version 3 genesis lists under
    /// `gateways`. It serves the Timestamp API, seals one signed batch per second, offers it to
    /// the ring, and serves proofs from its own copy of the final chain.
    ///
    /// The configuration is a node's (`[node]` key, genesis and data directory; `[api]`,
    /// `[pool]`, `[clock]`); `[node] listen` is the local UDP address it dials from (default
    /// 127.0.0.1, any port). Stops cleanly on SIGINT or SIGTERM. Exit status as for `run`.
    Gateway {
        /// Path to the gateway configuration (TOML, with a `[node]` section).
        #[arg(long)]
        config: PathBuf,
    },
    /// Summarise a running node from its API: sync state and interval, sources, peers, view,
    /// last tick and pool depth.
    ///
    /// Exit status: 0 synchronised with every peer connected, 1 unsynchronised, a peer down or
    /// the signed time not verifying, 2 when the API cannot be read.
    Status {
        /// The node's API, e.g. `http://127.0.0.1:7300`.
        #[arg(long)]
        api: String,
        /// Print the status as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Generate a node identity: DIR/node.key (Ed25519 secret) and DIR/attest.key (secp256k1
    /// attestation secret), both mode 0600, DIR/node.pub and DIR/attestation.json (the two
    /// keys' cross-signature, which `genesis` puts in the network's genesis).
    Keygen {
        /// Directory to write the key files to (created if missing; an existing key is kept).
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a network's RFC 3161 root: DIR/tsa-root.key (P-256, mode 0600; keep it offline)
    /// and DIR/tsa-root.pem (its self-signed certificate, which `genesis --tsa-root DIR` puts in
    /// the genesis and with which `openssl ts -verify -CAfile` checks tokens).
    TsaRoot {
        /// Directory to write to (created if missing; an existing root is kept).
        #[arg(long)]
        out: PathBuf,
        /// Network name, in the root's common name.
        #[arg(long, default_value = "tickchain")]
        chain_id: String,
    },
    /// Issue (or renew) one member's RFC 3161 certificate from the network's root (a directory
    /// written by `tsa-root`), for the public key in its tsa.pub.
    TsaCert {
        /// The root's directory (tsa-root.key and tsa-root.pem).
        #[arg(long)]
        root: PathBuf,
        /// The member's name (in the certificate's common name).
        #[arg(long)]
        name: String,
        /// The member's tsa.pub (written by `keygen`).
        #[arg(long)]
        public_key: PathBuf,
        /// Where to write the certificate (PEM; refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a network's genesis file from its members' public keys and addresses.
    Genesis {
        /// Network name.
        #[arg(long, default_value = "tickchain")]
        chain_id: String,
        /// Byzantine nodes tolerated (default: the most the node count allows, (n - 1) / 3).
        #[arg(long)]
        f: Option<u16>,
        /// The network ticks after this POSIX second (default: now).
        #[arg(long)]
        genesis_second: Option<u64>,
        /// A member, in order: NAME,KEY,HOST:PORT[,ATTESTATION] (KEY: 64 hex characters or a
        /// node.pub file; ATTESTATION: an attestation.json, by default the one next to
        /// node.pub; required with a hex KEY).
        #[arg(long = "node", required = true)]
        nodes: Vec<String>,
        /// A gateway, in order: NAME,KEY (KEY: 64 hex characters or a node.pub file written by
        /// `keygen`). Any gateway makes a version 3 genesis; gateway j signs as n + j.
        #[arg(long = "gateway")]
        gateways: Vec<String>,
        /// The network's RFC 3161 root, a directory written by `tsa-root`: its certificate goes
        /// into genesis (version 3) and each member whose KEY is a node.pub file with a tsa.pub
        /// beside it gets a TSA certificate, written as tsa-NAME.pem beside the genesis.
        #[arg(long)]
        tsa_root: Option<PathBuf>,
        /// Where to write the genesis (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A running node reports its ticks at info level; one-shot commands stay quiet.
    let default_level = if matches!(cli.command, Command::Run { .. } | Command::Gateway { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Sources { config, json } => sources(&config, json),
        Command::Keygen { out } => keygen(&out),
        Command::Run { config } => run(&config, false),
        Command::Gateway { config } => run(&config, true),
        Command::Status { api, json } => status(&api, json),
        Command::Genesis {
            chain_id,
            f,
            genesis_second,
            nodes,
            gateways,
            tsa_root,
            out,
        } => genesis(
            &chain_id,
            f,
            genesis_second,
            &nodes,
            &gateways,
            tsa_root.as_deref(),
            &out,
        ),
        Command::TsaRoot { out, chain_id } => tsa_root(&out, &chain_id),
        Command::TsaCert {
            root,
            name,
            public_key,
            out,
        } => match identity_cmd::tsa_cert(&root, &name, &public_key, &out, now()) {
            Ok(()) => {
                println!("wrote TSA certificate {}", out.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("timenode tsa-cert: {e}");
                ExitCode::from(2)
            }
        },
    }
}

fn status(api: &str, json: bool) -> ExitCode {
    use tickchain_timenode::status_cmd;
    let s = match status_cmd::fetch(api) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("timenode status: {e}");
            return ExitCode::from(2);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&s).expect("status serializes")
        );
    } else {
        print!("{}", status_cmd::render(&s, api));
    }
    let healthy = s.time.statement.synchronized
        && s.time_signature_ok
        && s.network.nodes.iter().all(|n| n.connected);
    if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `timenode run` (a ring member) or `timenode gateway`.
fn run(path: &std::path::Path, gateway: bool) -> ExitCode {
    let name = if gateway { "gateway" } else { "run" };
    let config = match NodeConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("timenode {name}: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("timenode {name}: expected a tokio runtime, got {e}");
            return ExitCode::from(1);
        }
    };
    let result = if gateway {
        runtime.block_on(tickchain_timenode::gateway::run(config, shutdown_signal()))
    } else {
        runtime.block_on(tickchain_timenode::node::run(config, shutdown_signal()))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(
            e @ (tickchain_timenode::node::NodeError::Config(_)
            | tickchain_timenode::node::NodeError::Genesis { .. }),
        ) if gateway => {
            eprintln!("timenode {name}: {e}");
            ExitCode::from(2)
        }
        Err(e @ tickchain_timenode::node::NodeError::Config(_)) => {
            eprintln!("timenode {name}: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("timenode {name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn tsa_root(dir: &std::path::Path, chain_id: &str) -> ExitCode {
    match identity_cmd::tsa_root(dir, chain_id, now()) {
        Ok((key, cert)) => {
            println!(
                "wrote {} (secret, mode 0600: keep it offline) and {}",
                key.display(),
                cert.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timenode tsa-root: {e}");
            ExitCode::from(2)
        }
    }
}

fn keygen(dir: &std::path::Path) -> ExitCode {
    match identity_cmd::keygen(dir) {
        Ok(g) => {
            println!("public key {}", g.public_key);
            println!("attestation address {}", g.attestation_address);
            println!(
                "wrote {} and {} (secrets, mode 0600), {} and {}",
                g.key_file.display(),
                g.attest_key_file.display(),
                g.pub_file.display(),
                g.attestation_file.display()
            );
            println!(
                "wrote {} (RFC 3161 key, mode 0600) and {}",
                g.tsa_key_file.display(),
                g.tsa_pub_file.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timenode keygen: {e}");
            ExitCode::from(2)
        }
    }
}

fn genesis(
    chain_id: &str,
    f: Option<u16>,
    second: Option<u64>,
    nodes: &[String],
    gateways: &[String],
    tsa_root: Option<&std::path::Path>,
    out: &std::path::Path,
) -> ExitCode {
    let run = || -> Result<(tickchain_sdk::Genesis, Vec<PathBuf>), identity_cmd::IdentityError> {
        let members = nodes
            .iter()
            .map(|a| identity_cmd::parse_node_arg(a))
            .collect::<Result<Vec<_>, _>>()?;
        let gateways = gateways
            .iter()
            .map(|a| identity_cmd::parse_gateway_arg(a))
            .collect::<Result<Vec<_>, _>>()?;
        let f = f.unwrap_or(((members.len().max(1) - 1) / 3) as u16);
        let second = second.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let root = tsa_root.map(identity_cmd::TsaRoot::read).transpose()?;
        // Certificates are made (and their files checked free) before the genesis is written.
        let certificates = match &root {
            Some(root) => {
                let dir = out.parent().unwrap_or(std::path::Path::new("."));
                identity_cmd::issue_tsa_certificates(root, nodes, now(), dir)?
            }
            None => Vec::new(),
        };
        let g = identity_cmd::genesis(
            chain_id,
            f,
            Second(second),
            members,
            gateways,
            root.as_ref(),
            out,
        )?;
        Ok((g, identity_cmd::write_tsa_certificates(certificates)?))
    };
    match run() {
        Ok((g, certificates)) => {
            for c in certificates {
                println!("wrote TSA certificate {}", c.display());
            }
            println!(
                "wrote {}: {} nodes, {} gateways, f = {}, quorum {}, hash {}",
                out.display(),
                g.n(),
                g.gateways.len(),
                g.f,
                g.quorum,
                g.hash
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timenode genesis: {e}");
            ExitCode::from(2)
        }
    }
}

fn sources(path: &std::path::Path, json: bool) -> ExitCode {
    let config = match NodeConfig::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("timenode: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("timenode: expected a tokio runtime, got {e}");
            return ExitCode::from(2);
        }
    };
    let estimate = runtime.block_on(sources_cmd::poll_sources(&config));
    if json {
        match serde_json::to_string_pretty(&estimate) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("timenode: expected a JSON report, got {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", sources_cmd::render_table(&estimate));
    }
    match estimate {
        tickchain_aggregator::TimeEstimate::Synchronised(_) => ExitCode::SUCCESS,
        tickchain_aggregator::TimeEstimate::Unsynchronised { .. } => ExitCode::from(1),
    }
}
