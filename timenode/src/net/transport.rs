//! The tokio driver of the peer network (see the module docs in `net`).

use super::frame::{self, CLOSE_TOO_LARGE, FrameError, STOP_STALLED};
use super::inbound::{InboundQueue, PeerInbox};
use super::tls::{self, ALPN, PinnedPeers};
use crate::log_limit::LogLimit;
use quinn::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tickchain_sdk::{Genesis, NodeId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

/// Transport settings.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Largest message accepted or sent, in bytes (default 1 MiB). A peer that announces a
    /// larger one is disconnected.
    pub max_message_bytes: usize,
    /// Messages queued per peer while it is slow or disconnected (default 1024); more are dropped.
    pub queue_depth: usize,
    /// Bytes queued per peer while it is slow or disconnected (default 16 MiB; at least
    /// `max_message_bytes`); a message that would exceed it is dropped. A peer that stops
    /// reading cannot make us hold more for it than this.
    pub queue_bytes: usize,
    /// First reconnect delay (default 100 ms), doubled up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Largest reconnect delay (default 5 s).
    pub reconnect_max: Duration,
    /// A connection with no traffic for this long is dead (default 3 s); keep-alives go out at
    /// a third of it, so only a dead or partitioned peer reaches it. This is how a dialler
    /// notices that a peer was killed and must be redialled.
    pub idle_timeout: Duration,
    /// Messages received from one peer and not yet consumed (default 1024). A peer whose queue
    /// is full waits (QUIC flow control slows it); other peers are not affected.
    pub inbound_frames_per_peer: usize,
    /// Bytes received from one peer and not yet consumed (default 4 MiB; at least
    /// `max_message_bytes`). Reserved when a frame's length arrives, before its body is read.
    pub inbound_bytes_per_peer: usize,
    /// Streams one peer may have open towards us at once (default 4; the protocol uses one).
    pub max_streams_per_peer: u32,
    /// Once a frame's length has arrived, its body must arrive within this (default 10 s), or
    /// the stream is stopped: a peer cannot park half-sent frames.
    pub frame_deadline: Duration,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            max_message_bytes: 1 << 20,
            queue_depth: 1024,
            queue_bytes: 16 << 20,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(3),
            inbound_frames_per_peer: 1024,
            inbound_bytes_per_peer: 4 << 20,
            max_streams_per_peer: 4,
            frame_deadline: Duration::from_secs(10),
        }
    }
}

/// Why the transport could not start.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// This node's id is not in genesis.
    #[error("node {0} is not in genesis")]
    NotInGenesis(NodeId),
    /// The identity key does not match genesis.
    #[error("the identity key is not genesis node {0}'s key")]
    WrongKey(NodeId),
    /// TLS or certificate setup failed.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The socket could not be used.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// Counters for operators and tests.
#[derive(Debug, Default)]
pub struct TransportStats {
    /// Connections closed because a peer announced an over-cap message.
    pub oversize_closed: AtomicU64,
    /// Handshakes refused (key not in genesis, wrong node, or wrong direction).
    pub refused: AtomicU64,
    /// Messages dropped because a peer's queue was full.
    pub dropped: AtomicU64,
    /// Streams stopped because a frame's body did not arrive within the deadline.
    pub stalled_stopped: AtomicU64,
}

struct Peer {
    queue: mpsc::Sender<Vec<u8>>,
    /// Bytes in `queue` (and the message being written from it).
    queued_bytes: AtomicUsize,
    /// Connect and disconnect lines about this peer: at most one a second (a peer can
    /// reconnect at will).
    log: LogLimit,
    conn: watch::Sender<Option<quinn::Connection>>,
    connected: AtomicBool,
}

struct Shared {
    me: NodeId,
    genesis: Genesis,
    config: TransportConfig,
    peers: Vec<Peer>,
    inboxes: Vec<PeerInbox>,
    stats: TransportStats,
}

/// One warning line per 10 s for events an unauthenticated party can repeat at will.
static REFUSED_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));
static STALLED_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));
static OVERSIZE_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));

