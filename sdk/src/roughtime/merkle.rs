//! The Merkle tree over a batch of requests (draft-19 §5.3): one signature answers them all.
//!
//! Owns: the leaf and node hashes (SHA-512 truncated to 32 bytes; leaf = `H(0x00 ‖ request
//! packet)`, node = `H(0x01 ‖ left ‖ right)`), the root and each leaf's path for a batch of up
//! to [`MAX_LEAVES`], and checking a path as a client does. Never: allocates (fixed arrays).

use sha2::{Digest, Sha512};

/// Most requests one tree (one signature) answers: 64, so a path has at most 6 nodes.
pub const MAX_LEAVES: usize = 64;
/// Most nodes in a path.
pub const MAX_DEPTH: usize = 6;

/// A 32-byte Roughtime hash.
pub type Hash32 = [u8; 32];

fn h(parts: &[&[u8]]) -> Hash32 {
    let mut s = Sha512::new();
    for p in parts {
        s.update(p);
    }
    s.finalize()[..32].try_into().expect("32 of 64 bytes")
}

/// The leaf of a request packet (the whole packet, `ROUGHTIM` header included).
pub fn leaf(request_packet: &[u8]) -> Hash32 {
    h(&[&[0x00], request_packet])
}

/// The parent of two nodes.
pub fn node(left: &Hash32, right: &Hash32) -> Hash32 {
    h(&[&[0x01], left, right])
}

/// A tree over up to [`MAX_LEAVES`] leaves: every level kept, a lone last node paired with
/// an all-zero node (the client never sees the difference: only the path matters).
pub struct Tree {
    levels: [[Hash32; MAX_LEAVES]; MAX_DEPTH + 1],
    widths: [usize; MAX_DEPTH + 1],
    depth: usize,
}

impl Tree {
    /// Builds the tree over `leaves` (1 to [`MAX_LEAVES`]).
    pub fn new(leaves: &[Hash32]) -> Tree {
        assert!(
            !leaves.is_empty() && leaves.len() <= MAX_LEAVES,
            "1 to 64 leaves"
        );
        let mut t = Tree {
            levels: [[[0; 32]; MAX_LEAVES]; MAX_DEPTH + 1],
            widths: [0; MAX_DEPTH + 1],
            depth: 0,
        };
        t.levels[0][..leaves.len()].copy_from_slice(leaves);
        t.widths[0] = leaves.len();
        while t.widths[t.depth] > 1 {
            let (w, d) = (t.widths[t.depth], t.depth);
            for i in 0..w.div_ceil(2) {
                let left = t.levels[d][2 * i];
                let right = if 2 * i + 1 < w {
                    t.levels[d][2 * i + 1]
                } else {
                    [0; 32]
                };
                t.levels[d + 1][i] = node(&left, &right);
            }
            t.widths[d + 1] = w.div_ceil(2);
            t.depth += 1;
        }
        t
    }

    /// The root.
    pub fn root(&self) -> Hash32 {
        self.levels[self.depth][0]
    }

    /// The path of leaf `index`, written into `out` (its first `self.depth() * 32` bytes).
    pub fn path_into(&self, index: usize, out: &mut [u8]) -> usize {
        let mut i = index;
        for d in 0..self.depth {
            let sibling = i ^ 1;
            let n = if sibling < self.widths[d] {
                self.levels[d][sibling]
            } else {
                [0; 32]
            };
            out[32 * d..32 * d + 32].copy_from_slice(&n);
            i /= 2;
        }
        32 * self.depth
    }

    /// Nodes in each path.
    pub fn depth(&self) -> usize {
        self.depth
    }
}

/// Whether `path` (32-byte nodes) leads from `leaf` at `index` to `root`, with no index bits
/// left over (draft-19 §5.4).
pub fn verify(leaf: Hash32, mut index: u32, path: &[u8], root: &Hash32) -> bool {
    if !path.len().is_multiple_of(32) || path.len() / 32 > 32 {
        return false;
    }
    let mut acc = leaf;
    for n in path.chunks_exact(32) {
        let n: Hash32 = n.try_into().expect("32 bytes");
        acc = if index & 1 == 0 {
            node(&acc, &n)
        } else {
            node(&n, &acc)
        };
        index >>= 1;
    }
    index == 0 && acc == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_leaf_of_every_batch_size_proves_against_the_root() {
        for size in 1..=MAX_LEAVES {
            let leaves: Vec<Hash32> = (0..size).map(|i| leaf(&[i as u8; 3])).collect();
            let t = Tree::new(&leaves);
            for (i, l) in leaves.iter().enumerate() {
                let mut path = [0u8; 32 * MAX_DEPTH];
                let n = t.path_into(i, &mut path);
                assert!(verify(*l, i as u32, &path[..n], &t.root()), "{size}/{i}");
                assert!(!verify(*l, i as u32 ^ 1, &path[..n], &t.root()) || size == 1);
                assert!(
                    !verify(*l, i as u32 + 64, &path[..n], &t.root()),
                    "index bits left"
                );
            }
        }
    }
}
