//! The batch rules (`specs/consensus.md` §5, Batches): which signed batches a node queues for
//! its proposals, how a node offers its own batches and offers them again until a final tick
//! carries them, and which batch list a tick carries.
//!
//! Owns: the batch queue's admission (signer, time window, per-node share), our own unconfirmed
//! batches and the re-offer timer, and [`carries`], the one check that a batch list is the one
//! a tick commits to. Never: decides what a proposal includes (the leader does) or whether a
//! proposal is valid otherwise (the voter does).

use super::clock::LocalClock;
use super::core::Core;
use super::io::{Action, Timer};
use super::messages::{ChainTick, Message};
use tickchain_sdk::{Batch, Hash, Tick};

/// How far ahead a queued batch's second may lie, in seconds after the second under way on our
/// clock (`specs/consensus.md` §5, Batches).
const BATCH_MAX_AHEAD_SECS: u64 = 2;

/// Whether `batches` is the list `tick` commits to: `batch_count` entries whose tick tree has
/// the tick's `batch_root`. The tick hash covers the root, so a list that matches is the true
/// one, whoever relayed it.
pub(crate) fn carries(tick: &Tick, batches: &[Batch], genesis_hash: &Hash) -> bool {
    let tree = tickchain_sdk::batch::tick_tree(batches, genesis_hash);
    tree.len() == tick.batch_count && tree.root() == tick.batch_root
}

impl Core {
    /// How far back a queued batch's second may lie, in seconds before the second under way on
    /// our clock ([`Config::batch_max_age`](super::config::Config), default an hour).
    fn batch_max_age_secs(&self) -> u64 {
        (self.ctx.config.batch_max_age.0 / 1_000_000_000).max(0) as u64
    }

    /// Queues a signed batch for our next proposal. Each batch signer (node or gateway) gets an
    /// equal share of the queue
    /// and only batches from the batch window (the last hour by default) up to 2 s ahead of our
    /// clock are kept, so no peer
    /// can crowd out the others' batches or park batches no tick will ever take.
    pub(crate) fn on_batch(&mut self, now: &LocalClock, batch: Batch) {
        let gh = self.ctx.genesis_hash();
        let current = now.mid().second_floor().max(0) as u64;
        let in_time = batch.second.0 <= current + BATCH_MAX_AHEAD_SECS
            && batch.second.0.saturating_add(self.batch_max_age_secs()) >= current;
        if !in_time
            || batch.node.index() >= self.ctx.genesis().batch_signers()
            || !self.ctx.verifier.check_batch(
                batch.node,
                &batch.signing_bytes(&gh),
                &batch.signature,
            )
        {
            return;
        }
        self.queue_batch(batch);
    }

    /// Our own sealed batch: broadcast it to every peer (whoever leads next), queue it for our
    /// own proposals (in case we lead), and keep it until a final tick carries it
    /// (`specs/consensus.md` §5, Batches).
    pub(crate) fn on_own_batch(&mut self, now: &LocalClock, batch: Batch) {
        self.out
            .push(Action::Broadcast(Message::Batch(batch.clone())));
        self.own.insert(batch.second, (batch.clone(), now.mid()));
        self.on_batch(now, batch);
        self.arm_reoffer(now);
    }

    /// Offers again each of our batches that no final tick has carried
    /// [`Config::batch_reoffer_after`](super::config::Config) after it was last offered.
    /// One that outlived the batch window is forgotten instead: no tick can carry it any more,
    /// and the node's pool re-seals its digests into a fresh batch (`specs/pool.md` §6).
    pub(crate) fn reoffer(&mut self, now: &LocalClock) {
        self.reoffer_armed = false;
        let current = now.mid().second_floor().max(0) as u64;
        let max_age = self.batch_max_age_secs();
        self.own
            .retain(|second, _| second.0.saturating_add(max_age) >= current);
        let after = self.ctx.config.batch_reoffer_after;
        let due: Vec<Batch> = self
            .own
            .values_mut()
            .filter(|(_, at)| at.saturating_add(after) <= now.mid())
            .map(|(batch, at)| {
                *at = now.mid();
                batch.clone()
            })
            .collect();
        for batch in due {
            self.out
                .push(Action::Broadcast(Message::Batch(batch.clone())));
            self.on_batch(now, batch);
        }
        self.arm_reoffer(now);
    }

    fn arm_reoffer(&mut self, now: &LocalClock) {
        if self.reoffer_armed || self.own.is_empty() {
            return;
        }
        self.reoffer_armed = true;
        self.out.push(Action::SetTimer {
            timer: Timer::Reoffer,
            at: now
                .mid()
                .saturating_add(self.ctx.config.batch_reoffer_check),
        });
    }

    /// How many of our batches wait for a final tick.
    pub fn unconfirmed_batches(&self) -> usize {
        self.own.len()
    }

    /// Adds a verified batch unless it is queued already or its signer's share is full.
    pub(crate) fn queue_batch(&mut self, batch: Batch) {
        let share =
            (self.ctx.config.max_pending_batches / self.ctx.genesis().batch_signers()).max(1);
        let mut from_node = 0;
        for b in &self.batches {
            if b.node == batch.node {
                if b.second == batch.second {
                    return;
                }
                from_node += 1;
            }
        }
        if from_node < share {
            self.batches.push(batch);
        }
    }

    /// The batches the final tick `t` (hash `hash`) carries: its round's proposal's list, if this
    /// core holds that proposal and the list hashes to the tick's `batch_root` with
    /// `batch_count` leaves (the tick hash covers the root, so a matching list is the true one).
    pub(crate) fn batches_of(&self, t: &ChainTick, hash: &Hash) -> Option<Vec<Batch>> {
        if t.tick.batch_count == 0 {
            return Some(Vec::new());
        }
        let (proposal, _) = self
            .rounds
            .get(&t.tick.view)
            .and_then(|r| r.proposal.as_ref())
            .filter(|(_, h)| h == hash)?;
        carries(&t.tick, &proposal.batches, &self.ctx.genesis_hash())
            .then(|| proposal.batches.clone())
    }
}
