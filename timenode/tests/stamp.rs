//! Timestamps end to end through a real ring: four `timenode` processes (real QUIC, real sled
//! files) serving the HTTP API; the `tickchain` CLI stamps a file and verifies the written
//! proof offline; a tampered file fails; digests acknowledged right before a SIGKILL get
//! proofs after the restart.

mod ringkit;

use ringkit::{digests, setup, start_all, tickchain_bin, wait_until};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickchain_sdk::client::{Client, ProofLookup, StampOutcome};
use tickchain_sdk::{Digest, Network, NodeId};

fn now_nanos() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

#[test]
fn a_file_stamped_with_the_cli_verifies_offline_and_a_tampered_file_does_not() {
    let root = std::env::temp_dir().join(format!("tc-stamp-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    start_all(&mut nodes, 2, Duration::from_secs(15));
    let network = Network::new(genesis);
    let cli = tickchain_bin();

    // Stamp a file through node 1 with the CLI; it writes FILE.tcproof next to it.
    let file = root.join("contract.pdf");
    std::fs::write(&file, b"%PDF-1.7 the signed contract, version 3\n").unwrap();
    let before = now_nanos();
    let out = Command::new(&cli)
        .args([
            "stamp",
            file.to_str().unwrap(),
            "--api",
            &nodes[1].api,
            "--wait",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tickchain stamp failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proof_path = root.join("contract.pdf.tcproof");
    assert!(proof_path.exists(), "stamp --wait writes FILE.tcproof");

    // Verified offline against the genesis file, with the document.
    let genesis_path = root.join("genesis.json");
    let verify = |with_file: &std::path::Path| {
        Command::new(&cli)
            .args([
                "verify",
                proof_path.to_str().unwrap(),
                "--genesis",
                genesis_path.to_str().unwrap(),
                "--file",
                with_file.to_str().unwrap(),
                "--json",
            ])
            .output()
            .unwrap()
    };
    let ok = verify(&file);
    assert!(
        ok.status.success(),
        "verify failed: {}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    let proof = tickchain_sdk::Proof::from_bytes(&std::fs::read(&proof_path).unwrap()).unwrap();
    let verified = network.verify(&proof).expect("the sdk verifies it too");
    assert_eq!(verified.batch_node, NodeId(1), "node 1 accepted it");
    assert!(
        verified.latest.0 >= before,
        "the proof says the digest existed by {} but it was only submitted at {before}",
        verified.latest.0
    );

    // One byte changed in the document: verification fails with a non-zero exit.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[3] ^= 0x01;
    let tampered = root.join("contract-tampered.pdf");
    std::fs::write(&tampered, &bytes).unwrap();
    let bad = verify(&tampered);
    assert!(!bad.status.success(), "a tampered file must not verify");
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("document_mismatch")
            || String::from_utf8_lossy(&bad.stderr).contains("document_mismatch"),
        "the failure names the document mismatch: {}{}",
        String::from_utf8_lossy(&bad.stdout),
        String::from_utf8_lossy(&bad.stderr)
    );

    // Every node takes digests at once: batches from all four land in ticks, and each node
    // serves verifiable proofs for its own digests.
    let sets: Vec<Vec<Digest>> = (0..4).map(|i| digests(&format!("multi/{i}"), 50)).collect();
    let net = &network;
    std::thread::scope(|s| {
        for (i, set) in sets.iter().enumerate() {
            let api = nodes[i].api.clone();
            s.spawn(move || {
                let client = Client::with_timeout(&api, Duration::from_secs(30));
                match client.stamp(set, true).unwrap() {
                    StampOutcome::Proofs(proofs) => {
                        assert_eq!(proofs.len(), set.len());
                        for (p, d) in proofs.iter().zip(set) {
                            assert_eq!(p.digest, *d, "proofs come in request order");
                            let v = net.verify(p).unwrap();
                            assert_eq!(v.batch_node, NodeId(i as u16));
                        }
                    }
                    other => panic!("node {i}: expected proofs, got {other:?}"),
                }
            });
        }
    });
    // The same proofs are served later by GET /v1/proofs/{digest}; another node does not know
    // a digest it never accepted.
    let c0 = Client::new(&nodes[0].api);
    match c0.proof(&sets[0][7]).unwrap() {
        ProofLookup::Ready(p) => {
            network.verify(&p).unwrap();
        }
        other => panic!("expected a ready proof, got {other:?}"),
    }
    assert_eq!(c0.proof(&sets[2][7]).unwrap(), ProofLookup::Unknown);

    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn every_digest_acknowledged_before_a_sigkill_gets_a_proof_after_restart() {
    let root = std::env::temp_dir().join(format!("tc-stamp-kill-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    start_all(&mut nodes, 2, Duration::from_secs(15));
    let network = Network::new(genesis);

    // `timenode status`: synchronised, every peer up, a last tick, a verified signed time.
    wait_until("node 0 to see all peers", Duration::from_secs(10), || {
        Command::new(env!("CARGO_BIN_EXE_timenode"))
            .args(["status", "--api", &nodes[0].api])
            .output()
            .unwrap()
            .status
            .success()
    });
    let out = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["status", "--api", &nodes[0].api])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "synchronised",
        "signed answer verified",
        "3/3 connected",
        "last tick  height",
        "digests waiting",
        "node-0 (node 0 of 4)",
    ] {
        assert!(
            text.contains(expected),
            "status lacks {expected:?}:\n{text}"
        );
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["status", "--api", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "an unreachable API exits 2");

    // A client keeps submitting batches of 200 to node 3 while it is killed mid-stream.
    let acked: Arc<Mutex<Vec<Digest>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let submitter = {
        let (acked, stop, api) = (acked.clone(), stop.clone(), nodes[3].api.clone());
        std::thread::spawn(move || {
            let client = Client::with_timeout(&api, Duration::from_secs(5));
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch = digests(&format!("kill/{round}"), 200);
                round += 1;
                // Only a 202 is an acknowledgement; errors (the node is dead) are not.
                if let Ok(StampOutcome::Accepted(receipts)) = client.stamp(&batch, false) {
                    assert_eq!(receipts.len(), batch.len());
                    acked.lock().unwrap().extend(batch);
                }
            }
        })
    };
    wait_until("some acknowledged digests", Duration::from_secs(10), || {
        acked.lock().unwrap().len() >= 1_000
    });
    // Kill right after an acknowledgement, while later submissions are in flight.
    let seen = acked.lock().unwrap().len();
    wait_until("one more acknowledgement", Duration::from_secs(10), || {
        acked.lock().unwrap().len() > seen
    });
    nodes[3].sigkill();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    submitter.join().unwrap();

    // The operator's view: node 0 reports node 3 down (after the transport's 3 s idle timeout).
    let status = |api: &str| {
        Command::new(env!("CARGO_BIN_EXE_timenode"))
            .args(["status", "--api", api])
            .output()
            .unwrap()
    };
    wait_until(
        "node 0 to report node-3 down",
        Duration::from_secs(10),
        || {
            let out = status(&nodes[0].api);
            out.status.code() == Some(1)
                && String::from_utf8_lossy(&out.stdout).contains("node-3 DOWN")
        },
    );
    let acked: Vec<Digest> = acked.lock().unwrap().clone();
    println!("{} digests acknowledged before the SIGKILL", acked.len());

    nodes[3].start();
    let client = Client::with_timeout(&nodes[3].api, Duration::from_secs(5));
    let mut missing: BTreeSet<Digest> = acked.iter().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !missing.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged digests have no proof 60 s after the restart",
            missing.len(),
            acked.len()
        );
        let batch: Vec<Digest> = missing.iter().take(200).copied().collect();
        for d in batch {
            match client.proof(&d) {
                Ok(ProofLookup::Ready(p)) => {
                    network
                        .verify(&p)
                        .unwrap_or_else(|e| panic!("proof of {d} does not verify: {e}"));
                    assert_eq!(p.digest, d);
                    missing.remove(&d);
                }
                Ok(ProofLookup::Unknown) => panic!("acknowledged digest {d} was lost"),
                Ok(ProofLookup::Pending(_)) | Err(_) => {
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
        }
    }
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}
