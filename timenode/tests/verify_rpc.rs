//! `tickchain verify --rpc CHAIN=URL` against real anvil chains (31337 standing in for
//! Ethereum, 137 for Polygon): a proof built from a `TestNetwork`'s ticks, whose range is
//! anchored on a deployed `TickOracle` on both chains with that network's genesis-bound
//! attestation keys (3 of 4), verifies with both roots confirmed; a proof pointing at a
//! deployment that stores another root, or none, fails with its code; an RPC that is another
//! chain or cannot be reached exits 2 naming the URL.
//!
//! Needs `scripts/install-npm` (anvil) and the committed artifact (`scripts/compile-contracts`).
//! A missing anvil fails this test; it never skips it.

mod ringkit;

use alloy::primitives::B256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use ringkit::tickchain_bin;
use std::net::TcpListener;
use std::process::{Command, Output};
use tickchain_anchor::anvil::{DEV_KEY_0, ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::{Anvil, OracleClient, connect};
use tickchain_sdk::anchor::{Anchor, EvmAddress, EvmSignature, pack_signatures};
use tickchain_sdk::anchor_proof::{AnchorProof, EvmTxHash};
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Hash, Height, Proof, Second, Tick, View};

fn tickchain(args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = Command::new(tickchain_bin())
        .args(args)
        .output()
        .expect("run tickchain");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Where one anchor landed.
struct Landed {
    contract: EvmAddress,
    tx_hash: EvmTxHash,
    block_number: u64,
}

/// Deploys a `TickOracle` whose signers are `net`'s attestation keys (threshold 3).
async fn deploy(anvil: &Anvil, net: &TestNetwork) -> OracleClient {
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).unwrap(),
    )
    .unwrap();
    let signers: Vec<EvmAddress> = net.attestation_keys.iter().map(|k| k.address()).collect();
    OracleClient::deploy(provider, &signers, 3).await.unwrap().0
}

/// Anchors `anchor` on `client` with nodes 1, 2, 3's attestation signatures.
async fn anchor_on(client: &OracleClient, net: &TestNetwork, anchor: &Anchor) -> Landed {
    let digest = anchor.digest(&client.domain());
    let signed: Vec<(EvmAddress, EvmSignature)> = net.attestation_keys[1..]
        .iter()
        .map(|k| (k.address(), k.sign_digest(&digest.0)))
        .collect();
    let done = client
        .anchor(anchor, &pack_signatures(&signed).unwrap())
        .await
        .unwrap();
    let receipt = client
        .provider()
        .get_transaction_receipt(done.tx)
        .await
        .unwrap()
        .expect("a mined anchor has a receipt");
    Landed {
        contract: client.domain().contract,
        tx_hash: EvmTxHash(done.tx.0),
        block_number: receipt.block_number.expect("mined"),
    }
}

fn entry(
    chain_id: u64,
    landed: &Landed,
    anchor: Anchor,
    hashes: &[Hash],
    h: Height,
) -> AnchorProof {
    AnchorProof::for_tick(
        chain_id,
        landed.contract,
        anchor,
        landed.tx_hash,
        landed.block_number,
        hashes,
        h,
    )
    .unwrap()
}

