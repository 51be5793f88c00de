//! The final chain: linking final ticks to the tip, reporting them in order, and catch-up.
//!
//! Owns: the rule that a final tick makes its notarized ancestors final (Simplex), reporting each
//! final tick once in height order, pruning below the tip, the fetch protocol that fills gaps,
//! and catch-up from any distance: a peer beyond our view window is asked for its latest
//! finalization, a peer behind its window is sent ours, and the gap below it is walked back by
//! hash with at most `max_waiting` ticks held (`specs/consensus.md` §10). Never: reports a tick
//! that does not hash-link to the tip, never back-fills a skipped second, and never sends a
//! peer more than one catch-up request or finalization per `fetch_retry`.

use super::clock::LocalClock;
use super::codec::{CHAIN_ANSWER, MAX_CHAIN};
use super::core::{Anchor, Core};
use super::io::{Action, Record, Timer};
use super::messages::{ChainTick, Fetch, Finalization, Message};
use std::collections::{BTreeMap, BTreeSet};
use tickchain_sdk::{Hash, Height, NodeId, Tick, UtcNanos, View};

/// Most missing views one catch-up asks a peer ahead of us for at once (`specs/consensus.md`
/// §10: `Fetch.views`, at most 16).
const CATCH_UP_VIEWS: usize = 16;

/// Final ticks not yet linked to the tip (their ancestors are being fetched), indexed by hash,
/// by height (to drop the highest when full) and by parent (to accept a fetched ancestor).
#[derive(Debug, Clone, Default)]
pub(crate) struct Waiting {
    ticks: BTreeMap<Hash, ChainTick>,
    by_height: BTreeSet<(Height, Hash)>,
    /// How many waiting ticks name each hash as their parent.
    parents: BTreeMap<Hash, u32>,
}

impl Waiting {
    /// Holds `t` (by its `hash`) unless it is already held.
    fn insert(&mut self, hash: Hash, t: ChainTick) {
        if self.ticks.contains_key(&hash) {
            return;
        }
        self.by_height.insert((t.tick.height, hash));
        *self.parents.entry(t.tick.prev_hash).or_default() += 1;
        self.ticks.insert(hash, t);
    }

    fn remove(&mut self, hash: &Hash) {
        let Some(t) = self.ticks.remove(hash) else {
            return;
        };
        self.by_height.remove(&(t.tick.height, *hash));
        if let Some(c) = self.parents.get_mut(&t.tick.prev_hash) {
            *c -= 1;
            if *c == 0 {
                self.parents.remove(&t.tick.prev_hash);
            }
        }
    }

    /// The waiting tick with `hash`.
    pub(crate) fn get(&self, hash: &Hash) -> Option<&ChainTick> {
        self.ticks.get(hash)
    }

    /// How many ticks are held.
    pub(crate) fn len(&self) -> usize {
        self.ticks.len()
    }

    /// Whether a waiting tick names `hash` as its parent.
    fn is_parent(&self, hash: &Hash) -> bool {
        self.parents.contains_key(hash)
    }

    /// The highest waiting tick's hash.
    fn top(&self) -> Option<Hash> {
        self.by_height.last().map(|(_, h)| *h)
    }

    /// Parents of waiting ticks that are not waiting themselves (what a fetch must bring).
    fn missing_parents(&self) -> Vec<Hash> {
        self.parents
            .keys()
            .filter(|h| !self.ticks.contains_key(h))
            .copied()
            .collect()
    }

    /// Drops every tick at or below `height`.
    fn prune(&mut self, height: Height) {
        while let Some(&(h, hash)) = self.by_height.first() {
            if h > height {
                break;
            }
            self.remove(&hash);
        }
    }

    /// Drops the highest ticks until at most `cap` are held: the walk down to the tip goes on,
    /// and a later finalization brings the dropped part back.
    fn trim(&mut self, cap: usize) {
        while self.ticks.len() > cap {
            let Some(&(_, hash)) = self.by_height.last() else {
                return;
            };
            self.remove(&hash);
        }
    }

    fn clear(&mut self) {
        *self = Waiting::default();
    }
}

