//! Gateways (issue 18) in real processes: a ring of four `timenode run` nodes and two
//! `timenode gateway` processes over real QUIC with real sled files. Digests submitted to each
//! gateway come back as proofs that verify offline and name that gateway as the batch's signer;
//! a gateway SIGKILLed mid-stream and restarted loses no acknowledged digest; a gateway whose
//! key genesis does not list is refused, at start and by the ring's TLS.

mod ringkit;

use ringkit::{digests, setup_with_gateways, start_all, tickchain_bin, wait_until};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickchain_sdk::client::{Client, ProofLookup, StampOutcome};
use tickchain_sdk::{Digest, GenesisGateway, Network, NodeId, keys, signing};

/// Waits until every acknowledged digest has a proof from `api` that verifies and names
/// `signer`; panics naming how many are missing after `limit`, or at once if one is unknown.
fn all_proven(api: &str, network: &Network, acked: &[Digest], signer: NodeId, limit: Duration) {
    let client = Client::with_timeout(api, Duration::from_secs(5));
    let mut missing: BTreeSet<Digest> = acked.iter().copied().collect();
    let deadline = Instant::now() + limit;
    while !missing.is_empty() {
        assert!(
            Instant::now() < deadline,
            "{} of {} acknowledged digests have no proof from {api} after {limit:?}",
            missing.len(),
            acked.len()
        );
        let batch: Vec<Digest> = missing.iter().take(200).copied().collect();
        for d in batch {
            match client.proof(&d) {
                Ok(ProofLookup::Ready(p)) => {
                    let v = network
                        .verify(&p)
                        .unwrap_or_else(|e| panic!("proof of {d} does not verify: {e}"));
                    assert_eq!(v.batch_node, signer, "the gateway signed the batch");
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
}

#[test]
fn digests_through_two_gateways_get_proofs_naming_them_and_a_sigkilled_gateway_loses_none() {
    let root = std::env::temp_dir().join(format!("tc-gateway-{}", std::process::id()));
    let (genesis, mut nodes, mut gateways) = setup_with_gateways(&root, 4, 2);
    assert_eq!(genesis.version, 3);
    start_all(&mut nodes, 2, Duration::from_secs(30));
    for g in &mut gateways {
        g.start();
    }
    wait_until(
        "both gateways to store final ticks",
        Duration::from_secs(20),
        || gateways.iter().all(|g| g.top() >= 2),
    );
    let network = Network::new(genesis.clone());

    // Through each gateway: proofs that verify offline and name the gateway.
    for (j, g) in gateways.iter().enumerate() {
        let batch = digests(&format!("gateway-{j}"), 50);
        let client = Client::with_timeout(&g.api, Duration::from_secs(20));
        let StampOutcome::Proofs(proofs) = client.stamp(&batch, true).unwrap() else {
            panic!("gateway {j} answered ?wait=true without proofs");
        };
        assert_eq!(proofs.len(), batch.len());
        for (p, d) in proofs.iter().zip(&batch) {
            let v = network.verify(p).unwrap();
            assert_eq!(v.digest, *d);
            assert_eq!(Some(v.batch_node), genesis.gateway_id(j));
            assert_eq!(
                v.batch_gateway.as_deref(),
                Some(format!("gateway-{j}").as_str())
            );
        }
    }

    // The CLI says who signed the batch.
    let doc = root.join("doc.txt");
    std::fs::write(&doc, b"stamped through gateway-1\n").unwrap();
    let cli = tickchain_bin();
    let out = Command::new(&cli)
        .args([
            "stamp",
            doc.to_str().unwrap(),
            "--api",
            &gateways[1].api,
            "--wait",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proof = format!("{}.tcproof", doc.display());
    let out = Command::new(&cli)
        .args(["verify", &proof, "--genesis"])
        .arg(root.join("genesis.json"))
        .args(["--file", doc.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("batch signed by gateway gateway-1 (signer 5)"),
        "{text}"
    );

    // A client keeps submitting batches of 200 to gateway 0 while it is SIGKILLed mid-stream.
    let acked: Arc<Mutex<Vec<Digest>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let submitter = {
        let (acked, stop, api) = (acked.clone(), stop.clone(), gateways[0].api.clone());
        std::thread::spawn(move || {
            let client = Client::with_timeout(&api, Duration::from_secs(5));
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch = digests(&format!("gateway-kill/{round}"), 200);
                round += 1;
                // Only a 202 is an acknowledgement; errors (the gateway is dead) are not.
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
    let seen = acked.lock().unwrap().len();
    wait_until("one more acknowledgement", Duration::from_secs(10), || {
        acked.lock().unwrap().len() > seen
    });
    gateways[0].sigkill();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    submitter.join().unwrap();
    let acked: Vec<Digest> = acked.lock().unwrap().clone();
    println!(
        "{} digests acknowledged by gateway-0 before its SIGKILL",
        acked.len()
    );
    // Down for a few ticks, so some of its offered batches are carried while it is away and
    // it must fetch the gap in its chain.
    std::thread::sleep(Duration::from_secs(3));
    gateways[0].start();
    all_proven(
        &gateways[0].api,
        &network,
        &acked,
        genesis.gateway_id(0).unwrap(),
        Duration::from_secs(60),
    );
    for g in &mut gateways {
        g.sigterm();
    }
    for n in &mut nodes {
        n.sigterm();
    }
    // Its chain is the ring's: from height 1 with no gap, the same hash at every height
    // (the gateway fetched what it missed while it was down).
    let ours = ringkit::verified_chain(&gateways[0].dir, &network);
    let ring = ringkit::verified_chain(&nodes[0].dir, &network);
    assert!(ours.len() >= 5, "gateway chain too short: {}", ours.len());
    for (i, (height, hash)) in ours.iter().enumerate() {
        assert_eq!(*height, i as u64 + 1, "the gateway's chain has no gap");
        assert_eq!(ring.get(i), Some(&(*height, *hash)), "height {height}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_gateway_the_genesis_does_not_list_is_refused_at_start_and_by_the_ring() {
    let root = std::env::temp_dir().join(format!("tc-gateway-rogue-{}", std::process::id()));
    let (genesis, mut nodes, mut gateways) = setup_with_gateways(&root, 4, 1);
    start_all(&mut nodes, 2, Duration::from_secs(30));

    // A key that genesis does not list: `timenode gateway` refuses to start, naming why.
    let rogue = keys::generate().unwrap();
    let dir = &gateways[0].dir;
    std::fs::remove_file(dir.join("gateway.key")).unwrap();
    keys::write_secret(&dir.join("gateway.key"), &rogue).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_timenode"))
        .args(["gateway", "--config"])
        .arg(dir.join("gateway.toml"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no gateway has the key"), "{err}");

    // The same key with a forged genesis that lists it: the ring's TLS refuses the connection,
    // so nothing it acknowledges is ever proven.
    let forged = genesis
        .clone()
        .with_extensions(
            vec![GenesisGateway {
                name: "gateway-0".into(),
                public_key: signing::public_key(&rogue),
            }],
            None,
        )
        .unwrap();
    std::fs::write(root.join("genesis.json"), forged.to_json()).unwrap();
    gateways[0].start();
    let refused = |api: &str| -> u64 {
        let text = Client::new(api).get_text("/metrics").unwrap_or_default();
        text.lines()
            .find_map(|l| {
                l.strip_prefix("tickchain_peer_rejected_total{kind=\"connection_refused\"} ")
            })
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    wait_until(
        "every node to refuse the rogue gateway's connection",
        Duration::from_secs(20),
        || nodes.iter().all(|n| refused(&n.api) > 0),
    );
    let batch = digests("rogue", 20);
    let client = Client::with_timeout(&gateways[0].api, Duration::from_secs(5));
    let StampOutcome::Accepted(_) = client.stamp(&batch, false).unwrap() else {
        panic!("the rogue gateway's API accepts (it does not know it is refused)");
    };
    let top = nodes[0].top();
    wait_until("5 more final ticks", Duration::from_secs(15), || {
        nodes[0].top() >= top + 5
    });
    for d in &batch {
        assert!(
            matches!(client.proof(d), Ok(ProofLookup::Pending(_))),
            "a digest the ring never received has no proof"
        );
    }
    gateways[0].sigterm();
    for n in &mut nodes {
        n.sigterm();
    }
    let _ = std::fs::remove_dir_all(&root);
}
