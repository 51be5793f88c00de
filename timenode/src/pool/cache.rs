//! Recently sealed batch trees, kept in memory so proofs are read off without rehashing.
//!
//! Owns: a most-recently-used cache of `(second → tree and leaves)` bounded in bytes, single
//! flight (concurrent misses on one batch rebuild it once while the others wait for that
//! result), and a cap on rebuilds at once (more are refused with [`Busy`], so readers that
//! miss cannot take every core). Never: the source of truth (a miss rebuilds the tree from
//! `pool-leaves`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Most batch trees rebuilt at once (each costs a read and a hash of its whole batch).
pub const MAX_REBUILDS: usize = 2;

/// A rebuild refused: [`MAX_REBUILDS`] are running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;
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
    /// Bytes this tree holds in memory: the leaves (digest and salt) and every node hash of
    /// the tree (about twice the leaf count), plus a fixed overhead.
    pub fn cost_bytes(&self) -> usize {
        let n = self.leaves.len();
        n * std::mem::size_of::<(Digest, Salt)>() + 2 * n * 32 + 256
    }

    /// The tree over `leaves` (salted digest leaves, `merkle::digest_leaf`), in leaf order.
    pub fn new(leaves: Vec<(Digest, Salt)>) -> BatchTree {
        let hashes = leaves
            .iter()
            .map(|(d, s)| merkle::digest_leaf(s, d))
            .collect();
        BatchTree::from_hashes(leaves, hashes)
    }

    /// The tree over `leaves` whose leaf hashes (`merkle::digest_leaf`, in the same order) are
    /// already computed.
    pub fn from_hashes(leaves: Vec<(Digest, Salt)>, hashes: Vec<tickchain_sdk::Hash>) -> BatchTree {
        debug_assert_eq!(leaves.len(), hashes.len());
        BatchTree {
            tree: MerkleTree::from_leaf_hashes(hashes),
            leaves,
        }
    }
}

#[derive(Debug, Default)]
struct Entries {
    /// Most recent first.
    list: VecDeque<(Second, Arc<BatchTree>)>,
    bytes: usize,
}

/// Batch trees up to `max_bytes` in total (always at least the most recent one), the most
/// recently used kept.
#[derive(Debug)]
pub struct TreeCache {
    max_bytes: usize,
    entries: Mutex<Entries>,
    /// One lock per batch being rebuilt: the first miss builds, the others wait on it.
    building: Mutex<HashMap<Second, Arc<Mutex<()>>>>,
    /// Rebuilds running now.
    rebuilding: AtomicUsize,
}

impl TreeCache {
    /// An empty cache holding trees of at most `max_bytes` in total.
    pub fn new(max_bytes: usize) -> TreeCache {
        TreeCache {
            max_bytes,
            entries: Mutex::new(Entries::default()),
            building: Mutex::new(HashMap::new()),
            rebuilding: AtomicUsize::new(0),
        }
    }

    /// Bytes of the trees held now.
    pub fn bytes(&self) -> usize {
        self.entries.lock().expect("cache lock").bytes
    }

