//! The peer transport over real QUIC on loopback: genesis peers connect with mutual TLS pinned
//! to their keys and exchange messages; a key not in genesis is refused; a message over the
//! size cap closes the connection and is counted; neither disturbs the ring.

use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::{Genesis, GenesisNode, NodeId, Second};
use tickchain_timenode::net::{Inbound, InboundQueue, Transport, TransportConfig, frame, tls};
use tokio::time::timeout;

struct Ring {
    net: TestNetwork,
    nodes: Vec<(Transport, InboundQueue)>,
}

/// Binds n loopback sockets first, so genesis can name their real ports.
fn ring(seed: &str, n: usize, config: TransportConfig) -> Ring {
    let sockets: Vec<UdpSocket> = (0..n)
        .map(|_| UdpSocket::bind("127.0.0.1:0").unwrap())
        .collect();
    let mut net = TestNetwork::new(seed, n, ((n - 1) / 3) as u16, Second(1_764_000_000));
    let nodes: Vec<GenesisNode> = net
        .genesis
        .nodes
        .iter()
        .zip(&sockets)
        .map(|(node, s)| GenesisNode {
            address: s.local_addr().unwrap().to_string(),
            ..node.clone()
        })
        .collect();
    net.genesis = Genesis::new(
        net.genesis.chain_id.clone(),
        net.genesis.genesis_second,
        net.genesis.f,
        nodes,
    )
    .unwrap();
    let nodes = sockets
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            Transport::start(
                NodeId(i as u16),
                &net.keys[i],
                net.genesis.clone(),
                s,
                config.clone(),
            )
            .unwrap()
        })
        .collect();
    Ring { net, nodes }
}

