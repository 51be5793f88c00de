//! Where a digest sits in this node's batches.
//!
//! Owns: the `(second, index)` location and its 12-byte form (`specs/pool.md` §4). Never:
//! decides where a digest goes (the writer does).

use tickchain_sdk::Second;
use tickchain_sdk::encoding::{DecodeError, Reader};

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
