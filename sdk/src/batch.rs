//! Batches: one node's sealed, signed Merkle root over the digests it accepted in one second.
//!
//! Owns: the batch's signing bytes (which are also its leaf content in the tick's batch tree,
//! `specs/encoding.md` §3.3). Never: holds the digests themselves.

use crate::encoding::{Writer, tag};
use crate::{Hash, NodeId, Second, Signature, merkle};
use serde::{Deserialize, Serialize};

/// A node's signed batch root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The node that accepted the digests and signed the root.
    pub node: NodeId,
    /// The UTC second in which the batch was sealed.
    pub second: Second,
    /// Merkle root over the batch's salted digest leaves.
    pub root: Hash,
    /// Number of digests (leaves) in the batch.
    pub count: u32,
    /// The node's Ed25519 signature over [`Batch::signing_bytes`].
    pub signature: Signature,
}

impl Batch {
    /// The bytes the node signs; also the batch's leaf content in the tick's batch tree.
    pub fn signing_bytes(&self, genesis_hash: &Hash) -> Vec<u8> {
        let mut w = Writer::with_tag(tag::BATCH);
        w.bytes(&genesis_hash.0)
            .u16(self.node.0)
            .u64(self.second.0)
            .bytes(&self.root.0)
            .u32(self.count);
        w.finish()
    }

    /// The batch's leaf hash in the tick's batch tree.
    pub fn leaf_hash(&self, genesis_hash: &Hash) -> Hash {
        merkle::leaf_hash(&self.signing_bytes(genesis_hash))
    }
}

/// A tick's batch tree: the batches' leaf hashes in order; its root is the tick's
/// `batch_root` and its size the tick's `batch_count`.
pub fn tick_tree<'a>(
    batches: impl IntoIterator<Item = &'a Batch>,
    genesis_hash: &Hash,
) -> merkle::MerkleTree {
    merkle::MerkleTree::from_leaf_hashes(
        batches
            .into_iter()
            .map(|b| b.leaf_hash(genesis_hash))
            .collect(),
    )
}
