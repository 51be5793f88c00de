//! The pool's sled trees and the byte layout of their keys and values.
//!
//! Owns: every key and value format of the request pool (`specs/pool.md` §4). Never:
//! decides what to write or when (the writer and the node do).
//!
//! Trees (integers big-endian):
//! - `pool-leaves`: `second u64 | first u32` → `count × (digest 32 | salt 16)`, the digests
//!   accepted in one group commit for the batch of `second`, leaf indices from `first`;
//! - `pool-digests`: `digest 32` → `second u64 | index u32`, where each accepted digest sits;
//! - `pool-sealed`: `second u64` → `root 32 | count u32 | signature 64`, this node's signed
//!   batch for that second;
//! - `pool-pending`: `second u64` → empty, sealed batches not yet seen in a final tick;
//! - `pool-included`: `second u64` → `height u64 | n u16 | n × batch`, the final tick that
//!   committed to the batch and every batch leaf of that tick, in leaf order, where one
//!   batch is `node u16 | second u64 | root 32 | count u32 | signature 64`.

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
    /// Accepted digests and their salts, by batch second and first leaf index.
    pub leaves: sled::Tree,
    /// Digest → location.
    pub digests: sled::Tree,
    /// This node's signed batches by second.
    pub sealed: sled::Tree,
    /// Sealed batches not yet in a final tick.
    pub pending: sled::Tree,
    /// The final tick of each included batch, with that tick's batch leaves.
    pub included: sled::Tree,
}

impl PoolTrees {
    /// Opens (creating) the pool's trees in `db`.
    pub fn open(db: &sled::Db) -> Result<PoolTrees, sled::Error> {
        Ok(PoolTrees {
            leaves: db.open_tree("pool-leaves")?,
            digests: db.open_tree("pool-digests")?,
            sealed: db.open_tree("pool-sealed")?,
            pending: db.open_tree("pool-pending")?,
            included: db.open_tree("pool-included")?,
            db: db.clone(),
        })
    }
}

/// Where a digest sits: its batch's second and its leaf index there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Location {
    /// The batch's second.
    pub second: Second,
    /// The leaf index in the batch.
    pub index: u32,
}

impl Location {
    /// The 12-byte form, also the `pool-leaves` key of a group starting at this leaf.
    pub fn to_bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.second.0.to_be_bytes());
        b[8..].copy_from_slice(&self.index.to_be_bytes());
        b
    }

    /// Reads the 12-byte form.
    pub fn from_bytes(b: &[u8]) -> Result<Location, DecodeError> {
        let mut r = Reader::new(b);
        let loc = Location {
            second: Second(r.u64("location.second")?),
            index: r.u32("location.index")?,
        };
        r.finish()?;
        Ok(loc)
    }
}

/// A sled transaction's error as a plain sled error (the pool's transactions never abort).
pub fn transaction_error(e: sled::transaction::TransactionError<()>) -> sled::Error {
    match e {
        sled::transaction::TransactionError::Storage(e) => e,
        sled::transaction::TransactionError::Abort(()) => {
            sled::Error::Unsupported("pool transaction aborted".into())
        }
    }
}

/// The `pool-leaves` keys of `second`'s batch: from its first leaf to the next second's.
pub fn leaves_of(second: Second) -> std::ops::Range<[u8; 12]> {
    let from = Location { second, index: 0 }.to_bytes();
    let to = Location {
        second: Second(second.0 + 1),
        index: 0,
    }
    .to_bytes();
    from..to
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

/// Appends one leaf to a `pool-leaves` value.
pub fn push_leaf(value: &mut Vec<u8>, digest: &Digest, salt: &Salt) {
    value.extend_from_slice(&digest.0);
    value.extend_from_slice(&salt.0);
}

/// The leaves of a `pool-leaves` value.
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
