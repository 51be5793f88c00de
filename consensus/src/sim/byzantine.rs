//! The Byzantine nodes of a run: honest cores whose outgoing actions one coalition rewrites.
//!
//! Owns: the coalition's shared knowledge (which ticks its equivocators proposed in each view)
//! and each member's misbehaviour, all with validly signed messages: equivocation (two
//! conflicting proposals per led view, one per half of the ring), double voting (every notarize
//! and finalize vote sent to half the ring is matched by a vote for another tick sent to the
//! other half, and a nullified view is notarized and finalized as well), backing every side of
//! a member's equivocation, and lying clock readings in votes. Never: forges an honest node's
//! signature (it holds only its members' keys), and never touches a member with a bad clock
//! (that one misbehaves through its clock alone).

use super::rng::Rng;
use super::scenario::Byzantine;
use crate::{Action, Message, Proposal, TickVote};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use tickchain_sdk::signing::sign;
use tickchain_sdk::votes::{ClockReading, VoteKind};
use tickchain_sdk::{Batch, Hash, Nanos, NodeId, Signature, UtcNanos, View};

const SECOND: i64 = 1_000_000_000;

struct Member {
    key: SigningKey,
    kind: Byzantine,
    /// The conflicting tick hash it proposed or voted for, per view.
    alt: BTreeMap<View, Hash>,
}

/// Rewrites the Byzantine nodes' actions.
pub struct Coalition {
    genesis_hash: Hash,
    n: usize,
    /// The genesis tolerances: a "just outside" lie steps over them.
    max_early: Nanos,
    max_late: Nanos,
    members: BTreeMap<NodeId, Member>,
    /// Both sides of every equivocation by a member, per view, with the leader's reading.
    proposals: BTreeMap<View, ([Hash; 2], ClockReading)>,
    rng: Rng,
}

impl Coalition {
    /// A coalition of `members` (node, behaviour, key) in a ring of `n`, its lies drawn from
    /// `seed`.
    pub fn new(
        members: Vec<(NodeId, Byzantine, SigningKey)>,
        genesis_hash: Hash,
        n: usize,
        tolerances: (Nanos, Nanos),
        seed: u64,
    ) -> Coalition {
        Coalition {
            genesis_hash,
            n,
            max_early: tolerances.0,
            max_late: tolerances.1,
            members: members
                .into_iter()
                .map(|(id, kind, key)| {
                    let alt = BTreeMap::new();
                    (id, Member { key, kind, alt })
                })
                .collect(),
            proposals: BTreeMap::new(),
            rng: Rng::new(seed.wrapping_mul(0x1000_0000_01B3) ^ 0xB12A),
        }
    }

    /// Whether `id` is a member whose actions are rewritten (not a bad clock).
    pub fn rewrites(&self, id: NodeId) -> bool {
        self.members
            .get(&id)
            .is_some_and(|m| !matches!(m.kind, Byzantine::ClockOff(_)))
    }

