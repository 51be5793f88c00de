//! The running node behind the Timestamp API: `tickchain_api::NodeHandle` over the request
//! pool, the sled chain, the node's clock and its key.
//!
//! Owns: translating node state into the API's shapes. Never: HTTP (the api crate) or consensus.

use super::clock::NodeClock;
use super::records;
use crate::pool::Pool;
use crate::store::{ChainStore, Store};
use async_trait::async_trait;
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tickchain_api::wire::{Nonce, SourceSummary, TickRef, TimeStatement};
use tickchain_api::{
    HandleError, MetricsSnapshot, NetworkStatus, NodeHandle, NodeStatus, ProofStatus, Receipt,
    SignedTime, SourceMetric, SubmitError, TickSummary,
};
use tickchain_sdk::{Digest, Evidence, Genesis, Height, Nanos, NodeId};
use tokio::sync::broadcast;

/// What the event loop shares with the API as it runs.
#[derive(Default)]
pub struct LiveStatus {
    /// Peers with an open connection.
    pub connected: Mutex<Vec<NodeId>>,
    /// Final ticks stored since this process started.
    pub ticks_final: AtomicU64,
    /// Lag of the newest final tick, nanoseconds.
    pub last_lag_ns: AtomicI64,
    /// The consensus view this node is in.
    pub view: AtomicU64,
    /// Pieces of misbehaviour evidence stored since this process started.
    pub evidence: AtomicU64,
    /// Peer messages dropped since this process started, by reason (the consensus core's
    /// `Rejection` codes and the transport's), as `/metrics` shows them.
    pub rejections: Mutex<BTreeMap<&'static str, u64>>,
}

/// The node as the API sees it.
pub struct NodeApi {
    /// This node.
    pub me: NodeId,
    /// The network.
    pub genesis: Genesis,
    /// The node key (signs `/v1/time` answers).
    pub key: SigningKey,
    /// The node's clock.
    pub clock: NodeClock,
    /// The chain.
    pub store: Store,
    /// The request pool.
    pub pool: Arc<Pool>,
    /// Final ticks as they are stored (after their proofs can be served).
    pub ticks: broadcast::Sender<TickSummary>,
    /// Live counters.
    pub live: Arc<LiveStatus>,
    /// The stock-protocol servers' counters, by protocol name.
    pub facades: Vec<(&'static str, Arc<crate::facade_stats::FacadeCounters>)>,
    /// The RFC 3161 signer (`[tsa]`), if configured.
    pub tsa: Option<Arc<crate::tsa::Tsa>>,
    /// The anchored chains' names and cadences by chain id (`GET /v1/anchors`).
    pub anchor_names: super::anchoring::ChainNames,
}

/// The API summary of a stored final tick.
pub fn summary(t: &tickchain_consensus::messages::ChainTick, g: &Genesis) -> TickSummary {
    TickSummary {
        height: t.tick.height,
        second: t.tick.second,
        hash: t.tick.hash(&g.hash),
        certified: t.certificate.is_some(),
        window: t.certificate.as_ref().and_then(|c| c.window(g.f as usize)),
        batch_count: t.tick.batch_count,
    }
}

fn storage(e: impl std::fmt::Display) -> HandleError {
    HandleError::Storage(e.to_string())
}

impl NodeApi {
    fn stored_tick(&self, height: Height) -> Result<Option<TickSummary>, HandleError> {
        let Some(bytes) = self.store.final_at(height).map_err(storage)? else {
            return Ok(None);
        };
        let t = records::decode_final(&bytes).map_err(storage)?;
        Ok(Some(summary(&t, &self.genesis)))
    }
}

#[async_trait]
impl NodeHandle for NodeApi {
    async fn submit(&self, digests: Vec<Digest>) -> Result<Vec<Receipt>, SubmitError> {
        if !self.clock.read().synchronized {
            return Err(SubmitError::Unsynchronised);
        }
        self.pool.submit(digests).await
    }

    async fn proof(&self, digest: Digest) -> Result<ProofStatus, HandleError> {
        let mut one = self.proofs(vec![digest]).await?;
        Ok(one.pop().expect("one status per digest"))
    }

