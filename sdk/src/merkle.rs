//! BLAKE3 Merkle trees with RFC 6962 / RFC 9162 structure and domain separation.
//!
//! Owns: leaf and node hashing, tree building, inclusion paths and their verification
//! (`specs/encoding.md` §5). Never: decides what the leaves mean.
//!
//! - leaf hash = BLAKE3(0x00 || leaf content); node hash = BLAKE3(0x01 || left || right)
//!   (RFC 9162 §2.1.1), so a leaf can never be passed off as an inner node.
//! - A tree of n leaves splits at the largest power of two below n; an odd node at the end of a
//!   level is promoted, never duplicated (no CVE-2012-2459-style second preimages).
//! - Document leaves are salted: content = salt(16) || digest(32), so a path reveals no
//!   neighbour's digest.

use crate::{Digest, Hash, Salt};
use serde::{Deserialize, Serialize};

const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// Most siblings a path may have: trees hold at most 2^32 leaves (sizes are u32).
pub const MAX_PATH_LEN: usize = 32;

/// The root of a tree with no leaves: BLAKE3 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash(*blake3::hash(b"").as_bytes())
}

/// The leaf hash of arbitrary leaf content.
pub fn leaf_hash(content: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    h.update(&[LEAF_PREFIX]);
    h.update(content);
    Hash(*h.finalize().as_bytes())
}

/// The leaf hash of a salted document digest: BLAKE3(0x00 || salt || digest).
pub fn digest_leaf(salt: &Salt, digest: &Digest) -> Hash {
    let mut buf = [0u8; 1 + 16 + 32];
    buf[0] = LEAF_PREFIX;
    buf[1..17].copy_from_slice(&salt.0);
    buf[17..].copy_from_slice(&digest.0);
    Hash(*blake3::hash(&buf).as_bytes())
}

/// The inner node hash: BLAKE3(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = NODE_PREFIX;
    buf[1..33].copy_from_slice(&left.0);
    buf[33..].copy_from_slice(&right.0);
    Hash(*blake3::hash(&buf).as_bytes())
}

/// A complete tree, every level kept so any leaf's path can be read off.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes; the last level holds the root alone.
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// Builds the tree over already-hashed leaves.
    ///
    /// # Panics
    /// If there are more than `u32::MAX` leaves.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> MerkleTree {
        assert!(u32::try_from(leaves.len()).is_ok(), "at most 2^32-1 leaves");
        let mut levels = vec![leaves];
        while levels.last().map_or(0, Vec::len) > 1 {
            let below = levels.last().expect("non-empty");
            let mut up = Vec::with_capacity(below.len().div_ceil(2));
            for pair in below.chunks(2) {
                match pair {
                    [l, r] => up.push(node_hash(l, r)),
                    [odd] => up.push(*odd),
                    _ => unreachable!("chunks(2) yields one or two"),
                }
            }
            levels.push(up);
        }
        MerkleTree { levels }
    }

    /// The node hashes `k` levels above the leaves (level 0 is the leaf hashes; above the root
    /// the root alone). Node `j` of level `k` covers leaves `j·2^k .. (j+1)·2^k`, so a
    /// subtree over those leaves alone has it as its root.
    pub fn level(&self, k: usize) -> &[Hash] {
        &self.levels[k.min(self.levels.len() - 1)]
    }

    /// Number of leaves.
    pub fn len(&self) -> u32 {
        self.levels[0].len() as u32
    }

    /// True when the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root (the empty root for no leaves).
    pub fn root(&self) -> Hash {
        match self.levels.last().and_then(|l| l.first()) {
            Some(root) if !self.is_empty() => *root,
            _ => empty_root(),
        }
    }

    /// The inclusion path of leaf `index`, or `None` if out of range.
    pub fn path(&self, index: u32) -> Option<MerklePath> {
        if index >= self.len() {
            return None;
        }
        let mut siblings = Vec::with_capacity(MAX_PATH_LEN);
        let mut m = index as usize;
        for level in &self.levels[..self.levels.len() - 1] {
            let sibling = m ^ 1;
            if sibling < level.len() {
                siblings.push(level[sibling]);
            }
            m >>= 1;
        }
        Some(MerklePath {
            index,
            size: self.len(),
            siblings,
        })
    }
}

