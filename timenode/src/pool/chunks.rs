//! Proof paths without rebuilding a batch's whole tree: the batch tree split into chunks of
//! [`CHUNK`] leaves, whose roots are stored when the batch is sealed (`pool-chunks`,
//! `specs/pool.md` §3, §4).
//!
//! Owns: the chunk roots of a tree, their stored form, and a leaf's path assembled from its
//! chunk's subtree and the tree over the chunk roots (the same path the whole tree gives).
//! Never: reads storage (the reader does) or trusts stored roots it has not checked against
//! the batch's signed root.

use tickchain_sdk::merkle::{MerklePath, MerkleTree};
use tickchain_sdk::{Hash, Second};

/// Leaves per chunk: a power of two, so each chunk is a node of the batch tree.
pub const CHUNK: u32 = 256;
/// log2 of [`CHUNK`].
const CHUNK_LEVEL: usize = 8;

/// The stored chunk roots of `tree`: the nodes [`CHUNK_LEVEL`] levels above its leaves.
pub fn roots(tree: &MerkleTree) -> Vec<u8> {
    tree.level(CHUNK_LEVEL).iter().flat_map(|h| h.0).collect()
}

/// The tree over a batch's chunk roots, checked: its root must be the batch's signed root.
#[derive(Debug)]
pub struct Upper {
    tree: MerkleTree,
    /// Leaves in the batch.
    pub size: u32,
}

impl Upper {
    /// Reads the stored chunk roots of `second`'s batch of `size` leaves and checks them
    /// against `root`.
    pub fn new(second: Second, stored: &[u8], size: u32, root: &Hash) -> Result<Upper, String> {
        let chunks = size.div_ceil(CHUNK).max(1) as usize;
        if stored.len() != chunks * 32 {
            return Err(format!(
                "batch {} stores {} bytes of chunk roots, {size} leaves need {}",
                second.0,
                stored.len(),
                chunks * 32
            ));
        }
        let hashes = stored
            .chunks_exact(32)
            .map(|c| Hash(c.try_into().expect("32 bytes")))
            .collect();
        let tree = MerkleTree::from_leaf_hashes(hashes);
        if size > 0 && tree.root() != *root {
            return Err(format!(
                "batch {}'s chunk roots do not make its signed root",
                second.0
            ));
        }
        Ok(Upper { tree, size })
    }

    /// The leaf range of chunk `j`.
    pub fn chunk_range(&self, j: u32) -> std::ops::Range<u32> {
        j * CHUNK..((j + 1) * CHUNK).min(self.size)
    }

    /// Whether `chunk`, the tree over chunk `j`'s leaves, is the chunk the roots name.
    pub fn holds(&self, j: u32, chunk: &MerkleTree) -> bool {
        self.tree.level(0).get(j as usize) == Some(&chunk.root())
    }

    /// The path of leaf `index` in the whole batch tree, from its chunk's tree (`chunk`,
    /// checked with [`Upper::holds`]).
    pub fn path(&self, index: u32, chunk: &MerkleTree) -> MerklePath {
        let j = index / CHUNK;
        let mut siblings = chunk
            .path(index % CHUNK)
            .unwrap_or_else(|| panic!("index {index} inside its chunk of {}", chunk.len()))
            .siblings;
        siblings.extend(self.tree.path(j).expect("chunk inside the batch").siblings);
        MerklePath {
            index,
            size: self.size,
            siblings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::merkle::leaf_hash;

    #[test]
    fn chunked_paths_are_the_whole_trees_paths() {
        for size in [1u32, 2, 255, 256, 257, 511, 512, 1000, 4097] {
            let leaves: Vec<Hash> = (0..size).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let whole = MerkleTree::from_leaf_hashes(leaves.clone());
            let upper = Upper::new(Second(1), &roots(&whole), size, &whole.root()).unwrap();
            for index in [0, 1, size / 2, size.saturating_sub(2), size - 1] {
                let index = index.min(size - 1);
                let j = index / CHUNK;
                let r = upper.chunk_range(j);
                let chunk =
                    MerkleTree::from_leaf_hashes(leaves[r.start as usize..r.end as usize].to_vec());
                assert!(upper.holds(j, &chunk));
                let p = upper.path(index, &chunk);
                assert_eq!(p, whole.path(index).unwrap(), "size {size} index {index}");
                assert!(p.verifies(leaves[index as usize], &whole.root()));
            }
        }
    }

    #[test]
    fn stored_roots_that_do_not_make_the_signed_root_are_refused() {
        let leaves: Vec<Hash> = (0..600u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let whole = MerkleTree::from_leaf_hashes(leaves);
        let mut stored = roots(&whole);
        assert_eq!(stored.len(), 3 * 32);
        assert!(Upper::new(Second(1), &stored[..64], 600, &whole.root()).is_err());
        stored[5] ^= 1;
        assert!(Upper::new(Second(1), &stored, 600, &whole.root()).is_err());
    }
}
