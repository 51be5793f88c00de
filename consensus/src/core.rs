//! The consensus state machine: its state, restoring it, dispatching inputs, entering views.
//!
//! Owns: [`Core`], the current view and its timers, and the order in which inputs are handled
//! (`specs/consensus.md` § Views). Never: I/O, clocks, randomness or threads: every instant comes
//! in with the input and every effect goes out as an [`Action`].

use super::chain::{Waiting, shown_view};
use super::clock::{LocalClock, proposal_second};
use super::config::Context;
use super::io::{Action, Input, Record, Timer};
use super::messages::{ChainTick, Fetch, Message, Vote};
use super::persist::Persisted;
use super::reject::{Rejection, Rejections};
use super::round::Round;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use tickchain_sdk::{Batch, Hash, Height, NodeId, Second, Tick, UtcNanos, View};

/// A point the chain may be extended from: the final tip, or a notarized tick above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Anchor {
    /// The view that produced it (0 for genesis).
    pub view: View,
    /// Its hash (the genesis hash for genesis).
    pub hash: Hash,
    /// Its height (0 for genesis).
    pub height: Height,
    /// Its second (the genesis second for genesis).
    pub second: Second,
}

impl Anchor {
    pub(crate) fn of(tick: &Tick, hash: Hash) -> Anchor {
        Anchor {
            view: tick.view,
            hash,
            height: tick.height,
            second: tick.second,
        }
    }
}

/// One node's Simplex core. Feed it [`Input`]s with the local clock; execute the [`Action`]s.
#[derive(Debug, Clone)]
pub struct Core {
    pub(crate) ctx: Arc<Context>,
    /// The current view.
    pub(crate) view: View,
    /// The certificate that brought us into the current view (rebroadcast with nullifies).
    pub(crate) entry: Option<Message>,
    /// Per-view state from the final tip's view upwards.
    pub(crate) rounds: BTreeMap<View, Round>,
    /// The newest final tick.
    pub(crate) tip: Anchor,
    /// Recent final ticks, oldest first, to answer lagging peers.
    pub(crate) history: VecDeque<(Hash, ChainTick)>,
    /// Final ticks not yet linked to the tip (their ancestors are being fetched), at most
    /// `max_waiting`.
    pub(crate) waiting: Waiting,
    /// The highest view in which each node sent a proposal, notarize or finalize vote.
    pub(crate) last_active: Vec<View>,
    /// Batches offered for our next proposal.
    pub(crate) batches: Vec<Batch>,
    /// Our own batches that no final tick has carried yet, with when each was last offered.
    pub(crate) own: BTreeMap<Second, (Batch, UtcNanos)>,
    /// Whether the re-offer timer is armed.
    pub(crate) reoffer_armed: bool,
    /// Final ticks dropped because they did not extend our chain and no certificate of theirs
    /// proved a conflict (a faulty peer's `Chain` answer, say).
    pub(crate) unlinkable: u64,
    /// Whether a conflict was reported: the core then reports no further final tick.
    pub(crate) conflicted: bool,
    /// Peer messages dropped, per reason (metrics only: nothing reads them back).
    pub(crate) rejected: Rejections,
    /// What we are fetching.
    pub(crate) want: Fetch,
    /// Whether the fetch retry timer is armed.
    pub(crate) fetch_armed: bool,
    /// Per peer, when we last asked it for its latest finalization (`specs/consensus.md` §10).
    pub(crate) asked: Vec<Option<UtcNanos>>,
    /// Per peer, when we last sent it our latest finalization.
    pub(crate) told: Vec<Option<UtcNanos>>,
    /// The view whose timers wait for the answer to the start probe, if any.
    pub(crate) probing: Option<View>,
    /// Actions produced by the input being handled.
    pub(crate) out: Vec<Action>,
}

impl Core {
    /// A core for `ctx`, rebuilt from what it persisted before (use `Persisted::default()` for a
    /// first start). Hand it [`Input::Start`] before anything else.
    pub fn new(ctx: Arc<Context>, persisted: &Persisted) -> Core {
        let g = ctx.genesis();
        let mut tip = Anchor {
            view: View(0),
            hash: g.hash,
            height: Height(0),
            second: g.genesis_second,
        };
        let mut history = VecDeque::new();
        if let Some(t) = &persisted.finalized {
            let hash = t.tick.hash(&g.hash);
            tip = Anchor::of(&t.tick, hash);
            history.push_back((hash, t.clone()));
        }
        let n = ctx.n();
        let mut core = Core {
            ctx,
            view: View(0),
            entry: None,
            rounds: BTreeMap::new(),
            tip,
            history,
            waiting: Waiting::default(),
            last_active: vec![View(0); n],
            batches: Vec::new(),
            own: BTreeMap::new(),
            reoffer_armed: false,
            unlinkable: 0,
            conflicted: false,
            rejected: Rejections::default(),
            want: Fetch::default(),
            fetch_armed: false,
            asked: vec![None; n],
            told: vec![None; n],
            probing: None,
            out: Vec::new(),
        };
        core.restore(persisted);
        core
    }