/// An inclusion path: leaf position, tree size and the sibling hashes from the leaf upwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MerklePath {
    /// The leaf's index (0-based).
    pub index: u32,
    /// Number of leaves in the tree.
    pub size: u32,
    /// Sibling hashes, leaf level first.
    pub siblings: Vec<Hash>,
}

/// Why a path is not even well formed (before any hashing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The index is not inside the tree.
    #[error("leaf index {index} is outside a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index.
        index: u32,
        /// The tree size.
        size: u32,
    },
    /// The number of siblings does not match what (index, size) requires.
    #[error("path has {found} siblings, a leaf at index {index} of {size} needs {expected}")]
    WrongLength {
        /// The index.
        index: u32,
        /// The tree size.
        size: u32,
        /// Required sibling count.
        expected: usize,
        /// Sibling count found.
        found: usize,
    },
}

/// How many siblings the path of leaf `index` in a tree of `size` leaves has.
pub fn path_len(index: u32, size: u32) -> usize {
    let (mut m, mut n, mut len) = (index as u64, size as u64, 0);
    while n > 1 {
        if (m ^ 1) < n {
            len += 1;
        }
        m >>= 1;
        n = n.div_ceil(2);
    }
    len
}

impl MerklePath {
    /// Checks that the path is well formed for its index and size.
    pub fn check_shape(&self) -> Result<(), PathError> {
        if self.index >= self.size {
            return Err(PathError::IndexOutOfRange {
                index: self.index,
                size: self.size,
            });
        }
        let expected = path_len(self.index, self.size);
        if self.siblings.len() != expected {
            return Err(PathError::WrongLength {
                index: self.index,
                size: self.size,
                expected,
                found: self.siblings.len(),
            });
        }
        Ok(())
    }

    /// The root this path leads to from `leaf` (RFC 9162 §2.1.3.2), after checking its shape.
    pub fn root_from(&self, leaf: Hash) -> Result<Hash, PathError> {
        self.check_shape()?;
        let (mut fn_, mut sn) = (self.index as u64, self.size as u64 - 1);
        let mut r = leaf;
        for p in &self.siblings {
            if fn_ & 1 == 1 || fn_ == sn {
                r = node_hash(p, &r);
                if fn_ & 1 == 0 {
                    while fn_ & 1 == 0 && fn_ != 0 {
                        fn_ >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            fn_ >>= 1;
            sn >>= 1;
        }
        debug_assert_eq!(sn, 0, "check_shape guarantees a full-length path");
        Ok(r)
    }

    /// True if this path proves `leaf` is in the tree with `root`.
    pub fn verifies(&self, leaf: Hash, root: &Hash) -> bool {
        self.root_from(leaf).is_ok_and(|r| r == *root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 9162 §2.1.1 MTH, written recursively as the RFC states it.
    fn reference_root(l: &[Hash]) -> Hash {
        match l.len() {
            0 => empty_root(),
            1 => l[0],
            n => {
                // k = the largest power of two strictly below n.
                let mut k = 1;
                while k * 2 < n {
                    k *= 2;
                }
                node_hash(&reference_root(&l[..k]), &reference_root(&l[k..]))
            }
        }
    }

    #[test]
    fn root_matches_rfc9162_recursive_definition_for_sizes_0_to_70() {
        for n in 0..70 {
            let l = leaves(n);
            assert_eq!(
                MerkleTree::from_leaf_hashes(l.clone()).root(),
                reference_root(&l),
                "n = {n}"
            );
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_verifies_and_path_len_matches() {
        for n in 1..70u32 {
            let t = MerkleTree::from_leaf_hashes(leaves(n));
            for i in 0..n {
                let p = t.path(i).unwrap();
                assert_eq!(p.siblings.len(), path_len(i, n));
                assert!(
                    p.verifies(t.levels[0][i as usize], &t.root()),
                    "n={n} i={i}"
                );
            }
        }
    }

    #[test]
    fn out_of_range_and_wrong_length_paths_are_shape_errors() {
        let t = MerkleTree::from_leaf_hashes(leaves(5));
        let mut p = t.path(4).unwrap();
        p.index = 5;
        assert!(matches!(
            p.check_shape(),
            Err(PathError::IndexOutOfRange { .. })
        ));
        let mut p = t.path(1).unwrap();
        p.siblings.pop();
        assert!(matches!(
            p.check_shape(),
            Err(PathError::WrongLength { .. })
        ));
    }
}
