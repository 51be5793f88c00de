//! Serving proofs: digest → location → sealed batch → the final tick that committed to it →
//! its certificate (or the certified descendant), assembled into an sdk `Proof`.
//!
//! Owns: proof assembly from the pool's trees and the chain, and recording which final tick
//! committed to each of this node's batches. Never: signs anything or changes the chain.

use super::PoolError;
use super::cache::{BatchTree, TreeCache};
use super::chunks;
use super::index::DigestIndex;
use super::layout::{self, Location, PoolTrees};
use super::lru::Lru;
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
    leaves: Leaves,
}

/// How a final batch's leaves and paths are read.
enum Leaves {
    /// The whole tree, cached (or rebuilt: a batch sealed before chunk roots were stored).
    Whole(Arc<BatchTree>),
    /// The tree over the chunk roots; a digest's chunk is read and hashed when asked for.
    Chunked(Arc<chunks::Upper>),
}

/// Recently read chunks by batch second and chunk number, and chunk root trees by batch second
/// and root, shared by every proof read.
pub struct ChunkCaches {
    chunks: Lru<(Second, u32), BatchTree>,
    uppers: Lru<(Second, Hash), chunks::Upper>,
}

impl ChunkCaches {
    /// Caches of at most `chunk_bytes` of chunks and `upper_bytes` of chunk root trees.
    pub fn new(chunk_bytes: usize, upper_bytes: usize) -> ChunkCaches {
        ChunkCaches {
            chunks: Lru::new(chunk_bytes),
            uppers: Lru::new(upper_bytes),
        }
    }
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
    pub(super) index: Arc<DigestIndex>,
    pub(super) caches: Arc<ChunkCaches>,
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
        let mut states: BTreeMap<Second, Option<Arc<BatchState>>> = BTreeMap::new();
        let mut out = Vec::with_capacity(digests.len());
        'digests: for digest in digests {
            // The earliest location whose batch still exists: a later one is a re-submission
            // outside the duplicate window, an earlier one a batch re-sealed or pruned away.
            // Re-sealing names the new location before it deletes the old batch, so when every
            // candidate was gone the candidates are read once more: a digest moved while we
            // read is found at its new place, never reported unknown.
            let mut tried: Vec<Location> = Vec::new();
            let mut gone = false;
            for _look in 0..2 {
                let before = tried.len();
                for loc in self.index.candidates(digest)? {
                    if tried.contains(&loc) {
                        continue;
                    }
                    tried.push(loc);
                    let state = match states.get(&loc.second) {
                        Some(state) => state.clone(),
                        None => {
                            let state = match self.batch_state(loc.second) {
                                Ok(state) => state.map(Arc::new),
                                // Retention deleted the batch while we read it.
                                Err(_) if self.batch_gone(loc.second)? => None,
                                Err(e) => return Err(e),
                            };
                            states.insert(loc.second, state.clone());
                            state
                        }
                    };
                    let Some(state) = state else {
                        gone = true;
                        continue;
                    };
                    match self.assemble(digest, loc, &state) {
                        Ok(status) => {
                            out.push(status);
                            continue 'digests;
                        }
                        // Retention deleted the batch while we read it: look further.
                        Err(_) if self.batch_gone(loc.second)? => {
                            gone = true;
                            continue;
                        }
                        Err(e) => return Err(e),
                    }
                }
                // A second look only when something tried was gone and it found more.
                if tried.len() == before || !gone {
                    break;
                }
            }
            out.push(ProofStatus::Unknown);
        }
        Ok(out)
    }

    /// Whether `second`'s batch was sealed and is gone now (re-sealed or pruned).
    fn batch_gone(&self, second: Second) -> Result<bool, PoolError> {
        Ok(self.index.is_sealed(second)
            && self.trees.sealed.get(layout::second_key(second))?.is_none())
    }

    /// What every digest of `second`'s batch shares: pending, or the final tick that carries
    /// the batch with its certificate, the batch's path in it and the batch tree; `None` when
    /// the batch is gone (re-sealed or pruned). A batch not sealed yet is pending (whether it
    /// was sealed is read first: a batch sealed after that has its record by the next read).
    fn batch_state(&self, second: Second) -> Result<Option<BatchState>, PoolError> {
        let was_sealed = self.index.is_sealed(second);
        let key = layout::second_key(second);
        let Some(sealed) = self.trees.sealed.get(key)? else {
            return Ok((!was_sealed).then_some(BatchState::Pending));
        };
        let Some(included) = self.trees.included.get(key)? else {
            return Ok(Some(BatchState::Pending));
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
            return Ok(Some(BatchState::Pending)); // final only through a descendant not stored yet
        };
        let tick_path = tickchain_sdk::batch::tick_tree(&batches, &self.genesis_hash)
            .path(at as u32)
            .expect("position in range");
        let leaves = match (self.cache.get(second), self.trees.chunks.get(key)?) {
            (Some(tree), _) => Leaves::Whole(tree),
            (None, Some(roots)) => match self.caches.uppers.get((second, batch.root)) {
                Some(upper) => Leaves::Chunked(upper),
                None => {
                    let upper = Arc::new(
                        chunks::Upper::new(second, &roots, batch.count, &batch.root)
                            .map_err(PoolError::Corrupt)?,
                    );
                    self.caches.uppers.insert(
                        (second, batch.root),
                        upper.clone(),
                        roots.len() * 2 + 64,
                    );
                    Leaves::Chunked(upper)
                }
            },
            (None, None) => Leaves::Whole(self.batch_tree(second, &batch.root)?),
        };
        Ok(Some(BatchState::Final(Box::new(FinalBatch {
            batch,
            tick_path,
            tick,
            descendants,
            certificate,
            leaves,
        }))))
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
        if loc.index >= f.batch.count {
            return Err(PoolError::Corrupt(format!(
                "batch {} has {} leaves, digest index {}",
                loc.second.0, f.batch.count, loc.index
            )));
        }
        let ((leaf_digest, salt), batch_path) = match &f.leaves {
            Leaves::Whole(tree) => match tree.leaves.get(loc.index as usize) {
                Some(leaf) => (*leaf, tree.tree.path(loc.index).expect("index checked")),
                None => {
                    return Err(PoolError::Corrupt(format!(
                        "batch {} has {} leaves in its tree, digest index {}",
                        loc.second.0,
                        tree.leaves.len(),
                        loc.index
                    )));
                }
            },
            Leaves::Chunked(upper) => {
                let j = loc.index / chunks::CHUNK;
                let chunk = match self.caches.chunks.get((loc.second, j)) {
                    Some(c) => c,
                    None => {
                        let c = Arc::new(self.read_chunk(loc.second, upper, j)?);
                        self.caches
                            .chunks
                            .insert((loc.second, j), c.clone(), c.cost_bytes());
                        c
                    }
                };
                let leaf = chunk.leaves[(loc.index % chunks::CHUNK) as usize];
                (leaf, upper.path(loc.index, &chunk.tree))
            }
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
            batch_path,
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

    /// Chunk `j` of `second`'s batch from its segment, checked against its stored root (a
    /// chunk read while retention deletes the batch is partial and fails the check).
    fn read_chunk(
        &self,
        second: Second,
        upper: &chunks::Upper,
        j: u32,
    ) -> Result<BatchTree, PoolError> {
        let range = upper.chunk_range(j);
        let leaves = self
            .trees
            .segments
            .read_range(second, range.clone())
            .map_err(|e| PoolError::leaves(second, e))?;
        let chunk = BatchTree::new(leaves);
        if chunk.leaves.len() != range.len() || !upper.holds(j, &chunk.tree) {
            return Err(PoolError::Corrupt(format!(
                "chunk {j} of batch {} does not match its stored root (deleted while read?)",
                second.0
            )));
        }
        Ok(chunk)
    }

    /// `second`'s batch tree, from the cache or rebuilt from its segment.
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
    trees
        .segments
        .read(second)
        .map_err(|e| PoolError::leaves(second, e))
}
