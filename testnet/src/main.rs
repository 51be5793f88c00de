//! `testnet`: a local tickchain network from one command.
//!
//! Today it prepares the network directory (node keys with mode 0600 and `genesis.json`,
//! reused on the next start). Launching the `timenode` processes lands with the node daemon;
//! until then it says so and exits non-zero rather than pretending a network is running.

mod layout;

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Generate (or reuse) a local network's keys and genesis, then launch its nodes.
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
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let net = layout::prepare(&args.dir, args.nodes, args.base_port)
        .with_context(|| format!("preparing {}", args.dir.display()))?;
    println!(
        "{} network {} with {} nodes (f = {}, quorum {}) in {}",
        if net.reused { "reusing" } else { "created" },
        net.genesis.chain_id,
        net.genesis.n(),
        net.genesis.f,
        net.genesis.quorum,
        args.dir.display()
    );
    println!("  genesis  {}", net.genesis_path.display());
    println!("  hash     {}", net.genesis.hash);
    eprintln!(
        "not started: the node daemon (`timenode run`) is not built yet, so no ticks are produced. \
         The genesis and keys above are ready for it."
    );
    Ok(ExitCode::from(1))
}