fn free_url() -> String {
    let port = TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_rpc_confirms_roots_on_both_chains_and_fails_on_wrong_or_missing_ones() {
    let net = TestNetwork::new("verify-rpc", 4, 1, Second(1_767_225_600));
    let g = net.hash();
    // The proven tick (height 10) and three real descendants: the anchored ranges' ticks.
    let base = net.sample_proof(5, 2, 2, 3);
    let mut ticks: Vec<Tick> = vec![base.tick.clone()];
    for i in 1..=3u64 {
        let parent = ticks.last().unwrap();
        let child = net.child(parent, View(12 + i), Second(base.tick.second.0 + i));
        ticks.push(child);
    }
    let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash(&g)).collect();
    let height = base.tick.height;
    let eth_anchor = Anchor::over_ticks(height, Height(13), ticks[3].second, &hashes).unwrap();
    let pol_anchor = Anchor::over_ticks(height, Height(12), ticks[2].second, &hashes[..3]).unwrap();

    let eth = Anvil::spawn(ETHEREUM_CHAIN_ID).unwrap_or_else(|e| panic!("{e}"));
    let pol = Anvil::spawn(POLYGON_CHAIN_ID).unwrap_or_else(|e| panic!("{e}"));
    let eth_oracle = deploy(&eth, &net).await;
    let pol_oracle = deploy(&pol, &net).await;
    let on_eth = anchor_on(&eth_oracle, &net, &eth_anchor).await;
    let on_pol = anchor_on(&pol_oracle, &net, &pol_anchor).await;
    // A third deployment (on the Ethereum stand-in) with another root for the same range, and a
    // fourth with nothing anchored.
    let other_oracle = deploy(&eth, &net).await;
    let mut other_hashes = hashes.clone();
    other_hashes[3].0[0] ^= 1;
    let other_anchor =
        Anchor::over_ticks(height, Height(13), ticks[3].second, &other_hashes).unwrap();
    let on_other = anchor_on(&other_oracle, &net, &other_anchor).await;
    let empty_oracle = deploy(&eth, &net).await;

    let mut proof: Proof = base.clone();
    proof.anchors = vec![
        entry(ETHEREUM_CHAIN_ID, &on_eth, eth_anchor, &hashes, height),
        entry(POLYGON_CHAIN_ID, &on_pol, pol_anchor, &hashes[..3], height),
    ];
    let dir = std::env::temp_dir().join(format!("tc-verify-rpc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let genesis = dir.join("genesis.json");
    std::fs::write(&genesis, net.genesis.to_json()).unwrap();
    let write = |name: &str, p: &Proof| {
        let path = dir.join(name);
        std::fs::write(&path, p.to_json()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let good = write("good.tcproof", &proof);
    let good_bin = dir.join("good.tcproof.bin");
    std::fs::write(&good_bin, proof.to_compact().unwrap()).unwrap();
    let g_arg = genesis.to_str().unwrap().to_owned();
    let (eth_url, pol_url) = (eth.endpoint(), pol.endpoint());
    let rpc_eth = format!("31337={eth_url}");
    let rpc_pol = format!("137={pol_url}");
    let verify = |proof: &str, rpcs: &[&str]| {
        let mut args = vec!["verify", proof, "--genesis", &g_arg];
        for r in rpcs {
            args.extend(["--rpc", r]);
        }
        tickchain(&args)
    };

    // Both roots confirmed, in JSON and in compact form.
    for p in [good.as_str(), good_bin.to_str().unwrap()] {
        let (code, out, err) = verify(p, &[&rpc_eth, &rpc_pol]);
        assert_eq!(code, Some(0), "{out}{err}");
        for (chain, landed) in [(31337, &on_eth), (137, &on_pol)] {
            let line = format!(
                "anchored on chain {chain} at block {} (tx {}): root confirmed by RPC",
                landed.block_number, landed.tx_hash
            );
            assert!(out.contains(&line), "expected {line:?} in\n{out}");
        }
    }
    let json_args = [
        "verify",
        &good,
        "--genesis",
        &g_arg,
        "--json",
        "--rpc",
        &rpc_eth,
        "--rpc",
        &rpc_pol,
    ];
    let (code, out, err) = tickchain(&json_args);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["anchors"].as_array().unwrap().len(), 2, "{out}");
    let confirmed: Vec<u64> = v["confirmed_by_rpc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain_id"].as_u64().unwrap())
        .collect();
    assert_eq!(confirmed, [31337, 137], "{out}");
    // Offline only: both anchors listed, neither confirmed.
    let (code, out, _) = verify(&good, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(out.matches("path checked offline").count(), 2, "{out}");
    // One chain asked, and a chain the proof has no anchor on (never contacted).
    let nowhere = format!("5={}", free_url());
    let (code, out, err) = verify(&good, &[&rpc_pol, &nowhere]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("chain 137 at block"), "{out}");
    assert!(out.contains("(add --rpc 31337=URL)"), "{out}");
    assert!(out.contains("no anchor on chain 5"), "{out}");

    // The proof's 31337 anchor pointed at a deployment storing another root for the range: the
    // offline path still checks (it leads to the proof's root), the chain disagrees.
    let mut wrong = proof.clone();
    wrong.anchors[0].contract = on_other.contract;
    wrong.anchors[0].tx_hash = on_other.tx_hash;
    wrong.anchors[0].block_number = on_other.block_number;
    let wrong = write("wrong-root.tcproof", &wrong);
    let (code, out, _) = verify(&wrong, &[]);
    assert_eq!(
        code,
        Some(0),
        "offline the altered chain side is invisible: {out}"
    );
    let (code, _, err) = verify(&wrong, &[&rpc_eth, &rpc_pol]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("FAILED anchor_root_mismatch: "), "{err}");
    assert!(err.contains(&other_anchor.root.to_hex()), "{err}");
    // ... and at a deployment that stores nothing.
    let mut missing = proof.clone();
    missing.anchors[0].contract = empty_oracle.domain().contract;
    let missing = write("missing.tcproof", &missing);
    let (code, _, err) = verify(&missing, &[&rpc_eth]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.starts_with("FAILED anchor_missing: "), "{err}");

    // An endpoint that is another chain, and one that cannot be reached: exit 2, URL named.
    let swapped = format!("137={eth_url}");
    let (code, _, err) = verify(&good, &[&swapped]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&eth_url) && err.contains("is chain 31337"),
        "{err}"
    );
    let dead = free_url();
    let (code, _, err) = verify(&good, &[&format!("31337={dead}")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.starts_with("error: cannot reach RPC "), "{err}");
    assert!(err.contains(&dead), "{err}");

    let _ = std::fs::remove_dir_all(&dir);
}
