//! The running node's anchoring: one relayer per configured chain, fed by the sled chain, with
//! co-signatures gathered from the ring, and every confirmed anchor stored for proof upgrades.
//!
//! Owns: the node's [`TickSource`] and [`Attestor`], answering peers' requests to co-sign by the
//! one rule of [`tickchain_anchor::cosign`] (`specs/encoding.md` §6.6) on a bounded worker off
//! the event loop, and the `anchors` tree (`chain_id u64 | to u64` → the anchor record as JSON).
//! Never: decides ranges or sends transactions (the relayer does), reads the store or hashes
//! ticks on the caller's thread when a peer asks ([`Anchoring::submit`] only queues), or sizes
//! anything by a peer's numbers before the rule bounded them.
//!
//! ```text
//! peer 0x72 ─▶ Shell::on_attest ─▶ Anchoring::submit   shape check, one job per peer, queue
//!                                        │ (full or busy: dropped and counted)
//!                                        ▼
//!              cosign worker ─▶ spawn_blocking(Cosigner::answer)   position, bounded read, sign
//!                                        │
//!              Shell::run ◀─ Anchoring::next_outgoing ◀─ reply 0x73 ─▶ transport.send(peer)
//! ```

use super::records;
use crate::config::AnchorSection;
use crate::store::{ChainStore, Store};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tickchain_anchor::{
    AnchorPath, AnchorRecord, AttestationKey, Attestor, BoxError, ChainHeads, CosignRule,
    FinalTick, Range, Refusal, RelayEvent, Relayer, TickSource,
};
use tickchain_consensus::peer::AttestMessage;
use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress, EvmSignature};
use tickchain_sdk::{Genesis, Hash, Height, NodeId};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

/// The sled chain as the relayer's tick source.
pub struct StoreTicks {
    store: Store,
    genesis_hash: Hash,
}

#[async_trait]
impl TickSource for StoreTicks {
    async fn final_height(&self) -> Result<Height, BoxError> {
        Ok(self.store.tip()?.map_or(Height(0), |(h, _)| h))
    }

    async fn final_ticks(&self, from: Height, to: Height) -> Result<Vec<FinalTick>, BoxError> {
        if from.0 == 0 || from > to {
            return Err(format!("expected 1 <= from <= to, found {}..={}", from.0, to.0).into());
        }
        final_ticks(&self.store, &self.genesis_hash, Range { from, to })
    }
}

/// The final ticks of `range`, every height present and in order; reads at most `range.len()`
/// records (callers bound it: the relayer by its cadence, a co-sign request by the rule).
fn final_ticks(
    store: &Store,
    genesis_hash: &Hash,
    range: Range,
) -> Result<Vec<FinalTick>, BoxError> {
    let limit = usize::try_from(range.len())?;
    let mut out = Vec::new();
    for (h, bytes) in store.finals_from(range.from, limit)? {
        if h.0 != range.from.0 + out.len() as u64 {
            return Err(format!(
                "expected final tick {} in {range}, found {}",
                range.from.0 + out.len() as u64,
                h.0
            )
            .into());
        }
        let t = records::decode_final(&bytes)?;
        out.push(FinalTick {
            height: h,
            second: t.tick.second,
            hash: t.tick.hash(genesis_hash),
        });
    }
    if out.len() as u64 != range.len() {
        return Err(format!(
            "expected {} final ticks for {range}, found {}",
            range.len(),
            out.len()
        )
        .into());
    }
    Ok(out)
}

type Key = (u64, EvmAddress, u64, u64, Hash);

fn key(domain: &AnchorDomain, anchor: &Anchor) -> Key {
    (
        domain.chain_id,
        domain.contract,
        anchor.from.0,
        anchor.to.0,
        anchor.root,
    )
}

/// Anchors we are gathering co-signatures for, at most this many at once (the oldest request is
/// forgotten first; the relayer asks again for what it still needs).
const MAX_GATHERING: usize = 64;

/// Co-signatures per anchor we asked the ring to co-sign, oldest request first.
#[derive(Default)]
pub struct Gathered {
    map: HashMap<Key, Vec<(EvmAddress, EvmSignature)>>,
    order: std::collections::VecDeque<Key>,
}

