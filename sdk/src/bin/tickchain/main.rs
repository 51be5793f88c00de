//! `tickchain`: verify and inspect tickchain proofs, and compute the digests clients submit.
//!
//! Exit codes: 0 success; 1 a proof or evidence failed verification (offline, or an anchor's
//! root on chain); 2 bad input (unreadable file, malformed proof, evidence or genesis, bad
//! arguments, an RPC endpoint that cannot be reached or is another chain).

mod anchors;
mod digest;
mod evidence_cmd;
mod inspect;
mod stamp_cmd;
mod text;
mod time_cmd;
mod verify_cmd;

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
