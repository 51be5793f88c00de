//! A small most-recently-used cache bounded in bytes, for the proof reader's chunks and chunk
//! root trees.
//!
//! Owns: which entries stay (the most recently used, up to a byte budget; always the newest
//! one). Never: builds what it holds (callers insert what they read and checked).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// The entries, most recent first, each with its cost in bytes; and their total cost.
type Entries<K, V> = (VecDeque<(K, Arc<V>, usize)>, usize);

/// Entries of type `V` by key `K`, at most `max_bytes` in total by their stated cost.
#[derive(Debug)]
pub struct Lru<K, V> {
    max_bytes: usize,
    inner: Mutex<Entries<K, V>>,
}

impl<K: PartialEq + Copy, V> Lru<K, V> {
    /// An empty cache of at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Lru<K, V> {
        Lru {
            max_bytes,
            inner: Mutex::new((VecDeque::new(), 0)),
        }
    }

    /// The entry for `key`, now the most recently used.
    pub fn get(&self, key: K) -> Option<Arc<V>> {
        let mut inner = self.inner.lock().expect("lru lock");
        let at = inner.0.iter().position(|(k, _, _)| *k == key)?;
        let entry = inner.0.remove(at).expect("position found");
        let value = entry.1.clone();
        inner.0.push_front(entry);
        Some(value)
    }

    /// Keeps `value` for `key` (costing `bytes`), dropping the least recently used beyond the
    /// budget.
    pub fn insert(&self, key: K, value: Arc<V>, bytes: usize) {
        let mut inner = self.inner.lock().expect("lru lock");
        if let Some(at) = inner.0.iter().position(|(k, _, _)| *k == key) {
            let (_, _, old) = inner.0.remove(at).expect("position found");
            inner.1 -= old;
        }
        inner.0.push_front((key, value, bytes));
        inner.1 += bytes;
        while inner.1 > self.max_bytes && inner.0.len() > 1 {
            let (_, _, b) = inner.0.pop_back().expect("more than one");
            inner.1 -= b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_go_first_and_the_budget_holds() {
        let lru = Lru::new(30);
        for k in 0..3 {
            lru.insert(k, Arc::new(k), 10);
        }
        assert!(lru.get(0).is_some()); // 0 is now the most recent
        lru.insert(3, Arc::new(3), 10);
        assert!(lru.get(1).is_none(), "1 was the least recently used");
        assert!(lru.get(0).is_some() && lru.get(2).is_some() && lru.get(3).is_some());
        lru.insert(9, Arc::new(9), 100);
        assert!(lru.get(9).is_some(), "the newest stays whatever its size");
        assert!(lru.get(0).is_none());
    }
}