/// The view a peer's message shows it has reached (`None` for messages that name none).
pub(crate) fn shown_view(m: &Message) -> Option<View> {
    match m {
        Message::Proposal(p) => Some(p.tick.view),
        Message::Notarize(v) | Message::Finalize(v) => Some(v.view),
        Message::Nullify(v) => Some(v.view),
        Message::Notarization(n) => Some(n.tick.view),
        Message::Nullification(n) => Some(n.view),
        Message::Finalization(f) => Some(f.tick.view),
        Message::Fetch(f) => f.views.iter().max().copied(),
        Message::Chain(_) | Message::Batch(_) | Message::Delivered(_) => None,
    }
}

/// Whether `peer`'s slot in `last` allows one more catch-up message at `now`, and if so takes
/// it (at most one per peer per `every`).
fn take_slot(
    last: &mut [Option<UtcNanos>],
    peer: NodeId,
    now: UtcNanos,
    every: tickchain_sdk::Nanos,
) -> bool {
    let Some(slot) = last.get_mut(peer.index()) else {
        return false;
    };
    if slot.is_some_and(|t| now < t.saturating_add(every) && now >= t) {
        return false;
    }
    *slot = Some(now);
    true
}

impl Core {
    /// `t` is final (by its own certificate): report it and its ancestors once linked to the tip.
    pub(crate) fn finalize_tick(&mut self, now: &LocalClock, t: ChainTick) {
        if self.conflicted {
            return;
        }
        if t.tick.height <= self.tip.height {
            self.check_conflict_below(t);
            return;
        }
        let hash = t.tick.hash(&self.ctx.genesis_hash());
        self.waiting.insert(hash, t);
        self.waiting.trim(self.ctx.config.max_waiting);
        self.link(now);
    }

    /// A final tick at or below our tip, final by its own certificate (verified against genesis
    /// before it got here): if our final tick at that height is another one, report the
    /// conflict (`specs/consensus.md` §7). Heights older than the core's history are not
    /// compared here.
    fn check_conflict_below(&mut self, t: ChainTick) {
        if t.certificate.is_none() {
            return;
        }
        let gh = self.ctx.genesis_hash();
        let theirs = t.tick.hash(&gh);
        let ours = self
            .history
            .iter()
            .find(|(_, o)| o.tick.height == t.tick.height)
            .filter(|(h, _)| *h != theirs)
            .map(|(_, o)| o.clone());
        if let Some(ours) = ours {
            self.report_conflict(ours, vec![t]);
        }
    }

    /// The walk from a waiting tick (`path`, top first, hash-linked) reached our tip's height
    /// plus one without extending our tip: a conflict if the top has its own certificate,
    /// otherwise an unlinkable tick, dropped and counted.
    fn not_extending(&mut self, path: &[Hash]) {
        let theirs: Vec<ChainTick> = path.iter().filter_map(|h| self.known_tick(h)).collect();
        let ours = self
            .history
            .back()
            .filter(|(h, _)| *h == self.tip.hash)
            .map(|(_, t)| t.clone());
        match (theirs.first(), ours) {
            (Some(top), Some(ours)) if top.certificate.is_some() && theirs.len() == path.len() => {
                // The tick at our tip's height on their chain is the parent of the lowest one.
                let mut theirs = theirs;
                let parent = theirs.last().map(|t| t.tick.prev_hash);
                if let Some(p) = parent.and_then(|p| self.known_tick(&p)) {
                    theirs.push(p);
                }
                self.report_conflict(ours, theirs);
            }
            _ => {
                self.unlinkable += 1;
                self.reject(super::reject::Rejection::UnlinkableTick);
            }
        }
    }

    /// Final ticks dropped because they did not extend our chain and no certificate of theirs
    /// proved a conflict (`specs/consensus.md` §7).
    pub fn unlinkable_ticks(&self) -> u64 {
        self.unlinkable
    }

    fn report_conflict(&mut self, ours: ChainTick, theirs: Vec<ChainTick>) {
        self.conflicted = true;
        self.out.push(Action::Conflict {
            height: ours.tick.height,
            ours,
            theirs,
        });
    }

    /// The tick with `hash` known as notarized above the tip, or waiting to be linked.
    fn known(&self, hash: &Hash) -> Option<&Tick> {
        if let Some(t) = self.waiting.get(hash) {
            return Some(&t.tick);
        }
        self.rounds.values().find_map(|r| match &r.notarization {
            Some((n, h)) if h == hash => Some(&n.tick),
            _ => None,
        })
    }

    /// [`Self::known`] as a final tick to report or serve (with its own certificate if held).
    fn known_tick(&self, hash: &Hash) -> Option<ChainTick> {
        if let Some(t) = self.waiting.get(hash) {
            return Some(t.clone());
        }
        self.known(hash).map(|tick| ChainTick {
            tick: tick.clone(),
            certificate: None,
        })
    }

