//! `tickchain time`: a node's signed `[earliest, latest]`, checked against a fresh nonce and,
//! with `--genesis`, against the node's key.

use crate::Failure;
use crate::stamp_cmd::remote;
use crate::text::{read_genesis, rfc3339, second};
use std::path::Path;
use tickchain_sdk::client::Client;
use tickchain_sdk::time_response::Nonce;

/// Asks `api` for its time with a random nonce and prints what it signed.
pub fn run(api: &str, genesis: Option<&Path>) -> Result<(), Failure> {
    let mut nonce = [0u8; 16];
    getrandom::getrandom(&mut nonce)
        .map_err(|e| Failure::BadInput(format!("no OS randomness for the nonce: {e}")))?;
    let nonce = Nonce(nonce.to_vec());
    let signed = Client::new(api).time(&nonce).map_err(remote)?;
    let s = &signed.statement;
    if s.nonce != nonce {
        return Err(Failure::Invalid(format!(
            "the node echoed nonce {} instead of {}: the answer is not fresh",
            hex::encode(&s.nonce.0),
            hex::encode(&nonce.0)
        )));
    }
    match genesis {
        Some(path) => {
            let g = read_genesis(path)?;
            let node = g.node(s.node).ok_or_else(|| {
                Failure::Invalid(format!("node {} is not in {}", s.node, path.display()))
            })?;
            if s.genesis_hash != g.hash || !signed.verify(&node.public_key) {
                return Err(Failure::Invalid(format!(
                    "the time statement is not signed by node {} ({}) of network {}",
                    s.node, node.name, g.hash
                )));
            }
            println!(
                "signed by node {} ({}), signature and nonce OK",
                s.node, node.name
            );
        }
        None => println!(
            "node {} (nonce echoed; signature NOT checked: pass --genesis to check it)",
            s.node
        ),
    }
    println!("  earliest      {}", rfc3339(s.earliest));
    println!("  latest        {}", rfc3339(s.latest));
    println!(
        "  uncertainty   ±{:.3} ms",
        (s.latest.0 - s.earliest.0) as f64 / 2e6
    );
    println!(
        "  synchronized  {}",
        if s.synchronized {
            "yes"
        } else {
            "NO (no majority of agreeing sources)"
        }
    );
    for src in &s.sources {
        println!(
            "  source        {:<16} offset {:+.3} ms ± {:.3} ms{}",
            src.name,
            src.offset.0 as f64 / 1e6,
            src.radius.0 as f64 / 1e6,
            if src.agrees {
                ""
            } else {
                "  (falseticker or unusable)"
            }
        );
    }
    match &s.latest_tick {
        Some(t) => println!(
            "  latest tick   height {} for {} ({})",
            t.height,
            second(t.second.0),
            t.hash
        ),
        None => println!("  latest tick   none yet"),
    }
    Ok(())
}