    fn restore(&mut self, p: &Persisted) {
        let me = self.ctx.me;
        let gh = self.ctx.genesis_hash();
        for (view, proposal) in &p.proposals {
            let r = self.rounds.entry(*view).or_default();
            let hash = proposal.tick.hash(&gh);
            r.proposal = Some((proposal.clone(), hash));
            r.proposed = true;
            r.my_notarize = Some(proposal.vote.clone());
            r.notarizes.insert(me, proposal.vote.clone());
        }
        for vote in p.votes.values() {
            let r = self.rounds.entry(vote.view()).or_default();
            match vote {
                Vote::Notarize(v) => {
                    r.my_notarize = Some(v.clone());
                    r.notarizes.insert(me, v.clone());
                }
                Vote::Finalize(v) => {
                    r.my_finalize = true;
                    r.finalizes.insert(me, v.clone());
                }
                Vote::Nullify(v) => {
                    r.my_nullify = true;
                    r.nullifies.insert(me, v.clone());
                }
            }
        }
        let mut view = View(self.tip.view.0 + 1).max(p.highest_view()).max(View(1));
        for (w, n) in &p.notarizations {
            let hash = n.tick.hash(&gh);
            self.rounds.entry(*w).or_default().notarization = Some((n.clone(), hash));
            if View(w.0 + 1) >= view {
                view = View(w.0 + 1);
                self.entry = Some(Message::Notarization(n.clone()));
            }
        }
        for (w, n) in &p.nullifications {
            self.rounds.entry(*w).or_default().nullification = Some(n.clone());
            if View(w.0 + 1) >= view {
                view = View(w.0 + 1);
                self.entry = Some(Message::Nullification(n.clone()));
            }
        }
        self.rounds.retain(|w, _| *w >= self.tip.view);
        self.view = view;
        // A restarted node has seen nobody yet; give every leader the benefit of the doubt.
        self.last_active.fill(view);
    }

    /// The leader of `view`.
    pub fn leader(&self, view: View) -> NodeId {
        self.ctx.leader(view)
    }

    /// The view this node is in.
    pub fn view(&self) -> View {
        self.view
    }

    /// The newest final tick's height.
    pub fn final_height(&self) -> Height {
        self.tip.height
    }

    /// Final ticks held while their ancestors are fetched (at most `Config::max_waiting`), for
    /// metrics.
    pub fn unlinked_ticks(&self) -> usize {
        self.waiting.len()
    }

    /// This node's id.
    pub fn me(&self) -> NodeId {
        self.ctx.me
    }

    /// How many peer messages this core dropped, per reason, since it was built.
    pub fn rejections(&self) -> &Rejections {
        &self.rejected
    }

    /// Counts one dropped peer message.
    pub(crate) fn reject(&mut self, why: Rejection) {
        self.rejected.add(why);
    }

    /// Whether a message for `view` is in the window ([`Self::in_window`]); if not, counts it
    /// as old or too far ahead.
    pub(crate) fn admit(&mut self, view: View) -> bool {
        if self.in_window(view) {
            return true;
        }
        self.reject(if view <= self.tip.view {
            Rejection::OldView
        } else {
            Rejection::ViewTooFarAhead
        });
        false
    }

    /// Handles one input at local clock `now` and returns what to do, in order.
    pub fn handle(&mut self, now: &LocalClock, input: Input) -> Vec<Action> {
        match input {
            // A node whose final tip is older than the view window asks where the ring is
            // before it runs its old view (`specs/consensus.md` §10).
            Input::Start if self.tip_is_stale(now) => self.probe(now),
            Input::Start => self.arm_view(now),
            Input::Message { from, message } => self.on_message(now, from, message),
            Input::Timer(timer) => self.on_timer(now, timer),
            Input::Batch(batch) if batch.node == self.ctx.me => self.on_own_batch(now, batch),
            Input::Batch(batch) => self.on_batch(now, batch),
        }
        std::mem::take(&mut self.out)
    }