    /// Walks back from the highest waiting tick to the tip; reports the path or fetches the gap.
    /// The walk follows hashes and copies a tick only to report it.
    fn link(&mut self, now: &LocalClock) {
        while let Some(top) = self.waiting.top() {
            let mut path = vec![top];
            let mut cur = top;
            loop {
                let Some(t) = self.known(&cur) else {
                    return;
                };
                let (height, parent) = (t.height, t.prev_hash);
                if height.0 == self.tip.height.0 + 1 {
                    if parent != self.tip.hash {
                        // Does not extend our final chain: never report it. If the walk
                        // started at a tick with its own certificate, the ring finalized
                        // another tick at our tip's height: a conflict.
                        self.not_extending(&path);
                        self.waiting.clear();
                        return;
                    }
                    break;
                }
                match self.known(&parent) {
                    Some(p) if p.height.0 + 1 == height.0 => {
                        path.push(parent);
                        cur = parent;
                    }
                    _ => {
                        self.fetch(now, None, Vec::new(), vec![parent]);
                        return;
                    }
                }
            }
            for hash in path.into_iter().rev() {
                let t = self.known_tick(&hash).expect("on the walked path");
                self.tip = Anchor::of(&t.tick, hash);
                let batches = self.batches_of(&t, &hash);
                for b in batches.iter().flatten() {
                    if b.node == self.ctx.me {
                        self.own.remove(&b.second);
                    }
                }
                self.out.push(Action::Persist(Record::Finalized(t.clone())));
                self.out.push(Action::Finalized {
                    tick: t.clone(),
                    batches,
                });
                self.history.push_back((hash, t));
                if self.history.len() > self.ctx.config.history {
                    self.history.pop_front();
                }
            }
            let tip = self.tip;
            self.waiting.prune(tip.height);
            self.rounds.retain(|v, _| *v >= tip.view);
            self.want.ticks.retain(|h| *h != tip.hash);
        }
    }

    /// Catch-up from any distance (`specs/consensus.md` §10): `peer` sent a message of `view`.
    /// If that is beyond our window we are too far behind to follow it, so we ask it for its
    /// latest finalization (a fetch naming our view, which shows it how far behind we are); if
    /// it is as far below our view, the peer cannot follow us, so we send it our latest
    /// finalization. Either at most once per peer per `fetch_retry`.
    pub(crate) fn gauge(&mut self, now: &LocalClock, peer: NodeId, view: View) {
        let window = self.ctx.config.max_views_ahead;
        let every = self.ctx.config.fetch_retry;
        if view.0 > self.view.0.saturating_add(window) {
            if take_slot(&mut self.asked, peer, now.mid(), every) {
                self.out.push(Action::Send {
                    to: peer,
                    message: Message::Fetch(Fetch {
                        views: vec![self.view],
                        ticks: Vec::new(),
                    }),
                });
            }
        } else if view.0.saturating_add(window) < self.view.0
            && let Some(f) = self.latest_finalization()
            && f.tick.view > view
            && take_slot(&mut self.told, peer, now.mid(), every)
        {
            self.out.push(Action::Send {
                to: peer,
                message: Message::Finalization(f),
            });
        }
    }

    /// Our newest final tick that carries its own certificate, as a finalization.
    fn latest_finalization(&self) -> Option<Finalization> {
        self.history.iter().rev().find_map(|(_, t)| {
            t.certificate.as_ref().map(|c| Finalization {
                tick: t.tick.clone(),
                certificate: c.clone(),
            })
        })
    }

    /// Whether our final tip is older than the view window in seconds: a live ring moves at
    /// least one view a second, so it is probably beyond our window.
    pub(crate) fn tip_is_stale(&self, now: &LocalClock) -> bool {
        let window = i64::try_from(self.ctx.config.max_views_ahead).unwrap_or(i64::MAX);
        let limit = self
            .tip
            .second
            .start()
            .saturating_add(tickchain_sdk::Nanos::from_secs(window));
        now.mid() > limit
    }