    async fn proofs(&self, digests: Vec<Digest>) -> Result<Vec<ProofStatus>, HandleError> {
        let reader = self.pool.reader.clone();
        let store = self.store.clone();
        let genesis_hash = self.genesis.hash;
        tokio::task::spawn_blocking(move || {
            let mut statuses = reader.statuses(&digests).map_err(|e| match e {
                crate::pool::PoolError::Busy => HandleError::Unavailable(e.to_string()),
                e => storage(e),
            })?;
            // The proof upgrade: where each proof's tick is anchored, on every chain so far
            // (read once per tick).
            let mut anchored: BTreeMap<Height, Vec<tickchain_sdk::AnchorProof>> = BTreeMap::new();
            for status in &mut statuses {
                let ProofStatus::Ready(p) = status else {
                    continue;
                };
                let height = p.tick.height;
                if let std::collections::btree_map::Entry::Vacant(slot) = anchored.entry(height) {
                    let leaf = tickchain_sdk::merkle::leaf_hash(&p.tick.hash(&genesis_hash).0);
                    let proofs = super::anchoring::anchor_paths(&store, height)
                        .map_err(storage)?
                        .into_iter()
                        .filter(|a| a.path.verifies(leaf, &a.anchor.root))
                        .map(super::anchoring::to_proof)
                        .collect();
                    slot.insert(proofs);
                }
                p.anchors = anchored[&height].clone();
            }
            Ok(statuses)
        })
        .await
        .map_err(|e| HandleError::Unavailable(e.to_string()))?
    }

    async fn tick(&self, height: Height) -> Result<Option<TickSummary>, HandleError> {
        self.stored_tick(height)
    }

    async fn latest_tick(&self) -> Result<Option<TickSummary>, HandleError> {
        match self.store.tip().map_err(storage)? {
            Some((h, _)) => self.stored_tick(h),
            None => Ok(None),
        }
    }

    async fn ticks(&self, from: Height, limit: u32) -> Result<Vec<TickSummary>, HandleError> {
        self.store
            .finals_from(from, limit as usize)
            .map_err(storage)?
            .into_iter()
            .map(|(_, bytes)| {
                records::decode_final(&bytes)
                    .map(|t| summary(&t, &self.genesis))
                    .map_err(storage)
            })
            .collect()
    }

    fn subscribe_ticks(&self) -> broadcast::Receiver<TickSummary> {
        self.ticks.subscribe()
    }

    async fn time(&self, nonce: Nonce) -> Result<SignedTime, HandleError> {
        if self.me.index() >= self.genesis.n() {
            // A signed time statement is a ring member's word; a gateway's key signs batches.
            return Err(HandleError::Unavailable(
                "a gateway does not sign time: ask a ring member's /v1/time".into(),
            ));
        }
        let reading = self.clock.read();
        let latest_tick = self.latest_tick().await?.map(|t| TickRef {
            height: t.height,
            second: t.second,
            hash: t.hash,
        });
        let statement = TimeStatement {
            genesis_hash: self.genesis.hash,
            node: self.me,
            nonce,
            earliest: reading.reading.earliest,
            latest: reading.reading.latest,
            synchronized: reading.synchronized,
            sources: source_summaries(&self.clock),
            latest_tick,
        };
        // Names are cut to the cap in `source_summaries`, so this refuses only a clock with
        // more than 65,535 sources.
        statement
            .sign(&self.key)
            .map_err(|e| HandleError::Unavailable(format!("cannot sign the time statement: {e}")))
    }

