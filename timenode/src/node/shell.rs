//! The node's event loop and its one dispatch of peer bytes.
//!
//! Owns: waiting on every source of input (peers, the pool's sealed batches, timers, probes,
//! anchoring requests, shutdown) and routing each to its handler; `on_peer_bytes`, the single
//! place where a peer's bytes become a [`PeerMessage`] and go to the core, the clock or the
//! anchoring wiring; the per-peer limits on work a peer causes here (deduplicated fetches
//! answered off the loop within a budget, time probes answered within a budget, replies
//! accepted only for probes we sent; a gateway's messages within a budget) and the counters of
//! what those limits refused. Never:
//! decodes bytes itself (`PeerMessage::decode` does), makes protocol decisions (the core does),
//! executes the core's actions (the driver does), or reads the chain store for a peer (the
//! fetch server does).

use super::NodeError;
use super::anchoring::{Anchoring, Outgoing};
use super::budget::Budget;
use super::clock::NodeClock;
use super::driver::Driver;
use super::fetch_server::{FetchServer, Refused};
use crate::log_limit::LogLimit;
use crate::net::InboundQueue;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tickchain_aggregator::SourceId;
use tickchain_aggregator::drivers::local_now;
use tickchain_consensus::codec::MAX_FETCH;
use tickchain_consensus::peer::{AttestMessage, TimeMessage};
use tickchain_consensus::{Core, Fetch, Input, Message, PeerMessage};
use tickchain_sdk::{Batch, Genesis, NodeId, UtcNanos};
use tokio::sync::mpsc;
use tracing::warn;

/// Probes per peer whose replies we still accept (older ones are forgotten).
const PROBES_REMEMBERED: usize = 4;
/// Time requests one peer may have answered per second, and its burst.
const TIME_REQUESTS_PER_SECOND: f64 = 20.0;
/// Messages one gateway may have handed to the core per second (its batch once a second, its
/// re-offers, a gap fetch), and twice this as its burst: each batch costs a signature check on
/// the consensus thread, so a gateway cannot make it check more.
const GATEWAY_MESSAGES_PER_SECOND: f64 = 8.0;
/// Fetch entries (views and hashes, after deduplication) one peer may have answered per
/// second, and twice this as its burst: a lagging peer asks for at most 16 views or a handful of
/// hashes every `fetch_retry`.
const FETCH_ENTRIES_PER_SECOND: f64 = 256.0;

static UNDECODABLE_LOG: LogLimit = LogLimit::new(Duration::from_secs(10));

/// What the shell's per-peer limits let through and what they refused.
pub(super) struct PeerLimits {
    probes: Probes,
    time_requests: Budget,
    fetch_entries: Budget,
    fetches: FetchServer,
    gateway_messages: Budget,
    /// Messages refused, by reason (stable snake_case names, exported in `/metrics`).
    pub refused: BTreeMap<&'static str, u64>,
}

impl PeerLimits {
    /// Limits for `n` peers (the ring's nodes and gateways), with the fetch server's worker.
    pub fn new(n: usize, fetches: FetchServer) -> PeerLimits {
        PeerLimits {
            probes: Probes::new(n),
            time_requests: Budget::new(n, TIME_REQUESTS_PER_SECOND, TIME_REQUESTS_PER_SECOND),
            fetch_entries: Budget::new(n, FETCH_ENTRIES_PER_SECOND, 2.0 * FETCH_ENTRIES_PER_SECOND),
            fetches,
            gateway_messages: Budget::new(
                n,
                GATEWAY_MESSAGES_PER_SECOND,
                2.0 * GATEWAY_MESSAGES_PER_SECOND,
            ),
            refused: BTreeMap::new(),
        }
    }

    fn count(&mut self, reason: &'static str) {
        *self.refused.entry(reason).or_default() += 1;
    }

    fn probe_sent(&mut self, t1: i64) {
        self.probes.sent(t1);
    }

    fn reply_expected(&mut self, from: NodeId, t1: i64) -> bool {
        self.probes.answered(from, t1)
    }
}

/// The `t1` of each peer's outstanding time probes (RFC 5905 §8's origin check).
struct Probes(Vec<VecDeque<i64>>);