    /// On a start with a stale tip: asks everyone for their latest finalization (a fetch
    /// naming our view) and holds the view's timers back for one `fetch_retry`, so that a node
    /// back from a long outage (or a wiped one) jumps to the ring's view before it votes in its
    /// old one.
    pub(crate) fn probe(&mut self, now: &LocalClock) {
        self.probing = Some(self.view);
        self.out.push(Action::Broadcast(Message::Fetch(Fetch {
            views: vec![self.view],
            ticks: Vec::new(),
        })));
        if !self.fetch_armed {
            self.fetch_armed = true;
            self.out.push(Action::SetTimer {
                timer: Timer::Fetch,
                at: now.mid().saturating_add(self.ctx.config.fetch_retry),
            });
        }
    }

    /// `peer` voted in `view`, ahead of us: it holds certificates for the views between, so ask
    /// it for the ones we lack instead of waiting for a rebroadcast.
    pub(crate) fn catch_up(&mut self, now: &LocalClock, peer: NodeId, view: View) {
        if view <= self.view {
            return;
        }
        let missing: Vec<View> = (self.view.0..view.0)
            .map(View)
            .filter(|w| {
                self.rounds
                    .get(w)
                    .is_none_or(|r| r.notarization.is_none() && r.nullification.is_none())
            })
            .take(CATCH_UP_VIEWS)
            .collect();
        self.fetch(now, Some(peer), missing, Vec::new());
    }

    /// Asks `to` (or everyone) for certificates of `views` and final ticks `ticks`, and arms a
    /// retry that asks everyone.
    pub(crate) fn fetch(
        &mut self,
        now: &LocalClock,
        to: Option<NodeId>,
        views: Vec<View>,
        ticks: Vec<Hash>,
    ) {
        let new_views: Vec<View> = views
            .into_iter()
            .filter(|v| !self.want.views.contains(v))
            .collect();
        let new_ticks: Vec<Hash> = ticks
            .into_iter()
            .filter(|h| !self.want.ticks.contains(h))
            .collect();
        if new_views.is_empty() && new_ticks.is_empty() {
            return;
        }
        self.want.views.extend(new_views.iter().copied());
        self.want.ticks.extend(new_ticks.iter().copied());
        let msg = Message::Fetch(Fetch {
            views: new_views,
            ticks: new_ticks,
        });
        self.out.push(match to {
            Some(to) => Action::Send { to, message: msg },
            None => Action::Broadcast(msg),
        });
        if !self.fetch_armed {
            self.fetch_armed = true;
            self.out.push(Action::SetTimer {
                timer: Timer::Fetch,
                at: now.mid().saturating_add(self.ctx.config.fetch_retry),
            });
        }
    }

    /// Drops what has arrived from the wanted set and asks everyone for the rest.
    pub(crate) fn retry_fetch(&mut self, now: &LocalClock) {
        self.fetch_armed = false;
        // The start probe is over: run the highest view it brought us to (or the one we were
        // in, if no finalization moved us).
        if self.probing.take().is_some() {
            self.arm_view(now);
        }
        let tip = self.tip;
        let rounds = &self.rounds;
        let current = self.view;
        self.want.views.retain(|v| {
            let open = rounds
                .get(v)
                .is_none_or(|r| r.notarization.is_none() && r.nullification.is_none());
            let proposal_wanted =
                *v == current && rounds.get(v).is_none_or(|r| r.proposal.is_none());
            *v > tip.view && open && (*v < current || proposal_wanted)
        });
        let needed: BTreeSet<Hash> = self.waiting.missing_parents().into_iter().collect();
        self.want.ticks.retain(|h| needed.contains(h));
        self.want.views.truncate(super::codec::MAX_FETCH);
        self.want.ticks.truncate(super::codec::MAX_FETCH);
        if self.want.views.is_empty() && self.want.ticks.is_empty() {
            return;
        }
        self.out
            .push(Action::Broadcast(Message::Fetch(self.want.clone())));
        self.fetch_armed = true;
        self.out.push(Action::SetTimer {
            timer: Timer::Fetch,
            at: now.mid().saturating_add(self.ctx.config.fetch_retry),
        });
    }

