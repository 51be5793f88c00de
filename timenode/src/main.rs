//! `timenode`: the tickchain node daemon.
//!
//! Owns: the command line and process exit codes. Never: holds logic a library test could not
//! reach; each subcommand calls into the `tickchain_timenode` library.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tickchain_timenode::config::NodeConfig;
use tickchain_timenode::sources_cmd;

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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Sources { config, json } => sources(&config, json),
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
