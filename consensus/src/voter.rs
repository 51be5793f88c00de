//! The voter's side: judging a proposal, and casting our notarize, finalize and nullify votes.
//!
//! Owns: the notarize rule (valid, extends a certified parent over nullified views with a
//! later second that has a start, and timely on our synchronised clock), the finalize rule
//! (notarized and not nullified by us, with the same reading as our notarize) and the nullify
//! rule (`specs/consensus.md` § Votes). Never: votes twice of a kind in a view, notarizes after
//! nullifying, or nullifies a view it left.

use super::clock::{LocalClock, Timeliness};
use super::core::Core;
use super::io::{Action, Timer};
use super::messages::{NullifyVote, Proposal, TickVote, Vote};
use super::reject::Rejection;
use tickchain_sdk::votes::VoteKind;
use tickchain_sdk::{Second, View};

/// Most views between a proposal's parent view and its own, not known to be nullified, that a
/// voter asks the proposer's certificates for at once, lowest first (`specs/consensus.md` §5).
const PROPOSAL_GAP_VIEWS: usize = 64;

/// What a proposal's validity check concluded.
enum Verdict {
    Valid,
    Invalid(Rejection),
    Missing(Vec<View>),
}

impl Core {
    /// A proposal (from its leader, or relayed by a voter that holds it): checked for
    /// authorship by the leader's signature, stored, and voted on if it is for the current view.
    pub(crate) fn on_proposal(&mut self, now: &LocalClock, p: Proposal) {
        let v = p.tick.view;
        let leader = self.ctx.leader(v);
        if p.tick.proposer != leader || p.vote.signer != leader {
            return self.reject(Rejection::WrongLeader);
        }
        if p.vote.view != v {
            return self.reject(Rejection::Malformed);
        }
        if !self.admit(v) {
            return;
        }
        let gh = self.ctx.genesis_hash();
        let hash = p.tick.hash(&gh);
        if p.vote.tick_hash != hash {
            return self.reject(Rejection::Malformed);
        }
        if !self.ctx.verifier.check(
            leader,
            &p.vote.signing_bytes(VoteKind::Notarize, &gh),
            &p.vote.signature,
        ) {
            return self.reject(Rejection::BadSignature);
        }
        // A second proposal from the leader of a view is evidence (`specs/evidence.md`); the
        // first one stays the round's.
        if self.witness_tick_vote(VoteKind::Notarize, &p.vote) {
            self.reject(Rejection::Equivocation);
        }
        // The leader's signature covers the tick, not the batch list: a list that is not the one
        // the tick commits to (stripped or forged by whoever relayed it) is dropped here, so it
        // can neither take the round's place of the true proposal nor be reported as carried.
        if !super::batches::carries(&p.tick, &p.batches, &gh) {
            return self.reject(Rejection::BatchListMismatch);
        }
        self.catch_up(now, leader, v);
        let r = self.round(v);
        r.notarizes.entry(leader).or_insert_with(|| p.vote.clone());
        if r.proposal.is_none() {
            r.proposal = Some((p, hash));
        }
        self.check_notarization(now, v);
        if v == self.view {
            self.try_notarize(now, v);
        }
    }

    /// Notarizes the current view's proposal if it is valid and timely; nullifies if it never
    /// can be; fetches what is missing to judge it.
    pub(crate) fn try_notarize(&mut self, now: &LocalClock, v: View) {
        if v != self.view {
            return;
        }
        let Some(r) = self.rounds.get(&v) else { return };
        if r.my_notarize.is_some() || r.my_nullify {
            return;
        }
        let Some((p, hash)) = r.proposal.clone() else {
            return;
        };
        match self.judge(&p) {
            // Batches a valid proposal commits to (the leader signed their root) are not
            // offered again by us when we lead; if its view fails, their signers offer them
            // again (`specs/consensus.md` § Batches).
            Verdict::Valid => self.batches.retain(|b| !p.batches.contains(b)),
            Verdict::Invalid(why) => {
                self.reject(why);
                return self.nullify(now, v);
            }
            Verdict::Missing(views) => {
                return self.fetch(now, Some(p.tick.proposer), views, Vec::new());
            }
        }
        let tol = self.ctx.tolerance();
        match tol.check(now, p.tick.second) {
            Timeliness::Timely => {}
            Timeliness::Early => {
                let at = tol.timely_from(now, p.tick.second);
                // Wait only if it becomes timely before this view would time out anyway.
                let give_up = now
                    .mid()
                    .saturating_add(self.ctx.config.leader_wait)
                    .saturating_add(self.ctx.config.notarize_grace);
                if at < give_up {
                    self.out.push(Action::SetTimer {
                        timer: Timer::Recheck(v),
                        at,
                    });
                } else {
                    self.reject(Rejection::FutureSecond);
                    self.nullify(now, v);
                }
                return;
            }
            // §2: a second ahead of our clock (or with no start at all) is never waited for.
            Timeliness::Ahead => {
                self.reject(Rejection::FutureSecond);
                return self.nullify(now, v);
            }
            Timeliness::Late => {
                self.reject(Rejection::LateProposal);
                return self.nullify(now, v);
            }
            Timeliness::Unsynchronized => return self.nullify(now, v),
        }
        let gh = self.ctx.genesis_hash();
        let me = self.ctx.me;
        let vote = TickVote::sign(
            VoteKind::Notarize,
            &self.ctx.key,
            &gh,
            me,
            v,
            hash,
            now.reading,
        );
        let r = self.round(v);
        r.my_notarize = Some(vote.clone());
        r.notarizes.insert(me, vote.clone());
        self.cast(Vote::Notarize(vote));
        self.check_notarization(now, v);
    }