impl Shared {
    fn send(&self, to: NodeId, payload: Vec<u8>) -> bool {
        if to == self.me || payload.len() > self.config.max_message_bytes {
            return false;
        }
        let Some(peer) = self.peers.get(to.index()) else {
            return false;
        };
        let len = payload.len();
        // A gateway's queue holds a quarter of a member's (it gets only final ticks, and up to
        // 256 gateways may be listed), never less than one message.
        let share = if to.index() >= self.genesis.n() { 4 } else { 1 };
        let budget = (self.config.queue_bytes / share).max(self.config.max_message_bytes);
        let reserved = peer
            .queued_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |q| {
                (q + len <= budget).then_some(q + len)
            })
            .is_ok();
        let ok = reserved && peer.queue.try_send(payload).is_ok();
        if !ok {
            if reserved {
                peer.queued_bytes.fetch_sub(len, Ordering::AcqRel);
            }
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

/// A cloneable handle to a transport's send queues.
#[derive(Clone)]
pub struct TransportSender {
    shared: Arc<Shared>,
}

impl TransportSender {
    /// Queues `payload` for `to`, as [`Transport::send`] does.
    pub fn send(&self, to: NodeId, payload: Vec<u8>) -> bool {
        self.shared.send(to, payload)
    }

    /// Opens a new stream on the live connection to `to`, outside the message queue; `None`
    /// if not connected. Only a test peer uses it, to misbehave below the message layer (for
    /// example to announce a frame and stall).
    #[doc(hidden)]
    pub async fn open_raw_stream(&self, to: NodeId) -> Option<quinn::SendStream> {
        let conn = self.shared.peers.get(to.index())?.conn.borrow().clone()?;
        conn.open_uni().await.ok()
    }
}

/// A running peer network endpoint.
pub struct Transport {
    shared: Arc<Shared>,
    endpoint: quinn::Endpoint,
    tasks: JoinSet<()>,
}

impl Transport {
    /// Starts the transport for node `me` on an already-bound UDP socket, returning it and the
    /// stream of inbound messages.
    pub fn start(
        me: NodeId,
        key: &ed25519_dalek::SigningKey,
        genesis: Genesis,
        socket: UdpSocket,
        config: TransportConfig,
    ) -> Result<(Transport, InboundQueue), TransportError> {
        let (public_key, _) = genesis
            .batch_signer(me)
            .ok_or(TransportError::NotInGenesis(me))?;
        if public_key.0 != key.verifying_key().to_bytes() {
            return Err(TransportError::WrongKey(me));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let id = tls::identity(key, me).map_err(|e| TransportError::Tls(e.to_string()))?;
        let verifier = Arc::new(PinnedPeers::new(genesis.clone(), provider.clone()));
        let tls_err = |e: rustls::Error| TransportError::Tls(e.to_string());

        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .with_client_cert_verifier(verifier.clone())
            .with_single_cert(vec![id.cert.clone()], id.key.clone_key())
            .map_err(tls_err)?;
        server.alpn_protocols = vec![ALPN.to_vec()];
        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_auth_cert(vec![id.cert], id.key)
            .map_err(tls_err)?;
        client.alpn_protocols = vec![ALPN.to_vec()];

        let mut transport = quinn::TransportConfig::default();
        transport
            .max_idle_timeout(Some(
                quinn::IdleTimeout::try_from(config.idle_timeout)
                    .map_err(|e| TransportError::Tls(format!("idle timeout: {e}")))?,
            ))
            .keep_alive_interval(Some(config.idle_timeout / 3))
            .max_concurrent_uni_streams(config.max_streams_per_peer.into())
            .max_concurrent_bidi_streams(0u32.into())
            .stream_receive_window(window(config.max_message_bytes + 4))
            .receive_window(window(
                (config.max_message_bytes + 4).saturating_mul(config.max_streams_per_peer as usize),
            ));
        let transport = Arc::new(transport);
        let quic_server =
            QuicServerConfig::try_from(server).map_err(|e| TransportError::Tls(e.to_string()))?;
        let quic_client =
            QuicClientConfig::try_from(client).map_err(|e| TransportError::Tls(e.to_string()))?;
        let mut server_config = quinn::ServerConfig::with_crypto(Arc::new(quic_server));
        server_config.transport_config(transport.clone());
        let mut client_config = quinn::ClientConfig::new(Arc::new(quic_client));
        client_config.transport_config(transport);
        let mut endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            Some(server_config),
            socket,
            Arc::new(quinn::TokioRuntime),
        )?;
        endpoint.set_default_client_config(client_config);

        // Every node and gateway has a slot: gateways connect to nodes, never to each other.
        let slots = genesis.batch_signers();
        let (inbound_rx, inboxes) = InboundQueue::new(
            slots,
            config.inbound_frames_per_peer,
            config.inbound_bytes_per_peer.max(config.max_message_bytes),
        );
        let mut queues = Vec::new();
        let peers = (0..slots)
            .map(|_| {
                let (tx, rx) = mpsc::channel(config.queue_depth);
                queues.push(Some(rx));
                Peer {
                    queue: tx,
                    queued_bytes: AtomicUsize::new(0),
                    log: LogLimit::new(Duration::from_secs(1)),
                    conn: watch::channel(None).0,
                    connected: AtomicBool::new(false),
                }
            })
            .collect();
        let shared = Arc::new(Shared {
            me,
            genesis,
            config,
            peers,
            inboxes,
            stats: TransportStats::default(),
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(shared.clone(), endpoint.clone()));
        for (i, queue) in queues.iter_mut().enumerate() {
            let peer = NodeId(i as u16);
            if peer == me {
                continue;
            }
            let rx = queue.take().expect("each queue taken once");
            tasks.spawn(send_loop(shared.clone(), peer, rx));
            if dials(&shared.genesis, me, peer) {
                tasks.spawn(dial_loop(shared.clone(), endpoint.clone(), peer));
            }
        }
        info!(node = %me, addr = %endpoint.local_addr()?, "peer transport started");
        Ok((
            Transport {
                shared,
                endpoint,
                tasks,
            },
            inbound_rx,
        ))
    }

    /// The local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// Queues `payload` for `to`; returns false if it was dropped (queue full, unknown peer,
    /// itself, or over the size cap).
    pub fn send(&self, to: NodeId, payload: Vec<u8>) -> bool {
        self.shared.send(to, payload)
    }

    /// A handle that queues messages like [`Transport::send`], for work done off the event
    /// loop.
    pub fn sender(&self) -> TransportSender {
        TransportSender {
            shared: self.shared.clone(),
        }
    }

    /// Queues `payload` for every other ring member (never a gateway).
    pub fn broadcast(&self, payload: &[u8]) {
        for i in 0..self.shared.genesis.n() {
            self.send(NodeId(i as u16), payload.to_vec());
        }
    }

    /// The peers with a live connection now.
    pub fn connected(&self) -> Vec<NodeId> {
        (0..self.shared.peers.len())
            .filter(|&i| self.shared.peers[i].connected.load(Ordering::Relaxed))
            .map(|i| NodeId(i as u16))
            .collect()
    }

    /// Counters.
    pub fn stats(&self) -> &TransportStats {
        &self.shared.stats
    }

    /// Closes every connection and stops every task.
    pub async fn shutdown(mut self) {
        self.endpoint.close(0u32.into(), b"shutdown");
        self.tasks.shutdown().await;
        self.endpoint.wait_idle().await;
    }
}

/// Accepts incoming connections from lower-numbered genesis nodes and from gateways.
async fn accept_loop(shared: Arc<Shared>, endpoint: quinn::Endpoint) {
    while let Some(incoming) = endpoint.accept().await {
        let shared = shared.clone();
        tokio::spawn(async move {
            let conn = match incoming.await {
                Ok(c) => c,
                Err(e) => {
                    shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                    if let Some(held) = REFUSED_LOG.allow() {
                        warn!(error = %e, similar_held_back = held, "refused incoming peer connection");
                    }
                    return;
                }
            };
            let Some(peer) = peer_node(&shared.genesis, &conn) else {
                shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                conn.close(1u32.into(), b"unknown peer");
                return;
            };
            if !dials(&shared.genesis, peer, shared.me) {
                // Only the lower node dials a node, and a gateway dials nodes (a gateway accepts
                // nothing); anything else is a misbehaving or confused peer.
                shared.stats.refused.fetch_add(1, Ordering::Relaxed);
                if let Some(held) = REFUSED_LOG.allow() {
                    warn!(%peer, similar_held_back = held, "refused connection from a peer that should wait to be dialled");
                }
                conn.close(2u32.into(), b"wrong direction");
                return;
            }
            serve_connection(shared, peer, conn).await;
        });
    }
}

/// Dials a higher-numbered peer, reconnecting with exponential backoff.
async fn dial_loop(shared: Arc<Shared>, endpoint: quinn::Endpoint, peer: NodeId) {
    let node = shared.genesis.node(peer).expect("peer in genesis");
    let mut delay = shared.config.reconnect_min;
    loop {
        let attempt = match node.address.parse::<SocketAddr>() {
            Ok(addr) => match endpoint.connect(addr, &tls::server_name(peer)) {
                Ok(connecting) => connecting.await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            },
            Err(e) => Err(format!("genesis address {:?}: {e}", node.address)),
        };
        match attempt {
            Ok(conn) => {
                delay = shared.config.reconnect_min;
                serve_connection(shared.clone(), peer, conn).await;
            }
            Err(e) => debug!(%peer, error = %e, "dial failed"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(shared.config.reconnect_max);
    }
}

/// Publishes `conn` for the sender and reads its streams until it closes.
async fn serve_connection(shared: Arc<Shared>, peer: NodeId, conn: quinn::Connection) {
    let slot = &shared.peers[peer.index()];
    // Newest wins (the peer restarted or redialled); closing the old connection makes a dialler
    // that still holds it notice and redial, so both sides agree on one connection.
    if let Some(old) = slot.conn.send_replace(Some(conn.clone()))
        && old.stable_id() != conn.stable_id()
    {
        old.close(3u32.into(), b"replaced by a newer connection");
    }
    slot.connected.store(true, Ordering::Relaxed);
    if let Some(held) = slot.log.allow() {
        info!(%peer, similar_held_back = held, "peer connected");
    }
    loop {
        let recv = match conn.accept_uni().await {
            Ok(r) => r,
            Err(e) => {
                debug!(%peer, error = %e, "connection ended");
                break;
            }
        };
        let shared = shared.clone();
        let conn = conn.clone();
        tokio::spawn(read_stream(shared, peer, conn, recv));
    }
    // Only clear the slot if it still holds this connection (a newer one may have replaced it).
    let cleared = slot.conn.send_if_modified(|c| {
        if c.as_ref()
            .is_some_and(|c| c.stable_id() == conn.stable_id())
        {
            *c = None;
            true
        } else {
            false
        }
    });
    if cleared {
        slot.connected.store(false, Ordering::Relaxed);
        if let Some(held) = slot.log.allow() {
            info!(%peer, similar_held_back = held, "peer disconnected");
        }
    }
}

/// Reads one stream's frames into the peer's inbound queue until it ends: the frame's length
/// first, then the peer's byte budget is reserved (waiting if the peer is over it), then the
/// body, which must arrive within the frame deadline.
async fn read_stream(
    shared: Arc<Shared>,
    peer: NodeId,
    conn: quinn::Connection,
    mut recv: quinn::RecvStream,
) {
    let max = shared.config.max_message_bytes;
    let inbox = &shared.inboxes[peer.index()];
    let frames = async {
        loop {
            let len = match frame::read_len(&mut recv, max).await {
                Ok(Some(len)) => len,
                Ok(None) => return,
                Err(FrameError::TooLarge { len, max }) => {
                    shared.stats.oversize_closed.fetch_add(1, Ordering::Relaxed);
                    if let Some(held) = OVERSIZE_LOG.allow() {
                        warn!(%peer, len, max, similar_held_back = held, "peer sent an over-cap message; closing the connection");
                    }
                    conn.close(CLOSE_TOO_LARGE.into(), b"message too large");
                    return;
                }
                Err(e) => {
                    debug!(%peer, error = %e, "stream ended");
                    return;
                }
            };
            let Some(reserved) = inbox.reserve(len).await else {
                return;
            };
            match frame::read_body(&mut recv, len, shared.config.frame_deadline).await {
                Ok(payload) => {
                    if !reserved.send(payload).await {
                        return;
                    }
                }
                Err(FrameError::Stalled { len, received }) => {
                    shared.stats.stalled_stopped.fetch_add(1, Ordering::Relaxed);
                    if let Some(held) = STALLED_LOG.allow() {
                        warn!(%peer, len, received, similar_held_back = held, "peer stalled mid-frame; stopping the stream");
                    }
                    let _ = recv.stop(STOP_STALLED.into());
                    return;
                }
                Err(e) => {
                    debug!(%peer, error = %e, "stream ended mid-frame");
                    return;
                }
            }
        }
    };
    // A reader waiting for its peer's budget must not outlive the connection: a replaced or
    // closed connection's buffered bytes are freed only when its last handle goes.
    tokio::select! {
        _ = frames => {}
        _ = conn.closed() => {}
    }
}

/// A QUIC flow-control window of `bytes`, capped at what QUIC can express.
fn window(bytes: usize) -> quinn::VarInt {
    quinn::VarInt::from_u64(bytes as u64).unwrap_or(quinn::VarInt::MAX)
}

/// Drains the peer's queue onto one long-lived stream of the current connection.
async fn send_loop(shared: Arc<Shared>, peer: NodeId, mut queue: mpsc::Receiver<Vec<u8>>) {
    let slot = &shared.peers[peer.index()];
    let mut conn_rx = slot.conn.subscribe();
    let max = shared.config.max_message_bytes;
    let mut pending: Option<Vec<u8>> = None;
    // A message leaves the peer's byte count once it is written (or dropped).
    let release = |msg: &[u8]| slot.queued_bytes.fetch_sub(msg.len(), Ordering::AcqRel);
    loop {
        let conn = match conn_rx.wait_for(|c| c.is_some()).await {
            Ok(c) => c.clone().expect("waited for Some"),
            Err(_) => return,
        };
        let Ok(mut send) = conn.open_uni().await else {
            // Wait for the slot to change before trying again.
            let _ = conn_rx.changed().await;
            continue;
        };
        loop {
            let msg = match pending.take() {
                Some(m) => m,
                None => match queue.recv().await {
                    Some(m) => m,
                    None => return,
                },
            };
            if frame::write_frame(&mut send, &msg, max).await.is_err() {
                pending = Some(msg);
                break;
            }
            release(&msg);
        }
        if conn.close_reason().is_none() {
            // The stream failed but the connection lives: the peer stopped it (it refused the
            // frame, e.g. as stalled), so the frame is dropped rather than resent forever.
            if let Some(msg) = pending.take() {
                release(&msg);
                shared.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
            continue;
        }
        let _ = conn_rx.changed().await;
    }
}

/// Whether `from` dials `to`: a node dials the higher-numbered nodes, a gateway dials every
/// node, and nobody dials a gateway.
fn dials(genesis: &Genesis, from: NodeId, to: NodeId) -> bool {
    let n = genesis.n();
    to.index() < n && (from.index() >= n || from < to)
}

fn peer_node(genesis: &Genesis, conn: &quinn::Connection) -> Option<NodeId> {
    let identity = conn.peer_identity()?;
    let certs = identity
        .downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
        .ok()?;
    tls::node_of(genesis, certs.first()?)
}
