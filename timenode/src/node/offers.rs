//! Getting this node's batches into final ticks, and knowing which batches each tick carries.
//!
//! Owns: the book of recent proposals (tick hash → batches, as seen on the wire or proposed by
//! us) and the set of our sealed batches not yet seen in a final tick, with when each was last
//! offered. Never: decides what a leader includes (the core does).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};
use tickchain_sdk::{Batch, Hash, Second, Tick, View};

/// Proposals remembered (a few minutes of views).
const BOOK_SIZE: usize = 512;
/// An offered batch not seen in a final tick after this long is offered again.
pub const REOFFER_AFTER: Duration = Duration::from_secs(3);

/// Recent proposals' batches and our unconfirmed batches.
#[derive(Default)]
pub struct Offers {
    book: HashMap<Hash, Vec<Batch>>,
    views: HashMap<View, Hash>,
    order: VecDeque<(View, Hash)>,
    unconfirmed: BTreeMap<Second, (Batch, Instant)>,
}

impl Offers {
    /// Remembers that the tick `hash` was proposed carrying `batches`, if they are the batches
    /// its `batch_root` commits to (anything else is ignored: the tick hash covers the root, so
    /// a matching list is the true one).
    pub fn saw_proposal(
        &mut self,
        tick: &Tick,
        hash: Hash,
        batches: &[Batch],
        genesis_hash: &Hash,
    ) {
        // One proposal per view: an equivocating leader's second proposal is not recorded.
        if self.views.contains_key(&tick.view) || tick.batch_count as usize != batches.len() {
            return;
        }
        let root = tickchain_sdk::batch::tick_tree(batches, genesis_hash).root();
        if root != tick.batch_root {
            return;
        }
        self.book.insert(hash, batches.to_vec());
        self.views.insert(tick.view, hash);
        self.order.push_back((tick.view, hash));
        while self.order.len() > BOOK_SIZE {
            if let Some((view, old)) = self.order.pop_front() {
                self.book.remove(&old);
                self.views.remove(&view);
            }
        }
    }

    /// The batches of the proposed tick `hash`, if its proposal was seen.
    pub fn batches_of(&self, hash: &Hash) -> Option<&[Batch]> {
        self.book.get(hash).map(Vec::as_slice)
    }

    /// Records that our `batch` was offered now.
    pub fn offered(&mut self, batch: Batch) {
        self.unconfirmed
            .insert(batch.second, (batch, Instant::now()));
    }

    /// Forgets our batch of `second`: a final tick carries it.
    pub fn confirmed(&mut self, second: Second) {
        self.unconfirmed.remove(&second);
    }

    /// Our batches offered more than [`REOFFER_AFTER`] ago and still not final, marked as
    /// offered again now.
    pub fn due_again(&mut self) -> Vec<Batch> {
        let now = Instant::now();
        let mut due = Vec::new();
        for (batch, at) in self.unconfirmed.values_mut() {
            if now.duration_since(*at) >= REOFFER_AFTER {
                *at = now;
                due.push(batch.clone());
            }
        }
        due
    }

    /// How many of our batches wait for a final tick.
    pub fn unconfirmed(&self) -> usize {
        self.unconfirmed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickchain_sdk::{NodeId, Signature};

    fn batch(s: u64) -> Batch {
        Batch {
            node: NodeId(0),
            second: Second(s),
            root: Hash([s as u8; 32]),
            count: 1,
            signature: Signature([0; 64]),
        }
    }

    const G: Hash = Hash([7; 32]);

    fn tick_over(view: u64, batches: &[Batch]) -> Tick {
        let tree = tickchain_sdk::batch::tick_tree(batches, &G);
        Tick {
            height: tickchain_sdk::Height(1),
            view: View(view),
            second: Second(1),
            prev_hash: G,
            batch_root: tree.root(),
            batch_count: tree.len(),
            proposer: NodeId(1),
        }
    }

    #[test]
    fn the_book_forgets_the_oldest_proposal_beyond_its_size() {
        let mut o = Offers::default();
        for i in 0..(BOOK_SIZE as u64 + 1) {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&i.to_be_bytes());
            o.saw_proposal(&tick_over(i, &[batch(i)]), Hash(h), &[batch(i)], &G);
        }
        assert!(o.batches_of(&Hash([0; 32])).is_none());
        let mut last = [0u8; 32];
        last[..8].copy_from_slice(&(BOOK_SIZE as u64).to_be_bytes());
        assert_eq!(
            o.batches_of(&Hash(last)).unwrap(),
            &[batch(BOOK_SIZE as u64)]
        );
    }

    #[test]
    fn only_the_batch_list_under_the_ticks_root_is_recorded_once_per_view() {
        let mut o = Offers::default();
        let tick = tick_over(5, &[batch(1), batch(2)]);
        o.saw_proposal(&tick, Hash([1; 32]), &[batch(2), batch(1)], &G);
        o.saw_proposal(&tick, Hash([1; 32]), &[batch(1)], &G);
        assert!(
            o.batches_of(&Hash([1; 32])).is_none(),
            "forged lists are ignored"
        );
        o.saw_proposal(&tick, Hash([1; 32]), &[batch(1), batch(2)], &G);
        assert_eq!(o.batches_of(&Hash([1; 32])).unwrap(), &[batch(1), batch(2)]);
        let other = tick_over(5, &[batch(3)]);
        o.saw_proposal(&other, Hash([2; 32]), &[batch(3)], &G);
        assert!(
            o.batches_of(&Hash([2; 32])).is_none(),
            "a second proposal for view 5"
        );
    }

    #[test]
    fn a_confirmed_batch_is_never_offered_again_and_a_fresh_one_waits() {
        let mut o = Offers::default();
        o.offered(batch(1));
        o.offered(batch(2));
        assert!(o.due_again().is_empty(), "just offered");
        o.confirmed(Second(1));
        assert_eq!(o.unconfirmed(), 1);
    }
}
