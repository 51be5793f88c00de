//! An in-memory node for the API's HTTP-layer tests: real signed batches, ticks, certificates
//! and proofs from `tickchain_sdk::testkit::TestNetwork`, so every proof it returns verifies
//! with `tickchain_sdk::verify`.
//!
//! Ticks are finalized when the test says so (`finalize_tick`) or by a ticker task. Seconds are
//! synthetic (genesis second + height). The real node's handle (sled pool + ring) is wired in
//! `timenode`, and the end-to-end tests through a real ring live there.

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use tickchain_api::wire::{Nonce, SourceSummary, TickRef, TimeStatement};
use tickchain_api::{
    HandleError, MetricsSnapshot, NetworkStatus, NodeHandle, NodeStatus, ProofStatus, Receipt,
    SignedTime, SourceMetric, SubmitError, TickSummary,
};
use tickchain_sdk::evidence::{Evidence, Rule, Statement};
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::votes::{ClockReading, VoteKind, vote_signing_bytes};
use tickchain_sdk::{
    Batch, Digest, Genesis, Hash, Height, Nanos, NodeId, Proof, Second, Tick, UtcNanos, View,
};
use tokio::sync::broadcast;

/// Genesis second of the test network.
pub const GENESIS_SECOND: u64 = 1_800_000_000;

#[derive(Default)]
struct Inner {
    pending: Vec<Digest>,
    receipts: HashMap<Digest, Receipt>,
    proofs: HashMap<Digest, Proof>,
    chain: Vec<(Tick, TickSummary)>,
    /// Evidence held, oldest first.
    evidence: Vec<Evidence>,
}

/// A node of a 4-node test ring (it is node 0).
pub struct TestNode {
    /// The ring, with every key.
    pub net: TestNetwork,
    inner: Mutex<Inner>,
    ticks: broadcast::Sender<TickSummary>,
    refuse: Mutex<Option<SubmitError>>,
}

impl TestNode {
    /// A fresh node with an empty chain.
    pub fn new() -> TestNode {
        TestNode {
            net: TestNetwork::new("api-test", 4, 1, Second(GENESIS_SECOND)),
            inner: Mutex::new(Inner::default()),
            ticks: broadcast::channel(1024).0,
            refuse: Mutex::new(None),
        }
    }

    /// Makes every later `submit` fail with `error` (`None`: accept again).
    pub fn refuse_submissions(&self, error: Option<SubmitError>) {
        *self.refuse.lock().unwrap() = error;
    }

    /// Digests accepted since the last finalized tick.
    pub fn pending_count(&self) -> usize {
        self.inner.lock().unwrap().pending.len()
    }

    /// The network's genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.net.genesis
    }

    fn me(&self) -> NodeId {
        NodeId(0)
    }

    /// Seals every pending digest into a batch, finalizes a tick over it (certified by a
    /// quorum), stores the proofs and publishes the tick.
    pub fn finalize_tick(&self) -> TickSummary {
        let g = &self.net.genesis;
        let mut inner = self.inner.lock().unwrap();
        let height = Height(inner.chain.len() as u64 + 1);
        let second = Second(GENESIS_SECOND + height.0);
        let prev_hash = inner.chain.last().map_or(g.hash, |(t, _)| t.hash(&g.hash));
        let digests: Vec<Digest> = std::mem::take(&mut inner.pending);
        let sealed = (!digests.is_empty())
            .then(|| self.net.batch(self.me(), Second(second.0 - 1), &digests));
        let batches: Vec<&Batch> = sealed.iter().map(|s| &s.batch).collect();
        let (tick, tree) = self
            .net
            .tick(height, View(height.0), second, prev_hash, &batches);
        let readings: Vec<_> = (0..g.quorum)
            .map(|i| (NodeId(i), TestNetwork::reading(second, 5 + i64::from(i), 2)))
            .collect();
        let certificate = self.net.certify(&tick, &readings);
        if let Some(sealed) = &sealed {
            for leaf in 0..digests.len() as u32 {
                let proof = sealed.proof(
                    g.hash,
                    leaf,
                    tick.clone(),
                    tree.path(0).expect("one batch"),
                    certificate.clone(),
                );
                inner.proofs.insert(proof.digest, proof);
            }
        }
        let summary = TickSummary {
            height,
            second,
            hash: tick.hash(&g.hash),
            certified: true,
            window: certificate.window(g.f as usize),
            batch_count: tick.batch_count,
        };
        inner.chain.push((tick, summary.clone()));
        let _ = self.ticks.send(summary.clone());
        summary
    }

    /// Records evidence that node 2 notarized two different ticks in view `view` (valid
    /// against this network's genesis) and returns it.
    pub fn record_evidence(&self, view: u64) -> Evidence {
        let g = self.net.genesis.hash;
        let reading = ClockReading {
            earliest: UtcNanos(GENESIS_SECOND as i64 * 1_000_000_000),
            latest: UtcNanos(GENESIS_SECOND as i64 * 1_000_000_000 + 20_000_000),
        };
        let statement = |tick: u8| {
            let tick_hash = Hash([tick; 32]);
            let msg = vote_signing_bytes(VoteKind::Notarize, &g, View(view), &tick_hash, &reading);
            Statement::Notarize {
                view: View(view),
                tick_hash,
                reading,
                signature: tickchain_sdk::signing::sign(&self.net.keys[2], &msg),
            }
        };
        let e = Evidence {
            genesis: g,
            member: NodeId(2),
            rule: Rule::ConflictingNotarize,
            first: statement(1),
            second: statement(2),
        };
        self.inner.lock().unwrap().evidence.push(e.clone());
        e
    }

    fn next_second(inner: &Inner) -> Second {
        Second(GENESIS_SECOND + inner.chain.len() as u64 + 1)
    }
}

