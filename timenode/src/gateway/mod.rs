//! The gateway (`timenode gateway`): a non-voting intake process whose key genesis lists
//! (version 3). It accepts submissions on the same Timestamp API as a node, seals one signed
//! batch per second, offers it to every ring member over the authenticated transport, and
//! serves receipts and proofs from its own pool and its own copy of the final chain.
//!
//! Owns: the gateway's wiring (transport as a dialler of every member, clock, pool, API, chain
//! store), offering its batches again until a delivered final tick carries them, and storing the
//! final ticks [`follow::Follower`] checked. Never: votes, proposes or co-signs (it has no part
//! in consensus), trusts a member's word for a tick (only genesis signatures and hash links
//! count), or accepts a connection (it dials the members; genesis pins both ends).

pub mod follow;

use crate::config::NodeConfig;
use crate::net::{Transport, TransportConfig};
use crate::node::api_handle::{self, LiveStatus, NodeApi};
use crate::node::clock::NodeClock;
use crate::node::{ApiServer, NodeError, records};
use crate::pool::{Pool, PoolError};
use crate::store::{ChainStore, Store};
use follow::Follower;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tickchain_api::TickSummary;
use tickchain_consensus::codec;
use tickchain_consensus::{ChainTick, Fetch, Message, PeerMessage};
use tickchain_sdk::{Batch, Genesis, Height, Network, NodeId, Second};
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

/// A batch not yet seen in a final tick is offered again this long after it was last offered.
const REOFFER_AFTER: Duration = Duration::from_secs(2);
/// At most one fetch for a gap in the chain per this interval.
const FETCH_EVERY: Duration = Duration::from_millis(500);
/// How long the answer to a gap fetch is accepted; chain answers nobody asked for are dropped.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Runs a gateway until `shutdown` completes.
pub async fn run(config: NodeConfig, shutdown: impl Future<Output = ()>) -> Result<(), NodeError> {
    let section = config
        .node
        .clone()
        .ok_or_else(|| NodeError::Config("`timenode gateway` needs a [node] section".into()))?;
    let missing = "no gateway has the key (a gateway's key must be listed under `gateways` in a \
                   version 3 genesis)";
    let (key, genesis, me) = crate::node::read_identity(&section, missing, |g, public| {
        g.gateways
            .iter()
            .position(|gw| gw.public_key.0 == *public)
            .and_then(|i| g.gateway_id(i))
    })?;
    let store = Store::open(&section.data_dir)?;
    let tip = match store.tip()? {
        None => (Height(0), genesis.hash),
        Some((height, _)) => {
            let bytes = store
                .final_at(height)?
                .ok_or_else(|| NodeError::Inconsistent(format!("tip {height} has no tick")))?;
            (
                height,
                records::decode_final(&bytes)?.tick.hash(&genesis.hash),
            )
        }
    };
    // A gateway only dials: by default any address and port of the members' family (a
    // loopback-bound socket could not reach members on other hosts).
    let listen = section.listen.unwrap_or_else(|| {
        let v6 = genesis.nodes.iter().any(|n| {
            n.address
                .parse::<std::net::SocketAddr>()
                .is_ok_and(|a| a.is_ipv6())
        });
        if v6 {
            std::net::SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 0))
        } else {
            std::net::SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0))
        }
    });
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
    let batch_window = config.consensus.core_config().batch_max_age;
    pool.set_batch_window(batch_window);
    let (ticks, _) = broadcast::channel::<TickSummary>(1024);
    let live = Arc::new(LiveStatus::default());
    let api = ApiServer::start(
        &config,
        Arc::new(NodeApi {
            me,
            genesis: genesis.clone(),
            key: key.clone(),
            clock: clock.clone(),
            store: store.clone(),
            pool: pool.clone(),
            ticks: ticks.clone(),
            live: live.clone(),
            facades: Vec::new(),
            tsa: None,
            anchor_names: Default::default(),
        }),
    )?;
    info!(gateway = %me, name = %genesis.gateway(me).map_or("?", |g| g.name.as_str()), tip = tip.0.0, "gateway started");
    let mut gw = Intake {
        me,
        follower: Follower::new(Network::new(genesis.clone()), tip),
        genesis,
        transport,
        store,
        pool: pool.clone(),
        ticks,
        live,
        own: BTreeMap::new(),
        batch_window_secs: (batch_window.0 / 1_000_000_000).max(0) as u64,
        last_fetch: None,
        asked: None,
        next_member: 0,
        refused: BTreeMap::new(),
    };
    for batch in opened.unconfirmed {
        gw.offer(batch);
    }
    let mut sealed = opened.sealed;
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    let result = loop {
        tokio::select! {
            _ = &mut shutdown => break Ok(()),
            batch = sealed.recv() => {
                let Some(batch) = batch else {
                    let why = pool.failure().unwrap_or("the pool writer stopped").to_owned();
                    break Err(NodeError::Pool(PoolError::Stopped(why)));
                };
                gw.offer(batch);
            }
            msg = inbound.recv() => {
                let Some(msg) = msg else { break Ok(()) };
                if let Err(e) = gw.on_peer_bytes(msg.from, &msg.payload) {
                    break Err(e);
                }
            }
            _ = every_second.tick() => {
                gw.reoffer(Second(clock.read().mid().second_floor().max(0) as u64));
                gw.fetch_gap();
                *gw.live.connected.lock().expect("status lock") = gw.transport.connected();
                *gw.live.rejections.lock().unwrap_or_else(|p| p.into_inner()) = gw.refused.clone();
            }
        }
    };
    info!(gateway = %me, "shutting down");
    api.stop().await;
    pool.stop();
    background.shutdown().await;
    gw.transport.shutdown().await;
    result
}

