//! The leader's side: choosing the parent and the second, and proposing.
//!
//! Owns: the parent rule (the highest notarized tick below the view with every view between
//! nullified, `specs/consensus.md` § Proposals) and building the leader's proposal at its second
//! boundary. Never: proposes twice in a view, or proposes on a clock it would not vote with.

use super::clock::{LocalClock, Timeliness, proposal_second};
use super::core::{Anchor, Core};
use super::io::{Action, Record, Timer};
use super::messages::{Message, Proposal, TickVote};
use tickchain_sdk::votes::VoteKind;
use tickchain_sdk::{Second, Tick, View};

/// Most views without a certificate a leader asks for at once while looking for its parent
/// below the view it leads, nearest first (`specs/consensus.md` §5); it asks again for the
/// rest when its `Propose` timer retries.
const PARENT_GAP_VIEWS: usize = 64;

impl Core {
    /// The parent a proposal in `view` must extend, or the views whose certificates we lack.
    pub(crate) fn find_parent(&self, view: View) -> Result<Anchor, Vec<View>> {
        let mut missing = Vec::new();
        let mut w = view.0;
        while w > self.tip.view.0 + 1 {
            w -= 1;
            match self.rounds.get(&View(w)) {
                Some(r) if r.notarization.is_some() => {
                    let (n, hash) = r.notarization.as_ref().expect("checked");
                    return if missing.is_empty() {
                        Ok(Anchor::of(&n.tick, *hash))
                    } else {
                        Err(missing)
                    };
                }
                Some(r) if r.nullification.is_some() => {}
                _ => {
                    missing.push(View(w));
                    if missing.len() >= PARENT_GAP_VIEWS {
                        break;
                    }
                }
            }
        }
        if missing.is_empty() {
            Ok(self.tip)
        } else {
            Err(missing)
        }
    }

    /// Proposes in `view` if we lead it, have not proposed or nullified, and our clock says the
    /// second boundary has come.
    pub(crate) fn propose(&mut self, now: &LocalClock, view: View) {
        if view != self.view || self.ctx.leader(view) != self.ctx.me {
            return;
        }
        let r = self.round(view);
        if r.proposed || r.my_nullify || r.my_notarize.is_some() {
            return;
        }
        let parent = match self.find_parent(view) {
            Ok(p) => p,
            Err(missing) => {
                self.fetch(now, None, missing, Vec::new());
                self.out.push(Action::SetTimer {
                    timer: Timer::Propose(view),
                    at: now.mid().saturating_add(self.ctx.config.fetch_retry),
                });
                return;
            }
        };
        // A real timer fires a little after the boundary it was set for: the second that just
        // began is still ours to propose while it is after the parent and timely.
        let tol = self.ctx.tolerance();
        let current = Second(now.mid().second_floor().max(0) as u64);
        let second = if current > parent.second && tol.check(now, current) == Timeliness::Timely {
            current
        } else {
            proposal_second(parent.second, now.mid())
        };
        // Never a second without a start (`specs/consensus.md` §2): no voter would take it.
        let Some(start) = second.checked_start() else {
            self.nullify(now, view);
            return;
        };
        if now.mid() < start {
            self.out.push(Action::SetTimer {
                timer: Timer::Propose(view),
                at: start,
            });
            return;
        }
        match tol.check(now, second) {
            Timeliness::Timely => {}
            Timeliness::Early => {
                self.out.push(Action::SetTimer {
                    timer: Timer::Propose(view),
                    at: tol.timely_from(now, second),
                });
                return;
            }
            Timeliness::Late | Timeliness::Ahead | Timeliness::Unsynchronized => {
                self.nullify(now, view);
                return;
            }
        }
        let gh = self.ctx.genesis_hash();
        let (mut batches, mut rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.batches)
            .into_iter()
            .partition(|b| b.second <= second);
        if batches.len() > super::codec::MAX_BATCHES {
            rest.extend(batches.split_off(super::codec::MAX_BATCHES));
        }
        self.batches = rest;
        let tree = tickchain_sdk::batch::tick_tree(&batches, &gh);
        let tick = Tick {
            height: tickchain_sdk::Height(parent.height.0 + 1),
            view,
            second,
            prev_hash: parent.hash,
            batch_root: tree.root(),
            batch_count: tree.len(),
            proposer: self.ctx.me,
        };
        let hash = tick.hash(&gh);
        let vote = TickVote::sign(
            VoteKind::Notarize,
            &self.ctx.key,
            &gh,
            self.ctx.me,
            view,
            hash,
            now.reading,
        );
        let proposal = Proposal {
            tick,
            parent_view: parent.view,
            batches,
            vote: vote.clone(),
        };
        self.out
            .push(Action::Persist(Record::Proposal(proposal.clone())));
        self.out
            .push(Action::Broadcast(Message::Proposal(proposal.clone())));
        let me = self.ctx.me;
        let r = self.round(view);
        r.proposed = true;
        r.proposal = Some((proposal, hash));
        r.my_notarize = Some(vote.clone());
        r.notarizes.insert(me, vote);
        self.mark_active(me, view);
        self.check_notarization(now, view);
    }
}