impl Gathered {
    /// Starts gathering for `key` (our own request), forgetting the oldest request if full.
    fn asked(&mut self, key: Key) -> &mut Vec<(EvmAddress, EvmSignature)> {
        if !self.map.contains_key(&key) {
            if self.order.len() >= MAX_GATHERING
                && let Some(oldest) = self.order.pop_front()
            {
                self.map.remove(&oldest);
            }
            self.order.push_back(key);
        }
        self.map.entry(key).or_default()
    }
}

/// Co-signatures gathered from the ring, and the way out to ask for more.
pub struct RingAttestor {
    key: AttestationKey,
    gathered: Mutex<Gathered>,
    ask: mpsc::UnboundedSender<Vec<u8>>,
}

impl RingAttestor {
    /// An attestor signing with `key` and asking the ring through `ask`.
    pub fn new(key: AttestationKey, ask: mpsc::UnboundedSender<Vec<u8>>) -> RingAttestor {
        RingAttestor {
            key,
            gathered: Mutex::new(Gathered::default()),
            ask,
        }
    }

    /// Records a peer's co-signature for an anchor we asked the ring about (the relayer checks
    /// it recovers to its address). A reply for anything else is ignored: a peer cannot fill
    /// the table, or push out the anchors we are gathering for. Returns whether it was kept.
    pub fn on_reply(
        &self,
        domain: &AnchorDomain,
        anchor: &Anchor,
        signed: (EvmAddress, EvmSignature),
    ) -> bool {
        let mut g = self.gathered.lock().expect("attestor lock");
        let Some(list) = g.map.get_mut(&key(domain, anchor)) else {
            return false;
        };
        if !list.iter().any(|(a, _)| *a == signed.0) {
            list.push(signed);
        }
        true
    }
}

#[async_trait]
impl Attestor for RingAttestor {
    async fn attest(
        &self,
        domain: &AnchorDomain,
        anchor: &Anchor,
    ) -> Result<Vec<(EvmAddress, EvmSignature)>, BoxError> {
        // The relayer built `anchor` from our own final ticks: we sign it, and ask the ring.
        let own = self.key.attest(&anchor.digest(domain));
        {
            let mut g = self.gathered.lock().expect("attestor lock");
            let list = g.asked(key(domain, anchor));
            if !list.iter().any(|(a, _)| *a == own.0) {
                list.push(own);
            }
        }
        let _ = self.ask.send(
            AttestMessage::Request {
                domain: *domain,
                anchor: *anchor,
            }
            .encode(),
        );
        Ok(self
            .gathered
            .lock()
            .expect("attestor lock")
            .map
            .get(&key(domain, anchor))
            .cloned()
            .unwrap_or_default())
    }
}

/// The co-sign queue (and the reply queue) hold the ring's size in entries, at least this many:
/// with one outstanding request per peer, more are never needed.
const MIN_COSIGN_QUEUE: usize = 4;

/// Counters of the co-sign worker (all only grow).
#[derive(Debug, Default)]
pub struct CosignStats {
    /// Requests handed to the worker.
    pub queued: AtomicU64,
    /// Requests answered with a co-signature.
    pub signed: AtomicU64,
    /// Requests refused by the rule (shape, position or content) or failed on a store error.
    pub refused: AtomicU64,
    /// Requests dropped because the same peer already had one outstanding.
    pub dropped_busy: AtomicU64,
    /// Requests or replies dropped because a queue was full.
    pub dropped_full: AtomicU64,
}

/// What the event loop sends for anchoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A request to co-sign, for every peer.
    Broadcast(Vec<u8>),
    /// A co-signature for the peer that asked.
    Reply(NodeId, Vec<u8>),
}

/// One peer's request, waiting for the worker.
#[derive(Debug)]
struct Job {
    from: NodeId,
    domain: AnchorDomain,
    anchor: Anchor,
}

/// Why a co-sign request got no reply.
#[derive(Debug, thiserror::Error)]
enum CosignError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("store: {0}")]
    Store(BoxError),
}

