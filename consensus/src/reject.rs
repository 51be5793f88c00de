//! Why the core dropped a peer's message, counted per reason.
//!
//! Owns: the [`Rejection`] reasons with their stable snake_case codes (the `kind` label of
//! `tickchain_peer_rejected_total` in `/metrics`) and the counters behind
//! [`crate::Core::rejections`]. Never: decides to reject anything (the handlers in `voter.rs`,
//! `tally.rs`, `chain.rs` and `core.rs` do) or resets a counter.

/// One reason the core drops (part of) a peer's message. Each is counted once per message
/// it drops; a proposal's verdict is counted once per view, when the view's vote is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// A message from ourselves or from outside the ring.
    UnknownSender,
    /// A batch offered by a node other than its signer.
    BatchNotFromSigner,
    /// A gateway sent something other than its own batch: gateways never take part in
    /// consensus, and final ticks go to them, never from them.
    NotForGateway,
    /// A message for a view at or below the final tip: an old (possibly replayed) view.
    OldView,
    /// A message for a view more than `max_views_ahead` beyond ours.
    ViewTooFarAhead,
    /// A proposal whose tick's proposer or vote signer is not the view's leader, or a
    /// notarization of a tick the leader did not propose.
    WrongLeader,
    /// A proposal whose leader vote is not for its own tick and view.
    Malformed,
    /// A signature that does not verify under the signer's genesis key, or a signer outside
    /// genesis.
    BadSignature,
    /// A relayed proposal whose batch list does not hash to the tick's `batch_root`.
    BatchListMismatch,
    /// A proposal for a second past `Second::MAX`, which has no start (it would wrap).
    WrappedSecond,
    /// A proposal for a second ahead of our clock: it cannot be timely before the view ends.
    FutureSecond,
    /// A proposal that arrived too late to be timely on our clock.
    LateProposal,
    /// A proposal whose parent view is below our final tip.
    StaleParent,
    /// A proposal whose parent is not the certified tick of its parent view (or whose parent
    /// view is not below its own, or whose height does not follow the parent's).
    BadParent,
    /// A proposal whose second is not after its parent's.
    SecondNotAfterParent,
    /// A proposal whose batches are not signed by members, sealed after its second, or not
    /// under its `batch_root`.
    BadBatches,
    /// A notarize or finalize vote whose reading has `earliest > latest`.
    ReadingInvalid,
    /// A notarize or finalize vote whose reading is not timely for its tick's second (no
    /// honest voter signs one, `specs/consensus.md` §6).
    UntimelyReading,
    /// A vote already held: the same statement again (rebroadcasts are normal).
    Duplicate,
    /// A vote that contradicts the signer's vote already held for the view (the first is kept;
    /// the pair is reported as evidence once).
    Equivocation,
    /// A notarization, nullification or finalization that does not verify.
    BadCertificate,
    /// A final tick that does not extend our chain and carries no certificate proving a
    /// conflict (`specs/consensus.md` §7).
    UnlinkableTick,
}

impl Rejection {
    /// Every reason, in code order.
    pub const ALL: [Rejection; 22] = [
        Rejection::UnknownSender,
        Rejection::BatchNotFromSigner,
        Rejection::NotForGateway,
        Rejection::OldView,
        Rejection::ViewTooFarAhead,
        Rejection::WrongLeader,
        Rejection::Malformed,
        Rejection::BadSignature,
        Rejection::BatchListMismatch,
        Rejection::WrappedSecond,
        Rejection::FutureSecond,
        Rejection::LateProposal,
        Rejection::StaleParent,
        Rejection::BadParent,
        Rejection::SecondNotAfterParent,
        Rejection::BadBatches,
        Rejection::ReadingInvalid,
        Rejection::UntimelyReading,
        Rejection::Duplicate,
        Rejection::Equivocation,
        Rejection::BadCertificate,
        Rejection::UnlinkableTick,
    ];

    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Rejection::UnknownSender => "unknown_sender",
            Rejection::BatchNotFromSigner => "batch_not_from_signer",
            Rejection::NotForGateway => "not_for_gateway",
            Rejection::OldView => "old_view",
            Rejection::ViewTooFarAhead => "view_too_far_ahead",
            Rejection::WrongLeader => "wrong_leader",
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::BatchListMismatch => "batch_list_mismatch",
            Rejection::WrappedSecond => "wrapped_second",
            Rejection::FutureSecond => "future_second",
            Rejection::LateProposal => "late_proposal",
            Rejection::StaleParent => "stale_parent",
            Rejection::BadParent => "bad_parent",
            Rejection::SecondNotAfterParent => "second_not_after_parent",
            Rejection::BadBatches => "bad_batches",
            Rejection::ReadingInvalid => "reading_invalid",
            Rejection::UntimelyReading => "untimely_reading",
            Rejection::Duplicate => "duplicate",
            Rejection::Equivocation => "equivocation",
            Rejection::BadCertificate => "bad_certificate",
            Rejection::UnlinkableTick => "unlinkable_tick",
        }
    }
}

/// Per-reason counts of dropped peer messages since the core was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejections {
    counts: [u64; Rejection::ALL.len()],
}

impl Rejections {
    /// Counts one rejection.
    pub(crate) fn add(&mut self, why: Rejection) {
        let c = &mut self.counts[why as usize];
        *c = c.saturating_add(1);
    }

    /// How many messages were dropped for `why`.
    pub fn get(&self, why: Rejection) -> u64 {
        self.counts[why as usize]
    }

    /// Every reason's code with its count (zeros included), in code order.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Rejection::ALL.iter().map(|r| (r.code(), self.get(*r)))
    }

    /// All rejections, whatever the reason.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, c| a.saturating_add(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_slot_and_a_distinct_snake_case_code() {
        let codes: std::collections::BTreeSet<&str> =
            Rejection::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Rejection::ALL.len());
        for (i, r) in Rejection::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r:?} is out of order in ALL");
            assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