    fn on_message(&mut self, now: &LocalClock, from: NodeId, message: Message) {
        if from.index() >= self.ctx.n() && from.index() < self.ctx.genesis().batch_signers() {
            // A gateway (`specs/consensus.md` §5, Gateways): it offers its own batches, and its
            // fetches are answered from the store by the node, not by the core.
            match message {
                Message::Batch(b) if b.node == from => self.on_batch(now, b),
                Message::Fetch(_) => {}
                _ => self.reject(Rejection::NotForGateway),
            }
            return;
        }
        if from.index() >= self.ctx.n() || from == self.ctx.me {
            self.reject(Rejection::UnknownSender);
            return;
        }
        if let Some(view) = shown_view(&message) {
            self.gauge(now, from, view);
        }
        match message {
            Message::Proposal(p) => self.on_proposal(now, p),
            Message::Notarize(v) => self.on_notarize(now, v),
            Message::Finalize(v) => self.on_finalize(now, v),
            Message::Nullify(v) => self.on_nullify(now, v),
            Message::Notarization(n) => self.on_notarization(now, n),
            Message::Nullification(n) => self.on_nullification(now, n),
            Message::Finalization(f) => self.on_finalization(now, f),
            Message::Fetch(f) => self.on_fetch(from, f),
            Message::Chain(ticks) => self.on_chain(now, ticks),
            // Only a batch's own signer offers it (the ring's batches are not gossiped).
            Message::Batch(b) if b.node == from => self.on_batch(now, b),
            Message::Batch(_) => self.reject(Rejection::BatchNotFromSigner),
            // Deliveries go from members to gateways only.
            Message::Delivered(_) => self.reject(Rejection::NotForGateway),
        }
    }

    fn on_timer(&mut self, now: &LocalClock, timer: Timer) {
        match timer {
            Timer::Propose(v) => self.propose(now, v),
            Timer::Recheck(v) => self.try_notarize(now, v),
            Timer::LeaderTimeout(v) => {
                let voted = self.rounds.get(&v).is_some_and(|r| r.my_notarize.is_some());
                if !voted {
                    self.nullify(now, v);
                }
            }
            Timer::NotarizeTimeout(v) => {
                let done = self
                    .rounds
                    .get(&v)
                    .is_some_and(|r| r.notarization.is_some() || r.nullification.is_some());
                if !done {
                    self.nullify(now, v);
                }
            }
            Timer::Retry(v) => self.retry(now, v),
            Timer::Fetch => self.retry_fetch(now),
            Timer::Reoffer => self.reoffer(now),
        }
    }

    /// The round for `view`, created on first use.
    pub(crate) fn round(&mut self, view: View) -> &mut Round {
        self.rounds.entry(view).or_default()
    }

    /// Whether a vote or certificate for `view` is worth looking at: above the final tip and not
    /// absurdly far ahead.
    pub(crate) fn in_window(&self, view: View) -> bool {
        view > self.tip.view && view.0 <= self.view.0 + self.ctx.config.max_views_ahead
    }

    pub(crate) fn mark_active(&mut self, node: NodeId, view: View) {
        if let Some(v) = self.last_active.get_mut(node.index()) {
            *v = (*v).max(view);
        }
    }

    /// Enters `view` if it is ahead of the current one (`specs/consensus.md` § Views: any
    /// certificate for v moves a node to v + 1).
    pub(crate) fn enter_view(&mut self, now: &LocalClock, view: View, entry: Message) {
        if view <= self.view {
            return;
        }
        self.view = view;
        self.entry = Some(entry);
        // During the start probe the view is not run yet: the probe's end arms the highest view
        // reached, so a faulty peer answering first with an old finalization cannot make a
        // wiped node act in a view it may have voted in before (`specs/consensus.md` §10).
        if self.probing.is_none() {
            self.arm_view(now);
        }
    }

