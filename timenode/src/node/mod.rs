//! The running node: the consensus core driven over the QUIC transport, the sled store and the
//! node's clock (`timenode run`).
//!
//! Owns: the event loop and the driver's contract with the core — execute actions in order,
//! and make every `Persist` durable (one flush for a run of them) before executing any later
//! action, so no vote leaves the node before it would survive SIGKILL. Never: protocol
//! decisions (the core makes them) or encodings of its own (the codec and sdk do).

pub mod anchoring;
pub mod api_handle;
pub mod attest_msg;
pub mod clock;
pub mod offers;
pub mod peer_time;
pub mod records;
pub mod timers;

use crate::config::NodeConfig;
use crate::consensus::codec;
use crate::consensus::config::{Config as CoreConfig, Context};
use crate::consensus::crypto::Verifier;
use crate::consensus::io::{Action, Input};
use crate::consensus::messages::Message;
use crate::consensus::persist::Persisted;
use crate::consensus::{Core, LocalClock};
use crate::net::{Transport, TransportConfig};
use crate::pool::{Pool, PoolError};
use crate::store::{ChainStore, Store, StoreError};
use api_handle::{LiveStatus, NodeApi};
use clock::NodeClock;
use offers::Offers;
use peer_time::TimeMessage;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tickchain_aggregator::drivers::local_now;
use tickchain_api::TickSummary;
use tickchain_sdk::{Genesis, NodeId, keys};
use timers::Timers;
use tokio::task::JoinSet;
use tracing::{info, warn};