/// Answers co-sign requests (on the worker, never on the event loop).
struct Cosigner {
    key: AttestationKey,
    store: Store,
    genesis_hash: Hash,
    rule: CosignRule,
    heads: ChainHeads,
    anchors: sled::Tree,
}

impl Cosigner {
    /// The co-signature reply to a peer's request for `anchor` on `domain`, if the one
    /// co-signing rule (`specs/encoding.md` §6.6, [`tickchain_anchor::cosign`]) admits it: the
    /// shape before anything is read, then the position against our final tip and the newest
    /// anchored height we know, then the content against our own final ticks, read with the
    /// bound the shape check set.
    fn answer(&self, domain: &AnchorDomain, anchor: &Anchor) -> Result<Vec<u8>, CosignError> {
        let range = self.rule.shape(anchor.from, anchor.to)?;
        let tip = self
            .store
            .tip()
            .map_err(|e| CosignError::Store(e.into()))?
            .map_or(Height(0), |(h, _)| h);
        self.rule.position(range, tip, self.heads.get(domain), || {
            self.stored_anchor_ends_at(domain, Height(range.from.0 - 1))
        })?;
        let ticks =
            final_ticks(&self.store, &self.genesis_hash, range).map_err(CosignError::Store)?;
        let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash).collect();
        let second = ticks.last().map(|t| t.second).unwrap_or_default();
        let ours = Anchor::over_ticks(range.from, range.to, second, &hashes)
            .map_err(|e| CosignError::Store(e.into()))?;
        if ours != *anchor {
            return Err(Refusal::NotOurs { range }.into());
        }
        let (address, signature) = self.key.attest(&anchor.digest(domain));
        Ok(AttestMessage::Reply {
            domain: *domain,
            anchor: *anchor,
            address,
            signature,
        }
        .encode())
    }

    /// True if we stored a confirmed anchor of `domain`'s contract ending at `height` (a read
    /// error counts as no).
    fn stored_anchor_ends_at(&self, domain: &AnchorDomain, height: Height) -> bool {
        match self.anchors.get(record_key(domain.chain_id, height)) {
            Ok(Some(v)) => serde_json::from_slice::<AnchorRecord>(&v)
                .is_ok_and(|r| r.contract == domain.contract && r.anchor.to == height),
            _ => false,
        }
    }
}

/// The way into the co-sign worker: one outstanding request per peer, a bounded queue.
struct CosignQueue {
    rule: CosignRule,
    jobs: mpsc::Sender<Job>,
    busy: Arc<[AtomicBool]>,
    stats: Arc<CosignStats>,
}

impl CosignQueue {
    fn new(rule: CosignRule, nodes: usize) -> (CosignQueue, mpsc::Receiver<Job>) {
        let (jobs, rx) = mpsc::channel(nodes.max(MIN_COSIGN_QUEUE));
        let busy = (0..nodes).map(|_| AtomicBool::new(false)).collect();
        let queue = CosignQueue {
            rule,
            jobs,
            busy,
            stats: Arc::default(),
        };
        (queue, rx)
    }

