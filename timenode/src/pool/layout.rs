//! The pool's sled trees and the byte layout of their keys and values.
//!
//! Owns: every key and value format of the request pool (`specs/pool.md` §4). Never:
//! decides what to write or when (the writer and the node do).
//!
//! Trees (integers big-endian):
//! - leaves are not in sled: `segments` appends them to one file per batch second;
//! - `pool-sealed`: `second u64` → `root 32 | count u32 | signature 64`, this node's signed
//!   batch for that second;
//! - `pool-chunks`: `second u64` → `ceil(count / 256) × root 32`, the roots of the batch
//!   tree's chunks of 256 leaves (`chunks`);
//! - `pool-pending`: `second u64` → empty, sealed batches not yet seen in a final tick;
//! - `pool-included`: `second u64` → `height u64 | n u16 | n × batch`, the final tick that
//!   committed to the batch and every batch leaf of that tick, in leaf order, where one
//!   batch is `node u16 | second u64 | root 32 | count u32 | signature 64`;
//! - `pool-unlink`: `second u64` → empty, a batch deleted (re-sealed or past retention) whose
//!   segment file is still to be removed; written with the deletion, cleared after the unlink,
//!   and finished at open, so a crash in between leaves no orphaned segment.

use tickchain_sdk::encoding::{DecodeError, Reader, Writer};
use tickchain_sdk::{Batch, Digest, Hash, Height, NodeId, Salt, Second, Signature};

/// Bytes of one stored leaf: digest and salt.
pub const LEAF_BYTES: usize = 32 + 16;
/// Bytes of one encoded batch in `pool-included`.
const BATCH_BYTES: usize = 2 + 8 + 32 + 4 + 64;

/// The pool's trees in the node's sled database.
#[derive(Clone)]
pub struct PoolTrees {
    /// The database (for flushing).
    pub db: sled::Db,
    /// Accepted digests and their salts: one segment file per batch second.
    pub segments: std::sync::Arc<super::segments::Segments>,
    /// This node's signed batches by second.
    pub sealed: sled::Tree,
    /// Sealed batches not yet in a final tick.
    pub pending: sled::Tree,
    /// The roots of each sealed batch's chunks of 256 leaves.
    pub chunks: sled::Tree,
    /// The final tick of each included batch, with that tick's batch leaves.
    pub included: sled::Tree,
    /// Deleted batches whose segment file is still to be removed.
    pub unlink: sled::Tree,
}

impl PoolTrees {
    /// Opens (creating) the pool's trees in `db` and its leaf segments in `leaves_dir`.
    pub fn open(
        db: &sled::Db,
        leaves_dir: &std::path::Path,
    ) -> Result<PoolTrees, super::PoolError> {
        Ok(PoolTrees {
            segments: std::sync::Arc::new(
                super::segments::Segments::open(leaves_dir).map_err(|e| {
                    super::PoolError::Leaves(format!("{}: {e}", leaves_dir.display()))
                })?,
            ),
            sealed: db.open_tree("pool-sealed")?,
            pending: db.open_tree("pool-pending")?,
            chunks: db.open_tree("pool-chunks")?,
            included: db.open_tree("pool-included")?,
            unlink: db.open_tree("pool-unlink")?,
            db: db.clone(),
        })
    }
}

pub use super::location::Location;

/// A sled transaction's error as a plain sled error (the pool's transactions never abort).
pub fn transaction_error(e: sled::transaction::TransactionError<()>) -> sled::Error {
    match e {
        sled::transaction::TransactionError::Storage(e) => e,
        sled::transaction::TransactionError::Abort(()) => {
            sled::Error::Unsupported("pool transaction aborted".into())
        }
    }
}

/// The 8-byte key of a second.
pub fn second_key(second: Second) -> [u8; 8] {
    second.0.to_be_bytes()
}

/// Reads an 8-byte second key.
pub fn second_from_key(b: &[u8]) -> Result<Second, DecodeError> {
    let mut r = Reader::new(b);
    let s = Second(r.u64("pool.second")?);
    r.finish()?;
    Ok(s)
}

