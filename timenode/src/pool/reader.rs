//! Serving proofs: digest → location → sealed batch → the final tick that committed to it →
//! its certificate (or the certified descendant), assembled into an sdk `Proof`.
//!
//! Owns: proof assembly from the pool's trees and the chain, and recording which final tick
//! committed to each of this node's batches. Never: signs anything or changes the chain.

use super::PoolError;
use super::cache::{BatchTree, TreeCache};
use super::layout::{self, Location, PoolTrees};
use super::writer::receipt;
use crate::node::records;
use crate::store::{ChainStore, Store};
use sled::Transactional;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tickchain_api::ProofStatus;
use tickchain_sdk::proof::{MAX_DESCENDANTS, PROOF_VERSION};
use tickchain_sdk::{Batch, Digest, Hash, Height, NodeId, Proof, Second};

/// What the digests of one batch share when their proofs are read.
enum BatchState {
    /// Not in a final tick (with a stored certificate) yet.
    Pending,
    /// In a final tick.
    Final(Box<FinalBatch>),
}

/// A final batch: everything of a proof but the digest's own leaf and path.
struct FinalBatch {
    batch: Batch,
    tick_path: tickchain_sdk::merkle::MerklePath,
    tick: tickchain_sdk::Tick,
    descendants: Vec<tickchain_sdk::Tick>,
    certificate: tickchain_sdk::FinalityCertificate,
    tree: Arc<BatchTree>,
}

/// Read side of the pool (cheap to clone; safe to use from many tasks at once).
#[derive(Clone)]
pub struct PoolReader {
    pub(super) trees: PoolTrees,
    pub(super) store: Store,
    pub(super) me: NodeId,
    pub(super) genesis_hash: Hash,
    pub(super) cache: Arc<TreeCache>,
    pub(super) depth: Arc<AtomicU64>,
}

impl PoolReader {
    /// Digests accepted and not yet in a final tick.
    pub fn depth(&self) -> u64 {
        self.depth.load(Ordering::Relaxed)
    }

    /// Where `digest` stands: a finished proof, pending, or unknown to this node.
    pub fn status(&self, digest: &Digest) -> Result<ProofStatus, PoolError> {
        let mut one = self.statuses(std::slice::from_ref(digest))?;
        Ok(one.pop().expect("one status per digest"))
    }

    /// Where each of `digests` stands, in order. Proofs are assembled per batch: the batch's
    /// tick, its path in the tick, the certificate and the batch tree are read once for all
    /// the digests of one batch.
    pub fn statuses(&self, digests: &[Digest]) -> Result<Vec<ProofStatus>, PoolError> {
        let mut states: BTreeMap<Second, Arc<BatchState>> = BTreeMap::new();
        let mut out = Vec::with_capacity(digests.len());
        for digest in digests {
            let Some(loc) = self.trees.digests.get(digest.0)? else {
                out.push(ProofStatus::Unknown);
                continue;
            };
            let loc = Location::from_bytes(&loc)?;
            let state = match states.get(&loc.second) {
                Some(state) => state.clone(),
                None => match self.batch_state(loc.second) {
                    Ok(state) => states.entry(loc.second).or_insert(Arc::new(state)).clone(),
                    // Retention deleted the batch while we read it: the digest is unknown now.
                    Err(_) if self.trees.digests.get(digest.0)?.is_none() => {
                        out.push(ProofStatus::Unknown);
                        continue;
                    }
                    Err(e) => return Err(e),
                },
            };
            out.push(self.assemble(digest, loc, &state)?);
        }
        Ok(out)
    }

    /// What every digest of `second`'s batch shares: pending, or the final tick that carries
    /// the batch with its certificate, the batch's path in it and the batch tree.
    fn batch_state(&self, second: Second) -> Result<BatchState, PoolError> {
        let key = layout::second_key(second);
        let (Some(sealed), Some(included)) =
            (self.trees.sealed.get(key)?, self.trees.included.get(key)?)
        else {
            return Ok(BatchState::Pending);
        };
        let batch = layout::decode_sealed(self.me, second, &sealed)?;
        let (height, batches) = layout::decode_included(&included)?;
        let Some(at) = batches.iter().position(|b| *b == batch) else {
            return Err(PoolError::Corrupt(format!(
                "tick {height} is recorded for batch {} but does not carry it",
                second.0
            )));
        };
        let Some((tick, descendants, certificate)) = self.final_with_certificate(height)? else {
            return Ok(BatchState::Pending); // final only through a descendant not stored yet
        };
        let tick_path = tickchain_sdk::batch::tick_tree(&batches, &self.genesis_hash)
            .path(at as u32)
            .expect("position in range");
        let tree = self.batch_tree(second, &batch.root)?;
        Ok(BatchState::Final(Box::new(FinalBatch {
            batch,
            tick_path,
            tick,
            descendants,
            certificate,
            tree,
        })))
    }

