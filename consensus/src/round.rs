//! What one node knows about one view.
//!
//! Owns: the per-view record of the proposal, every vote seen (first per signer and kind), the
//! certificates, this node's own votes, and which evidence was reported. Never: decides anything; the core reads and writes
//! it.

use super::messages::{Notarization, Nullification, NullifyVote, Proposal, TickVote};
use std::collections::{BTreeMap, BTreeSet};
use tickchain_sdk::evidence::Rule;
use tickchain_sdk::{Hash, NodeId, Tick};

/// One view's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Round {
    /// The leader's proposal (the first one seen), with its tick hash.
    pub proposal: Option<(Proposal, Hash)>,
    /// Notarize votes, the first per signer.
    pub notarizes: BTreeMap<NodeId, TickVote>,
    /// Finalize votes, the first per signer.
    pub finalizes: BTreeMap<NodeId, TickVote>,
    /// Nullify votes, one per signer.
    pub nullifies: BTreeMap<NodeId, NullifyVote>,
    /// The notarization, once held.
    pub notarization: Option<(Notarization, Hash)>,
    /// The nullification, once held.
    pub nullification: Option<Nullification>,
    /// Whether this view's tick is final (with its own certificate).
    pub finalized: bool,
    /// Our notarize vote in this view.
    pub my_notarize: Option<TickVote>,
    /// Whether we sent a finalize vote in this view.
    pub my_finalize: bool,
    /// Whether we sent a nullify vote in this view.
    pub my_nullify: bool,
    /// Whether we (as leader) proposed in this view.
    pub proposed: bool,
    /// The (member, rule) pairs already reported as evidence in this view (at most one per
    /// member and rule, so at most `5 n` entries).
    pub reported: BTreeSet<(NodeId, Rule)>,
}

impl Round {
    /// The tick with hash `hash` if this view's proposal or notarization carries it.
    pub fn tick(&self, hash: &Hash) -> Option<&Tick> {
        if let Some((n, h)) = &self.notarization
            && h == hash
        {
            return Some(&n.tick);
        }
        match &self.proposal {
            Some((p, h)) if h == hash => Some(&p.tick),
            _ => None,
        }
    }

    /// Votes in `votes` on `hash`, ascending by signer.
    pub fn votes_on<'a>(
        votes: &'a BTreeMap<NodeId, TickVote>,
        hash: &'a Hash,
    ) -> impl Iterator<Item = &'a TickVote> + 'a {
        votes.values().filter(move |v| &v.tick_hash == hash)
    }
}