/// Why the node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The configuration lacks what `run` needs.
    #[error("config: {0}")]
    Config(String),
    /// The key file could not be used.
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// The genesis file could not be used.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The store failed; the node stops rather than act on state it could not persist.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored record does not decode.
    #[error(transparent)]
    Record(#[from] records::RecordError),
    /// The request pool failed.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// The API could not listen on its address.
    #[error("api: cannot listen on {address}: {source}")]
    ApiListen {
        /// The configured `[api] listen` address.
        address: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The transport could not start.
    #[error(transparent)]
    Transport(#[from] crate::net::TransportError),
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// A tick this node saw become final.
#[derive(Debug, Clone, PartialEq)]
pub struct FinalEvent {
    /// The tick's height.
    pub height: tickchain_sdk::Height,
    /// The tick's second.
    pub second: tickchain_sdk::Second,
    /// From the start of the tick's second to the moment this node stored it as final, on this
    /// node's clock.
    pub lag: tickchain_sdk::Nanos,
    /// Whether the tick has its own finality certificate.
    pub certified: bool,
}

/// Runs the node described by `config` until `shutdown` completes.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    run_observed(config, shutdown, None).await
}

/// Like [`run`], also publishing every final tick on `events`.
pub async fn run_observed(
    config: NodeConfig,
    shutdown: impl Future<Output = ()>,
    events: Option<tokio::sync::broadcast::Sender<FinalEvent>>,
) -> Result<(), NodeError> {
    let section = config
        .node
        .clone()
        .ok_or_else(|| NodeError::Config("`timenode run` needs a [node] section".into()))?;
    let key = keys::read_secret(&section.key_file)?;
    let genesis_path = section.genesis_file.display().to_string();
    let text = std::fs::read_to_string(&section.genesis_file).map_err(|e| NodeError::Genesis {
        path: genesis_path.clone(),
        reason: e.to_string(),
    })?;
    let genesis = Genesis::from_json(&text).map_err(|e| NodeError::Genesis {
        path: genesis_path.clone(),
        reason: e.to_string(),
    })?;
    let public = key.verifying_key().to_bytes();
    let me = genesis
        .nodes
        .iter()
        .position(|n| n.public_key.0 == public)
        .map(|i| NodeId(i as u16))
        .ok_or_else(|| NodeError::Genesis {
            path: genesis_path.clone(),
            reason: format!("no node has the key in {}", section.key_file.display()),
        })?;

    let store = Store::open(&section.data_dir)?;
    let mut persisted = Persisted::default();
    for (_, bytes) in store.records()? {
        persisted.apply(&records::decode(&bytes)?);
    }
    let tip = store.tip()?;
    info!(node = %me, view = %persisted.highest_view(), tip = ?tip, "restored state");

    let listen = match section.listen {
        Some(a) => a,
        None => genesis.nodes[me.index()].address.parse().map_err(|e| {
            NodeError::Config(format!(
                "genesis address of node {me} is not HOST:PORT: {e}"
            ))
        })?,
    };
    let socket = std::net::UdpSocket::bind(listen)?;
    let (transport, mut inbound) = Transport::start(
        me,
        &key,
        genesis.clone(),
        socket,
        TransportConfig::default(),
    )?;

    let mut background = JoinSet::new();
    let clock = NodeClock::start(&config, &mut background);
    let names: Vec<String> = genesis.nodes.iter().map(|n| n.name.clone()).collect();
    let peer_sources = clock.add_peers(&names, me.index());
    let mut probe_every =
        tokio::time::interval(Duration::from_millis(config.clock.poll_interval_ms));
    probe_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let pool_clock = clock.clone();
    let opened = Pool::open(
        &store,
        &key,
        me,
        genesis.hash,
        &config.pool,
        Arc::new(move || pool_clock.read().mid()),
    )?;
    let pool = opened.pool;
    let mut sealed = opened.sealed;
    let (ticks_tx, _) = tokio::sync::broadcast::channel::<TickSummary>(1024);
    let live = Arc::new(LiveStatus::default());
    let api = Arc::new(NodeApi {
        me,
        genesis: genesis.clone(),
        key: key.clone(),
        clock: clock.clone(),
        store: store.clone(),
        pool: pool.clone(),
        ticks: ticks_tx.clone(),
        live: live.clone(),
    });
    let api_address = config.api.listen;
    let listener = tokio::net::TcpListener::bind(api_address)
        .await
        .map_err(|source| NodeError::ApiListen {
            address: api_address,
            source,
        })?;
    info!(node = %me, api = %listener.local_addr()?, "timestamp API listening");
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_task = tokio::spawn(tickchain_api::serve(
        listener,
        tickchain_api::router(api, config.api.clone()),
        async move {
            let _ = api_stopped.await;
        },
    ));
    let (anchor_stop, anchor_stopped) = tokio::sync::watch::channel(false);
    let mut anchoring = match &config.anchor {
        Some(section) => Some(
            anchoring::start(section, &store, &genesis, me, anchor_stopped)
                .map_err(NodeError::Config)?,
        ),
        None => None,
    };
    let mut offers = Offers::default();
    let mut reoffer_every = tokio::time::interval(Duration::from_secs(1));
    reoffer_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let ctx = Context::new(
        me,
        key,
        Verifier::new(genesis.clone()),
        CoreConfig::default(),
    );
    let mut core = Core::new(ctx, &persisted);
    let mut timers = Timers::default();
    let mut driver = Driver {
        store: &store,
        transport: &transport,
        timers: &mut timers,
        tip: tip.map(|(h, _)| h.0).unwrap_or(0),
        genesis: &genesis,
        me,
        events,
        offers: &mut offers,
        pool: &pool,
        ticks: &ticks_tx,
        live: &live,
    };
    let actions = core.handle(&clock.read(), Input::Start);
    driver.execute(&clock.read(), actions)?;
    for batch in opened.unconfirmed {
        offer(&mut core, &mut driver, &transport, &clock, batch)?;
    }

    tokio::pin!(shutdown);
    loop {
        let now = clock.read();
        let sleep_for = driver
            .timers
            .next()
            .map(|at| Duration::from_nanos(at.0.saturating_sub(now.mid().0).max(0) as u64))
            .unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = &mut shutdown => break,
            _ = probe_every.tick() => {
                let t1 = local_now().0;
                transport.broadcast(&TimeMessage::Request { t1 }.encode());
            }
            Some(request) = async {
                match &mut anchoring {
                    Some(a) => a.requests.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                transport.broadcast(&request);
            }
            Some(batch) = sealed.recv() => {
                offer(&mut core, &mut driver, &transport, &clock, batch)?;
            }
            _ = reoffer_every.tick() => {
                *live.connected.lock().expect("status lock") = transport.connected();
                live.view.store(core.view().0, Ordering::Relaxed);
                for batch in driver.offers.due_again() {
                    info!(second = batch.second.0, "offering a batch again: not final yet");
                    offer(&mut core, &mut driver, &transport, &clock, batch)?;
                }
            }
            msg = inbound.recv() => {
                let Some(msg) = msg else { break };
                if attest_msg::is_attest_message(&msg.payload) {
                    handle_attest_message(anchoring.as_ref(), &genesis, &transport, msg.from, &msg.payload);
                    continue;
                }
                if peer_time::is_time_message(&msg.payload) {
                    handle_time_message(&clock, &transport, &peer_sources, msg.from, &msg.payload);
                    continue;
                }
                match codec::decode(&msg.payload) {
                    Ok(message) => {
                        tracing::debug!(peer = %msg.from, kind = message.kind(), "inbound");
                        if let Message::Fetch(f) = &message {
                            serve_fetch_from_store(&store, &transport, msg.from, f)?;
                        }
                        // Proposals come from their view's leader only (the transport
                        // authenticates the sender), and must match their tick's batch root.
                        if let Message::Proposal(p) = &message
                            && core.leader(p.tick.view) == msg.from
                            && p.tick.view.0.abs_diff(core.view().0) <= 16
                        {
                            let hash = p.tick.hash(&genesis.hash);
                            driver.offers.saw_proposal(&p.tick, hash, &p.batches, &genesis.hash);
                        }
                        let now = clock.read();
                        let actions = core.handle(&now, Input::Message { from: msg.from, message });
                        driver.execute(&now, actions)?;
                    }
                    Err(e) => warn!(peer = %msg.from, error = %e, "undecodable peer message"),
                }
            }
            _ = tokio::time::sleep(sleep_for) => {
                let now = clock.read();
                for timer in driver.timers.due(now.mid()) {
                    let actions = core.handle(&now, Input::Timer(timer));
                    driver.execute(&now, actions)?;
                }
            }
        }
    }
    info!(node = %me, "shutting down");
    let _ = anchor_stop.send(true);
    let _ = api_stop.send(());
    let _ = api_task.await;
    pool.stop();
    background.shutdown().await;
    transport.shutdown().await;
    Ok(())
}

/// Offers one of our sealed batches to the ring: to every peer (whoever leads next) and to our
/// own core (in case we do).
fn offer(
    core: &mut Core,
    driver: &mut Driver<'_>,
    transport: &Transport,
    clock: &NodeClock,
    batch: tickchain_sdk::Batch,
) -> Result<(), NodeError> {
    tracing::debug!(
        second = batch.second.0,
        count = batch.count,
        "offering batch"
    );
    transport.broadcast(&codec::encode(&Message::Batch(batch.clone())));
    driver.offers.offered(batch.clone());
    let now = clock.read();
    let actions = core.handle(&now, Input::Batch(batch));
    driver.execute(&now, actions)
}

/// Most final ticks in one catch-up answer (the codec allows more; this keeps answers small).
const CHAIN_ANSWER: u64 = 32;

/// Answers a peer's fetch for final ticks by hash from the sled chain, which holds every final
/// tick (the core keeps only recent ones): each wanted tick and up to 31 ancestors, newest
/// first. The core still answers the same fetch from memory; duplicates are harmless.
fn serve_fetch_from_store(
    store: &dyn ChainStore,
    transport: &Transport,
    to: NodeId,
    fetch: &crate::consensus::messages::Fetch,
) -> Result<(), NodeError> {
    for hash in fetch.ticks.iter().take(codec::MAX_FETCH) {
        let Some(top) = store.height_of_hash(hash)? else {
            continue;
        };
        let from = tickchain_sdk::Height(top.0.saturating_sub(CHAIN_ANSWER - 1).max(1));
        let mut ticks = Vec::new();
        for (_, bytes) in store.finals_from(from, CHAIN_ANSWER as usize)? {
            let t = records::decode_final(&bytes)?;
            if t.tick.height <= top {
                ticks.push(t);
            }
        }
        ticks.reverse();
        transport.send(to, codec::encode(&Message::Chain(ticks)));
    }
    Ok(())
}

/// Co-signs a peer's anchor if it is our chain, or records a peer's co-signature made with the
/// attestation key genesis binds to that peer.
fn handle_attest_message(
    anchoring: Option<&anchoring::Anchoring>,
    genesis: &Genesis,
    transport: &Transport,
    from: NodeId,
    bytes: &[u8],
) {
    let Some(anchoring) = anchoring else {
        return; // no attestation key configured: nothing to sign or gather
    };
    match attest_msg::AttestMessage::decode(bytes) {
        Ok(attest_msg::AttestMessage::Request { domain, anchor }) => {
            if let Some(reply) = anchoring.answer(&domain, &anchor) {
                transport.send(from, reply);
            }
        }
        Ok(attest_msg::AttestMessage::Reply {
            domain,
            anchor,
            address,
            signature,
        }) => {
            let bound = genesis
                .nodes
                .get(from.index())
                .and_then(|n| n.attestation.as_ref())
                .map(|a| a.address);
            if bound == Some(address) {
                anchoring
                    .attestor
                    .on_reply(&domain, &anchor, (address, signature));
            }
        }
        Err(e) => warn!(peer = %from, error = %e, "undecodable attestation message"),
    }
}

/// Answers a probe, or turns a reply into a peer sample.
fn handle_time_message(
    clock: &NodeClock,
    transport: &Transport,
    peer_sources: &[Option<tickchain_aggregator::SourceId>],
    from: NodeId,
    bytes: &[u8],
) {
    let received = local_now().0;
    match TimeMessage::decode(bytes) {
        Ok(TimeMessage::Request { t1 }) => {
            let t2 = clock.read().mid().0;
            let reading = clock.read();
            let reply = TimeMessage::Reply {
                t1,
                t2,
                t3: reading.mid().0,
                radius: reading.radius().0.max(0),
                synchronized: reading.synchronized,
            };
            transport.send(from, reply.encode());
        }
        Ok(TimeMessage::Reply {
            t1,
            t2,
            t3,
            radius,
            synchronized,
        }) => {
            let Some(Some(id)) = peer_sources.get(from.index()) else {
                return;
            };
            use tickchain_aggregator::{LeapIndicator, Nanos as ANanos, UtcNanos as AUtc};
            let exchange = tickchain_aggregator::peer::PeerExchange {
                t1: AUtc(t1),
                t2: AUtc(t2),
                t3: AUtc(t3),
                t4: AUtc(received),
                peer_radius: ANanos(radius as u64),
                peer_leap: if synchronized {
                    LeapIndicator::NoWarning
                } else {
                    LeapIndicator::Unsynchronised
                },
                peer_stratum: 2,
                precision: ANanos(1_000),
            };
            clock.on_peer_exchange(*id, &exchange);
        }
        Err(e) => warn!(peer = %from, error = %e, "undecodable time probe"),
    }
}

struct Driver<'a> {
    store: &'a dyn ChainStore,
    transport: &'a Transport,
    timers: &'a mut Timers,
    tip: u64,
    genesis: &'a Genesis,
    me: NodeId,
    events: Option<tokio::sync::broadcast::Sender<FinalEvent>>,
    offers: &'a mut Offers,
    pool: &'a Pool,
    ticks: &'a tokio::sync::broadcast::Sender<TickSummary>,
    live: &'a LiveStatus,
}

impl Driver<'_> {
    /// Executes actions in order; a run of `Persist`s is flushed once, before the next action.
    fn execute(&mut self, now: &LocalClock, actions: Vec<Action>) -> Result<(), NodeError> {
        let mut pending: Vec<Vec<u8>> = Vec::new();
        for action in actions {
            tracing::trace!(?action, "core action");
            if let Action::Persist(record) = &action {
                if let crate::consensus::io::Record::Proposal(p) = record {
                    let gh = self.genesis.hash;
                    self.offers
                        .saw_proposal(&p.tick, p.tick.hash(&gh), &p.batches, &gh);
                }
                pending.push(records::encode(record));
                continue;
            }
            if !pending.is_empty() {
                self.store.append_records(&std::mem::take(&mut pending))?;
            }
            match action {
                Action::Persist(_) => unreachable!("handled above"),
                Action::Broadcast(m) => {
                    tracing::debug!(kind = m.kind(), "broadcast");
                    self.transport.broadcast(&codec::encode(&m));
                }
                Action::Send { to, message } => {
                    self.transport.send(to, codec::encode(&message));
                }
                Action::SetTimer { timer, at } => {
                    tracing::debug!(?timer, in_ms = (at.0 - now.mid().0) / 1_000_000, "timer");
                    self.timers.set(timer, at);
                }
                Action::Finalized(t) => {
                    let height = t.tick.height.0;
                    if height <= self.tip {
                        continue; // already stored (reported again after a restart)
                    }
                    let hash = t.tick.hash(&self.genesis.hash);
                    self.store.append_final(
                        t.tick.height,
                        t.tick.second,
                        &hash,
                        &records::encode_final(&t),
                    )?;
                    self.tip = height;
                    self.record_inclusions(&t.tick, &hash)?;
                    let lag = tickchain_sdk::Nanos(now.mid().0 - t.tick.second.start().0);
                    self.live.ticks_final.fetch_add(1, Ordering::Relaxed);
                    self.live.last_lag_ns.store(lag.0, Ordering::Relaxed);
                    let _ = self.ticks.send(api_handle::summary(&t, self.genesis));
                    if let Some(events) = &self.events {
                        let _ = events.send(FinalEvent {
                            height: t.tick.height,
                            second: t.tick.second,
                            lag,
                            certified: t.certificate.is_some(),
                        });
                    }
                    let lag_ms = lag.0 as f64 / 1e6;
                    info!(
                        height,
                        second = t.tick.second.0,
                        view = t.tick.view.0,
                        certified = t.certificate.is_some(),
                        lag_ms,
                        "final tick"
                    );
                }
            }
        }
        if !pending.is_empty() {
            self.store.append_records(&pending)?;
        }
        Ok(())
    }

    /// Records which of our batches the final `tick` carries, so their proofs can be served.
    /// A tick whose proposal we never saw teaches nothing: our batches in it are offered again
    /// and land in a later tick.
    fn record_inclusions(
        &mut self,
        tick: &tickchain_sdk::Tick,
        hash: &tickchain_sdk::Hash,
    ) -> Result<(), NodeError> {
        if tick.batch_count == 0 {
            return Ok(());
        }
        let Some(batches) = self.offers.batches_of(hash).map(<[_]>::to_vec) else {
            tracing::debug!(height = tick.height.0, "final tick's batches unknown here");
            return Ok(());
        };
        for b in batches.iter().filter(|b| b.node == self.me) {
            self.pool
                .reader
                .mark_included(b.second, tick.height, &batches)?;
            self.offers.confirmed(b.second);
        }
        Ok(())
    }
}