    /// `second`'s tree from the cache, or built by `build` and cached. Concurrent callers
    /// missing the same batch call `build` once between them; a failed build is not cached
    /// (the next caller tries again); with [`MAX_REBUILDS`] other batches being rebuilt the
    /// call fails with [`Busy`] instead of building.
    pub fn get_or_build<E: From<Busy>>(
        &self,
        second: Second,
        build: impl FnOnce() -> Result<Arc<BatchTree>, E>,
    ) -> Result<Arc<BatchTree>, E> {
        if let Some(t) = self.get(second) {
            return Ok(t);
        }
        let lock = self
            .building
            .lock()
            .expect("cache lock")
            .entry(second)
            .or_default()
            .clone();
        let result = {
            let _turn = lock.lock().unwrap_or_else(|p| p.into_inner());
            match self.get(second) {
                Some(t) => Ok(t), // built by the caller we waited for
                None => {
                    if self.rebuilding.fetch_add(1, Ordering::SeqCst) >= MAX_REBUILDS {
                        self.rebuilding.fetch_sub(1, Ordering::SeqCst);
                        Err(E::from(Busy))
                    } else {
                        let built = build().inspect(|t| self.insert(second, t.clone()));
                        self.rebuilding.fetch_sub(1, Ordering::SeqCst);
                        built
                    }
                }
            }
        };
        // Clones of `lock` are made and dropped only while `building` is held, so the map's
        // entry is the last one exactly when its count is 1: whoever finishes last removes it.
        let mut building = self.building.lock().expect("cache lock");
        drop(lock);
        if building
            .get(&second)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            building.remove(&second);
        }
        result
    }

    /// The tree of `second`'s batch, if cached (it becomes the most recent).
    pub fn get(&self, second: Second) -> Option<Arc<BatchTree>> {
        let mut e = self.entries.lock().expect("cache lock");
        let at = e.list.iter().position(|(s, _)| *s == second)?;
        let entry = e.list.remove(at).expect("present");
        let tree = entry.1.clone();
        e.list.push_front(entry);
        Some(tree)
    }

    /// Caches `tree` for `second`, evicting the least recently used beyond the byte budget.
    pub fn insert(&self, second: Second, tree: Arc<BatchTree>) {
        let mut e = self.entries.lock().expect("cache lock");
        Self::drop_entry(&mut e, second);
        e.bytes += tree.cost_bytes();
        e.list.push_front((second, tree));
        while e.bytes > self.max_bytes && e.list.len() > 1 {
            let (_, old) = e.list.pop_back().expect("more than one");
            e.bytes -= old.cost_bytes();
        }
    }

    /// Drops `second`'s tree (its batch was deleted).
    pub fn remove(&self, second: Second) {
        Self::drop_entry(&mut self.entries.lock().expect("cache lock"), second);
    }

    fn drop_entry(e: &mut Entries, second: Second) {
        if let Some(at) = e.list.iter().position(|(s, _)| *s == second) {
            let (_, old) = e.list.remove(at).expect("present");
            e.bytes -= old.cost_bytes();
        }
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
        let c = TreeCache::new(2 * tree(0).cost_bytes());
        c.insert(Second(1), tree(1));
        c.insert(Second(2), tree(2));
        assert!(c.get(Second(1)).is_some()); // 1 is now the most recent
        c.insert(Second(3), tree(3));
        assert!(c.get(Second(2)).is_none(), "2 was least recently used");
        assert!(c.get(Second(1)).is_some() && c.get(Second(3)).is_some());
        c.remove(Second(1));
        assert!(c.get(Second(1)).is_none());
        assert_eq!(c.bytes(), tree(0).cost_bytes());
    }

    #[test]
    fn memory_is_bounded_in_bytes_and_one_large_tree_still_fits() {
        let big = Arc::new(BatchTree::new(vec![
            (Digest([1; 32]), Salt([1; 16]));
            1_000
        ]));
        let c = TreeCache::new(big.cost_bytes() + 10);
        c.insert(Second(1), big.clone());
        c.insert(Second(2), big.clone());
        assert!(c.get(Second(1)).is_none() && c.get(Second(2)).is_some());
        assert!(c.bytes() <= big.cost_bytes() + 10);
        let tiny = TreeCache::new(1);
        tiny.insert(Second(3), big);
        assert!(
            tiny.get(Second(3)).is_some(),
            "the newest tree is always kept"
        );
    }

    #[derive(Debug, PartialEq)]
    enum TestError {
        Busy,
        Disk,
    }

    impl From<Busy> for TestError {
        fn from(_: Busy) -> TestError {
            TestError::Busy
        }
    }

    #[test]
    fn rebuilds_beyond_the_cap_are_refused_while_others_run() {
        let c = Arc::new(TreeCache::new(1 << 20));
        let (started, release) = (
            Arc::new(std::sync::Barrier::new(MAX_REBUILDS + 1)),
            Arc::new(std::sync::Barrier::new(MAX_REBUILDS + 1)),
        );
        let running: Vec<_> = (0..MAX_REBUILDS)
            .map(|i| {
                let (c, started, release) = (c.clone(), started.clone(), release.clone());
                std::thread::spawn(move || {
                    c.get_or_build(Second(100 + i as u64), || {
                        started.wait();
                        release.wait();
                        Ok::<_, TestError>(tree(1))
                    })
                    .is_ok()
                })
            })
            .collect();
        started.wait();
        let refused = c.get_or_build(Second(1), || Ok::<_, TestError>(tree(1)));
        assert_eq!(refused.unwrap_err(), TestError::Busy);
        release.wait();
        assert!(running.into_iter().all(|t| t.join().unwrap()));
        assert!(
            c.get_or_build(Second(1), || Ok::<_, TestError>(tree(1)))
                .is_ok()
        );
    }

    #[test]
    fn concurrent_misses_on_one_batch_build_it_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let c = Arc::new(TreeCache::new(1 << 20));
        let builds = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (c, builds) = (c.clone(), builds.clone());
                std::thread::spawn(move || {
                    c.get_or_build(Second(7), || {
                        builds.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        Ok::<_, TestError>(tree(7))
                    })
                    .unwrap()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().leaves[0].0, Digest([7; 32]));
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert!(c.building.lock().unwrap().is_empty(), "no lock left behind");
        // A failed build is not cached.
        let e = c.get_or_build(Second(8), || Err::<Arc<BatchTree>, _>(TestError::Disk));
        assert_eq!(e.unwrap_err(), TestError::Disk);
        assert!(c.get(Second(8)).is_none());
    }
}
