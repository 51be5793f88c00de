//! `tickchain verify` and `tickchain convert`.

use crate::Failure;
use crate::anchors::{RpcArg, Standing, check_on_chain, describe};
use crate::digest::sha256_file;
use crate::text::{read_genesis, read_proof, rfc3339, second};
use std::path::Path;
use tickchain_sdk::rfc3161;
use tickchain_sdk::verify::{FUTURE_MARGIN_S, check_not_future};
use tickchain_sdk::{Hash, Height, Network, UtcNanos, VerifiedTimestamp, VerifyError};

/// Proof file forms.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Form {
    /// Pretty JSON with hex fields (`.tcproof`).
    Json,
    /// Compact binary (`.tcproof.bin`).
    Bin,
}

/// `--json` output: the verified result, plus what `--rpc` confirmed when it was given.
#[derive(serde::Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    verified: &'a VerifiedTimestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirmed_by_rpc: Option<Vec<RpcConfirmed>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rpc_chains_without_anchor: Option<Vec<u64>>,
}

/// An anchor whose root the chain confirmed.
#[derive(serde::Serialize)]
struct RpcConfirmed {
    chain_id: u64,
    to: Height,
    root: Hash,
}

/// Verifies `proof_path` against `genesis_path`, then (with `clock_check`) that its certified
/// tick is not more than [`FUTURE_MARGIN_S`] ahead of this machine's clock
/// (`specs/proof.md` §5), optionally against a document too, and the anchors of the chains in
/// `rpcs` on chain.
pub fn run(
    proof_path: &Path,
    genesis_path: &Path,
    file: Option<&Path>,
    json: bool,
    rpcs: &[RpcArg],
    clock_check: bool,
) -> Result<(), Failure> {
    let genesis = read_genesis(genesis_path)?;
    let network = Network::new(genesis);
    let invalid = |e: VerifyError| Failure::Invalid(format!("{}: {e}", e.code()));
    let bytes = crate::text::read(proof_path)?;
    // An RFC 3161 reply or token from a node's TSA carries the proof inside.
    let (proof, verified, token) = if rfc3161::read::looks_like_der(&bytes) {
        let (info, proof, verified) =
            rfc3161::verify_token(&network, &bytes).map_err(|e| match e {
                rfc3161::TokenError::Proof(e) => invalid(e),
                rfc3161::TokenError::DigestMismatch { .. }
                | rfc3161::TokenError::TimeMismatch { .. } => {
                    Failure::Invalid(format!("token_mismatch: {e}"))
                }
                other => Failure::BadInput(format!("{}: {other}", proof_path.display())),
            })?;
        (proof, verified, Some(info))
    } else {
        let proof = read_proof(proof_path)?;
        let verified = network.verify(&proof).map_err(invalid)?;
        (proof, verified, None)
    };
    if clock_check {
        check_not_future(&proof, local_now(), FUTURE_MARGIN_S).map_err(invalid)?;
    }
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
    let (standing, unused) = check_on_chain(&verified.anchors, rpcs)?;
    if json {
        let rpc = !rpcs.is_empty();
        let confirmed = verified
            .anchors
            .iter()
            .zip(&standing)
            .filter(|(_, s)| **s == Standing::Confirmed)
            .map(|(a, _)| RpcConfirmed {
                chain_id: a.chain_id,
                to: a.anchor.to,
                root: a.anchor.root,
            })
            .collect();
        let out = JsonOut {
            verified: &verified,
            confirmed_by_rpc: rpc.then_some(confirmed),
            rpc_chains_without_anchor: rpc.then(|| unused.clone()),
        };
        println!("{}", serde_json::to_string_pretty(&out).expect("json"));
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
    if let Some(info) = &token {
        println!(
            "    RFC 3161 token serial {}: genTime {} is the tick's second and its imprint the digest (its CMS signature: openssl ts -verify)",
            hex::encode(&info.serial),
            second(info.gen_time)
        );
    }
    let signer = match &verified.batch_gateway {
        Some(name) => format!("gateway {name} (signer {})", verified.batch_node),
        None => format!(
            "node {} ({})",
            verified.batch_node,
            g.node(verified.batch_node).map_or("?", |n| n.name.as_str())
        ),
    };
    println!(
        "    tick at height {} for second {}, batch signed by {signer}",
        verified.height,
        second(verified.second.0),
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
    for (a, s) in verified.anchors.iter().zip(&standing) {
        for line in describe(a, *s) {
            println!("{line}");
        }
    }
    for chain in unused {
        println!(
            "    --rpc {chain}=...: the proof has no anchor on chain {chain}, nothing checked there"
        );
    }
    println!("    network {} (genesis {})", g.chain_id, g.hash);
    Ok(())
}

/// This machine's clock, for the far-future check only.
fn local_now() -> UtcNanos {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UtcNanos::from_parts(
        i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
        since_epoch.subsec_nanos(),
    )
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
