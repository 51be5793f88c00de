//! Anchoring end to end: four `timenode` processes (real QUIC, real sled) anchor their ticks to
//! two real anvil chains (31337 as Ethereum, 137 as Polygon) with co-signatures gathered over
//! the ring; a stamped digest's proof upgrades with both anchors, verifies offline, and
//! `tickchain verify --rpc` confirms both roots on chain.

mod ringkit;

use ringkit::{DECLARED_CLOCK, setup, start_all, tickchain_bin, wait_until};
use std::process::Command;
use std::time::Duration;
use tickchain_anchor::anvil::{ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::devnet;
use tickchain_sdk::client::{Client, ProofLookup, StampOutcome};
use tickchain_sdk::{Digest, Network};
use tickchain_timenode::localnet;

#[test]
fn a_ring_anchors_to_both_chains_and_proofs_upgrade_and_verify_on_chain() {
    let root = std::env::temp_dir().join(format!("tc-anchor-ring-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let gas: Vec<_> = (0..4)
        .map(|i| devnet::write_gas_key(&localnet::node_dir(&root, i).join("gas.key")).unwrap())
        .collect();
    let (eth, pol) = rt.block_on(async {
        (
            devnet::start_chain("ethereum", ETHEREUM_CHAIN_ID, &genesis, &gas)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            devnet::start_chain("polygon", POLYGON_CHAIN_ID, &genesis, &gas)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        )
    });
    for i in 0..4 {
        let dir = localnet::node_dir(&root, i);
        let config = dir.join("node.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains(DECLARED_CLOCK));
        text.push_str(&devnet::anchor_section(&dir, &[(&eth, 6), (&pol, 3)]));
        std::fs::write(&config, text).unwrap();
    }
    start_all(&mut nodes, 2, Duration::from_secs(15));
    let network = Network::new(genesis);

    let digest = Digest(*blake3::hash(b"anchored document").as_bytes());
    let client = Client::with_timeout(&nodes[2].api, Duration::from_secs(30));
    match client.stamp(&[digest], true).unwrap() {
        StampOutcome::Proofs(p) => assert!(network.verify(&p[0]).is_ok()),
        other => panic!("expected a proof, got {other:?}"),
    }
    // The proof upgrades once both chains anchored a range holding its tick.
    let mut upgraded = None;
    wait_until(
        "the proof to carry both anchors",
        Duration::from_secs(90),
        || match client.proof(&digest).unwrap() {
            ProofLookup::Ready(p) if p.anchors.len() == 2 => {
                upgraded = Some(*p);
                true
            }
            _ => false,
        },
    );
    let proof = upgraded.unwrap();
    let chains: Vec<u64> = proof.anchors.iter().map(|a| a.chain_id).collect();
    assert_eq!(
        chains,
        vec![POLYGON_CHAIN_ID, ETHEREUM_CHAIN_ID],
        "ordered by chain id"
    );
    let verified = network
        .verify(&proof)
        .expect("the anchor paths verify offline");
    assert_eq!(verified.anchors.len(), 2);
    for a in &proof.anchors {
        assert!(a.anchor.from <= proof.tick.height && proof.tick.height <= a.anchor.to);
    }

    // GET /v1/anchors (the dashboard's anchoring panel): both chains, each anchored at least
    // to the proof's tick, with the next anchor due a cadence later.
    let body: serde_json::Value =
        serde_json::from_str(&client.get_text("/v1/anchors").unwrap()).unwrap();
    let listed = body["anchors"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{body}");
    for (entry, (chain_id, cadence)) in listed
        .iter()
        .zip([(POLYGON_CHAIN_ID, 3u64), (ETHEREUM_CHAIN_ID, 6u64)])
    {
        assert_eq!(entry["chain_id"], chain_id, "{body}");
        let to = entry["to"].as_u64().unwrap();
        assert!(to >= proof.tick.height.0, "{body}");
        assert_eq!(entry["next_due"].as_u64(), Some(to + cadence), "{body}");
        assert!(
            entry["tx_hash"].as_str().unwrap().starts_with("0x"),
            "{body}"
        );
        assert!(entry["name"].is_string(), "{body}");
    }

    // The CLI confirms both roots on chain.
    let path = root.join("upgraded.tcproof");
    std::fs::write(&path, proof.to_json()).unwrap();
    let out = Command::new(tickchain_bin())
        .args([
            "verify",
            path.to_str().unwrap(),
            "--genesis",
            root.join("genesis.json").to_str().unwrap(),
            "--rpc",
            &format!("{ETHEREUM_CHAIN_ID}={}", eth.anvil.endpoint()),
            "--rpc",
            &format!("{POLYGON_CHAIN_ID}={}", pol.anvil.endpoint()),
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "verify --rpc failed: {text}");
    assert!(
        text.matches("confirmed").count() >= 2,
        "both chains confirmed by RPC: {text}"
    );

    for n in &mut nodes {
        n.sigterm();
    }
    drop(eth);
    drop(pol);
    let _ = std::fs::remove_dir_all(&root);
}
