//! Counting votes into certificates, and accepting certificates from peers.
//!
//! Owns: vote and certificate verification (signer in the ring, one vote per signer, signature
//! over the sdk's bytes), assembling notarizations, nullifications and finality certificates at
//! q = n − f, what each certificate triggers (`specs/consensus.md` § Certificates), and which
//! votes and certificates are dropped, under which [`Rejection`] reason. Never:
//! counts a vote whose signature it has not checked, or two votes from one signer.

use super::clock::{LocalClock, Timeliness};
use super::core::Core;
use super::io::{Action, Record};
use super::messages::{
    ChainTick, Finalization, Message, Notarization, Nullification, NullifyVote, TickVote,
};
use super::reject::Rejection;
use super::round::Round;
use std::collections::BTreeSet;
use tickchain_sdk::votes::{VoteKind, nullify_signing_bytes};
use tickchain_sdk::{CertVote, FinalityCertificate, Hash, View};

impl Core {
    fn vote_is_valid(&self, kind: VoteKind, v: &TickVote) -> bool {
        let gh = self.ctx.genesis_hash();
        v.signer.index() < self.ctx.n()
            && self
                .ctx
                .verifier
                .check(v.signer, &v.signing_bytes(kind, &gh), &v.signature)
    }

    fn nullify_is_valid(&self, v: &NullifyVote) -> bool {
        let gh = self.ctx.genesis_hash();
        v.signer.index() < self.ctx.n()
            && self
                .ctx
                .verifier
                .check(v.signer, &nullify_signing_bytes(&gh, v.view), &v.signature)
    }

    /// Why a validly signed notarize or finalize vote's reading cannot be an honest one: not
    /// a bound (`earliest > latest`), or not timely for the second of its tick when the round
    /// holds the tick (an honest voter signs only timely readings, `specs/consensus.md` §6).
    fn reading_fault(&self, v: &TickVote) -> Option<Rejection> {
        if v.reading.earliest > v.reading.latest {
            return Some(Rejection::ReadingInvalid);
        }
        let tick = self.rounds.get(&v.view)?.tick(&v.tick_hash)?;
        let clock = LocalClock {
            reading: v.reading,
            synchronized: true,
        };
        (self.ctx.tolerance().check(&clock, tick.second) != Timeliness::Timely)
            .then_some(Rejection::UntimelyReading)
    }

    /// Checks a peer's notarize or finalize vote before it is counted: in the window, signed,
    /// with an honest reading; reports it if it contradicts what its signer said before in the
    /// view (`specs/evidence.md`) and counts it if it repeats or contradicts a held vote of its
    /// kind. Returns whether to go on with it.
    fn admit_tick_vote(&mut self, kind: VoteKind, v: &TickVote) -> bool {
        if !self.admit(v.view) {
            return false;
        }
        if !self.vote_is_valid(kind, v) {
            self.reject(Rejection::BadSignature);
            return false;
        }
        let equivocates = self.witness_tick_vote(kind, v);
        if let Some(why) = self.reading_fault(v) {
            self.reject(why);
            return false;
        }
        let held = self.rounds.get(&v.view).is_some_and(|r| {
            let votes = match kind {
                VoteKind::Notarize => &r.notarizes,
                VoteKind::Finalize => &r.finalizes,
            };
            votes.contains_key(&v.signer)
        });
        if equivocates {
            self.reject(Rejection::Equivocation);
        } else if held {
            self.reject(Rejection::Duplicate);
        }
        true
    }

    /// A peer's notarize vote.
    pub(crate) fn on_notarize(&mut self, now: &LocalClock, v: TickVote) {
        if !self.admit_tick_vote(VoteKind::Notarize, &v) {
            return;
        }
        let view = v.view;
        self.mark_active(v.signer, view);
        self.catch_up(now, v.signer, view);
        let signer = v.signer;
        self.round(view).notarizes.entry(signer).or_insert(v);
        // A voter saw a proposal we did not: ask it for the proposal.
        if view == self.view
            && signer != self.ctx.leader(view)
            && self.rounds.get(&view).is_some_and(|r| r.proposal.is_none())
        {
            self.fetch(now, Some(signer), vec![view], Vec::new());
        }
        self.check_notarization(now, view);
    }

