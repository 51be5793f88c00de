//! Issue 13, finding 5: one genesis peer floods three real `timenode` processes (real QUIC,
//! real sled, anchoring on with only an attestation key) with co-sign requests whose ranges are
//! hostile: `1..=u64::MAX` (a capacity overflow in the old answer), `1..=u64::MAX - 1` (an
//! allocation of exabytes), inverted, empty, and the whole chain. Every node stays up (no panic in
//! its log), keeps finalizing ticks with the peer still connected, and answers none of them.

mod ringkit;

use ringkit::{setup, wait_until};
use std::net::UdpSocket;
use std::time::Duration;
use tickchain_consensus::PeerMessage;
use tickchain_consensus::peer::AttestMessage;
use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress};
use tickchain_sdk::{Hash, Height, NodeId, Second, keys};
use tickchain_timenode::localnet;
use tickchain_timenode::net::{Transport, TransportConfig};

fn request(from: u64, to: u64) -> Vec<u8> {
    AttestMessage::Request {
        domain: AnchorDomain {
            chain_id: 31337,
            contract: EvmAddress([0xaa; 20]),
        },
        anchor: Anchor {
            from: Height(from),
            to: Height(to),
            second: Second(1),
            root: Hash([1; 32]),
        },
    }
    .encode()
}

#[test]
fn a_peer_flooding_hostile_co_sign_ranges_crashes_no_node_and_gets_no_signature() {
    let root = std::env::temp_dir().join(format!("tc-cosign-flood-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    // Node 3 is the attacker: this test holds its genesis key and speaks for it.
    let attacker = nodes.pop().unwrap();
    for node in &nodes {
        let config = node.dir.join("node.toml");
        let mut text = std::fs::read_to_string(&config).unwrap();
        text.push_str(&format!(
            "\n[anchor]\nattest-key-file = {:?}\n",
            node.dir.join(tickchain_anchor::ATTEST_KEY_FILE)
        ));
        std::fs::write(&config, text).unwrap();
    }
    for node in &mut nodes {
        node.start();
    }
    let key = keys::read_secret(&localnet::node_dir(&root, 3).join("node.key")).unwrap();
    let socket = UdpSocket::bind(&genesis.nodes[3].address).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let (transport, mut inbound) = Transport::start(
        NodeId(3),
        &key,
        genesis.clone(),
        socket,
        TransportConfig::default(),
    )
    .unwrap();
    wait_until(
        "the three nodes to finalize with the attacker connected",
        Duration::from_secs(60),
        || transport.connected().len() == 3 && nodes.iter().all(|n| n.top() >= 3),
    );

    let before: Vec<u64> = nodes.iter().map(|n| n.top()).collect();
    let hostile = [
        request(1, u64::MAX),
        request(1, u64::MAX - 1),
        request(5, 3),
        request(0, 0),
        request(1, before.iter().copied().min().unwrap()),
    ];
    for _ in 0..50 {
        for bytes in &hostile {
            transport.broadcast(bytes);
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    wait_until(
        "every node to finalize 3 more ticks after the flood",
        Duration::from_secs(60),
        || nodes.iter().zip(&before).all(|(n, b)| n.top() >= b + 3),
    );
    for node in &nodes {
        let log = std::fs::read_to_string(node.dir.join("log")).unwrap();
        assert!(
            !log.contains("panicked"),
            "node in {} panicked:\n{log}",
            node.dir.display()
        );
    }
    let mut replies = 0;
    while let Some(msg) = inbound.try_recv() {
        if let Ok(PeerMessage::Attest(AttestMessage::Reply { .. })) =
            PeerMessage::decode(&msg.payload)
        {
            replies += 1;
        }
    }
    assert_eq!(replies, 0, "no hostile range was co-signed");

    for n in &mut nodes {
        n.sigterm();
    }
    drop(attacker);
    drop(transport);
    let _ = std::fs::remove_dir_all(&root);
}