impl Probes {
    fn new(n: usize) -> Probes {
        Probes(vec![VecDeque::new(); n])
    }

    /// A probe with `t1` went to every peer; the oldest beyond [`PROBES_REMEMBERED`] is
    /// forgotten.
    fn sent(&mut self, t1: i64) {
        for q in &mut self.0 {
            if q.len() == PROBES_REMEMBERED {
                q.pop_front();
            }
            q.push_back(t1);
        }
    }

    /// Whether `t1` is one of our outstanding probes to `from`; it is consumed.
    fn answered(&mut self, from: NodeId, t1: i64) -> bool {
        let Some(q) = self.0.get_mut(from.index()) else {
            return false;
        };
        match q.iter().position(|&t| t == t1) {
            Some(i) => {
                q.remove(i);
                true
            }
            None => false,
        }
    }
}

/// Removes repeated entries from a peer's fetch (keeping the first of each), and counts them.
fn dedup_fetch(fetch: &mut Fetch) -> usize {
    let before = fetch.views.len() + fetch.ticks.len();
    let mut seen = std::collections::BTreeSet::new();
    fetch.views.retain(|v| seen.insert(*v));
    let mut seen = std::collections::BTreeSet::new();
    fetch.ticks.retain(|h| seen.insert(*h));
    fetch.views.truncate(MAX_FETCH);
    fetch.ticks.truncate(MAX_FETCH);
    before - fetch.views.len() - fetch.ticks.len()
}

/// A running node's protocol parts.
pub(super) struct Shell {
    pub core: Core,
    pub driver: Driver,
    pub clock: NodeClock,
    /// The aggregator source of each peer (by node index; `None` for ourselves).
    pub peer_sources: Vec<Option<SourceId>>,
    pub anchoring: Option<Anchoring>,
    pub genesis: Genesis,
    pub limits: PeerLimits,
}

impl Shell {
    /// Hands one input to the core and executes what it asks for.
    pub fn input(&mut self, input: Input) -> Result<(), NodeError> {
        let now = self.clock.read();
        let actions = self.core.handle(&now, input);
        self.driver.execute(&now, actions)
    }

