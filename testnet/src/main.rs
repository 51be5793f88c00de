//! `testnet`: a local tickchain network from one command.
//!
//! Prepares the network directory (node keys with mode 0600, `genesis.json` and one
//! `node.toml` per node; reused on the next start), launches one node process per genesis
//! member on 127.0.0.1, waits until ticks are final, prints one status line per second, reports
//! a crashed node, and stops every node on Ctrl-C. The node processes are this binary run as
//! `testnet node --config …`, which is the same code as `timenode run`, so `cargo run -p
//! tickchain-testnet` needs no other binary built. With `--gateways N` it also creates N
//! gateways (a version 3 genesis) and starts each as `testnet gateway --config …`.

mod anchors;
mod layout;
mod supervisor;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Start a local tickchain network.
#[derive(Parser, Debug)]
#[command(name = "testnet", version, about)]
struct Args {
    /// Number of nodes (at least 4 for f = 1).
    #[arg(long, default_value_t = 4)]
    nodes: u16,
    /// Directory for keys, genesis and node data; reused when it already holds a genesis.
    #[arg(long, default_value = "testnet-data")]
    dir: PathBuf,
    /// First peer port; node i listens on 127.0.0.1:(base-port + i).
    #[arg(long, default_value_t = 7100)]
    base_port: u16,
    /// First API port; node i serves the Timestamp API on 127.0.0.1:(api-port + i).
    #[arg(long, default_value_t = 7300)]
    api_port: u16,
    /// First NTP port; node i serves NTP (its measured time) on 127.0.0.1:(ntp-port + i).
    #[arg(long, default_value_t = 7400)]
    ntp_port: u16,
    /// First Roughtime port; node i serves Roughtime (its measured time, signed with its
    /// genesis key) on 127.0.0.1:(roughtime-port + i).
    #[arg(long, default_value_t = 7500)]
    roughtime_port: u16,
    /// Gateways (non-voting intake processes, listed in a version 3 genesis) to create and
    /// start beside the nodes; a reused directory keeps the gateways its genesis lists.
    #[arg(long, default_value_t = 0)]
    gateways: u16,
    /// First gateway API port; gateway j serves the Timestamp API on
    /// 127.0.0.1:(gateway-api-port + j).
    #[arg(long, default_value_t = 7350)]
    gateway_api_port: u16,
    /// Also start two local EVM chains (anvil: 31337 as Ethereum, 137 as Polygon), deploy the
    /// oracle and let the nodes anchor to them (every 10 and 5 ticks).
    #[arg(long)]
    anchor: bool,
    /// Stop by itself after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
    #[command(subcommand)]
    command: Option<Internal>,
}

#[derive(Subcommand, Debug)]
enum Internal {
    /// Run one node (what the launcher starts; the same as `timenode run`).
    #[command(hide = true)]
    Node {
        /// The node's configuration.
        #[arg(long)]
        config: PathBuf,
    },
    /// Run one gateway (what the launcher starts; the same as `timenode gateway`).
    #[command(hide = true)]
    Gateway {
        /// The gateway's configuration.
        #[arg(long)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match &args.command {
        Some(Internal::Node { config }) => return supervisor::run_node(config, false),
        Some(Internal::Gateway { config }) => return supervisor::run_node(config, true),
        None => {}
    }
    match launch(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn launch(args: &Args) -> anyhow::Result<ExitCode> {
    let ports = layout::Ports {
        base: args.base_port,
        api: args.api_port,
        ntp: args.ntp_port,
        gateway_api: args.gateway_api_port,
        roughtime: args.roughtime_port,
    };
    let net = layout::prepare(&args.dir, args.nodes, args.gateways, ports)
        .with_context(|| format!("preparing {}", args.dir.display()))?;
    println!(
        "{} network {} with {} nodes and {} gateways (f = {}, quorum {}) in {}",
        if net.reused { "reusing" } else { "created" },
        net.genesis.chain_id,
        net.genesis.n(),
        net.genesis.gateways.len(),
        net.genesis.f,
        net.genesis.quorum,
        args.dir.display()
    );
    println!(
        "  genesis  {}  (hash {})",
        net.genesis_path.display(),
        net.genesis.hash
    );
    let chains = if args.anchor {
        let chains = anchors::start(&args.dir, &net.genesis)?;
        for c in &chains {
            println!(
                "  anchor   {} (chain {}) at {}, TickOracle {}",
                c.name,
                c.anvil.chain_id(),
                c.anvil.endpoint(),
                c.contract
            );
        }
        chains
    } else {
        Vec::new()
    };
    let code = supervisor::supervise(&args.dir, &net, args.seconds);
    drop(chains); // stops both anvils
    code
}