    /// `digest`'s status from its location and its batch's state.
    fn assemble(
        &self,
        digest: &Digest,
        loc: Location,
        state: &BatchState,
    ) -> Result<ProofStatus, PoolError> {
        let f = match state {
            BatchState::Pending => {
                return Ok(ProofStatus::Pending(receipt(self.me, *digest, loc.second)));
            }
            BatchState::Final(f) => f,
        };
        let Some((leaf_digest, salt)) = f.tree.leaves.get(loc.index as usize).copied() else {
            return Err(PoolError::Corrupt(format!(
                "batch {} has {} leaves, digest index {}",
                loc.second.0,
                f.tree.leaves.len(),
                loc.index
            )));
        };
        if leaf_digest != *digest {
            return Err(PoolError::Corrupt(format!(
                "leaf {} of batch {} holds another digest",
                loc.index, loc.second.0
            )));
        }
        Ok(ProofStatus::Ready(Box::new(Proof {
            version: PROOF_VERSION,
            genesis_hash: self.genesis_hash,
            digest: *digest,
            salt,
            batch_path: f.tree.tree.path(loc.index).expect("index checked"),
            batch: f.batch.clone(),
            tick_path: f.tick_path.clone(),
            tick: f.tick.clone(),
            descendants: f.descendants.clone(),
            certificate: f.certificate.clone(),
            anchors: Vec::new(),
        })))
    }

    /// The final tick at `height`, the ticks after it up to the first with its own
    /// certificate, and that certificate; `None` while the certified descendant is not stored.
    #[allow(clippy::type_complexity)]
    fn final_with_certificate(
        &self,
        height: Height,
    ) -> Result<
        Option<(
            tickchain_sdk::Tick,
            Vec<tickchain_sdk::Tick>,
            tickchain_sdk::FinalityCertificate,
        )>,
        PoolError,
    > {
        let rows = self.store.finals_from(height, MAX_DESCENDANTS + 1)?;
        let mut ticks = Vec::new();
        for (h, bytes) in rows {
            if h.0 != height.0 + ticks.len() as u64 {
                break;
            }
            let t = records::decode_final(&bytes).map_err(|e| PoolError::Corrupt(e.to_string()))?;
            ticks.push(t.tick);
            if let Some(cert) = t.certificate {
                let tick = ticks.remove(0);
                return Ok(Some((tick, ticks, cert)));
            }
        }
        Ok(None)
    }

    /// `second`'s batch tree, from the cache or rebuilt from `pool-leaves`.
    fn batch_tree(
        &self,
        second: Second,
        expected_root: &Hash,
    ) -> Result<Arc<BatchTree>, PoolError> {
        self.cache.get_or_build(second, || {
            let tree = Arc::new(BatchTree::new(read_batch_leaves(&self.trees, second)?));
            // A tree read while retention deletes the batch is partial: never serve or cache it.
            if tree.tree.root() != *expected_root {
                return Err(PoolError::Corrupt(format!(
                    "batch {} rebuilt to another root (deleted while read?)",
                    second.0
                )));
            }
            Ok(tree)
        })
    }

    /// Records that the final tick at `height`, whose batch leaves are `batches`, committed to
    /// this node's batch of `second`; returns whether that batch was still pending.
    pub fn mark_included(
        &self,
        second: Second,
        height: Height,
        batches: &[Batch],
    ) -> Result<bool, PoolError> {
        let key = layout::second_key(second);
        if self.trees.included.get(key)?.is_some() {
            return Ok(false); // already in an earlier final tick; keep the earliest
        }
        let Some(sealed) = self.trees.sealed.get(key)? else {
            return Ok(false); // pruned, or not ours
        };
        let batch = layout::decode_sealed(self.me, second, &sealed)?;
        if !batches.contains(&batch) {
            return Ok(false);
        }
        let value = layout::encode_included(height, batches);
        // Included and no longer pending together, or neither.
        let was_pending = (&self.trees.included, &self.trees.pending)
            .transaction(|(included, pending)| {
                included.insert(&key, value.as_slice())?;
                Ok::<bool, sled::transaction::ConflictableTransactionError<()>>(
                    pending.remove(&key)?.is_some(),
                )
            })
            .map_err(layout::transaction_error)?;
        self.trees.db.flush()?;
        if was_pending {
            let _ = self
                .depth
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                    Some(d.saturating_sub(u64::from(batch.count)))
                });
        }
        Ok(was_pending)
    }
}

/// Every leaf of `second`'s batch, in index order.
pub(super) fn read_batch_leaves(
    trees: &PoolTrees,
    second: Second,
) -> Result<Vec<(Digest, tickchain_sdk::Salt)>, PoolError> {
    let mut leaves = Vec::new();
    for kv in trees.leaves.range(layout::leaves_of(second)) {
        let (k, v) = kv?;
        let at = Location::from_bytes(&k)?;
        if at.index as usize != leaves.len() {
            return Err(PoolError::Corrupt(format!(
                "batch {} leaves jump from {} to {}",
                second.0,
                leaves.len(),
                at.index
            )));
        }
        leaves.extend(layout::read_leaves(&v)?);
    }
    Ok(leaves)
}
