//! The final chain: linking final ticks to the tip, reporting them in order, and catch-up.
//!
//! Owns: the rule that a final tick makes its notarized ancestors final (Simplex), reporting each
//! final tick once in height order, pruning below the tip, and the fetch protocol that fills
//! gaps (`specs/consensus.md` § Catch-up). Never: reports a tick that does not hash-link to the
//! tip, and never back-fills a skipped second.

use super::clock::LocalClock;
use super::codec::{CHAIN_ANSWER, MAX_CHAIN};
use super::core::{Anchor, Core};
use super::io::{Action, Record, Timer};
use super::messages::{ChainTick, Fetch, Message};
use tickchain_sdk::{Hash, NodeId, View};

/// Most missing views one catch-up asks a peer ahead of us for at once (`specs/consensus.md`
/// §10: `Fetch.views`, at most 16).
const CATCH_UP_VIEWS: usize = 16;

impl Core {
    /// `t` is final (by its own certificate): report it and its ancestors once linked to the tip.
    pub(crate) fn finalize_tick(&mut self, now: &LocalClock, t: ChainTick) {
        if t.tick.height <= self.tip.height {
            return;
        }
        let hash = t.tick.hash(&self.ctx.genesis_hash());
        self.waiting.insert(hash, t);
        self.link(now);
    }

    /// The tick with `hash` known as notarized above the tip, or waiting to be linked.
    fn known_tick(&self, hash: &Hash) -> Option<ChainTick> {
        if let Some(t) = self.waiting.get(hash) {
            return Some(t.clone());
        }
        self.rounds.values().find_map(|r| match &r.notarization {
            Some((n, h)) if h == hash => Some(ChainTick {
                tick: n.tick.clone(),
                certificate: None,
            }),
            _ => None,
        })
    }

    /// Walks back from the highest waiting tick to the tip; reports the path or fetches the gap.
    fn link(&mut self, now: &LocalClock) {
        let Some((top_hash, top)) = self
            .waiting
            .iter()
            .max_by_key(|(_, t)| t.tick.height)
            .map(|(h, t)| (*h, t.clone()))
        else {
            return;
        };
        let mut path = vec![(top_hash, top)];
        loop {
            let (_, cur) = path.last().expect("non-empty");
            if cur.tick.height.0 == self.tip.height.0 + 1 {
                if cur.tick.prev_hash != self.tip.hash {
                    // Does not extend our final chain: never report it.
                    self.waiting.clear();
                    return;
                }
                break;
            }
            let parent = cur.tick.prev_hash;
            match self.known_tick(&parent) {
                Some(t) if t.tick.height.0 + 1 == cur.tick.height.0 => path.push((parent, t)),
                _ => {
                    self.fetch(now, None, Vec::new(), vec![parent]);
                    return;
                }
            }
        }
        for (hash, t) in path.into_iter().rev() {
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
        self.waiting.retain(|_, t| t.tick.height > tip.height);
        self.rounds.retain(|v, _| *v >= tip.view);
        self.want.ticks.retain(|h| *h != tip.hash);
        if !self.waiting.is_empty() {
            self.link(now);
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
        let waiting = &self.waiting;
        let needed: Vec<Hash> = waiting.values().map(|t| t.tick.prev_hash).collect();
        self.want
            .ticks
            .retain(|h| needed.contains(h) && !waiting.contains_key(h));
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
    /// certificates are kept only if the sdk verifier accepts them.
    pub(crate) fn on_chain(&mut self, now: &LocalClock, ticks: Vec<ChainTick>) {
        let gh = self.ctx.genesis_hash();
        let mut accepted = false;
        for mut t in ticks.into_iter().take(MAX_CHAIN) {
            let hash = t.tick.hash(&gh);
            // Wanted: a waiting tick names it as parent, or we fetched it by hash (the parent
            // of a notarized tick on the path from a waiting tick down to the tip).
            let linked = self.want.ticks.contains(&hash)
                || self.waiting.values().any(|w| w.tick.prev_hash == hash);
            if !linked || self.waiting.contains_key(&hash) || t.tick.height <= self.tip.height {
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
            self.waiting.insert(hash, t);
            accepted = true;
        }
        if accepted {
            self.link(now);
        }
    }
}