    /// A peer's finalize vote.
    pub(crate) fn on_finalize(&mut self, now: &LocalClock, v: TickVote) {
        if !self.admit_tick_vote(VoteKind::Finalize, &v) {
            return;
        }
        let view = v.view;
        self.mark_active(v.signer, view);
        self.round(view).finalizes.entry(v.signer).or_insert(v);
        self.check_finalization(now, view);
    }

    /// A peer's nullify vote.
    pub(crate) fn on_nullify(&mut self, now: &LocalClock, v: NullifyVote) {
        if !self.admit(v.view) {
            return;
        }
        if !self.nullify_is_valid(&v) {
            return self.reject(Rejection::BadSignature);
        }
        if self.witness_nullify(&v) {
            self.reject(Rejection::Equivocation);
        } else if self
            .rounds
            .get(&v.view)
            .is_some_and(|r| r.nullifies.contains_key(&v.signer))
        {
            self.reject(Rejection::Duplicate);
        }
        let view = v.view;
        self.catch_up(now, v.signer, view);
        self.round(view).nullifies.entry(v.signer).or_insert(v);
        self.check_nullification(now, view);
    }

    /// The hash with at least q votes in `votes`, if any (at most one can have q from
    /// distinct signers when each signer counts once).
    fn quorum_hash(
        &self,
        votes: &std::collections::BTreeMap<tickchain_sdk::NodeId, TickVote>,
    ) -> Option<Hash> {
        let q = self.ctx.quorum();
        let hashes: BTreeSet<Hash> = votes.values().map(|v| v.tick_hash).collect();
        hashes
            .into_iter()
            .find(|h| Round::votes_on(votes, h).count() >= q)
    }

    /// Assembles a notarization for `view` once q notarize votes agree and the tick is known.
    pub(crate) fn check_notarization(&mut self, now: &LocalClock, view: View) {
        let Some(r) = self.rounds.get(&view) else {
            return;
        };
        if r.notarization.is_some() {
            return;
        }
        let Some(hash) = self.quorum_hash(&r.notarizes) else {
            return;
        };
        let Some(tick) = r.tick(&hash).cloned() else {
            return;
        };
        let votes = Round::votes_on(&r.notarizes, &hash).cloned().collect();
        self.accept_notarization(now, Notarization { tick, votes }, hash, true);
    }

    /// Assembles a nullification for `view` once q nullify votes are in.
    pub(crate) fn check_nullification(&mut self, now: &LocalClock, view: View) {
        let Some(r) = self.rounds.get(&view) else {
            return;
        };
        if r.nullification.is_some() || r.nullifies.len() < self.ctx.quorum() {
            return;
        }
        let votes = r.nullifies.values().cloned().collect();
        self.accept_nullification(now, Nullification { view, votes }, true);
    }

    /// Assembles the finality certificate for `view` once q finalize votes agree and the tick is
    /// known.
    pub(crate) fn check_finalization(&mut self, now: &LocalClock, view: View) {
        let Some(r) = self.rounds.get(&view) else {
            return;
        };
        if r.finalized || view <= self.tip.view {
            return;
        }
        let Some(hash) = self.quorum_hash(&r.finalizes) else {
            return;
        };
        let Some(tick) = r.tick(&hash).cloned() else {
            return;
        };
        let certificate = FinalityCertificate {
            view,
            tick_hash: hash,
            votes: Round::votes_on(&r.finalizes, &hash)
                .map(|v| CertVote {
                    signer: v.signer,
                    reading: v.reading,
                    signature: v.signature,
                })
                .collect(),
        };
        self.accept_finalization(now, Finalization { tick, certificate });
    }

    /// A peer's notarization: verified, then accepted.
    pub(crate) fn on_notarization(&mut self, now: &LocalClock, n: Notarization) {
        let view = n.tick.view;
        if !self.admit(view) {
            return;
        }
        let hash = n.tick.hash(&self.ctx.genesis_hash());
        // A certificate's votes are compared with what their signers told us (evidence), even
        // when we already hold the view's notarization; each signature is checked at most once.
        let witness = |core: &mut Core| {
            for v in n
                .votes
                .iter()
                .filter(|v| v.view == view && v.tick_hash == hash)
            {
                core.witness_tick_vote(VoteKind::Notarize, v);
            }
        };
        if self
            .rounds
            .get(&view)
            .is_some_and(|r| r.notarization.is_some())
        {
            return witness(self);
        }
        if n.tick.proposer != self.ctx.leader(view) {
            return self.reject(Rejection::WrongLeader);
        }
        let mut signers = BTreeSet::new();
        let valid = n.votes.iter().all(|v| {
            v.view == view
                && v.tick_hash == hash
                && signers.insert(v.signer)
                && self.vote_is_valid(VoteKind::Notarize, v)
        }) && signers.len() >= self.ctx.quorum();
        if !valid {
            return self.reject(Rejection::BadCertificate);
        }
        witness(self);
        self.accept_notarization(now, n, hash, false);
    }