async fn all_connected(ring: &Ring) {
    let n = ring.nodes.len();
    timeout(Duration::from_secs(10), async {
        while ring.nodes.iter().any(|(t, _)| t.connected().len() != n - 1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every pair connects within 10 s");
}

async fn expect_from(rx: &mut InboundQueue, from: NodeId, payload: &[u8]) {
    let got = timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("message within 5 s")
        .unwrap();
    assert_eq!(
        got,
        Inbound {
            from,
            payload: payload.to_vec()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_genesis_nodes_connect_pairwise_and_exchange_authenticated_messages() {
    let mut ring = ring("transport-mesh", 4, TransportConfig::default());
    all_connected(&ring).await;
    for sender in 0..4u16 {
        let msg = format!("hello from {sender}").into_bytes();
        ring.nodes[sender as usize].0.broadcast(&msg);
        for receiver in 0..4usize {
            if receiver != sender as usize {
                expect_from(&mut ring.nodes[receiver].1, NodeId(sender), &msg).await;
            }
        }
    }
    // Order within one sender-receiver pair is preserved.
    for i in 0..100u32 {
        assert!(ring.nodes[3].0.send(NodeId(0), i.to_be_bytes().to_vec()));
    }
    for i in 0..100u32 {
        expect_from(&mut ring.nodes[0].1, NodeId(3), &i.to_be_bytes()).await;
    }
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

/// A client endpoint presenting `key`'s certificate, trusting `genesis` for the server.
fn raw_client(
    key: &ed25519_dalek::SigningKey,
    claimed: NodeId,
    genesis: &Genesis,
) -> quinn::Endpoint {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let id = tls::identity(key, claimed).unwrap();
    let mut client = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(tls::PinnedPeers::new(
            genesis.clone(),
            provider,
        )))
        .with_client_auth_cert(vec![id.cert], id.key)
        .unwrap();
    client.alpn_protocols = vec![tls::ALPN.to_vec()];
    let mut ep = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
    ep.set_default_client_config(quinn::ClientConfig::new(Arc::new(
        quinn::crypto::rustls::QuicClientConfig::try_from(client).unwrap(),
    )));
    ep
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_whose_key_is_not_in_genesis_is_refused_and_the_ring_keeps_working() {
    let mut ring = ring("transport-impostor", 4, TransportConfig::default());
    all_connected(&ring).await;
    let impostor = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let ep = raw_client(&impostor, NodeId(0), &ring.net.genesis);
    let target = ring.net.genesis.nodes[3].address.parse().unwrap();
    // The handshake may complete on the client side before the server rejects the client
    // certificate; either way the connection must not carry traffic.
    let refused = match ep
        .connect(target, &tls::server_name(NodeId(3)))
        .unwrap()
        .await
    {
        Err(_) => true,
        Ok(conn) => {
            let closed = timeout(Duration::from_secs(5), conn.closed()).await;
            closed.is_ok()
        }
    };
    assert!(refused, "an impostor key must be refused");
    timeout(Duration::from_secs(5), async {
        while ring.nodes[3].0.stats().refused.load(Ordering::Relaxed) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the refusal is counted");
    ring.nodes[1].0.send(NodeId(3), b"still here".to_vec());
    expect_from(&mut ring.nodes[3].1, NodeId(1), b"still here").await;
    ep.close(0u32.into(), b"");
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialling_a_node_that_answers_with_another_nodes_key_fails() {
    // Node 2's address is served by node 3's key: the dialler expects node 2 and must refuse.
    let ring = ring("transport-swap", 4, TransportConfig::default());
    all_connected(&ring).await;
    let ep = raw_client(&ring.net.keys[0], NodeId(0), &ring.net.genesis);
    let node3 = ring.net.genesis.nodes[3].address.parse().unwrap();
    let result = ep
        .connect(node3, &tls::server_name(NodeId(2)))
        .unwrap()
        .await;
    assert!(
        result.is_err(),
        "the server's key is node 3's, not node 2's"
    );
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_size_cap_closes_the_connection_and_is_counted() {
    let config = TransportConfig {
        max_message_bytes: 4096,
        ..TransportConfig::default()
    };
    let mut ring = ring("transport-oversize", 4, config);
    all_connected(&ring).await;
    // Node 0 is a genesis member; a raw client with its key dials node 3 and announces 10 MiB.
    let ep = raw_client(&ring.net.keys[0], NodeId(0), &ring.net.genesis);
    let node3 = ring.net.genesis.nodes[3].address.parse().unwrap();
    let conn = ep
        .connect(node3, &tls::server_name(NodeId(3)))
        .unwrap()
        .await
        .unwrap();
    let mut send = conn.open_uni().await.unwrap();
    send.write_all(&(10u32 << 20).to_be_bytes()).await.unwrap();
    send.write_all(&[0u8; 1024]).await.unwrap();
    let reason = timeout(Duration::from_secs(5), conn.closed())
        .await
        .expect("closed within 5 s");
    match reason {
        quinn::ConnectionError::ApplicationClosed(close) => {
            assert_eq!(close.error_code, frame::CLOSE_TOO_LARGE.into());
        }
        other => panic!("expected an application close, got {other}"),
    }
    assert_eq!(
        ring.nodes[3]
            .0
            .stats()
            .oversize_closed
            .load(Ordering::Relaxed),
        1
    );
    // The real node 0 reconnects (its connection was replaced and closed) and traffic flows.
    all_connected(&ring).await;
    timeout(Duration::from_secs(10), async {
        loop {
            ring.nodes[0].0.send(NodeId(3), b"after".to_vec());
            match timeout(Duration::from_millis(300), ring.nodes[3].1.recv()).await {
                Ok(Some(m)) if m.payload == b"after" => break,
                _ => continue,
            }
        }
    })
    .await
    .expect("the ring recovers");
    assert!(
        !ring.nodes[0].0.send(NodeId(3), vec![0; 5000]),
        "senders refuse over-cap messages"
    );
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

/// Node 0 (a genesis key on a raw connection) floods node 3 with 64 KiB frames that node 3
/// does not consume; node 3's queue for node 0 fills to its byte budget and node 0 waits. Node
/// 1's message still gets in, and when node 3 reads, node 1's message comes within the first
/// two messages, not behind node 0's backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_peer_fills_only_its_own_queue_and_other_peers_are_read_in_turn() {
    let config = TransportConfig {
        inbound_bytes_per_peer: 1 << 20,
        ..TransportConfig::default()
    };
    let mut ring = ring("transport-flood", 4, config);
    all_connected(&ring).await;
    // The real node 0 stops, so it does not redial and replace the raw connection.
    let (real0, _) = ring.nodes.remove(0);
    real0.shutdown().await;
    let ep = raw_client(&ring.net.keys[0], NodeId(0), &ring.net.genesis);
    let node3 = ring.net.genesis.nodes[3].address.parse().unwrap();
    let conn = ep
        .connect(node3, &tls::server_name(NodeId(3)))
        .unwrap()
        .await
        .unwrap();
    let flood = tokio::spawn(async move {
        let mut send = conn.open_uni().await.unwrap();
        let frame = vec![7u8; 64 * 1024];
        let mut sent = 0usize;
        // 64 MiB offered; node 3 holds at most 1 MiB of it, so the writes block.
        for _ in 0..1024 {
            let len = (frame.len() as u32).to_be_bytes();
            match timeout(Duration::from_secs(3), async {
                send.write_all(&len).await?;
                send.write_all(&frame).await
            })
            .await
            {
                Err(_) => break,
                Ok(written) => written.expect("the connection stays open"),
            }
            sent += 1;
        }
        (sent, conn)
    });
    let (sent, _conn) = flood.await.unwrap();
    assert!(
        sent < 1024,
        "the flooding peer must be held back by flow control, but it sent all {sent} frames"
    );
    // ring.nodes now holds nodes 1, 2 and 3.
    assert!(ring.nodes[0].0.send(NodeId(3), b"from node 1".to_vec()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let queued = ring.nodes[2].1.len();
    assert!(
        queued <= 17,
        "node 0 may queue at most 1 MiB (16 frames) beside node 1's message, found {queued}"
    );
    let first = timeout(Duration::from_secs(5), ring.nodes[2].1.recv())
        .await
        .unwrap()
        .unwrap();
    let second = timeout(Duration::from_secs(5), ring.nodes[2].1.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        [&first, &second]
            .iter()
            .any(|m| m.from == NodeId(1) && m.payload == b"from node 1"),
        "node 1's message must come within one turn, got messages from {} and {}",
        first.from,
        second.from
    );
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

/// A genesis peer announces 1 MiB frames on more streams than allowed and sends a few bytes of
/// each: it gets at most `max_streams_per_peer` streams, each stalled frame is stopped after the
/// deadline and counted, and the ring's own traffic keeps flowing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_frames_are_stopped_after_the_deadline_and_streams_are_capped() {
    let config = TransportConfig {
        frame_deadline: Duration::from_millis(500),
        max_streams_per_peer: 2,
        ..TransportConfig::default()
    };
    let mut ring = ring("transport-stall", 4, config);
    all_connected(&ring).await;
    // The real node 1 stops, so it does not redial and replace the raw connection.
    let (real1, _) = ring.nodes.remove(1);
    real1.shutdown().await;
    let ep = raw_client(&ring.net.keys[1], NodeId(1), &ring.net.genesis);
    let node3 = ring.net.genesis.nodes[3].address.parse().unwrap();
    let conn = ep
        .connect(node3, &tls::server_name(NodeId(3)))
        .unwrap()
        .await
        .unwrap();
    let mut streams = Vec::new();
    for _ in 0..2 {
        let mut send = conn.open_uni().await.unwrap();
        send.write_all(&(1u32 << 20).to_be_bytes()).await.unwrap();
        send.write_all(&[1u8; 100]).await.unwrap();
        streams.push(send);
    }
    assert!(
        timeout(Duration::from_millis(200), conn.open_uni())
            .await
            .is_err(),
        "a third concurrent stream must not be granted"
    );
    timeout(Duration::from_secs(5), async {
        // ring.nodes now holds nodes 0, 2 and 3.
        while ring.nodes[2]
            .0
            .stats()
            .stalled_stopped
            .load(Ordering::Relaxed)
            < 2
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("both stalled frames stopped and counted");
    drop(streams);
    drop(conn);
    timeout(Duration::from_secs(10), async {
        loop {
            ring.nodes[0].0.send(NodeId(3), b"after".to_vec());
            match timeout(Duration::from_millis(300), ring.nodes[2].1.recv()).await {
                Ok(Some(m)) if m.payload == b"after" => break,
                _ => continue,
            }
        }
    })
    .await
    .expect("the ring's own traffic flows");
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}

/// Node 3 stops reading: its inbound queue for node 0 fills, QUIC flow control stops node 0's
/// stream, and node 0's send queue for node 3 then holds at most its byte budget (4 MiB here):
/// sends beyond it are refused and counted, instead of 1,024 messages of 1 MiB (1 GiB) being
/// held for a peer that never reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_reading_makes_us_hold_at_most_the_send_byte_budget() {
    let config = TransportConfig {
        queue_bytes: 4 << 20,
        ..TransportConfig::default()
    };
    let ring = ring("transport-send-budget", 4, config);
    all_connected(&ring).await;
    let big = vec![9u8; 512 * 1024];
    let mut accepted = 0usize;
    for _ in 0..200 {
        if ring.nodes[0].0.send(NodeId(3), big.clone()) {
            accepted += 1;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // In flight at most: node 3's inbound budget (4 MiB), QUIC's windows (about 5 MiB) and
    // node 0's send budget (4 MiB), in 512 KiB messages.
    assert!(
        accepted <= 30,
        "node 0 accepted {accepted} messages of 512 KiB for a peer that does not read"
    );
    assert!(ring.nodes[0].0.stats().dropped.load(Ordering::Relaxed) >= 170);
    for (t, _) in ring.nodes {
        t.shutdown().await;
    }
}
