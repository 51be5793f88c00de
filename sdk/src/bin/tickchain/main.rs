//! `tickchain`: verify and inspect tickchain proofs, and compute the digests clients submit.
//!
//! Exit codes: 0 success; 1 a proof or evidence failed verification (offline, or an anchor's
//! root on chain); 2 bad input (unreadable file, malformed proof, evidence or genesis, bad
//! arguments, an RPC endpoint that cannot be reached or is another chain).

mod anchors;
mod digest;
mod evidence_cmd;
mod inspect;
mod log_cmd;
mod log_input;
mod roughtime_cmd;
mod stamp_cmd;
mod text;
mod time_cmd;
mod verify_cmd;
mod verify_log_cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Verify and inspect tickchain timestamp proofs.
#[derive(Parser)]
#[command(name = "tickchain", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a proof offline against the network's genesis file.
    Verify {
        /// The proof (`.tcproof` JSON or `.tcproof.bin` compact).
        proof: PathBuf,
        /// The network's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Also check that the proof's digest is the SHA-256 of this document.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Print the verified result as JSON.
        #[arg(long)]
        json: bool,
        /// Also check the proof's anchors on chain CHAIN (decimal EIP-155 id) through the
        /// JSON-RPC endpoint URL: its chain id, and that the contract stores the anchored root.
        /// Repeatable, one per chain.
        #[arg(long, value_name = "CHAIN=URL", value_parser = anchors::parse_rpc)]
        rpc: Vec<anchors::RpcArg>,
        /// Skip the local-clock check: by default a proof whose certified tick's second is more
        /// than a day ahead of this machine's clock fails with `future_second`.
        #[arg(long)]
        no_clock_check: bool,
    },
    /// Check evidence of misbehaviour (one element of `GET /v1/evidence`, as JSON) offline
    /// against the network's genesis: which member, which rule, both signatures.
    VerifyEvidence {
        /// The evidence file (JSON).
        evidence: PathBuf,
        /// The network's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// Print the verified result and both statements as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a readable summary of a proof (does not verify it).
    Inspect {
        /// The proof file.
        proof: PathBuf,
    },
    /// Print the SHA-256 digest of a file (`-` for standard input), as a client submits it.
    Digest {
        /// The file.
        file: PathBuf,
    },
    /// Convert a proof between the JSON and compact binary forms.
    Convert {
        /// The proof file (either form).
        proof: PathBuf,
        /// Where to write the converted proof.
        #[arg(long)]
        out: PathBuf,
        /// Target form.
        #[arg(long, value_enum)]
        to: verify_cmd::Form,
    },
    /// Timestamp files: submit their SHA-256 digests to a node's API and write `FILE.tcproof`
    /// next to each once final (with `--wait`); otherwise print the receipts.
    Stamp {
        /// The files (their contents never leave this machine).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The node's API, e.g. `http://127.0.0.1:7300`.
        #[arg(long)]
        api: String,
        /// Wait for the proofs (up to the node's wait timeout).
        #[arg(long)]
        wait: bool,
    },
    /// Fetch the proofs of files stamped earlier into `FILE.tcproof`.
    Proof {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The node's API.
        #[arg(long)]
        api: String,
    },
    /// Show a node's signed time (`[earliest, latest]`, sync state, sources, latest tick).
    Time {
        /// The node's API.
        #[arg(long)]
        api: String,
        /// Check the signature against the node's key in this genesis file.
        #[arg(long)]
        genesis: Option<PathBuf>,
    },
    /// Ask Roughtime servers for the time in a chained sequence (draft-19 §8.2): each answer
    /// is checked against its server's long-term key, and two validly signed answers that
    /// cannot both be true (an earlier answer's earliest time after a later one's latest) are
    /// written to a malfeasance report. Exit 0 when consistent, 1 on malfeasance or an invalid
    /// answer, 2 when no server answered or an argument is bad.
    Roughtime {
        /// A server: HOST:PORT,KEY with KEY its long-term public key (64 hex or base64), or,
        /// with --genesis, a tickchain node's name (its genesis key). Asked in this order.
        #[arg(required = true)]
        servers: Vec<String>,
        /// The genesis whose node names KEY may be.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Times to run the whole sequence (the draft asks for two).
        #[arg(long, default_value_t = 2)]
        rounds: u32,
        /// How long to wait for each answer (milliseconds; one retry).
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
        /// Where a malfeasance report goes.
        #[arg(long, default_value = "roughtime-malfeasance.json")]
        report: PathBuf,
        /// Print the answers as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a device key (mode 0600) and print its public key; for an existing key file,
    /// print its public key.
    DeviceKey {
        /// The key file.
        key: PathBuf,
    },
    /// Log a device's records (one per line of standard input, of a followed file, or one per
    /// UDP datagram): each signed and chained to the one before, the chain's head stamped
    /// through a node once per second, everything written to an append-only log file.
    /// Restarted on the same log, it continues the chain (and a followed file where it left).
    Log {
        /// The device's key file (`tickchain device-key`).
        #[arg(long)]
        key: PathBuf,
        /// The log file (created, or continued).
        #[arg(long)]
        out: PathBuf,
        /// The node's API, e.g. `http://127.0.0.1:7300`.
        #[arg(long)]
        api: String,
        /// Verify each proof against this genesis before writing it.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Follow FILE as it grows (one record per line) instead of standard input.
        #[arg(long, value_name = "FILE")]
        follow: Option<PathBuf>,
        /// Read one record per UDP datagram on ADDR (a bare port binds 127.0.0.1).
        #[arg(long, value_name = "ADDR", value_parser = log_input::udp_addr)]
        udp: Option<std::net::SocketAddr>,
        /// Stop after SECS seconds without a new record, once its stamps are written.
        #[arg(long, value_name = "SECS")]
        idle_exit: Option<u64>,
    },
    /// Verify a device log offline: every record of the device's chain signed by it and in
    /// order, every stamp's proof against the genesis; name the first bad record.
    VerifyLog {
        /// The log file.
        log: PathBuf,
        /// The network's genesis file.
        #[arg(long)]
        genesis: PathBuf,
        /// The device's public key (64 hex characters), from the auditor's own records.
        #[arg(long)]
        device: String,
        /// Also print every record with the time it is proven by.
        #[arg(long)]
        records: bool,
        /// Print the result, with every record, as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A failure with its exit code: 1 for a proof that does not verify, 2 for bad input.
pub enum Failure {
    /// The proof was read but does not verify.
    Invalid(String),
    /// The input could not be read or parsed.
    BadInput(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify {
            proof,
            genesis,
            file,
            json,
            rpc,
            no_clock_check,
        } => verify_cmd::run(
            &proof,
            &genesis,
            file.as_deref(),
            json,
            &rpc,
            !no_clock_check,
        ),
        Command::VerifyEvidence {
            evidence,
            genesis,
            json,
        } => evidence_cmd::run(&evidence, &genesis, json),
        Command::Inspect { proof } => inspect::run(&proof),
        Command::Digest { file } => digest::run(&file),
        Command::Convert { proof, out, to } => verify_cmd::convert(&proof, &out, to),
        Command::Stamp { files, api, wait } => stamp_cmd::stamp(&files, &api, wait),
        Command::Proof { files, api } => stamp_cmd::proof(&files, &api),
        Command::Time { api, genesis } => time_cmd::run(&api, genesis.as_deref()),
        Command::Roughtime {
            servers,
            genesis,
            rounds,
            timeout_ms,
            report,
            json,
        } => servers
            .iter()
            .map(|s| roughtime_cmd::parse_server(s, genesis.as_deref()))
            .collect::<Result<Vec<_>, _>>()
            .and_then(|servers| {
                roughtime_cmd::run(
                    &servers,
                    rounds,
                    std::time::Duration::from_millis(timeout_ms),
                    &report,
                    json,
                )
            }),
        Command::DeviceKey { key } => log_cmd::device_key(&key),
        Command::Log {
            key,
            out,
            api,
            genesis,
            follow,
            udp,
            idle_exit,
        } => log_cmd::run(log_cmd::LogArgs {
            key,
            out,
            api,
            genesis,
            follow,
            udp,
            idle_exit: idle_exit.map(std::time::Duration::from_secs),
        }),
        Command::VerifyLog {
            log,
            genesis,
            device,
            records,
            json,
        } => verify_log_cmd::run(&log, &genesis, &device, records, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(msg)) => {
            eprintln!("FAILED {msg}");
            ExitCode::from(1)
        }
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
