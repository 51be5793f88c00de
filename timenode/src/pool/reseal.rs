//! Re-sealing: a batch of ours that outlived the ring's batch window without being seen in a
//! final tick can no longer be carried by any tick, so its digests move into the batch being
//! filled, keeping their receipts but not their accepted second (`specs/pool.md` §6).
//!
//! Owns: finding stale pending batches, the moved leaves (new positions and salts) and
//! deleting the old batch once they are durable in the open one. Never: runs off the writer thread
//! (it writes into the open batch), touches a batch already in a final tick, or drops a digest.

use super::PoolError;
use super::layout::{self, PoolTrees};
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
    /// Their stored form, to append to the open batch's segment.
    pub chunk: Vec<u8>,
    /// How many digests the old batch counted (its sealed `count`).
    pub old_count: u32,
}

/// The leaves of the pending batch `old` as they will sit in the open batch of `open`, from
/// leaf `first`, with fresh salts (`salt_key`); `chunk` is their stored form.
pub(super) fn prepare(
    trees: &PoolTrees,
    me: NodeId,
    salt_key: &[u8; 32],
    old: Second,
    open: Second,
    first: u32,
) -> Result<Moved, PoolError> {
    let old_count = match trees.sealed.get(layout::second_key(old))? {
        Some(v) => layout::decode_sealed(me, old, &v)?.count,
        None => 0,
    };
    let mut leaves = Vec::new();
    let mut chunk = Vec::new();
    for (d, _) in read_batch_leaves(trees, old)? {
        let index = first + leaves.len() as u32;
        let s = salt(salt_key, open, index);
        layout::push_leaf(&mut chunk, &d, &s);
        leaves.push((d, s));
    }
    Ok(Moved {
        leaves,
        chunk,
        old_count,
    })
}

/// Deletes the old batch once its leaves are durable in the open batch and the index's recent
/// map names their new locations: its sealed record, chunk roots and pending mark in one sled
/// transaction with its unlink mark (then a flush), then its segment, then the mark. A crash
/// before the transaction leaves the digests in both batches (the old one, still pending, is
/// re-sealed again: harmless extra leaves); after it, only in the new one, and the next open
/// removes the old segment ([`super::finish_unlinks`]).
pub(super) fn finish(trees: &PoolTrees, old: Second) -> Result<(), PoolError> {
    let key = layout::second_key(old);
    (&trees.sealed, &trees.pending, &trees.chunks, &trees.unlink)
        .transaction(|(s, p, c, u)| {
            s.remove(&key)?;
            p.remove(&key)?;
            c.remove(&key)?;
            u.insert(&key, &[] as &[u8])?;
            Ok::<(), ConflictableTransactionError<()>>(())
        })
        .map_err(layout::transaction_error)?;
    trees.db.flush()?;
    trees
        .segments
        .remove(old)
        .map_err(|e| PoolError::leaves(old, e))?;
    trees.unlink.remove(key)?;
    Ok(())
}