    /// Answers a peer's fetch with the certificates and final ticks we hold.
    pub(crate) fn on_fetch(&mut self, from: NodeId, f: Fetch) {
        for v in f.views.iter().take(super::codec::MAX_FETCH) {
            if let Some(r) = self.rounds.get(v) {
                if let Some((n, _)) = &r.notarization {
                    self.out.push(Action::Send {
                        to: from,
                        message: Message::Notarization(n.clone()),
                    });
                }
                if let Some(n) = &r.nullification {
                    self.out.push(Action::Send {
                        to: from,
                        message: Message::Nullification(n.clone()),
                    });
                }
                if r.notarization.is_none()
                    && r.nullification.is_none()
                    && let Some((p, _)) = &r.proposal
                {
                    self.out.push(Action::Send {
                        to: from,
                        message: Message::Proposal(p.clone()),
                    });
                }
            }
            if let Some((_, t)) = self.history.iter().rev().find(|(_, t)| t.tick.view == *v) {
                self.send_chain_from(from, t.tick.hash(&self.ctx.genesis_hash()));
            }
        }
        for h in f.ticks.iter().take(super::codec::MAX_FETCH) {
            self.send_chain_from(from, *h);
        }
    }

    /// Sends final ticks from `hash` back through its ancestors (newest first).
    fn send_chain_from(&mut self, to: NodeId, hash: Hash) {
        let Some(pos) = self.history.iter().rposition(|(h, _)| *h == hash) else {
            if let Some(t) = self.known_tick(&hash) {
                self.out.push(Action::Send {
                    to,
                    message: Message::Chain(vec![t]),
                });
            }
            return;
        };
        let from = pos.saturating_sub(CHAIN_ANSWER - 1);
        let ticks: Vec<ChainTick> = self
            .history
            .range(from..=pos)
            .rev()
            .map(|(_, t)| t.clone())
            .collect();
        self.out.push(Action::Send {
            to,
            message: Message::Chain(ticks),
        });
    }