    /// The actions the coalition performs instead of member `id`'s `actions`, each with the
    /// member it is performed as (backing votes are sent as the other members).
    pub fn rewrite(&mut self, id: NodeId, actions: Vec<Action>) -> Vec<(NodeId, Action)> {
        let Some(kind) = self.members.get(&id).map(|m| m.kind) else {
            return actions.into_iter().map(|a| (id, a)).collect();
        };
        let mut out = Vec::with_capacity(actions.len() * 2);
        for action in actions {
            match (kind, action) {
                (Byzantine::Equivocator, Action::Broadcast(Message::Proposal(p))) => {
                    self.equivocate(id, p, &mut out);
                }
                (Byzantine::Equivocator, Action::Broadcast(Message::Notarize(v))) => {
                    let other = self.other(id, v.view, v.tick_hash, &v.signature);
                    let forged = self.vote(id, VoteKind::Notarize, v.view, other, v.reading);
                    self.split(
                        id,
                        Message::Notarize(v),
                        Message::Notarize(forged),
                        &mut out,
                    );
                }
                (Byzantine::Equivocator, Action::Broadcast(Message::Finalize(v))) => {
                    let other = self.other(id, v.view, v.tick_hash, &v.signature);
                    let forged = self.vote(id, VoteKind::Finalize, v.view, other, v.reading);
                    self.split(
                        id,
                        Message::Finalize(v),
                        Message::Finalize(forged),
                        &mut out,
                    );
                }
                (Byzantine::Equivocator, Action::Broadcast(Message::Nullify(v))) => {
                    let view = v.view;
                    out.push((id, Action::Broadcast(Message::Nullify(v))));
                    if let Some((sides, reading)) = self.proposals.get(&view).copied() {
                        self.back(id, view, sides, reading, &mut out);
                    }
                }
                (Byzantine::ReadingLiar, Action::Broadcast(Message::Proposal(mut p))) => {
                    p.vote = self.vote(
                        id,
                        VoteKind::Notarize,
                        p.vote.view,
                        p.vote.tick_hash,
                        p.vote.reading,
                    );
                    out.push((id, Action::Broadcast(Message::Proposal(p))));
                }
                (Byzantine::ReadingLiar, Action::Broadcast(Message::Notarize(v))) => {
                    let lie = self.vote(id, VoteKind::Notarize, v.view, v.tick_hash, v.reading);
                    out.push((id, Action::Broadcast(Message::Notarize(lie))));
                }
                (Byzantine::ReadingLiar, Action::Broadcast(Message::Finalize(v))) => {
                    let lie = self.vote(id, VoteKind::Finalize, v.view, v.tick_hash, v.reading);
                    out.push((id, Action::Broadcast(Message::Finalize(lie))));
                }
                (_, other) => out.push((id, other)),
            }
        }
        out
    }

    /// Member `id` leads with `p`: half the ring gets `p`, the other half a conflicting `q`,
    /// each with the leader's notarize for the other side too; every other voting member
    /// notarizes and finalizes both, to everyone.
    fn equivocate(&mut self, id: NodeId, p: Proposal, out: &mut Vec<(NodeId, Action)>) {
        let q = self.conflicting(id, &p);
        let view = p.tick.view;
        let sides = [p.vote.tick_hash, q.vote.tick_hash];
        self.proposals.insert(view, (sides, p.vote.reading));
        if let Some(m) = self.members.get_mut(&id) {
            m.alt.insert(view, q.vote.tick_hash);
        }
        let reading = p.vote.reading;
        let (vp, vq) = (p.vote.clone(), q.vote.clone());
        self.split(id, Message::Proposal(p), Message::Proposal(q), out);
        self.split(id, Message::Notarize(vq), Message::Notarize(vp), out);
        let others: Vec<NodeId> = self
            .members
            .iter()
            .filter(|(o, m)| **o != id && !matches!(m.kind, Byzantine::ClockOff(_)))
            .map(|(o, _)| *o)
            .collect();
        for other in others {
            self.back(other, view, sides, reading, out);
        }
    }

    /// Member `id` notarizes and finalizes both `sides` of view `view`, to everyone.
    fn back(
        &mut self,
        id: NodeId,
        view: View,
        sides: [Hash; 2],
        reading: ClockReading,
        out: &mut Vec<(NodeId, Action)>,
    ) {
        for hash in sides {
            for kind in [VoteKind::Notarize, VoteKind::Finalize] {
                let v = self.vote(id, kind, view, hash, reading);
                let message = match kind {
                    VoteKind::Notarize => Message::Notarize(v),
                    VoteKind::Finalize => Message::Finalize(v),
                };
                out.push((id, Action::Broadcast(message)));
            }
        }
    }

