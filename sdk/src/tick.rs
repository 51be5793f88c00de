//! Ticks: the one block per UTC second that the ring signs.
//!
//! Owns: the tick's fields and its hash (`specs/encoding.md` §3.2). Never: decides whether a
//! tick is timely (that is the consensus core's and the verifier's job).

use crate::encoding::{DecodeError, Reader, Writer, tag};
use crate::{Hash, Height, NodeId, Second, View};
use serde::{Deserialize, Serialize};

/// One tick of the chain.
///
/// The tick's measured time window is not a field: it comes from the finality certificate,
/// whose votes each carry the signer's clock reading (see `FinalityCertificate::window`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tick {
    /// Position in the chain (first tick after genesis: 1).
    pub height: Height,
    /// The consensus view that proposed it.
    pub view: View,
    /// The UTC second this tick stands for; strictly increasing along the chain.
    pub second: Second,
    /// Hash of the previous tick (the genesis hash for height 1).
    pub prev_hash: Hash,
    /// Merkle root over the batch leaves this tick commits to (the empty root if none).
    pub batch_root: Hash,
    /// Number of batch leaves under `batch_root`.
    pub batch_count: u32,
    /// The node that proposed it (the view's leader).
    pub proposer: NodeId,
}

impl Tick {
    /// Writes the tick's fields in their one canonical order (`specs/encoding.md` §3.2): the
    /// tick hash and the consensus wire format both use it.
    pub fn write_fields(&self, w: &mut Writer) {
        w.u64(self.height.0)
            .u64(self.view.0)
            .u64(self.second.0)
            .bytes(&self.prev_hash.0)
            .bytes(&self.batch_root.0)
            .u32(self.batch_count)
            .u16(self.proposer.0);
    }

    /// Reads fields written by [`Tick::write_fields`], naming the field in any error.
    pub fn read_fields(r: &mut Reader<'_>) -> Result<Tick, DecodeError> {
        Ok(Tick {
            height: Height(r.u64("tick.height")?),
            view: View(r.u64("tick.view")?),
            second: Second(r.u64("tick.second")?),
            prev_hash: Hash(r.array("tick.prev_hash")?),
            batch_root: Hash(r.array("tick.batch_root")?),
            batch_count: r.u32("tick.batch_count")?,
            proposer: NodeId(r.u16("tick.proposer")?),
        })
    }

    /// The canonical bytes whose BLAKE3 is the tick hash (`specs/encoding.md` §3.2).
    pub fn canonical_bytes(&self, genesis_hash: &Hash) -> Vec<u8> {
        let mut w = Writer::with_tag(tag::TICK);
        w.bytes(&genesis_hash.0);
        self.write_fields(&mut w);
        w.finish()
    }

    /// The tick hash: BLAKE3 of its canonical bytes, bound to one network by the genesis hash.
    pub fn hash(&self, genesis_hash: &Hash) -> Hash {
        Hash(*blake3::hash(&self.canonical_bytes(genesis_hash)).as_bytes())
    }
}
