//! The running node's anchoring: one relayer per configured chain, fed by the sled chain, with
//! co-signatures gathered from the ring, and every confirmed anchor stored for proof upgrades.
//!
//! Owns: the node's [`TickSource`] and [`Attestor`], answering peers' requests to co-sign (only
//! anchors that match this node's own final ticks), and the `anchors` tree (`chain_id u64 |
//! to u64` → the anchor record as JSON). Never: decides ranges or sends transactions (the
//! relayer does).

use super::records;
use crate::config::AnchorSection;
use crate::store::{ChainStore, Store};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tickchain_anchor::{
    AnchorPath, AnchorRecord, AttestationKey, Attestor, BoxError, FinalTick, RelayEvent, Relayer,
    TickSource,
};
use tickchain_consensus::peer::AttestMessage;
use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress, EvmSignature};
use tickchain_sdk::{Genesis, Hash, Height, NodeId};
use tokio::sync::mpsc;
use tracing::{info, warn};

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
        final_ticks(&self.store, &self.genesis_hash, from, to)
    }
}

fn final_ticks(
    store: &Store,
    genesis_hash: &Hash,
    from: Height,
    to: Height,
) -> Result<Vec<FinalTick>, BoxError> {
    let n = (to.0 + 1).saturating_sub(from.0) as usize;
    let mut out = Vec::with_capacity(n);
    for (h, bytes) in store.finals_from(from, n)? {
        let t = records::decode_final(&bytes)?;
        out.push(FinalTick {
            height: h,
            second: t.tick.second,
            hash: t.tick.hash(genesis_hash),
        });
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

/// Co-signatures gathered from the ring, and the way out to ask for more.
pub struct RingAttestor {
    key: AttestationKey,
    gathered: Mutex<HashMap<Key, Vec<(EvmAddress, EvmSignature)>>>,
    ask: mpsc::UnboundedSender<Vec<u8>>,
}

impl RingAttestor {
    /// Records a peer's co-signature (the relayer checks it recovers to its address).
    pub fn on_reply(
        &self,
        domain: &AnchorDomain,
        anchor: &Anchor,
        signed: (EvmAddress, EvmSignature),
    ) {
        let mut g = self.gathered.lock().expect("attestor lock");
        if g.len() > 1024 {
            g.clear(); // stale requests; the relayer asks again
        }
        let list = g.entry(key(domain, anchor)).or_default();
        if !list.iter().any(|(a, _)| *a == signed.0) {
            list.push(signed);
        }
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
        self.on_reply(domain, anchor, own);
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
            .get(&key(domain, anchor))
            .cloned()
            .unwrap_or_default())
    }
}

/// The node's anchoring, once started.
pub struct Anchoring {
    /// The attestor (peers' replies go to it).
    pub attestor: Arc<RingAttestor>,
    /// Requests to broadcast to the ring.
    pub requests: mpsc::UnboundedReceiver<Vec<u8>>,
    key: AttestationKey,
    store: Store,
    genesis_hash: Hash,
}

/// Opens the `anchors` tree.
fn anchors_tree(store: &Store) -> Result<sled::Tree, sled::Error> {
    store.db().open_tree("anchors")
}

/// Starts one relayer per chain in `section` on the current runtime, each stopping when
/// `stop` turns true. Fails if the keys cannot be read or do not match genesis.
pub fn start(
    section: &AnchorSection,
    store: &Store,
    genesis: &Genesis,
    me: NodeId,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<Anchoring, String> {
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
    let attestor = Arc::new(RingAttestor {
        key: key.clone(),
        gathered: Mutex::new(HashMap::new()),
        ask,
    });
    let source = Arc::new(StoreTicks {
        store: store.clone(),
        genesis_hash: genesis.hash,
    });
    let tree = anchors_tree(store).map_err(|e| e.to_string())?;
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
        .map_err(|e| format!("anchor chain {name}: {e}"))?;
        let mut stopped = stop.clone();
        tokio::spawn(relayer.run(async move {
            let _ = stopped.wait_for(|s| *s).await;
        }));
        let tree = tree.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                match event {
                    RelayEvent::Anchored(record) => {
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
    Ok(Anchoring {
        attestor,
        requests,
        key,
        store: store.clone(),
        genesis_hash: genesis.hash,
    })
}

fn store_record(tree: &sled::Tree, record: &AnchorRecord) -> Result<(), BoxError> {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&record.chain_id.to_be_bytes());
    k[8..].copy_from_slice(&record.anchor.to.0.to_be_bytes());
    tree.insert(k, serde_json::to_vec(record)?)?;
    tree.flush()?;
    Ok(())
}

/// Where the tick at `height` is anchored: one path per chain with a stored anchor record
/// whose range holds it (chains in id order).
pub fn anchor_paths(store: &Store, height: Height) -> Result<Vec<AnchorPath>, BoxError> {
    let tree = anchors_tree(store)?;
    let seek = |chain: u64| {
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&chain.to_be_bytes());
        k[8..].copy_from_slice(&height.0.to_be_bytes());
        k
    };
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

impl Anchoring {
    /// Answers a peer's request to co-sign: only an anchor over this node's own final ticks
    /// (same range, second and root) is signed. Returns the reply to send, if any.
    pub fn answer(&self, domain: &AnchorDomain, anchor: &Anchor) -> Option<Vec<u8>> {
        let ticks = final_ticks(&self.store, &self.genesis_hash, anchor.from, anchor.to).ok()?;
        let last = ticks.last()?;
        if ticks.len() as u64 != anchor.to.0.checked_sub(anchor.from.0)? + 1 {
            return None;
        }
        let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash).collect();
        let ours = Anchor::over_ticks(anchor.from, anchor.to, last.second, &hashes).ok()?;
        if ours != *anchor {
            warn!(
                from = anchor.from.0,
                to = anchor.to.0,
                "refusing to co-sign an anchor that is not our chain"
            );
            return None;
        }
        let (address, signature) = self.key.attest(&anchor.digest(domain));
        Some(
            AttestMessage::Reply {
                domain: *domain,
                anchor: *anchor,
                address,
                signature,
            }
            .encode(),
        )
    }
}
