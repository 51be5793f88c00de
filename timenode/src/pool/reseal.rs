//! Re-sealing: a batch of ours that outlived the ring's batch window without being seen in a
//! final tick can no longer be carried by any tick, so its digests move into the batch being
//! filled, keeping their receipts but not their accepted second (`specs/pool.md` §6).
//!
//! Owns: finding stale pending batches and the one sled transaction that moves a batch's
//! digests (new leaves and salts, index entries) and deletes the old batch. Never: runs off the
//! writer thread (it writes into the open batch), touches a batch already in a final tick, or
//! drops a digest whose index entry points at the batch.

use super::PoolError;
use super::layout::{self, Location, PoolTrees};
use super::reader::read_batch_leaves;
use super::writer::salt;
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tickchain_sdk::{Digest, NodeId, Salt, Second};

/// Most digests moved in one pass (the writer runs passes between group commits).
pub const PASS_DIGESTS: usize = 100_000;

/// Node `me`'s pending batches whose second lies more than `window_secs` before `now` (oldest
/// first, about [`PASS_DIGESTS`] digests at most, but always at least one batch).
pub(super) fn stale(
    trees: &PoolTrees,
    me: NodeId,
    now: Second,
    window_secs: u64,
) -> Result<Vec<Second>, PoolError> {
    let Some(cutoff) = now.0.checked_sub(window_secs) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut digests = 0usize;
    for kv in trees.pending.range(..layout::second_key(Second(cutoff))) {
        let (k, _) = kv?;
        let second = layout::second_from_key(&k)?;
        let count = match trees.sealed.get(k)? {
            Some(v) => layout::decode_sealed(me, second, &v)?.count,
            None => 0,
        };
        out.push(second);
        digests += count as usize;
        if digests >= PASS_DIGESTS {
            break;
        }
    }
    Ok(out)
}

/// What moving one batch did.
pub(super) struct Moved {
    /// The moved leaves, now at `first..` of the open batch, in order.
    pub leaves: Vec<(Digest, Salt)>,
    /// How many digests the old batch counted (its sealed `count`).
    pub old_count: u32,
}

/// Moves every digest of the pending batch `old` whose index entry still points at it to the
/// open batch of `open`, from leaf `first`, with fresh salts (`salt_key`), and deletes the old
/// batch: its leaves, its sealed record and its pending mark. One sled transaction (then a
/// flush), so a crash leaves each digest in exactly one of the two batches.
pub(super) fn move_batch(
    trees: &PoolTrees,
    me: NodeId,
    salt_key: &[u8; 32],
    old: Second,
    open: Second,
    first: u32,
) -> Result<Moved, PoolError> {
    let key = layout::second_key(old);
    let old_count = match trees.sealed.get(key)? {
        Some(v) => layout::decode_sealed(me, old, &v)?.count,
        None => 0,
    };
    let mut leaves = Vec::new();
    let mut chunk = Vec::new();
    let mut index = Vec::new();
    for (i, (d, _)) in read_batch_leaves(trees, old)?.into_iter().enumerate() {
        let here = Location {
            second: old,
            index: i as u32,
        };
        // Leaves without their index entry were never acknowledged (a group commit that
        // failed half-way); entries pointing elsewhere belong to another batch.
        let points_here = match trees.digests.get(d.0)? {
            Some(v) => Location::from_bytes(&v)? == here,
            None => false,
        };
        if !points_here {
            continue;
        }
        let at = Location {
            second: open,
            index: first + leaves.len() as u32,
        };
        let s = salt(salt_key, open, at.index);
        layout::push_leaf(&mut chunk, &d, &s);
        index.push((d, at));
        leaves.push((d, s));
    }
    let old_chunks: Vec<sled::IVec> = trees
        .leaves
        .range(layout::leaves_of(old))
        .keys()
        .collect::<Result<_, _>>()?;
    let new_key = Location {
        second: open,
        index: first,
    }
    .to_bytes();
    (&trees.leaves, &trees.digests, &trees.sealed, &trees.pending)
        .transaction(|(l, d, s, p)| {
            for k in &old_chunks {
                l.remove(k)?;
            }
            if !chunk.is_empty() {
                l.insert(&new_key, chunk.as_slice())?;
            }
            for (digest, at) in &index {
                d.insert(&digest.0, &at.to_bytes())?;
            }
            s.remove(&key)?;
            p.remove(&key)?;
            Ok::<(), ConflictableTransactionError<()>>(())
        })
        .map_err(layout::transaction_error)?;
    trees.db.flush()?;
    Ok(Moved { leaves, old_count })
}