    /// The event loop, until `shutdown` completes or the transport closes.
    pub async fn run(
        &mut self,
        probe_interval_ms: u64,
        mut inbound: InboundQueue,
        mut sealed: mpsc::UnboundedReceiver<Batch>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), NodeError> {
        let mut probe_every = tokio::time::interval(Duration::from_millis(probe_interval_ms));
        probe_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut status_every = tokio::time::interval(Duration::from_secs(1));
        status_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            let now = self.clock.read();
            let sleep_for = self
                .driver
                .timers
                .next()
                .map(|at| Duration::from_nanos(at.0.saturating_sub(now.mid().0).max(0) as u64))
                .unwrap_or(Duration::from_secs(1));
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = probe_every.tick() => {
                    let t1 = local_now().0;
                    self.limits.probe_sent(t1);
                    self.driver.transport.broadcast(&TimeMessage::Request { t1 }.encode());
                }
                Some(out) = async {
                    match &mut self.anchoring {
                        Some(a) => a.next_outgoing().await,
                        None => std::future::pending().await,
                    }
                } => match out {
                    Outgoing::Broadcast(request) => self.driver.transport.broadcast(&request),
                    Outgoing::Reply(to, reply) => {
                        self.driver.transport.send(to, reply);
                    }
                },
                batch = sealed.recv() => {
                    // The writer only stops before the loop does after a storage failure.
                    let Some(batch) = batch else {
                        let why = self.driver.pool.failure().unwrap_or("the pool writer stopped");
                        return Err(NodeError::Pool(crate::pool::PoolError::Stopped(why.to_owned())));
                    };
                    tracing::debug!(second = batch.second.0, count = batch.count, "offering batch");
                    self.input(Input::Batch(batch))?;
                }
                _ = status_every.tick() => self.publish_status(),
                msg = inbound.recv() => {
                    let Some(msg) = msg else { return Ok(()) };
                    self.on_peer_bytes(msg.from, &msg.payload)?;
                }
                _ = tokio::time::sleep(sleep_for) => {
                    let now = self.clock.read();
                    for timer in self.driver.timers.due(now.mid()) {
                        self.input(Input::Timer(timer))?;
                    }
                }
            }
        }
    }

    /// Every count of peer input refused, by reason: the core's, this shell's limits', the
    /// transport's and the co-signer's (the `kind` label of `tickchain_peer_rejected_total`).
    fn peer_rejections(&self) -> BTreeMap<&'static str, u64> {
        let mut all: BTreeMap<&'static str, u64> = self.core.rejections().counts().collect();
        all.extend(self.limits.refused.iter().map(|(k, v)| (*k, *v)));
        let t = self.driver.transport.stats();
        all.insert("stalled_stream", t.stalled_stopped.load(Ordering::Relaxed));
        all.insert("oversize_frame", t.oversize_closed.load(Ordering::Relaxed));
        all.insert("connection_refused", t.refused.load(Ordering::Relaxed));
        if let Some(a) = &self.anchoring {
            let c = a.cosign_stats();
            all.insert("cosign_refused", c.refused.load(Ordering::Relaxed));
            all.insert("cosign_busy", c.dropped_busy.load(Ordering::Relaxed));
            all.insert("cosign_queue_full", c.dropped_full.load(Ordering::Relaxed));
        }
        all
    }

    /// Publishes the connected peers, the current view and the rejection counts to the API's
    /// status.
    fn publish_status(&self) {
        let live = &self.driver.live;
        *live.connected.lock().expect("status lock") = self.driver.transport.connected();
        live.view.store(self.core.view().0, Ordering::Relaxed);
        let rejections = self.peer_rejections();
        *live.rejections.lock().unwrap_or_else(|p| p.into_inner()) = rejections;
    }

    /// The one dispatch of a peer's bytes (the transport has authenticated `from`).
    pub fn on_peer_bytes(&mut self, from: NodeId, bytes: &[u8]) -> Result<(), NodeError> {
        if from.index() >= self.genesis.n()
            && !self.limits.gateway_messages.take(from, 1.0, Instant::now())
        {
            self.limits.count("gateway_over_budget");
            return Ok(());
        }
        let decoded = PeerMessage::decode(bytes);
        if from.index() >= self.genesis.n() && !matches!(decoded, Ok(PeerMessage::Consensus(_))) {
            // A gateway takes no time probes and co-signs nothing (`specs/consensus.md` §5,
            // Gateways); what it may send among consensus messages the core decides.
            self.limits.count("not_for_gateway");
            return Ok(());
        }
        match decoded {
            Ok(PeerMessage::Consensus(mut message)) => {
                tracing::debug!(peer = %from, kind = message.kind(), "inbound");
                if let Message::Fetch(f) = &mut message {
                    let repeated = dedup_fetch(f);
                    if repeated > 0 {
                        self.limits.count("fetch_repeated_entries");
                    }
                    let cost = (f.views.len() + f.ticks.len()) as f64;
                    if !self.limits.fetch_entries.take(from, cost, Instant::now()) {
                        self.limits.count("fetch_over_budget");
                        return Ok(());
                    }
                    self.serve_fetch_from_store(from, f);
                }
                self.input(Input::Message { from, message })
            }
            Ok(PeerMessage::Time(m)) => {
                self.on_time(from, m);
                Ok(())
            }
            Ok(PeerMessage::Attest(m)) => {
                self.on_attest(from, m);
                Ok(())
            }
            Err(e) => {
                self.limits.count("undecodable");
                if let Some(held) = UNDECODABLE_LOG.allow() {
                    warn!(peer = %from, error = %e, similar_held_back = held, "undecodable peer message");
                }
                Ok(())
            }
        }
    }

    /// Hands a peer's fetch for final ticks by hash to the fetch server, which answers from
    /// the sled chain (it holds every final tick; the core keeps only recent ones) off this
    /// loop, within the peer's budget. The core still answers the same fetch from memory;
    /// duplicates are harmless.
    fn serve_fetch_from_store(&mut self, to: NodeId, fetch: &Fetch) {
        match self
            .limits
            .fetches
            .submit(to, fetch.ticks.clone(), Instant::now())
        {
            Ok(()) => {}
            Err(Refused::OverBudget) => self.limits.count("fetch_store_over_budget"),
            Err(Refused::QueueFull) => self.limits.count("fetch_queue_full"),
        }
    }

    /// Hands a peer's request to co-sign to the anchoring worker (which reads, hashes and
    /// signs off this loop, and replies through `Anchoring::next_outgoing`), or records a
    /// peer's co-signature made with the attestation key genesis binds to that peer.
    fn on_attest(&mut self, from: NodeId, message: AttestMessage) {
        let Some(anchoring) = &self.anchoring else {
            return; // no attestation key configured: nothing to sign or gather
        };
        match message {
            AttestMessage::Request { domain, anchor } => anchoring.submit(from, domain, anchor),
            AttestMessage::Reply {
                domain,
                anchor,
                address,
                signature,
            } => {
                let bound = self
                    .genesis
                    .nodes
                    .get(from.index())
                    .and_then(|n| n.attestation.as_ref())
                    .map(|a| a.address);
                let kept = bound == Some(address)
                    && anchoring
                        .attestor
                        .on_reply(&domain, &anchor, (address, signature));
                if !kept {
                    self.limits.count("cosign_reply_unsolicited");
                }
            }
        }
    }

    /// Answers a probe (within the peer's budget), or turns a reply to one of our probes into
    /// a peer sample.
    fn on_time(&mut self, from: NodeId, message: TimeMessage) {
        let received = local_now().0;
        match message {
            TimeMessage::Request { t1 } => {
                if !self.limits.time_requests.take(from, 1.0, Instant::now()) {
                    self.limits.count("time_request_over_budget");
                    return;
                }
                let t2 = self.clock.read().mid().0;
                let reading = self.clock.read();
                let reply = TimeMessage::Reply {
                    t1,
                    t2,
                    t3: reading.mid().0,
                    radius: reading.radius().0.max(0),
                    synchronized: reading.synchronized,
                };
                self.driver.transport.send(from, reply.encode());
            }
            TimeMessage::Reply {
                t1,
                t2,
                t3,
                radius,
                synchronized,
            } => {
                if !self.limits.reply_expected(from, t1) {
                    self.limits.count("time_reply_unsolicited");
                    return;
                }
                let Some(Some(id)) = self.peer_sources.get(from.index()) else {
                    return;
                };
                use tickchain_aggregator::{LeapIndicator, Span};
                let exchange = tickchain_aggregator::peer::PeerExchange {
                    t1: UtcNanos(t1),
                    t2: UtcNanos(t2),
                    t3: UtcNanos(t3),
                    t4: UtcNanos(received),
                    peer_radius: Span(radius.max(0) as u64),
                    peer_leap: if synchronized {
                        LeapIndicator::NoWarning
                    } else {
                        LeapIndicator::Unsynchronised
                    },
                    peer_stratum: 2,
                    precision: Span(1_000),
                };
                self.clock.on_peer_exchange(*id, &exchange);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::{Hash, View};

    #[test]
    fn a_time_reply_is_accepted_once_and_only_for_a_probe_we_sent_that_peer() {
        let mut p = Probes::new(3);
        for t1 in 1..=6 {
            p.sent(t1);
        }
        assert!(!p.answered(NodeId(1), 99), "never sent");
        assert!(
            !p.answered(NodeId(1), 2),
            "forgotten: only the last four are outstanding"
        );
        assert!(p.answered(NodeId(1), 4));
        assert!(
            !p.answered(NodeId(1), 4),
            "a probe is consumed by its first reply"
        );
        assert!(
            p.answered(NodeId(2), 4),
            "each peer has its own outstanding probes"
        );
        assert!(!p.answered(NodeId(9), 5), "not a ring member");
    }

    #[test]
    fn a_fetch_keeps_each_view_and_hash_once_and_counts_the_repeats() {
        let h = |b: u8| Hash([b; 32]);
        let mut f = Fetch {
            views: vec![View(3), View(3), View(1), View(3)],
            ticks: vec![h(1); 256],
        };
        assert_eq!(dedup_fetch(&mut f), 2 + 255);
        assert_eq!(f.views, vec![View(3), View(1)]);
        assert_eq!(f.ticks, vec![h(1)]);
        let mut clean = Fetch {
            views: vec![View(1)],
            ticks: vec![h(1), h(2)],
        };
        assert_eq!(dedup_fetch(&mut clean), 0);
    }
}
