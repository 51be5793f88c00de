//! `tickchain inspect`: a readable summary of a proof, without verifying it.

use crate::Failure;
use crate::text::{read_proof, rfc3339, second};
use std::path::Path;

/// Prints the proof's parts, one per line.
pub fn run(path: &Path) -> Result<(), Failure> {
    let p = read_proof(path)?;
    let compact = p.to_compact().map(|b| format!("{} bytes", b.len()));
    println!(
        "proof {} (version {}, NOT verified: use `tickchain verify`)",
        path.display(),
        p.version
    );
    println!("  digest        {}", p.digest);
    println!("  network       genesis {}", p.genesis_hash);
    println!(
        "  batch         node {} sealed at {} ({}), leaf {} of {}, root {}",
        p.batch.node,
        second(p.batch.second.0),
        p.batch.second,
        p.batch_path.index,
        p.batch.count,
        p.batch.root
    );
    println!(
        "  tick          height {} view {} second {} ({}), batch {} of {}, proposer {}",
        p.tick.height,
        p.tick.view,
        second(p.tick.second.0),
        p.tick.second,
        p.tick_path.index,
        p.tick.batch_count,
        p.tick.proposer
    );
    for d in &p.descendants {
        println!(
            "  descendant    height {} view {} second {} ({})",
            d.height,
            d.view,
            second(d.second.0),
            d.second
        );
    }
    println!("  certified     tick hash {}", p.certificate.tick_hash);
    println!(
        "  certificate   view {}, {} votes:",
        p.certificate.view,
        p.certificate.votes.len()
    );
    for v in &p.certificate.votes {
        println!(
            "    signer {:>3}  saw it in [{}, {}]",
            v.signer,
            rfc3339(v.reading.earliest),
            rfc3339(v.reading.latest)
        );
    }
    for a in &p.anchors {
        println!(
            "  anchor        chain {} contract {} ticks {}..={} (second {}) root {}",
            a.chain_id, a.contract, a.anchor.from, a.anchor.to, a.anchor.second, a.anchor.root
        );
        println!(
            "                tx {} in block {}, tick is leaf {} of {}",
            a.tx_hash, a.block_number, a.path.index, a.path.size
        );
    }
    match compact {
        Ok(size) => println!("  compact form  {size}"),
        Err(e) => println!("  compact form  unavailable: {e}"),
    }
    Ok(())
}