    /// Checks a proposal against the chain we know (not the clock).
    fn judge(&self, p: &Proposal) -> Verdict {
        let v = p.tick.view;
        if p.parent_view >= v {
            return Verdict::Invalid(Rejection::BadParent);
        }
        if p.parent_view < self.tip.view {
            return Verdict::Invalid(Rejection::StaleParent);
        }
        let parent = if p.parent_view == self.tip.view {
            self.tip
        } else {
            match self
                .rounds
                .get(&p.parent_view)
                .and_then(|r| r.notarization.as_ref())
            {
                Some((n, h)) => super::core::Anchor::of(&n.tick, *h),
                None => return Verdict::Missing(vec![p.parent_view]),
            }
        };
        let gaps: Vec<View> = (p.parent_view.0 + 1..v.0)
            .map(View)
            .filter(|w| self.rounds.get(w).is_none_or(|r| r.nullification.is_none()))
            .take(PROPOSAL_GAP_VIEWS)
            .collect();
        if !gaps.is_empty() {
            return Verdict::Missing(gaps);
        }
        let t = &p.tick;
        if t.prev_hash != parent.hash || t.height.0 != parent.height.0 + 1 {
            return Verdict::Invalid(Rejection::BadParent);
        }
        // Checked before the parent's second: `real + 2^55` is after it, and wraps (§2).
        if t.second > Second::MAX {
            return Verdict::Invalid(Rejection::WrappedSecond);
        }
        if t.second <= parent.second {
            return Verdict::Invalid(Rejection::SecondNotAfterParent);
        }
        if t.batch_count as usize != p.batches.len() {
            return Verdict::Invalid(Rejection::BadBatches);
        }
        let gh = self.ctx.genesis_hash();
        let signers = self.ctx.genesis().batch_signers();
        let batches_ok = p.batches.iter().all(|b| {
            b.node.index() < signers
                && b.second <= t.second
                && self
                    .ctx
                    .verifier
                    .check_batch(b.node, &b.signing_bytes(&gh), &b.signature)
        });
        let tree = tickchain_sdk::batch::tick_tree(&p.batches, &gh);
        if !batches_ok || tree.root() != t.batch_root {
            return Verdict::Invalid(Rejection::BadBatches);
        }
        Verdict::Valid
    }

    /// Sends our finalize vote for view `w` if it is notarized, we did not nullify it, and we
    /// have a timely reading for its tick: our notarize reading, or failing that our reading now.
    pub(crate) fn maybe_finalize(&mut self, now: &LocalClock, w: View) {
        if w <= self.tip.view {
            return;
        }
        let Some(r) = self.rounds.get(&w) else { return };
        if r.my_finalize || r.my_nullify {
            return;
        }
        let Some((n, hash)) = r.notarization.as_ref() else {
            return;
        };
        let hash = *hash;
        let reading = match &r.my_notarize {
            Some(mine) if mine.tick_hash == hash => mine.reading,
            Some(_) => return,
            None => {
                if self.ctx.tolerance().check(now, n.tick.second) != Timeliness::Timely {
                    return;
                }
                now.reading
            }
        };
        let gh = self.ctx.genesis_hash();
        let me = self.ctx.me;
        let vote = TickVote::sign(VoteKind::Finalize, &self.ctx.key, &gh, me, w, hash, reading);
        let r = self.round(w);
        r.my_finalize = true;
        r.finalizes.insert(me, vote.clone());
        self.cast(Vote::Finalize(vote));
        self.check_finalization(now, w);
    }

    /// Nullifies the current view `v` (once), and arms the rebroadcast.
    pub(crate) fn nullify(&mut self, now: &LocalClock, v: View) {
        if v != self.view {
            return;
        }
        let r = self.round(v);
        if r.my_nullify || r.notarization.is_some() || r.nullification.is_some() {
            return;
        }
        let gh = self.ctx.genesis_hash();
        let me = self.ctx.me;
        let vote = NullifyVote::sign(&self.ctx.key, &gh, me, v);
        let r = self.round(v);
        r.my_nullify = true;
        r.nullifies.insert(me, vote.clone());
        self.cast(Vote::Nullify(vote));
        self.out.push(Action::SetTimer {
            timer: Timer::Retry(v),
            at: now.mid().saturating_add(self.ctx.config.nullify_retry),
        });
        self.check_nullification(now, v);
    }
}
