//! `tickchain stamp` and `tickchain proof`: submit files' digests to a node, and fetch their
//! proofs into `FILE.tcproof` next to each file.

use crate::Failure;
use crate::digest::sha256_file;
use crate::text::second;
use std::path::{Path, PathBuf};
use tickchain_sdk::client::{Client, ClientError, ProofLookup, Receipt, StampOutcome};
use tickchain_sdk::{Digest, Proof};

/// Submits the SHA-256 of each file; writes proofs when they are final, else prints receipts.
pub fn stamp(files: &[PathBuf], api: &str, wait: bool) -> Result<(), Failure> {
    let digests = digests_of(files)?;
    let client = Client::new(api);
    match client.stamp(&digests, wait).map_err(remote)? {
        StampOutcome::Proofs(proofs) => {
            for (file, proof) in files.iter().zip(&proofs) {
                write_proof(file, proof)?;
            }
        }
        StampOutcome::Accepted(receipts) => print_receipts(files, &receipts, api, false),
        StampOutcome::TimedOut(receipts) => print_receipts(files, &receipts, api, true),
    }
    Ok(())
}

/// Fetches the proof of each file's digest; writes the ready ones.
pub fn proof(files: &[PathBuf], api: &str) -> Result<(), Failure> {
    let digests = digests_of(files)?;
    let client = Client::new(api);
    let mut missing = 0;
    for (file, digest) in files.iter().zip(&digests) {
        match client.proof(digest).map_err(remote)? {
            ProofLookup::Ready(p) => write_proof(file, &p)?,
            ProofLookup::Pending(r) => println!(
                "pending  {}  digest {} expected in the tick for {}; try again later",
                file.display(),
                r.digest,
                second(r.expected_tick_second.0)
            ),
            ProofLookup::Unknown => {
                missing += 1;
                println!(
                    "unknown  {}  digest {digest} was never stamped on this node",
                    file.display()
                );
            }
        }
    }
    if missing > 0 {
        return Err(Failure::BadInput(format!(
            "{missing} file(s) unknown to {api}"
        )));
    }
    Ok(())
}

fn digests_of(files: &[PathBuf]) -> Result<Vec<Digest>, Failure> {
    files.iter().map(|f| sha256_file(f).map(Digest)).collect()
}

/// `FILE` → `FILE.tcproof`.
pub fn proof_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".tcproof");
    PathBuf::from(name)
}

fn write_proof(file: &Path, proof: &Proof) -> Result<(), Failure> {
    let out = proof_path(file);
    let mut bytes = proof.to_json().into_bytes();
    bytes.push(b'\n');
    std::fs::write(&out, bytes)
        .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    println!(
        "wrote    {}  (tick {} for {}; check it with `tickchain verify {} --genesis GENESIS --file {}`)",
        out.display(),
        proof.tick.height,
        second(proof.tick.second.0),
        out.display(),
        file.display()
    );
    Ok(())
}

fn print_receipts(files: &[PathBuf], receipts: &[Receipt], api: &str, timed_out: bool) {
    if timed_out {
        println!("not final within the server's wait timeout; the digests are accepted:");
    }
    for (file, r) in files.iter().zip(receipts) {
        println!(
            "accepted {}  digest {} by node {} at {}, expected in the tick for {}",
            file.display(),
            r.digest,
            r.node,
            second(r.accepted_second.0),
            second(r.expected_tick_second.0)
        );
    }
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    println!(
        "fetch the proofs once final with: tickchain proof {} --api {api}",
        names.join(" ")
    );
}

/// A client error as CLI input failure (exit code 2).
pub fn remote(e: ClientError) -> Failure {
    Failure::BadInput(e.to_string())
}
