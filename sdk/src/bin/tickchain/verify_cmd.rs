//! `tickchain verify` and `tickchain convert`.

use crate::Failure;
use crate::digest::sha256_file;
use crate::text::{read_genesis, read_proof, rfc3339, second};
use std::path::Path;
use tickchain_sdk::Network;

/// Proof file forms.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Form {
    /// Pretty JSON with hex fields (`.tcproof`).
    Json,
    /// Compact binary (`.tcproof.bin`).
    Bin,
}

/// Verifies `proof_path` against `genesis_path`, optionally against a document too.
pub fn run(
    proof_path: &Path,
    genesis_path: &Path,
    file: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let proof = read_proof(proof_path)?;
    let genesis = read_genesis(genesis_path)?;
    let network = Network::new(genesis);
    let verified = network
        .verify(&proof)
        .map_err(|e| Failure::Invalid(format!("{}: {e}", e.code())))?;
    if let Some(doc) = file {
        let digest = sha256_file(doc)?;
        if digest != verified.digest.0 {
            return Err(Failure::Invalid(format!(
                "document_mismatch: SHA-256 of {} is {}, the proof is for {}",
                doc.display(),
                hex::encode(digest),
                verified.digest
            )));
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&verified).expect("json"));
        return Ok(());
    }
    let g = network.genesis();
    let signers: Vec<String> = verified.signers.iter().map(|s| s.to_string()).collect();
    println!(
        "OK  digest {} existed no later than {}",
        verified.digest,
        rfc3339(verified.latest)
    );
    if let Some(doc) = file {
        println!("    document {} matches the digest", doc.display());
    }
    println!(
        "    tick at height {} for second {}, batch from node {} ({})",
        verified.height,
        second(verified.second.0),
        verified.batch_node,
        g.node(verified.batch_node).map_or("?", |n| n.name.as_str())
    );
    if verified.certified_height != verified.height {
        println!(
            "    final through descendant tick at height {}",
            verified.certified_height
        );
    }
    println!(
        "    certified by {} of {} nodes ({}) between {} and {}",
        verified.signers.len(),
        g.n(),
        signers.join(", "),
        rfc3339(verified.earliest),
        rfc3339(verified.latest)
    );
    println!("    certified tick hash {}", verified.tick_hash);
    println!("    network {} (genesis {})", g.chain_id, g.hash);
    Ok(())
}

/// Rewrites a proof in the other form.
pub fn convert(proof_path: &Path, out: &Path, to: Form) -> Result<(), Failure> {
    let proof = read_proof(proof_path)?;
    let bytes = match to {
        Form::Json => {
            let mut v = proof.to_json().into_bytes();
            v.push(b'\n');
            v
        }
        Form::Bin => proof
            .to_compact()
            .map_err(|e| Failure::BadInput(format!("{}: {e}", proof_path.display())))?,
    };
    std::fs::write(out, &bytes)
        .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    println!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