#[async_trait]
impl NodeHandle for TestNode {
    async fn submit(&self, digests: Vec<Digest>) -> Result<Vec<Receipt>, SubmitError> {
        if let Some(e) = self.refuse.lock().unwrap().clone() {
            return Err(e);
        }
        let mut inner = self.inner.lock().unwrap();
        let tick_second = Self::next_second(&inner);
        let receipts: Vec<Receipt> = digests
            .iter()
            .map(|d| Receipt {
                digest: *d,
                node: self.me(),
                accepted_second: Second(tick_second.0 - 1),
                expected_tick_second: tick_second,
            })
            .collect();
        for r in &receipts {
            inner.receipts.insert(r.digest, r.clone());
        }
        inner.pending.extend(digests);
        Ok(receipts)
    }

    async fn proof(&self, digest: Digest) -> Result<ProofStatus, HandleError> {
        let inner = self.inner.lock().unwrap();
        Ok(
            match (inner.proofs.get(&digest), inner.receipts.get(&digest)) {
                (Some(p), _) => ProofStatus::Ready(Box::new(p.clone())),
                (None, Some(r)) => ProofStatus::Pending(r.clone()),
                (None, None) => ProofStatus::Unknown,
            },
        )
    }

    async fn tick(&self, height: Height) -> Result<Option<TickSummary>, HandleError> {
        let inner = self.inner.lock().unwrap();
        let index = (height.0 as usize).checked_sub(1);
        Ok(index
            .and_then(|i| inner.chain.get(i))
            .map(|(_, s)| s.clone()))
    }

    async fn latest_tick(&self) -> Result<Option<TickSummary>, HandleError> {
        Ok(self
            .inner
            .lock()
            .unwrap()
            .chain
            .last()
            .map(|(_, s)| s.clone()))
    }

    async fn ticks(&self, from: Height, limit: u32) -> Result<Vec<TickSummary>, HandleError> {
        let inner = self.inner.lock().unwrap();
        Ok(inner
            .chain
            .iter()
            .map(|(_, s)| s)
            .filter(|s| s.height >= from)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    fn subscribe_ticks(&self) -> broadcast::Receiver<TickSummary> {
        self.ticks.subscribe()
    }

    async fn time(&self, nonce: Nonce) -> Result<SignedTime, HandleError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as i64;
        let latest_tick = self
            .inner
            .lock()
            .unwrap()
            .chain
            .last()
            .map(|(_, s)| TickRef {
                height: s.height,
                second: s.second,
                hash: s.hash,
            });
        let statement = TimeStatement {
            genesis_hash: self.net.genesis.hash,
            node: self.me(),
            nonce,
            earliest: UtcNanos(now - 1_000_000),
            latest: UtcNanos(now + 1_000_000),
            synchronized: true,
            sources: vec![SourceSummary {
                name: "ntp-loopback".into(),
                offset: Nanos(120_000),
                radius: Nanos(900_000),
                agrees: true,
            }],
            latest_tick,
        };
        Ok(statement
            .sign(&self.net.keys[0])
            .map_err(|e| HandleError::Unavailable(e.to_string()))?)
    }

    async fn network(&self) -> Result<NetworkStatus, HandleError> {
        let g = &self.net.genesis;
        Ok(NetworkStatus {
            genesis_hash: g.hash,
            chain_id: g.chain_id.clone(),
            genesis_second: g.genesis_second,
            f: g.f,
            quorum: g.quorum,
            this_node: self.me(),
            nodes: g
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| NodeStatus {
                    id: NodeId(i as u16),
                    name: n.name.clone(),
                    public_key: n.public_key,
                    address: n.address.clone(),
                    connected: true,
                })
                .collect(),
            synchronized: true,
            latest_tick: self.latest_tick().await?,
        })
    }

    async fn metrics(&self) -> MetricsSnapshot {
        let inner = self.inner.lock().unwrap();
        MetricsSnapshot {
            ticks_final: inner.chain.len() as u64,
            latest_height: inner.chain.len() as u64,
            last_lag_ns: 7_000_000,
            skipped_seconds: 0,
            pool_depth: inner.pending.len() as u64,
            pool_low_disk_refusals: 0,
            view: inner.chain.len() as u64 + 1,
            sources: vec![SourceMetric {
                name: "ntp-loopback".into(),
                offset_ns: 120_000,
                radius_ns: 900_000,
            }],
            evidence: inner.evidence.len() as u64,
            peer_rejections: [("old_view".to_string(), 4)].into_iter().collect(),
            facades: [("roughtime.responses".to_string(), 64)]
                .into_iter()
                .collect(),
        }
    }

    async fn evidence(&self, limit: u32) -> Result<Vec<Evidence>, HandleError> {
        let inner = self.inner.lock().unwrap();
        Ok(inner
            .evidence
            .iter()
            .rev()
            .take(limit as usize)
            .cloned()
            .collect())
    }
}