    /// Queues `from`'s request unless its shape is refused, `from` already has one waiting or
    /// being answered, or the queue is full. Never blocks or reads the store.
    fn submit(&self, from: NodeId, domain: AnchorDomain, anchor: Anchor) {
        if let Err(refusal) = self.rule.shape(anchor.from, anchor.to) {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
            warn!(peer = %from, %refusal, "refusing to co-sign");
            return;
        }
        let Some(busy) = self.busy.get(from.index()) else {
            return;
        };
        if busy.swap(true, Ordering::AcqRel) {
            self.stats.dropped_busy.fetch_add(1, Ordering::Relaxed);
            return;
        }
        match self.jobs.try_send(Job {
            from,
            domain,
            anchor,
        }) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                busy.store(false, Ordering::Release);
                self.stats.dropped_full.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The co-sign worker: answers one request at a time on the blocking pool, and hands each
/// reply to the event loop through `replies`. Ends when the queue's sender is dropped.
async fn cosign_worker(
    cosigner: Arc<Cosigner>,
    mut jobs: mpsc::Receiver<Job>,
    replies: mpsc::Sender<(NodeId, Vec<u8>)>,
    busy: Arc<[AtomicBool]>,
    stats: Arc<CosignStats>,
) {
    while let Some(job) = jobs.recv().await {
        let peer = job.from;
        let c = cosigner.clone();
        let answered =
            tokio::task::spawn_blocking(move || c.answer(&job.domain, &job.anchor)).await;
        if let Some(b) = busy.get(peer.index()) {
            b.store(false, Ordering::Release);
        }
        match answered {
            Ok(Ok(reply)) => {
                stats.signed.fetch_add(1, Ordering::Relaxed);
                if replies.try_send((peer, reply)).is_err() {
                    stats.dropped_full.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Err(e)) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                debug!(peer = %peer, error = %e, "not co-signing");
            }
            Err(e) => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                warn!(peer = %peer, error = %e, "co-sign task failed");
            }
        }
    }
}

/// The node's anchoring, once started.
pub struct Anchoring {
    /// The attestor (peers' replies go to it).
    pub attestor: Arc<RingAttestor>,
    /// Requests to broadcast to the ring.
    requests: mpsc::UnboundedReceiver<Vec<u8>>,
    /// Co-signatures the worker made for peers.
    replies: mpsc::Receiver<(NodeId, Vec<u8>)>,
    queue: CosignQueue,
}

impl Anchoring {
    /// Hands a peer's request to co-sign to the worker (the rule: `specs/encoding.md` §6.6);
    /// the reply, if any, comes out of [`Anchoring::next_outgoing`]. Never blocks, reads the
    /// store or hashes: safe on the event loop whatever the peer sent.
    pub fn submit(&self, from: NodeId, domain: AnchorDomain, anchor: Anchor) {
        self.queue.submit(from, domain, anchor);
    }

    /// The next request to broadcast or co-signature to send back (`None` once both sources
    /// are closed).
    pub async fn next_outgoing(&mut self) -> Option<Outgoing> {
        tokio::select! {
            Some(request) = self.requests.recv() => Some(Outgoing::Broadcast(request)),
            Some((to, reply)) = self.replies.recv() => Some(Outgoing::Reply(to, reply)),
            else => None,
        }
    }

    /// The co-sign worker's counters.
    pub fn cosign_stats(&self) -> &CosignStats {
        &self.queue.stats
    }
}

/// Opens the `anchors` tree.
fn anchors_tree(store: &Store) -> Result<sled::Tree, sled::Error> {
    store.db().open_tree("anchors")
}

/// Each anchored chain's configured name and cadence, by chain id, as its relayer reports
/// anchors (chain ids come from the chains themselves, not the config): `GET /v1/anchors`.
pub type ChainNames = Arc<std::sync::Mutex<std::collections::BTreeMap<u64, (String, u64)>>>;

/// Starts one relayer per chain in `section` on the current runtime, each stopping when
/// `stop` turns true, each recording its chain's name and cadence in `names` as it anchors.
/// Fails if the keys cannot be read or do not match genesis.
pub fn start(
    section: &AnchorSection,
    store: &Store,
    genesis: &Genesis,
    me: NodeId,
    names: ChainNames,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Anchoring, String> {
    let rule = section.cosign_rule()?;
    let key = AttestationKey::read(&section.attest_key_file)
        .map_err(|e| format!("anchor.attest-key-file: {e}"))?;
    let bound = genesis.nodes[me.index()]
        .attestation
        .as_ref()
        .map(|a| a.address);
    if bound != Some(key.address()) {
        return Err(format!(
            "anchor.attest-key-file {} is not the attestation key genesis binds to this node",
            section.attest_key_file.display()
        ));
    }
    let gas = if section.chains.is_empty() {
        None
    } else {
        Some(section.gas_signer()?)
    };
    let (ask, requests) = mpsc::unbounded_channel();
    let attestor = Arc::new(RingAttestor::new(key.clone(), ask));
    let source = Arc::new(StoreTicks {
        store: store.clone(),
        genesis_hash: genesis.hash,
    });
    let tree = anchors_tree(store).map_err(|e| e.to_string())?;
    let heads = ChainHeads::default();
    for chain in &section.chains {
        let (events, mut rx) = mpsc::unbounded_channel();
        let name = chain.name.clone();
        let relayer = Relayer::new(
            chain.clone(),
            me,
            genesis.n() as u16,
            gas.clone().expect("read when chains are configured"),
            source.clone(),
            attestor.clone(),
            events,
        )
        .map_err(|e| format!("anchor chain {name}: {e}"))?
        .reporting_heads(heads.clone());
        let mut stopped = stop.clone();
        tokio::spawn(relayer.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let tree = tree.clone();
        let (names, cadence) = (names.clone(), chain.cadence);
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                match event {
                    RelayEvent::Anchored(record) => {
                        names
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(record.chain_id, (name.clone(), cadence));
                        if let Err(e) = store_record(&tree, &record) {
                            warn!(chain = %name, error = %e, "cannot store an anchor record");
                        } else {
                            info!(
                                chain = %name,
                                from = record.anchor.from.0,
                                to = record.anchor.to.0,
                                block = record.block_number,
                                "anchored"
                            );
                        }
                    }
                    other => tracing::debug!(chain = %name, ?other, "anchoring"),
                }
            }
        });
    }
    let cosigner = Arc::new(Cosigner {
        key,
        store: store.clone(),
        genesis_hash: genesis.hash,
        rule,
        heads,
        anchors: tree,
    });
    let (queue, jobs) = CosignQueue::new(rule, genesis.n());
    let (reply_tx, replies) = mpsc::channel(genesis.n().max(MIN_COSIGN_QUEUE));
    tokio::spawn(cosign_worker(
        cosigner,
        jobs,
        reply_tx,
        queue.busy.clone(),
        queue.stats.clone(),
    ));
    Ok(Anchoring {
        attestor,
        requests,
        replies,
        queue,
    })
}