/// The gateway's running state.
struct Intake {
    me: NodeId,
    genesis: Genesis,
    follower: Follower,
    transport: Transport,
    store: Store,
    pool: Arc<Pool>,
    ticks: broadcast::Sender<TickSummary>,
    live: Arc<LiveStatus>,
    /// Our batches no stored final tick carries yet, with when each was last offered.
    own: BTreeMap<Second, (Batch, Instant)>,
    batch_window_secs: u64,
    last_fetch: Option<Instant>,
    /// The member our last gap fetch went to, and when: only its answer is read, for
    /// [`ANSWER_WITHIN`].
    asked: Option<(NodeId, Instant)>,
    /// The member the next gap fetch goes to (round robin over the connected ones).
    next_member: usize,
    /// Member messages refused, by reason (exported in `/metrics`).
    refused: BTreeMap<&'static str, u64>,
}

impl Intake {
    /// Offers `batch` to every member (whoever leads next) and keeps it until a final tick
    /// carries it.
    fn offer(&mut self, batch: Batch) {
        debug!(
            second = batch.second.0,
            count = batch.count,
            "offering batch"
        );
        self.transport
            .broadcast(&codec::encode(&Message::Batch(batch.clone())));
        self.own.insert(batch.second, (batch, Instant::now()));
    }

    /// Offers again each batch not carried within [`REOFFER_AFTER`]; forgets those older than
    /// the batch window (no tick may carry them; the pool re-seals their digests).
    fn reoffer(&mut self, now: Second) {
        let window = self.batch_window_secs;
        self.own
            .retain(|second, _| second.0.saturating_add(window) >= now.0);
        let due: Vec<Batch> = self
            .own
            .values()
            .filter(|(_, at)| at.elapsed() >= REOFFER_AFTER)
            .map(|(b, _)| b.clone())
            .collect();
        for b in due {
            self.offer(b);
        }
    }

    fn count(&mut self, reason: &'static str) {
        *self.refused.entry(reason).or_default() += 1;
    }

    /// A member's message: a delivered final tick, or an answer to our gap fetch.
    fn on_peer_bytes(&mut self, from: NodeId, bytes: &[u8]) -> Result<(), NodeError> {
        if from.index() >= self.genesis.n() {
            self.count("not_from_member");
            return Ok(());
        }
        let ticks: Vec<(ChainTick, Option<Vec<Batch>>)> = match PeerMessage::decode(bytes) {
            Ok(PeerMessage::Consensus(Message::Delivered(d))) => vec![(d.tick, Some(d.batches))],
            Ok(PeerMessage::Consensus(Message::Chain(ticks))) => {
                let asked = self
                    .asked
                    .is_some_and(|(to, at)| to == from && at.elapsed() < ANSWER_WITHIN);
                if !asked {
                    self.count("chain_unasked");
                    return Ok(());
                }
                ticks.into_iter().map(|t| (t, None)).collect()
            }
            Ok(_) => {
                self.count("not_for_gateway");
                return Ok(());
            }
            Err(e) => {
                self.count("undecodable");
                debug!(peer = %from, error = %e, "undecodable member message");
                return Ok(());
            }
        };
        for (tick, batches) in ticks {
            if let Err(r) = self.follower.offer(tick, batches) {
                self.count(r.code());
            }
        }
        self.store_ready()?;
        self.fetch_gap();
        Ok(())
    }

    /// Stores the checked ticks that extend the tip, in order, and tells the pool which of our
    /// batches each carries.
    fn store_ready(&mut self) -> Result<(), NodeError> {
        for (t, batches) in self.follower.take_ready() {
            let hash = t.tick.hash(&self.genesis.hash);
            self.store.append_final(
                t.tick.height,
                t.tick.second,
                &hash,
                &records::encode_final(&t),
            )?;
            if let Some(batches) = &batches {
                for b in batches.iter().filter(|b| b.node == self.me) {
                    self.pool
                        .reader
                        .mark_included(b.second, t.tick.height, batches)?;
                    self.own.remove(&b.second);
                }
            }
            self.live.ticks_final.fetch_add(1, Ordering::Relaxed);
            info!(
                height = t.tick.height.0,
                second = t.tick.second.0,
                certified = t.certificate.is_some(),
                "final tick stored"
            );
            let _ = self.ticks.send(api_handle::summary(&t, &self.genesis));
        }
        Ok(())
    }

    /// Asks one connected member for the ticks under the lowest checked one held, when the
    /// chain has a gap (after a restart, or a delivery lost); at most once per [`FETCH_EVERY`].
    fn fetch_gap(&mut self) {
        let Some(wanted) = self.follower.wanted() else {
            return;
        };
        if self.last_fetch.is_some_and(|t| t.elapsed() < FETCH_EVERY) {
            return;
        }
        let members: Vec<NodeId> = self
            .transport
            .connected()
            .into_iter()
            .filter(|p| p.index() < self.genesis.n())
            .collect();
        if members.is_empty() {
            return;
        }
        let to = members[self.next_member % members.len()];
        self.next_member = self.next_member.wrapping_add(1);
        self.last_fetch = Some(Instant::now());
        self.asked = Some((to, Instant::now()));
        let fetch = Message::Fetch(Fetch {
            views: Vec::new(),
            ticks: vec![wanted],
        });
        if !self.transport.send(to, codec::encode(&fetch)) {
            warn!(peer = %to, "gap fetch dropped: the member's queue is full");
        }
        debug!(peer = %to, hash = %wanted.to_hex(), "fetching a gap in the chain");
    }
}
