//! The node's event loop and its one dispatch of peer bytes.
//!
//! Owns: waiting on every source of input (peers, the pool's sealed batches, timers, probes,
//! anchoring requests, shutdown) and routing each to its handler; `on_peer_bytes`, the single
//! place where a peer's bytes become a [`PeerMessage`] and go to the core, the clock or the
//! anchoring wiring. Never: decodes bytes itself (`PeerMessage::decode` does), makes protocol
//! decisions (the core does), or executes the core's actions (the driver does).

use super::anchoring::{Anchoring, Outgoing};
use super::clock::NodeClock;
use super::driver::Driver;
use super::{NodeError, records};
use crate::net::Inbound;
use crate::store::ChainStore;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tickchain_aggregator::SourceId;
use tickchain_aggregator::drivers::local_now;
use tickchain_consensus::codec::{self, CHAIN_ANSWER, MAX_FETCH};
use tickchain_consensus::peer::{AttestMessage, TimeMessage};
use tickchain_consensus::{Core, Fetch, Input, Message, PeerMessage};
use tickchain_sdk::{Batch, Genesis, Height, NodeId, UtcNanos};
use tokio::sync::mpsc;
use tracing::warn;

/// A running node's protocol parts.
pub(super) struct Shell {
    pub core: Core,
    pub driver: Driver,
    pub clock: NodeClock,
    /// The aggregator source of each peer (by node index; `None` for ourselves).
    pub peer_sources: Vec<Option<SourceId>>,
    pub anchoring: Option<Anchoring>,
    pub genesis: Genesis,
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
        mut inbound: mpsc::Receiver<Inbound>,
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
                Some(batch) = sealed.recv() => {
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

    /// Publishes the connected peers and the current view to the API's status.
    fn publish_status(&self) {
        let live = &self.driver.live;
        *live.connected.lock().expect("status lock") = self.driver.transport.connected();
        live.view.store(self.core.view().0, Ordering::Relaxed);
    }

    /// The one dispatch of a peer's bytes (the transport has authenticated `from`).
    pub fn on_peer_bytes(&mut self, from: NodeId, bytes: &[u8]) -> Result<(), NodeError> {
        match PeerMessage::decode(bytes) {
            Ok(PeerMessage::Consensus(message)) => {
                tracing::debug!(peer = %from, kind = message.kind(), "inbound");
                if let Message::Fetch(f) = &message {
                    self.serve_fetch_from_store(from, f)?;
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
                warn!(peer = %from, error = %e, "undecodable peer message");
                Ok(())
            }
        }
    }

    /// Answers a peer's fetch for final ticks by hash from the sled chain, which holds every
    /// final tick (the core keeps only recent ones): each wanted tick and up to
    /// [`CHAIN_ANSWER`] − 1 ancestors, newest first. The core still answers the same fetch from
    /// memory; duplicates are harmless.
    fn serve_fetch_from_store(&self, to: NodeId, fetch: &Fetch) -> Result<(), NodeError> {
        let store: &dyn ChainStore = &self.driver.store;
        for hash in fetch.ticks.iter().take(MAX_FETCH) {
            let Some(top) = store.height_of_hash(hash)? else {
                continue;
            };
            let from = Height(top.0.saturating_sub(CHAIN_ANSWER as u64 - 1).max(1));
            let mut ticks = Vec::new();
            for (_, bytes) in store.finals_from(from, CHAIN_ANSWER)? {
                let t = records::decode_final(&bytes)?;
                if t.tick.height <= top {
                    ticks.push(t);
                }
            }
            ticks.reverse();
            self.driver
                .transport
                .send(to, codec::encode(&Message::Chain(ticks)));
        }
        Ok(())
    }

    /// Hands a peer's request to co-sign to the anchoring worker (which reads, hashes and
    /// signs off this loop, and replies through `Anchoring::next_outgoing`), or records a
    /// peer's co-signature made with the attestation key genesis binds to that peer.
    fn on_attest(&self, from: NodeId, message: AttestMessage) {
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
                if bound == Some(address) {
                    anchoring
                        .attestor
                        .on_reply(&domain, &anchor, (address, signature));
                }
            }
        }
    }

    /// Answers a probe, or turns a reply into a peer sample.
    fn on_time(&self, from: NodeId, message: TimeMessage) {
        let received = local_now().0;
        match message {
            TimeMessage::Request { t1 } => {
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
