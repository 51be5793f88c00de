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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tickchain_api::ProofStatus;
use tickchain_sdk::proof::{MAX_DESCENDANTS, PROOF_VERSION};
use tickchain_sdk::{Batch, Digest, Hash, Height, NodeId, Proof, Second};

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
        let Some(loc) = self.trees.digests.get(digest.0)? else {
            return Ok(ProofStatus::Unknown);
        };
        let loc = Location::from_bytes(&loc)?;
        let pending = || Ok(ProofStatus::Pending(receipt(self.me, *digest, loc.second)));
        let key = layout::second_key(loc.second);
        let (Some(sealed), Some(included)) =
            (self.trees.sealed.get(key)?, self.trees.included.get(key)?)
        else {
            return pending();
        };
        let batch = layout::decode_sealed(self.me, loc.second, &sealed)?;
        let (height, batches) = layout::decode_included(&included)?;
        let Some(at) = batches.iter().position(|b| *b == batch) else {
            return Err(PoolError::Corrupt(format!(
                "tick {height} is recorded for batch {} but does not carry it",
                loc.second.0
            )));
        };
        let tick_tree = tickchain_sdk::batch::tick_tree(&batches, &self.genesis_hash);
        let Some(chain) = self.final_with_certificate(height)? else {
            return pending(); // final only through a descendant that is not stored yet
        };
        let (tick, descendants, certificate) = chain;
        let tree = match self.batch_tree(loc.second, &batch.root) {
            Ok(t) => t,
            // Retention deleted the batch while we read it: the digest is unknown now.
            Err(_) if self.trees.digests.get(digest.0)?.is_none() => {
                return Ok(ProofStatus::Unknown);
            }
            Err(e) => return Err(e),
        };
        let Some((leaf_digest, salt)) = tree.leaves.get(loc.index as usize).copied() else {
            return Err(PoolError::Corrupt(format!(
                "batch {} has {} leaves, digest index {}",
                loc.second.0,
                tree.leaves.len(),
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
            batch_path: tree.tree.path(loc.index).expect("index checked"),
            batch,
            tick_path: tick_tree.path(at as u32).expect("position in range"),
            tick,
            descendants,
            certificate,
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