    /// A peer's nullification: verified, then accepted.
    pub(crate) fn on_nullification(&mut self, now: &LocalClock, n: Nullification) {
        if !self.admit(n.view) {
            return;
        }
        let witness = |core: &mut Core| {
            for v in n.votes.iter().filter(|v| v.view == n.view) {
                core.witness_nullify(v);
            }
        };
        if self
            .rounds
            .get(&n.view)
            .is_some_and(|r| r.nullification.is_some())
        {
            return witness(self);
        }
        let mut signers = BTreeSet::new();
        let valid = n
            .votes
            .iter()
            .all(|v| v.view == n.view && signers.insert(v.signer) && self.nullify_is_valid(v))
            && signers.len() >= self.ctx.quorum();
        if !valid {
            return self.reject(Rejection::BadCertificate);
        }
        witness(self);
        self.accept_nullification(now, n, false);
    }

    /// A peer's finalization: verified with the sdk verifier (signatures and time window).
    pub(crate) fn on_finalization(&mut self, now: &LocalClock, f: Finalization) {
        let view = f.tick.view;
        if view <= self.tip.view {
            return self.reject(Rejection::OldView);
        }
        let witness = |core: &mut Core| {
            let c = &f.certificate;
            for v in &c.votes {
                let vote = TickVote {
                    view: c.view,
                    tick_hash: c.tick_hash,
                    signer: v.signer,
                    reading: v.reading,
                    signature: v.signature,
                };
                core.witness_tick_vote(VoteKind::Finalize, &vote);
            }
        };
        if self.rounds.get(&view).is_some_and(|r| r.finalized) {
            return witness(self);
        }
        if self
            .ctx
            .verifier
            .network()
            .verify_certificate(&f.tick, &f.certificate)
            .is_err()
        {
            return self.reject(Rejection::BadCertificate);
        }
        witness(self);
        self.accept_finalization(now, f);
    }

    fn accept_notarization(&mut self, now: &LocalClock, n: Notarization, hash: Hash, local: bool) {
        let view = n.tick.view;
        let msg = Message::Notarization(n.clone());
        self.out
            .push(Action::Persist(Record::Notarization(n.clone())));
        if local {
            self.out.push(Action::Broadcast(msg.clone()));
        }
        self.round(view).notarization = Some((n, hash));
        self.maybe_finalize(now, view);
        self.check_finalization(now, view);
        if view >= self.view {
            self.enter_view(now, View(view.0 + 1), msg);
        } else {
            self.try_notarize(now, self.view);
        }
    }

    fn accept_nullification(&mut self, now: &LocalClock, n: Nullification, local: bool) {
        let view = n.view;
        let msg = Message::Nullification(n.clone());
        self.out
            .push(Action::Persist(Record::Nullification(n.clone())));
        if local {
            self.out.push(Action::Broadcast(msg.clone()));
        }
        let r = self.round(view);
        r.nullification = Some(n);
        // Our own proposal in a nullified view is dead: its batches go back in the queue.
        if r.proposed && r.notarization.is_none() {
            let back = r
                .proposal
                .as_ref()
                .map(|(p, _)| p.batches.clone())
                .unwrap_or_default();
            for b in back {
                self.queue_batch(b);
            }
        }
        if view >= self.view {
            self.enter_view(now, View(view.0 + 1), msg);
        } else {
            self.try_notarize(now, self.view);
        }
    }

    fn accept_finalization(&mut self, now: &LocalClock, f: Finalization) {
        let view = f.tick.view;
        self.round(view).finalized = true;
        let msg = Message::Finalization(f.clone());
        self.finalize_tick(
            now,
            ChainTick {
                tick: f.tick,
                certificate: Some(f.certificate),
            },
        );
        if view >= self.view {
            self.enter_view(now, View(view.0 + 1), msg);
        }
    }
}