fn record_key(chain_id: u64, to: Height) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&chain_id.to_be_bytes());
    k[8..].copy_from_slice(&to.0.to_be_bytes());
    k
}

fn store_record(tree: &sled::Tree, record: &AnchorRecord) -> Result<(), BoxError> {
    tree.insert(
        record_key(record.chain_id, record.anchor.to),
        serde_json::to_vec(record)?,
    )?;
    tree.flush()?;
    Ok(())
}

/// Where the tick at `height` is anchored: one path per chain with a stored anchor record
/// whose range holds it (chains in id order).
pub fn anchor_paths(store: &Store, height: Height) -> Result<Vec<AnchorPath>, BoxError> {
    let tree = anchors_tree(store)?;
    let seek = |chain: u64| record_key(chain, height);
    let mut out = Vec::new();
    let mut chain = 0u64;
    // The first record of `chain` whose range ends at or after `height`; when the seek lands
    // on a later chain, seek again within that chain.
    while let Some((k, v)) = tree.range(seek(chain)..).next().transpose()? {
        let found = u64::from_be_bytes(k[..8].try_into().expect("16-byte key"));
        if found != chain {
            chain = found;
            continue;
        }
        let record: AnchorRecord = serde_json::from_slice(&v)?;
        out.extend(record.path(height));
        let Some(next) = chain.checked_add(1) else {
            break;
        };
        chain = next;
    }
    Ok(out)
}

/// The newest stored anchor record of each chain, by chain id.
pub fn latest_per_chain(store: &Store) -> Result<Vec<AnchorRecord>, BoxError> {
    let tree = anchors_tree(store)?;
    let mut out = Vec::new();
    let mut from = record_key(0, Height(0));
    // Each round finds the next chain with records, then its last record (keys sort by chain,
    // then by `to`).
    while let Some((k, _)) = tree.range(from..).next().transpose()? {
        let chain = u64::from_be_bytes(k[..8].try_into().expect("16-byte key"));
        let last = tree
            .range(record_key(chain, Height(0))..=record_key(chain, Height(u64::MAX)))
            .next_back()
            .transpose()?;
        if let Some((_, v)) = last {
            out.push(serde_json::from_slice(&v)?);
        }
        let Some(next) = chain.checked_add(1) else {
            break;
        };
        from = record_key(next, Height(0));
    }
    Ok(out)
}