/// Appends one leaf (`digest 32 ‖ salt 16`) to a segment write.
pub fn push_leaf(value: &mut Vec<u8>, digest: &Digest, salt: &Salt) {
    value.extend_from_slice(&digest.0);
    value.extend_from_slice(&salt.0);
}

/// The leaves of whole-leaf bytes (a segment, or a group of an older node's `pool-leaves`).
pub fn read_leaves(value: &[u8]) -> Result<Vec<(Digest, Salt)>, DecodeError> {
    if !value.len().is_multiple_of(LEAF_BYTES) {
        return Err(DecodeError::Invalid {
            field: "pool.leaves",
            reason: format!("{} bytes is not a multiple of {LEAF_BYTES}", value.len()),
        });
    }
    Ok(value
        .chunks_exact(LEAF_BYTES)
        .map(|c| {
            (
                Digest(c[..32].try_into().expect("32 bytes")),
                Salt(c[32..].try_into().expect("16 bytes")),
            )
        })
        .collect())
}

/// The `pool-sealed` value of `batch`.
pub fn encode_sealed(batch: &Batch) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&batch.root.0)
        .u32(batch.count)
        .bytes(&batch.signature.0);
    w.finish()
}

/// Reads a `pool-sealed` value back into node `me`'s batch for `second`.
pub fn decode_sealed(me: NodeId, second: Second, value: &[u8]) -> Result<Batch, DecodeError> {
    let mut r = Reader::new(value);
    let batch = Batch {
        node: me,
        second,
        root: Hash(r.array("sealed.root")?),
        count: r.u32("sealed.count")?,
        signature: Signature(r.array("sealed.signature")?),
    };
    r.finish()?;
    Ok(batch)
}

/// The `pool-included` value: the final tick's height and its batch leaves.
pub fn encode_included(height: Height, batches: &[Batch]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u64(height.0).u16(batches.len() as u16);
    for b in batches {
        w.u16(b.node.0)
            .u64(b.second.0)
            .bytes(&b.root.0)
            .u32(b.count)
            .bytes(&b.signature.0);
    }
    w.finish()
}

/// Reads a `pool-included` value.
pub fn decode_included(value: &[u8]) -> Result<(Height, Vec<Batch>), DecodeError> {
    let mut r = Reader::new(value);
    let height = Height(r.u64("included.height")?);
    let n = r.u16("included.count")? as usize;
    if n * BATCH_BYTES > value.len() {
        return Err(DecodeError::Invalid {
            field: "included.count",
            reason: format!("{n} batches do not fit in {} bytes", value.len()),
        });
    }
    let mut batches = Vec::with_capacity(n);
    for _ in 0..n {
        batches.push(Batch {
            node: NodeId(r.u16("included.node")?),
            second: Second(r.u64("included.second")?),
            root: Hash(r.array("included.root")?),
            count: r.u32("included.count")?,
            signature: Signature(r.array("included.signature")?),
        });
    }
    r.finish()?;
    Ok((height, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_survives_a_round_trip_and_truncation_is_an_error() {
        let loc = Location {
            second: Second(1_800_000_123),
            index: 77,
        };
        assert_eq!(Location::from_bytes(&loc.to_bytes()), Ok(loc));
        assert!(Location::from_bytes(&loc.to_bytes()[..11]).is_err());
        let batch = Batch {
            node: NodeId(2),
            second: Second(9),
            root: Hash([3; 32]),
            count: 5,
            signature: Signature([4; 64]),
        };
        let sealed = encode_sealed(&batch);
        assert_eq!(
            decode_sealed(NodeId(2), Second(9), &sealed),
            Ok(batch.clone())
        );
        let inc = encode_included(Height(12), &[batch.clone(), batch.clone()]);
        assert_eq!(
            decode_included(&inc),
            Ok((Height(12), vec![batch.clone(), batch]))
        );
        assert!(decode_included(&inc[..inc.len() - 1]).is_err());
        let mut leaves = Vec::new();
        push_leaf(&mut leaves, &Digest([1; 32]), &Salt([2; 16]));
        assert_eq!(
            read_leaves(&leaves),
            Ok(vec![(Digest([1; 32]), Salt([2; 16]))])
        );
        assert!(read_leaves(&leaves[..47]).is_err());
    }
}
