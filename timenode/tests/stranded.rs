//! Nothing stranded (`specs/pool.md` §6), with real processes: a node killed right after it
//! acknowledged digests stays down longer than the ring's batch window (10 s here,
//! `[consensus] batch-max-age-secs`; an hour by default), so its pending batch is too old for
//! any tick when it returns. The batch is re-sealed into a fresh one (the node killed right
//! after the re-seal is durable, and restarted) and every receipt ends as a proof that
//! verifies offline.
//!
//! Why one node down and not a stalled ring: a batch offered while fresh sits in the live
//! leaders' in-memory queues, and voters do not check a batch's age, so a ring that resumes
//! after a stall still carries it. What strands is a batch no peer queued while it was fresh
//! (its node died before sealing or offering it) or one carried by a tick its node learned
//! only through catch-up (fetched ticks carry no batch lists): its node offers it again after
//! the restart, when it is outside every node's window.

mod ringkit;

use ringkit::{digests, setup_with_config, start_all, wait_until};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tickchain_sdk::client::{Client, ProofLookup, StampOutcome};
use tickchain_sdk::{Digest, Network, Second};

/// The ring's batch window in this test (seconds).
const WINDOW_SECS: u64 = 10;

#[test]
fn digests_acknowledged_by_a_node_down_longer_than_the_batch_window_still_end_as_proofs() {
    let started = Instant::now();
    let root = std::env::temp_dir().join(format!("tc-stranded-{}", std::process::id()));
    let (genesis, mut nodes) = setup_with_config(&root, 4, |_| {
        format!("[consensus]\nbatch-max-age-secs = {WINDOW_SECS}\n")
    });
    let network = Network::new(genesis);
    start_all(&mut nodes, 2, Duration::from_secs(30));

    // Node 3 acknowledges digests; it is killed right after the last acknowledgement, so its
    // newest batch is unsealed or not yet in any tick it saw.
    let client = Client::with_timeout(&nodes[3].api, Duration::from_secs(5));
    let mut receipts: BTreeMap<Digest, Second> = BTreeMap::new();
    for round in 0..5 {
        let batch = digests(&format!("stranded/{round}"), 100);
        let StampOutcome::Accepted(rs) = client.stamp(&batch, false).unwrap() else {
            panic!("expected 202 receipts");
        };
        receipts.extend(rs.iter().map(|r| (r.digest, r.accepted_second)));
    }
    nodes[3].sigkill();

    // Down for longer than the window (the rest of the ring ticks on), then back.
    let top = nodes[0].top();
    std::thread::sleep(Duration::from_secs(WINDOW_SECS + 5));
    assert!(
        nodes[0].top() > top + WINDOW_SECS,
        "the ring ticked on without node 3"
    );
    // It returns, re-seals its stale batch, and is killed right after the re-seal is durable
    // (before the batch it moved into is sealed); then it returns for good.
    nodes[3].env = vec![(
        tickchain_timenode::node::failpoint::ENV.into(),
        "reseal:1".into(),
    )];
    nodes[3].start();
    let status = nodes[3].wait_exit(Duration::from_secs(30));
    assert!(!status.success(), "the hook stops node 3 after its re-seal");
    assert!(
        nodes[3]
            .log_tail(50)
            .contains("aborting after durable write 1 of kind Reseal"),
        "{}",
        nodes[3].log_tail(50)
    );
    nodes[3].env.clear();
    nodes[3].start();

    // Every receipt ends as a proof that verifies offline.
    let mut missing: Vec<Digest> = receipts.keys().copied().collect();
    let mut resealed = 0;
    let deadline = Instant::now() + Duration::from_secs(45);
    while !missing.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged digests have no proof 45 s after node 3 returned\n{}",
            missing.len(),
            receipts.len(),
            nodes[3].log_tail(20)
        );
        let mut pending = Vec::new();
        for d in missing {
            match client.proof(&d) {
                Ok(ProofLookup::Ready(p)) => {
                    network
                        .verify(&p)
                        .unwrap_or_else(|e| panic!("proof of {d} does not verify: {e}"));
                    assert_eq!(p.digest, d);
                    if p.batch.second != receipts[&d] {
                        assert!(
                            p.batch.second > receipts[&d],
                            "re-sealed later, never earlier"
                        );
                        resealed += 1;
                    }
                }
                Ok(ProofLookup::Unknown) => panic!("acknowledged digest {d} was lost"),
                Ok(ProofLookup::Pending(_)) | Err(_) => pending.push(d),
            }
        }
        missing = pending;
        if !missing.is_empty() {
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    println!(
        "{} receipts, {resealed} proved through a re-sealed batch; test took {:?}",
        receipts.len(),
        started.elapsed()
    );
    assert!(
        resealed > 0,
        "node 3's last batch outlived the window and was re-sealed"
    );
    wait_until("node 3 to tick again", Duration::from_secs(10), || {
        nodes[3].top() > 0
    });
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}