    async fn network(&self) -> Result<NetworkStatus, HandleError> {
        let connected = self.live.connected.lock().expect("status lock").clone();
        let g = &self.genesis;
        Ok(NetworkStatus {
            genesis_hash: g.hash,
            chain_id: g.chain_id.clone(),
            genesis_second: g.genesis_second,
            f: g.f,
            quorum: g.quorum,
            this_node: self.me,
            nodes: g
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let id = NodeId(i as u16);
                    NodeStatus {
                        id,
                        name: n.name.clone(),
                        public_key: n.public_key,
                        address: n.address.clone(),
                        connected: id == self.me || connected.contains(&id),
                    }
                })
                .collect(),
            synchronized: self.clock.read().synchronized,
            latest_tick: self.latest_tick().await?,
        })
    }

    async fn metrics(&self) -> MetricsSnapshot {
        let tip = self.store.tip().ok().flatten();
        let (height, second) = tip.map_or((0, self.genesis.genesis_second.0), |(h, s)| (h.0, s.0));
        MetricsSnapshot {
            ticks_final: self.live.ticks_final.load(Ordering::Relaxed),
            latest_height: height,
            last_lag_ns: self.live.last_lag_ns.load(Ordering::Relaxed),
            skipped_seconds: second
                .saturating_sub(self.genesis.genesis_second.0)
                .saturating_sub(height),
            pool_depth: self.pool.reader.depth(),
            pool_low_disk_refusals: self.pool.low_disk_refusals(),
            view: self.live.view.load(Ordering::Relaxed),
            sources: source_summaries(&self.clock)
                .into_iter()
                .map(|s| SourceMetric {
                    name: s.name,
                    offset_ns: s.offset.0,
                    radius_ns: s.radius.0,
                })
                .collect(),
            evidence: self.live.evidence.load(Ordering::Relaxed),
            peer_rejections: self
                .live
                .rejections
                .lock()
                .expect("status lock")
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
            facades: {
                let mut m = std::collections::BTreeMap::new();
                for (protocol, counters) in &self.facades {
                    counters.export(protocol, &mut m);
                }
                m
            },
        }
    }

    async fn evidence(&self, limit: u32) -> Result<Vec<Evidence>, HandleError> {
        let stored = self.store.misbehaviour(limit as usize).map_err(storage)?;
        // Every stored piece was written by this node from a verified `Evidence`; one that no
        // longer parses (a format change) is skipped rather than failing the whole list.
        Ok(stored
            .iter()
            .filter_map(|b| std::str::from_utf8(b).ok())
            .filter_map(|text| Evidence::from_json(text).ok())
            .collect())
    }

    async fn anchors(&self) -> Result<Vec<tickchain_api::wire::AnchorStatus>, HandleError> {
        let store = self.store.clone();
        let records =
            tokio::task::spawn_blocking(move || super::anchoring::latest_per_chain(&store))
                .await
                .map_err(storage)?
                .map_err(storage)?;
        let names = self
            .anchor_names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Ok(records
            .into_iter()
            .map(|r| {
                let configured = names.get(&r.chain_id);
                tickchain_api::wire::AnchorStatus {
                    name: configured.map(|(n, _)| n.clone()),
                    chain_id: r.chain_id,
                    contract: r.contract.to_string(),
                    to: r.anchor.to.0,
                    second: r.anchor.second.0,
                    tx_hash: format!("{:#x}", r.tx_hash),
                    block_number: r.block_number,
                    next_due: configured.map(|(_, cadence)| r.anchor.to.0.saturating_add(*cadence)),
                }
            })
            .collect())
    }

    fn genesis(&self) -> Option<Genesis> {
        Some(self.genesis.clone())
    }

    fn tsa(&self) -> Option<Arc<dyn tickchain_api::tsa::TsaSigner>> {
        self.tsa
            .clone()
            .map(|t| t as Arc<dyn tickchain_api::tsa::TsaSigner>)
    }
}

/// One summary per source that has a sample (a declared clock reports itself).
fn source_summaries(clock: &NodeClock) -> Vec<SourceSummary> {
    if let NodeClock::Declared { error } = clock {
        return vec![SourceSummary {
            name: "declared system clock".into(),
            offset: Nanos(0),
            radius: *error,
            agrees: true,
        }];
    }
    clock
        .sources()
        .into_iter()
        .filter_map(|s| {
            Some(SourceSummary {
                name: capped_name(s.label),
                offset: Nanos(s.offset?.0),
                radius: Nanos(s.radius?.0.min(i64::MAX as u64) as i64),
                agrees: s.verdict == tickchain_aggregator::Verdict::Truechimer,
            })
        })
        .collect()
}

/// `name` cut to at most `MAX_SOURCE_NAME` bytes at a character boundary (peer sources are
/// named after genesis names, which may be as long as the cap themselves).
fn capped_name(mut name: String) -> String {
    let max = tickchain_sdk::time_response::MAX_SOURCE_NAME;
    if name.len() > max {
        let mut end = max;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_source_names_are_cut_to_the_cap_at_a_character_boundary() {
        let max = tickchain_sdk::time_response::MAX_SOURCE_NAME;
        assert_eq!(capped_name("peer n1".into()), "peer n1");
        let cut = capped_name(format!("peer {}", "é".repeat(200)));
        assert!(cut.len() <= max && cut.len() >= max - 1, "{}", cut.len());
        assert!(cut.starts_with("peer é"));
    }
}