    /// Final ticks from a peer: kept when they hash-link to what we wait for; their own
    /// certificates are kept only if the sdk verifier accepts them. While an answer only
    /// extends the walk down (its lowest tick's parent is unknown), the next ancestor is fetched
    /// at once instead of walking the whole path again, so a long gap costs one step per answer.
    pub(crate) fn on_chain(&mut self, now: &LocalClock, ticks: Vec<ChainTick>) {
        let gh = self.ctx.genesis_hash();
        let mut accepted: Vec<(Height, Hash, Hash)> = Vec::new();
        for mut t in ticks.into_iter().take(MAX_CHAIN) {
            let hash = t.tick.hash(&gh);
            // Wanted: a waiting tick names it as parent, or we fetched it by hash (the parent
            // of a notarized tick on the path from a waiting tick down to the tip).
            let linked = self.want.ticks.contains(&hash) || self.waiting.is_parent(&hash);
            if !linked || self.waiting.get(&hash).is_some() || t.tick.height <= self.tip.height {
                continue;
            }
            if let Some(c) = &t.certificate
                && self
                    .ctx
                    .verifier
                    .network()
                    .verify_certificate(&t.tick, c)
                    .is_err()
            {
                t.certificate = None;
            }
            accepted.push((t.tick.height, hash, t.tick.prev_hash));
            self.waiting.insert(hash, t);
        }
        if accepted.is_empty() {
            return;
        }
        self.waiting.trim(self.ctx.config.max_waiting);
        accepted.sort();
        let contiguous = accepted.windows(2).all(|w| w[1].2 == w[0].1);
        let (low_height, low_hash, low_parent) = accepted[0];
        let still_below = contiguous
            && self.waiting.get(&low_hash).is_some()
            && low_height.0 > self.tip.height.0 + 1
            && self.known(&low_parent).is_none();
        if still_below {
            self.fetch(now, None, Vec::new(), vec![low_parent]);
        } else {
            self.link(now);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Catch-up from any distance, one rule per test (`specs/consensus.md` §10).

    use crate::sim::{Scenario, World};
    use crate::{
        Action, ChainTick, Config, Context, Core, Input, LocalClock, Message, NullifyVote,
        Persisted, Timer,
    };
    use std::sync::Arc;
    use tickchain_sdk::{Nanos, NodeId, UtcNanos, View};

    /// A final tick with its own certificate at view 4 or above, from a short calm run, with
    /// the run's contexts rebuilt around a view window of 2.
    fn certified_tick() -> (World, ChainTick, Vec<Arc<Context>>) {
        let mut world = World::new(Scenario::calm(1, 4, 20, 8));
        world.run();
        let t = world.log.finalized[0]
            .iter()
            .map(|(_, t)| t.clone())
            .find(|t| t.certificate.is_some() && t.tick.view.0 >= 4)
            .expect("a calm run finalizes with certificates");
        let config = Config {
            max_views_ahead: 2,
            ..Config::default()
        };
        let ctxs = Context::ring(&world.net, config);
        (world, t, ctxs)
    }

    fn clock(at: UtcNanos) -> LocalClock {
        LocalClock::synced(at, Nanos::from_millis(10))
    }

    fn nullify(world: &World, signer: u16, view: View) -> Input {
        let key = &world.net.keys[signer as usize];
        Input::Message {
            from: NodeId(signer),
            message: Message::Nullify(NullifyVote::sign(
                key,
                &world.net.genesis.hash,
                NodeId(signer),
                view,
            )),
        }
    }

    fn sends(actions: &[Action]) -> Vec<(NodeId, &'static str)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { to, message } => Some((*to, message.kind())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_peer_far_behind_is_sent_our_latest_finalization_at_most_once_per_fetch_retry() {
        let (world, t, ctxs) = certified_tick();
        let persisted = Persisted {
            finalized: Some(t.clone()),
            ..Persisted::default()
        };
        let mut core = Core::new(ctxs[0].clone(), &persisted);
        let now = t.tick.second.start();
        let later = |ms| clock(now.saturating_add(Nanos::from_millis(ms)));
        let behind = nullify(&world, 1, View(1));
        let first = core.handle(&later(0), behind.clone());
        assert_eq!(sends(&first), vec![(NodeId(1), "finalization")]);
        assert!(sends(&core.handle(&later(100), behind.clone())).is_empty());
        let other = core.handle(&later(100), nullify(&world, 2, View(1)));
        assert_eq!(sends(&other), vec![(NodeId(2), "finalization")], "per peer");
        let again = core.handle(&later(600), behind);
        assert_eq!(sends(&again), vec![(NodeId(1), "finalization")]);
        let close = core.handle(&later(700), nullify(&world, 3, t.tick.view));
        assert!(
            sends(&close).is_empty(),
            "a peer within the window is not told"
        );
    }

    #[test]
    fn a_peer_beyond_the_window_is_asked_for_its_finalization_at_most_once_per_fetch_retry() {
        let (world, t, ctxs) = certified_tick();
        let mut core = Core::new(ctxs[0].clone(), &Persisted::default());
        let now = t.tick.second.start();
        let later = |ms| clock(now.saturating_add(Nanos::from_millis(ms)));
        let ahead = nullify(&world, 1, View(core.view().0 + 3));
        let first = core.handle(&later(0), ahead.clone());
        let asked: Vec<_> = first
            .iter()
            .filter_map(|a| match a {
                Action::Send {
                    to,
                    message: Message::Fetch(f),
                } => Some((*to, f.views.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(asked, vec![(NodeId(1), vec![core.view()])]);
        assert!(sends(&core.handle(&later(400), ahead.clone())).is_empty());
        assert_eq!(sends(&core.handle(&later(500), ahead)).len(), 1);
    }

    #[test]
    fn a_node_back_after_the_window_jumps_to_a_finalization_and_fetches_the_gap() {
        let (_, t, ctxs) = certified_tick();
        let mut core = Core::new(ctxs[2].clone(), &Persisted::default());
        // Genesis is more than 2 s old: the tip is stale, so the start probes first.
        let now = clock(t.tick.second.start());
        let start = core.handle(&now, Input::Start);
        assert!(start.iter().any(|a| matches!(a,
            Action::Broadcast(Message::Fetch(f)) if f.views == vec![View(1)])));
        assert!(
            !start.iter().any(|a| matches!(
                a,
                Action::SetTimer {
                    timer: Timer::LeaderTimeout(_),
                    ..
                }
            )),
            "the view's timers wait for the probe: {start:?}"
        );
        let f = crate::Finalization {
            tick: t.tick.clone(),
            certificate: t.certificate.clone().expect("certified"),
        };
        let jumped = core.handle(
            &now,
            Input::Message {
                from: NodeId(1),
                message: Message::Finalization(f),
            },
        );
        assert_eq!(core.view(), View(t.tick.view.0 + 1));
        assert!(jumped.iter().any(|a| matches!(a,
            Action::Broadcast(Message::Fetch(f)) if f.ticks == vec![t.tick.prev_hash])));
        // The probe's timer finds the view moved on and arms nothing for the old one.
        let fired = core.handle(&now, Input::Timer(Timer::Fetch));
        assert!(!fired.iter().any(|a| matches!(
            a,
            Action::SetTimer {
                timer: Timer::LeaderTimeout(View(1)),
                ..
            }
        )));
    }
}