    /// Sets the current view's timers and acts on what is already known about it.
    pub(crate) fn arm_view(&mut self, now: &LocalClock) {
        let v = self.view;
        let parent_second = match self.find_parent(v) {
            Ok(parent) => parent.second,
            Err(_) => self.tip.second,
        };
        let second = proposal_second(parent_second, now.mid());
        // A voter near a boundary waits as if the leader may already be past it.
        let patient = proposal_second(
            parent_second,
            now.mid().saturating_add(self.ctx.config.boundary_slack),
        );
        self.out.push(Action::SetTimer {
            timer: Timer::LeaderTimeout(v),
            at: self.ctx.proposal_deadline(patient),
        });
        self.out.push(Action::SetTimer {
            timer: Timer::NotarizeTimeout(v),
            at: self.ctx.notarize_deadline(patient),
        });
        let leader = self.ctx.leader(v);
        let round = self.round(v).clone();
        if round.my_nullify {
            self.out.push(Action::SetTimer {
                timer: Timer::Retry(v),
                at: now.mid().saturating_add(self.ctx.config.nullify_retry),
            });
            return;
        }
        if leader == self.ctx.me {
            if !round.proposed {
                // Entering a view mid-second because the previous one was nullified (its
                // leader is silent or dead), the second under way is still ours to fill while
                // it follows the parent and our clock finds it timely: a dead leader then costs
                // a view, not a second.
                let after_nullification = matches!(self.entry, Some(Message::Nullification(_)));
                let current = Second(now.mid().second_floor().max(0) as u64);
                let timely =
                    self.ctx.tolerance().check(now, current) == super::clock::Timeliness::Timely;
                let at = if after_nullification && current > parent_second && timely {
                    now.mid()
                } else {
                    second.start()
                };
                self.out.push(Action::SetTimer {
                    timer: Timer::Propose(v),
                    at,
                });
            }
            return;
        }
        if self.leader_is_inactive(v, leader) {
            self.nullify(now, v);
            return;
        }
        self.try_notarize(now, v);
    }

    /// Whether `leader` of view `v` should be skipped: it sent no notarize or finalize vote in
    /// the last `skip_inactive_views` views while at least q other nodes (counting us) did. When
    /// the whole ring has been quiet (after an outage) nobody is skipped, or no view could ever
    /// produce the activity that ends the skipping.
    fn leader_is_inactive(&self, v: View, leader: NodeId) -> bool {
        let skip = self.ctx.config.skip_inactive_views;
        if skip == 0 {
            return false;
        }
        let recent = |a: View| a.0.saturating_add(skip) >= v.0;
        if recent(self.last_active[leader.index()]) {
            return false;
        }
        let active = self
            .last_active
            .iter()
            .enumerate()
            .filter(|(i, a)| *i != leader.index() && (*i == self.ctx.me.index() || recent(**a)))
            .count();
        active >= self.ctx.quorum()
    }

    /// Rebroadcasts our nullify for a stuck view together with its entry certificate.
    fn retry(&mut self, now: &LocalClock, v: View) {
        if v != self.view {
            return;
        }
        let Some(r) = self.rounds.get(&v) else { return };
        if r.notarization.is_some() || r.nullification.is_some() || !r.my_nullify {
            return;
        }
        if let Some(vote) = r.nullifies.get(&self.ctx.me).cloned() {
            self.out.push(Action::Broadcast(Message::Nullify(vote)));
        }
        if let Some(entry) = self.entry.clone() {
            self.out.push(Action::Broadcast(entry));
        }
        self.out.push(Action::SetTimer {
            timer: Timer::Retry(v),
            at: now.mid().saturating_add(self.ctx.config.nullify_retry),
        });
    }

    /// Records and sends one of our votes: persisted first, then broadcast.
    pub(crate) fn cast(&mut self, vote: Vote) {
        self.out.push(Action::Persist(Record::Vote(vote.clone())));
        self.out.push(Action::Broadcast(Message::from_vote(&vote)));
    }

    /// Views at or above the final tip whose certificate we hold, for tests and the simulator.
    pub fn certified_views(&self) -> BTreeSet<View> {
        self.rounds
            .iter()
            .filter(|(_, r)| r.notarization.is_some() || r.nullification.is_some())
            .map(|(v, _)| *v)
            .collect()
    }
}

#[cfg(test)]
impl Core {
    /// A digest of everything the core's future behaviour depends on (the model checker's
    /// state identity).
    pub(crate) fn state_digest(&self) -> [u8; 32] {
        let text = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{}",
            self.view,
            self.entry,
            self.rounds,
            self.tip,
            self.history,
            self.waiting,
            self.last_active,
            self.batches,
            self.want,
            self.fetch_armed,
            self.asked,
            self.told,
            self.probing,
            self.conflicted
        );
        *blake3::hash(text.as_bytes()).as_bytes()
    }
}
