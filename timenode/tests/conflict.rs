//! Fail-stop on conflicting finality, in real processes (`specs/consensus.md` §7): a coalition
//! of three of four members (more than f) signs a second tick at a height an honest node has
//! already finalized, and delivers its finalization over the ring's QUIC with a genesis key.
//! The honest node keeps both ticks as evidence, raises the alarm and stops; it does not carry
//! on as if nothing happened.

mod ringkit;

use ringkit::{setup, wait_until};
use std::net::UdpSocket;
use std::time::Duration;
use tickchain_consensus::{Finalization, Message, codec};
use tickchain_sdk::votes::{ClockReading, VoteKind, vote_signing_bytes};
use tickchain_sdk::{
    CertVote, FinalityCertificate, Height, NodeId, Second, Tick, UtcNanos, View, keys, signing,
};
use tickchain_timenode::localnet;
use tickchain_timenode::net::{Transport, TransportConfig};
use tickchain_timenode::store::Store;

#[test]
fn a_node_that_sees_two_certified_final_ticks_at_one_height_keeps_the_evidence_and_stops() {
    let root = std::env::temp_dir().join(format!("tc-conflict-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    // Node 3 is not started: this test speaks for it, and holds the keys of nodes 1, 2 and 3.
    nodes.pop();
    for node in &mut nodes {
        node.start();
    }
    let key = |i: usize| keys::read_secret(&localnet::node_dir(&root, i).join("node.key")).unwrap();
    let socket = UdpSocket::bind(&genesis.nodes[3].address).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (transport, _inbound) = Transport::start(
        NodeId(3),
        &key(3),
        genesis.clone(),
        socket,
        TransportConfig::default(),
    )
    .unwrap();
    wait_until(
        "three nodes finalizing with the coalition connected",
        Duration::from_secs(60),
        || transport.connected().len() == 3 && nodes.iter().all(|n| n.top() >= 3),
    );

    // Another tick at height 1, in a view ahead of the ring, certified by nodes 1, 2 and 3.
    let gh = genesis.hash;
    let view = View(nodes[0].top() + 50);
    let second = Second(genesis.genesis_second.0 + 1);
    let tick = Tick {
        height: Height(1),
        view,
        second,
        prev_hash: gh,
        batch_root: tickchain_sdk::batch::tick_tree(&[], &gh).root(),
        batch_count: 0,
        proposer: NodeId((view.0 % 4) as u16),
    };
    let tick_hash = tick.hash(&gh);
    let start = second.start().0;
    let reading = ClockReading {
        earliest: UtcNanos(start + 10_000_000),
        latest: UtcNanos(start + 30_000_000),
    };
    let votes = (1..4)
        .map(|i| CertVote {
            signer: NodeId(i as u16),
            reading,
            signature: signing::sign(
                &key(i),
                &vote_signing_bytes(VoteKind::Finalize, &gh, view, &tick_hash, &reading),
            ),
        })
        .collect();
    let finalization = Message::Finalization(Finalization {
        tick,
        certificate: FinalityCertificate {
            view,
            tick_hash,
            votes,
        },
    });
    transport.send(NodeId(0), codec::encode(&finalization));

    let status = nodes[0].wait_exit(Duration::from_secs(20));
    assert!(!status.success(), "node 0 stops with an error ({status:?})");
    let log = std::fs::read_to_string(nodes[0].dir.join("log")).unwrap();
    assert!(
        log.contains("CONFLICTING FINAL TICKS")
            && log.contains("conflicting final ticks at height 1"),
        "node 0 raised the alarm:\n{log}"
    );
    let store = Store::open(&nodes[0].dir.join("data")).unwrap();
    let evidence = store.evidence().unwrap();
    assert_eq!(evidence.len(), 1);
    assert_eq!(evidence[0].0, Height(1));
    let Ok(Message::Chain(ticks)) = codec::decode(&evidence[0].1) else {
        panic!("evidence is a Chain message");
    };
    assert_eq!(ticks.len(), 2, "our tick, then theirs");
    assert_ne!(ticks[0].tick.hash(&gh), tick_hash);
    assert_eq!(ticks[1].tick.hash(&gh), tick_hash);
    drop(store);

    drop(transport);
    for n in &mut nodes {
        n.sigkill();
    }
    let _ = std::fs::remove_dir_all(&root);
}
