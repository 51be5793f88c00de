//! The state a core is rebuilt from after a crash.
//!
//! Owns: [`Persisted`], the in-memory image of everything the core wrote through
//! [`Action::Persist`], and its pruning below the final tip. Never: touches a disk (the daemon
//! appends the same records to its sled store, flushed before the send that depends on them,
//! and replays them through [`Persisted::apply`] on start; the simulator keeps them in memory).

use super::io::{Action, Record};
use super::messages::{ChainTick, Notarization, Nullification, Proposal, Vote};
use std::collections::BTreeMap;
use tickchain_sdk::View;

/// Our own votes and proposals, the certificates we hold, and the final tip.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persisted {
    /// Our votes by view and kind (0 notarize, 1 finalize, 2 nullify).
    pub votes: BTreeMap<(View, u8), Vote>,
    /// Our proposals by view.
    pub proposals: BTreeMap<View, Proposal>,
    /// Notarizations by view.
    pub notarizations: BTreeMap<View, Notarization>,
    /// Nullifications by view.
    pub nullifications: BTreeMap<View, Nullification>,
    /// The newest final tick.
    pub finalized: Option<ChainTick>,
}

fn vote_slot(vote: &Vote) -> (View, u8) {
    let kind = match vote {
        Vote::Notarize(_) => 0,
        Vote::Finalize(_) => 1,
        Vote::Nullify(_) => 2,
    };
    (vote.view(), kind)
}

impl Persisted {
    /// Applies one record (idempotent; a newer final tip prunes what lies below it).
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Vote(v) => {
                self.votes.entry(vote_slot(v)).or_insert_with(|| v.clone());
            }
            Record::Proposal(p) => {
                self.proposals
                    .entry(p.tick.view)
                    .or_insert_with(|| p.clone());
            }
            Record::Notarization(n) => {
                self.notarizations
                    .entry(n.tick.view)
                    .or_insert_with(|| n.clone());
            }
            Record::Nullification(n) => {
                self.nullifications
                    .entry(n.view)
                    .or_insert_with(|| n.clone());
            }
            Record::Finalized(t) => {
                let newer = self
                    .finalized
                    .as_ref()
                    .is_none_or(|old| old.tick.height < t.tick.height);
                if newer {
                    let floor = t.tick.view;
                    self.votes.retain(|(v, _), _| *v >= floor);
                    self.proposals.retain(|v, _| *v >= floor);
                    self.notarizations.retain(|v, _| *v >= floor);
                    self.nullifications.retain(|v, _| *v >= floor);
                    self.finalized = Some(t.clone());
                }
            }
        }
    }

    /// Whether `record` is one a replay would drop once `tip` is the newest final tick: anything
    /// below the tip's view, and any older final tick (`specs/consensus.md` §9). A record log
    /// pruned of these rebuilds the same [`Persisted`]; the tip's own record must be kept.
    pub fn obsolete(record: &Record, tip: &ChainTick) -> bool {
        let floor = tip.tick.view;
        match record {
            Record::Vote(v) => v.view() < floor,
            Record::Proposal(p) => p.tick.view < floor,
            Record::Notarization(n) => n.tick.view < floor,
            Record::Nullification(n) => n.view < floor,
            Record::Finalized(t) => t.tick.height < tip.tick.height,
        }
    }

    /// Applies every `Persist` action in `actions`, in order.
    pub fn apply_actions(&mut self, actions: &[Action]) {
        for a in actions {
            if let Action::Persist(r) = a {
                self.apply(r);
            }
        }
    }

    /// The highest view anything persisted mentions.
    pub fn highest_view(&self) -> View {
        let votes = self.votes.keys().map(|(v, _)| *v).max();
        let props = self.proposals.keys().copied().max();
        let nots = self.notarizations.keys().copied().max();
        let nulls = self.nullifications.keys().copied().max();
        let fin = self.finalized.as_ref().map(|t| t.tick.view);
        [votes, props, nots, nulls, fin]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Scenario, World};

    /// Replaying only the records [`Persisted::obsolete`] keeps rebuilds the same state as
    /// replaying all of them, at every point of a simulated run.
    #[test]
    fn a_log_pruned_of_obsolete_records_replays_to_the_same_state() {
        let mut world = World::new(Scenario::calm(5, 4, 10, 20));
        world.run();
        for node in 0..4 {
            let records = &world.log.records[node];
            assert!(records.len() > 40, "node {node}: {} records", records.len());
            let mut full = Persisted::default();
            for (i, r) in records.iter().enumerate() {
                full.apply(r);
                let Some(tip) = full.finalized.clone() else {
                    continue;
                };
                let kept: Vec<&Record> = records[..=i]
                    .iter()
                    .filter(|r| !Persisted::obsolete(r, &tip))
                    .collect();
                let mut pruned = Persisted::default();
                for r in &kept {
                    pruned.apply(r);
                }
                assert_eq!(pruned, full, "node {node} after record {i}");
                assert!(kept.len() <= 40, "node {node}: {} records kept", kept.len());
            }
        }
    }
}