/// The sdk's proof form of an anchor path.
pub fn to_proof(path: AnchorPath) -> tickchain_sdk::AnchorProof {
    tickchain_sdk::AnchorProof {
        chain_id: path.chain_id,
        contract: path.contract,
        anchor: path.anchor,
        tx_hash: tickchain_sdk::EvmTxHash(path.tx_hash.0),
        block_number: path.block_number,
        path: path.path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{B256, TxHash};
    use tickchain_consensus::messages::ChainTick;
    use tickchain_sdk::attest::recover_signer;
    use tickchain_sdk::{Second, Tick, View};

    const TIP: u64 = 20;
    const MAX: u64 = 8;
    const GENESIS: Hash = Hash([7; 32]);

    fn domain() -> AnchorDomain {
        AnchorDomain {
            chain_id: 31337,
            contract: EvmAddress([0xaa; 20]),
        }
    }

    /// A fresh store holding final ticks 1..=TIP (second 1000 + height).
    fn chain(name: &str) -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("tc-cosign-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open(&dir).unwrap();
        let mut prev = GENESIS;
        for h in 1..=TIP {
            let tick = Tick {
                height: Height(h),
                view: View(h),
                second: Second(1000 + h),
                prev_hash: prev,
                batch_root: Hash([0; 32]),
                batch_count: 0,
                proposer: NodeId((h % 4) as u16),
            };
            let hash = tick.hash(&GENESIS);
            let t = ChainTick {
                tick,
                certificate: None,
            };
            store
                .append_final(
                    Height(h),
                    Second(1000 + h),
                    &hash,
                    &records::encode_final(&t),
                )
                .unwrap();
            prev = hash;
        }
        (store, dir)
    }

    fn cosigner(store: &Store) -> Cosigner {
        Cosigner {
            key: AttestationKey::random(),
            store: store.clone(),
            genesis_hash: GENESIS,
            rule: CosignRule { max_range: MAX },
            heads: ChainHeads::default(),
            anchors: anchors_tree(store).unwrap(),
        }
    }

    /// The anchor over our own final ticks `from..=to`.
    fn ours(store: &Store, from: u64, to: u64) -> Anchor {
        let range = Range {
            from: Height(from),
            to: Height(to),
        };
        let ticks = final_ticks(store, &GENESIS, range).unwrap();
        let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash).collect();
        Anchor::over_ticks(range.from, range.to, ticks.last().unwrap().second, &hashes).unwrap()
    }

    /// A request for `from..=to` with whatever second and root (never read when refused).
    /// A faulty peer floods co-sign replies for anchors nobody asked about: none is kept, and
    /// the anchor we are gathering for keeps its co-signatures (the old table was cleared
    /// whole once it held 1,024 keys, so such a flood wiped every gathered signature).
    #[test]
    fn unsolicited_co_sign_replies_are_ignored_and_cannot_push_out_what_we_gather() {
        let (ask, mut asks) = mpsc::unbounded_channel();
        let attestor = RingAttestor::new(AttestationKey::random(), ask);
        let ours = asked(1, 4);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let own = rt.block_on(attestor.attest(&domain(), &ours)).unwrap();
        assert_eq!(own.len(), 1, "our own signature");
        assert!(asks.try_recv().is_ok(), "the ring is asked");
        let peer = AttestationKey::random();
        for i in 0..5_000u64 {
            let junk = asked(100 + i, 200 + i);
            let signed = (peer.address(), peer.attest(&junk.digest(&domain())).1);
            assert!(
                !attestor.on_reply(&domain(), &junk, signed),
                "reply {i} kept"
            );
        }
        let signed = (peer.address(), peer.attest(&ours.digest(&domain())).1);
        assert!(attestor.on_reply(&domain(), &ours, signed));
        let gathered = rt.block_on(attestor.attest(&domain(), &ours)).unwrap();
        assert_eq!(gathered.len(), 2, "ours and the peer's, after the flood");
    }

    fn asked(from: u64, to: u64) -> Anchor {
        Anchor {
            from: Height(from),
            to: Height(to),
            second: Second(1),
            root: Hash([1; 32]),
        }
    }

    fn refusal(result: Result<Vec<u8>, CosignError>) -> Refusal {
        match result {
            Err(CosignError::Refused(r)) => r,
            Err(e) => panic!("expected a refusal, got {e}"),
            Ok(_) => panic!("expected a refusal, got a co-signature"),
        }
    }

    fn record(store: &Store, domain: AnchorDomain, from: u64, to: u64) -> AnchorRecord {
        AnchorRecord {
            chain_id: domain.chain_id,
            contract: domain.contract,
            anchor: ours(store, from, to),
            tx_hash: TxHash::ZERO,
            block_number: 1,
            block_hash: B256::ZERO,
            sender: EvmAddress([1; 20]),
            tick_hashes: Vec::new(),
        }
    }

    #[test]
    fn a_hostile_co_sign_range_gets_no_reply_and_no_panic_and_a_valid_one_is_signed() {
        let (store, dir) = chain("hostile");
        let c = cosigner(&store);
        let d = domain();
        assert!(matches!(
            refusal(c.answer(&d, &asked(1, u64::MAX))),
            Refusal::TooLong { .. }
        ));
        assert!(matches!(
            refusal(c.answer(&d, &asked(0, u64::MAX))),
            Refusal::Shape { .. }
        ));
        assert!(matches!(
            refusal(c.answer(&d, &asked(5, 3))),
            Refusal::Shape { .. }
        ));
        // Inside our chain and well formed, but longer than max-cosign-range.
        assert!(matches!(
            refusal(c.answer(&d, &ours(&store, 1, MAX + 1))),
            Refusal::TooLong { .. }
        ));

        let anchor = ours(&store, 1, 6);
        let reply = c
            .answer(&d, &anchor)
            .expect("the first range of our chain is signed");
        let AttestMessage::Reply {
            domain: rd,
            anchor: ra,
            address,
            signature,
        } = AttestMessage::decode(&reply).unwrap()
        else {
            panic!("expected a co-signature");
        };
        assert_eq!((rd, ra), (d, anchor));
        assert_eq!(address, c.key.address());
        assert_eq!(
            recover_signer(&anchor.digest(&d).0, &signature).unwrap(),
            address
        );
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn an_anchor_that_is_not_our_chain_or_beyond_our_tip_is_refused() {
        let (store, dir) = chain("not-ours");
        let c = cosigner(&store);
        let mut forged = ours(&store, 1, 6);
        forged.root = Hash([9; 32]);
        assert!(matches!(
            refusal(c.answer(&domain(), &forged)),
            Refusal::NotOurs { .. }
        ));
        assert!(matches!(
            refusal(c.answer(&domain(), &asked(TIP - 2, TIP + 1))),
            Refusal::BeyondTip { .. }
        ));
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_range_is_co_signed_only_one_above_the_newest_anchored_height_we_know() {
        let (store, dir) = chain("position");
        let c = cosigner(&store);
        let d = domain();
        // Nothing known about the chain: only its first range.
        assert!(matches!(
            refusal(c.answer(&d, &ours(&store, 7, 12))),
            Refusal::UnknownHead { from: 7 }
        ));
        // A confirmed anchor of this contract ending at 6 vouches for 7; one of another
        // contract on the same chain id does not.
        store_record(&c.anchors, &record(&store, d, 1, 6)).unwrap();
        assert!(c.answer(&d, &ours(&store, 7, 12)).is_ok());
        let other = AnchorDomain {
            contract: EvmAddress([0xbb; 20]),
            ..d
        };
        store_record(&c.anchors, &record(&store, other, 7, 12)).unwrap();
        assert!(matches!(
            refusal(c.answer(&d, &ours(&store, 13, 18))),
            Refusal::UnknownHead { from: 13 }
        ));
        // Our relayer read the contract: exactly its next cadence range.
        c.heads.set(
            d,
            tickchain_anchor::Head {
                latest: Height(12),
                cadence: 6,
            },
        );
        assert!(c.answer(&d, &ours(&store, 13, 18)).is_ok());
        assert!(matches!(
            refusal(c.answer(&d, &ours(&store, 7, 12))),
            Refusal::NotNext { expected: 13, .. }
        ));
        assert!(matches!(
            refusal(c.answer(&d, &ours(&store, 13, 20))),
            Refusal::NotCadence { len: 8, cadence: 6 }
        ));
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn max_cosign_range_below_a_chain_cadence_is_refused_naming_the_key() {
        let mut section = AnchorSection {
            attest_key_file: "attest.key".into(),
            gas_key_file: None,
            max_cosign_range: 5,
            chains: vec![tickchain_anchor::ChainConfig::new(
                "eth",
                "http://127.0.0.1:8545",
                EvmAddress([1; 20]),
                6,
            )],
        };
        let e = section.cosign_rule().unwrap_err();
        assert!(
            e.contains("anchor.max-cosign-range") && e.contains("cadence 6"),
            "{e}"
        );
        section.max_cosign_range = 0;
        section.chains.clear();
        assert!(section.cosign_rule().is_err());
        section.max_cosign_range = 6;
        assert_eq!(section.cosign_rule(), Ok(CosignRule { max_range: 6 }));
    }

    #[test]
    fn a_peer_has_at_most_one_request_outstanding_and_a_full_queue_drops_and_counts() {
        let rule = CosignRule { max_range: MAX };
        let (queue, _jobs) = CosignQueue::new(rule, 4);
        for _ in 0..5 {
            queue.submit(NodeId(1), domain(), asked(1, 6));
        }
        queue.submit(NodeId(2), domain(), asked(1, u64::MAX));
        let s = &queue.stats;
        assert_eq!(s.queued.load(Ordering::Relaxed), 1);
        assert_eq!(s.dropped_busy.load(Ordering::Relaxed), 4);
        assert_eq!(
            s.refused.load(Ordering::Relaxed),
            1,
            "shape refused on submit"
        );

        // A queue of one, filled by peer 0: peer 3 is dropped, and may ask again later.
        let (jobs, mut rx) = mpsc::channel(1);
        let small = CosignQueue {
            rule,
            jobs,
            busy: (0..4).map(|_| AtomicBool::new(false)).collect(),
            stats: Arc::default(),
        };
        small.submit(NodeId(0), domain(), asked(1, 6));
        small.submit(NodeId(3), domain(), asked(1, 6));
        assert_eq!(small.stats.dropped_full.load(Ordering::Relaxed), 1);
        assert!(!small.busy[3].load(Ordering::Relaxed));
        assert_eq!(rx.try_recv().unwrap().from, NodeId(0));
        small.submit(NodeId(3), domain(), asked(1, 6));
        assert_eq!(rx.try_recv().unwrap().from, NodeId(3));
    }

    #[test]
    fn the_worker_replies_off_the_loop_and_frees_the_peer() {
        let (store, dir) = chain("worker");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let c = Arc::new(cosigner(&store));
            let (queue, jobs) = CosignQueue::new(c.rule, 4);
            let (reply_tx, replies) = mpsc::channel(4);
            tokio::spawn(cosign_worker(
                c.clone(),
                jobs,
                reply_tx,
                queue.busy.clone(),
                queue.stats.clone(),
            ));
            let (ask, requests) = mpsc::unbounded_channel();
            let mut a = Anchoring {
                attestor: Arc::new(RingAttestor::new(c.key.clone(), ask)),
                requests,
                replies,
                queue,
            };
            // Refused by the worker (content), then a valid one from the same peer.
            a.submit(NodeId(2), domain(), asked(1, 6));
            let wait = std::time::Duration::from_secs(10);
            for _ in 0..100 {
                if !a.queue.busy[2].load(Ordering::Acquire) {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            a.submit(NodeId(2), domain(), ours(&store, 1, 6));
            let out = tokio::time::timeout(wait, a.next_outgoing())
                .await
                .expect("a reply in time");
            let Some(Outgoing::Reply(to, bytes)) = out else {
                panic!("expected a reply, got {out:?}");
            };
            assert_eq!(to, NodeId(2));
            assert!(matches!(
                AttestMessage::decode(&bytes),
                Ok(AttestMessage::Reply { .. })
            ));
            let stats = a.cosign_stats();
            assert_eq!(stats.signed.load(Ordering::Relaxed), 1);
            assert_eq!(stats.refused.load(Ordering::Relaxed), 1);
        });
        drop(store);
        let _ = std::fs::remove_dir_all(dir);
    }
}