    /// The tick member `id` double-votes for next to `hash` in `view`: the other side of a
    /// coalition equivocation, else its own earlier choice, else a phantom.
    fn other(&mut self, id: NodeId, view: View, hash: Hash, salt: &Signature) -> Hash {
        if let Some((sides, _)) = self.proposals.get(&view)
            && let Some(h) = sides.iter().find(|h| **h != hash)
        {
            return *h;
        }
        let m = self.members.get_mut(&id).expect("a member");
        *m.alt
            .entry(view)
            .or_insert_with(|| Hash(*blake3::hash(&salt.0).as_bytes()))
    }

    /// Member `id`'s signed vote; a reading liar's carries a lie instead of `reading`.
    fn vote(
        &mut self,
        id: NodeId,
        kind: VoteKind,
        view: View,
        hash: Hash,
        reading: ClockReading,
    ) -> TickVote {
        let liar = self
            .members
            .get(&id)
            .is_some_and(|m| m.kind == Byzantine::ReadingLiar);
        let reading = if liar { self.lie(reading) } else { reading };
        let key = &self.members.get(&id).expect("a member").key;
        TickVote::sign(kind, key, &self.genesis_hash, id, view, hash, reading)
    }

    /// A lie about `r`, drawn from the coalition's stream.
    fn lie(&mut self, r: ClockReading) -> ClockReading {
        let (e, l) = (r.earliest.0, r.latest.0);
        let reading = |e: i64, l: i64| ClockReading {
            earliest: UtcNanos(e),
            latest: UtcNanos(l),
        };
        let sign = if self.rng.chance(500) { 1 } else { -1 };
        match self.rng.below(6) {
            // Shifted by up to an hour.
            0 => {
                let d = sign * self.rng.range(SECOND, 3600 * SECOND);
                reading(e.saturating_add(d), l.saturating_add(d))
            }
            // Just outside the tolerances, on one side.
            1 => {
                let d = if sign > 0 {
                    self.max_late.0 + 1_000_000
                } else {
                    -(self.max_early.0 + 1_000_000)
                };
                reading(e.saturating_add(d), l.saturating_add(d))
            }
            // Widened by up to an hour.
            2 => {
                let w = self.rng.range(SECOND, 3600 * SECOND);
                reading(e.saturating_sub(w), l.saturating_add(w))
            }
            // The widest reading there is.
            3 => reading(i64::MIN, i64::MAX),
            // Inverted: earliest after latest.
            4 => reading(l.saturating_add(SECOND), e.saturating_sub(SECOND)),
            // A point at the end of time, or its beginning.
            _ if sign > 0 => reading(i64::MAX, i64::MAX),
            _ => reading(i64::MIN, i64::MIN),
        }
    }

    fn split(&self, id: NodeId, a: Message, b: Message, out: &mut Vec<(NodeId, Action)>) {
        for j in 0..self.n as u16 {
            if j == id.0 {
                continue;
            }
            let message = if j % 2 == 0 { a.clone() } else { b.clone() };
            out.push((
                id,
                Action::Send {
                    to: NodeId(j),
                    message,
                },
            ));
        }
    }

    fn conflicting(&mut self, id: NodeId, p: &Proposal) -> Proposal {
        let key = &self.members.get(&id).expect("a member").key;
        let mut batch = Batch {
            node: id,
            second: p.tick.second,
            root: Hash(*blake3::hash(&p.tick.view.0.to_be_bytes()).as_bytes()),
            count: 1,
            signature: Signature([0; 64]),
        };
        batch.signature = sign(key, &batch.signing_bytes(&self.genesis_hash));
        let mut batches = p.batches.clone();
        batches.push(batch);
        let tree = tickchain_sdk::batch::tick_tree(&batches, &self.genesis_hash);
        let mut tick = p.tick.clone();
        tick.batch_root = tree.root();
        tick.batch_count = tree.len();
        let hash = tick.hash(&self.genesis_hash);
        Proposal {
            vote: self.vote(id, VoteKind::Notarize, p.vote.view, hash, p.vote.reading),
            tick,
            parent_view: p.parent_view,
            batches,
        }
    }
}
