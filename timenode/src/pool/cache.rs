//! Recently sealed batch trees, kept in memory so proofs are read off without rehashing.
//!
//! Owns: a small most-recently-used cache of `(second → tree and leaves)`. Never: the source of
//! truth (a miss rebuilds the tree from `pool-leaves`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tickchain_sdk::merkle::{self, MerkleTree};
use tickchain_sdk::{Digest, Salt, Second};

/// One sealed batch's tree and its leaves in leaf order.
#[derive(Debug)]
pub struct BatchTree {
    /// The Merkle tree over the salted leaves.
    pub tree: MerkleTree,
    /// The digests and salts, in leaf order.
    pub leaves: Vec<(Digest, Salt)>,
}

impl BatchTree {
    /// The tree over `leaves` (salted digest leaves, `merkle::digest_leaf`), in leaf order.
    pub fn new(leaves: Vec<(Digest, Salt)>) -> BatchTree {
        let hashes = leaves
            .iter()
            .map(|(d, s)| merkle::digest_leaf(s, d))
            .collect();
        BatchTree {
            tree: MerkleTree::from_leaf_hashes(hashes),
            leaves,
        }
    }
}

/// At most `capacity` batch trees, the most recently used kept.
#[derive(Debug)]
pub struct TreeCache {
    capacity: usize,
    entries: Mutex<VecDeque<(Second, Arc<BatchTree>)>>,
}

impl TreeCache {
    /// An empty cache holding at most `capacity` trees.
    pub fn new(capacity: usize) -> TreeCache {
        TreeCache {
            capacity: capacity.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The tree of `second`'s batch, if cached (it becomes the most recent).
    pub fn get(&self, second: Second) -> Option<Arc<BatchTree>> {
        let mut e = self.entries.lock().expect("cache lock");
        let at = e.iter().position(|(s, _)| *s == second)?;
        let entry = e.remove(at).expect("present");
        let tree = entry.1.clone();
        e.push_front(entry);
        Some(tree)
    }

    /// Caches `tree` for `second`, evicting the least recently used beyond capacity.
    pub fn insert(&self, second: Second, tree: Arc<BatchTree>) {
        let mut e = self.entries.lock().expect("cache lock");
        e.retain(|(s, _)| *s != second);
        e.push_front((second, tree));
        e.truncate(self.capacity);
    }

    /// Drops `second`'s tree (its batch was deleted).
    pub fn remove(&self, second: Second) {
        self.entries
            .lock()
            .expect("cache lock")
            .retain(|(s, _)| *s != second);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u8) -> Arc<BatchTree> {
        Arc::new(BatchTree {
            tree: MerkleTree::from_leaf_hashes(vec![tickchain_sdk::Hash([n; 32])]),
            leaves: vec![(Digest([n; 32]), Salt([n; 16]))],
        })
    }

    #[test]
    fn the_least_recently_used_tree_is_evicted_first() {
        let c = TreeCache::new(2);
        c.insert(Second(1), tree(1));
        c.insert(Second(2), tree(2));
        assert!(c.get(Second(1)).is_some()); // 1 is now the most recent
        c.insert(Second(3), tree(3));
        assert!(c.get(Second(2)).is_none(), "2 was least recently used");
        assert!(c.get(Second(1)).is_some() && c.get(Second(3)).is_some());
        c.remove(Second(1));
        assert!(c.get(Second(1)).is_none());
    }
}
