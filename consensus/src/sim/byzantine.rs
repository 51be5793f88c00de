//! A Byzantine node for the simulator: an honest core whose outgoing actions are rewritten.
//!
//! Owns: equivocation (two conflicting proposals per led view, one per half of the ring) and
//! double voting (every notarize and finalize vote sent to half the ring is matched by a vote
//! for another tick sent to the other half), all with validly signed messages. Never: forges
//! another node's signature (it only holds its own key).

use crate::{Action, Message, Proposal, TickVote};
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
use tickchain_sdk::signing::sign;
use tickchain_sdk::votes::VoteKind;
use tickchain_sdk::{Batch, Hash, NodeId, Signature, View};

/// Rewrites one core's actions into equivocations.
pub struct Equivocator {
    id: NodeId,
    key: SigningKey,
    genesis_hash: Hash,
    n: usize,
    /// The conflicting tick hash it proposed or voted for, per view.
    alt: BTreeMap<View, Hash>,
}

impl Equivocator {
    /// An equivocator for node `id` with its key.
    pub fn new(id: NodeId, key: SigningKey, genesis_hash: Hash, n: usize) -> Equivocator {
        Equivocator {
            id,
            key,
            genesis_hash,
            n,
            alt: BTreeMap::new(),
        }
    }

    /// The node it controls.
    pub fn id(&self) -> NodeId {
        self.id
    }

    fn split(&self, a: Message, b: Message, out: &mut Vec<Action>) {
        for j in 0..self.n as u16 {
            if j == self.id.0 {
                continue;
            }
            let message = if j % 2 == 0 { a.clone() } else { b.clone() };
            out.push(Action::Send {
                to: NodeId(j),
                message,
            });
        }
    }

    fn forge(&self, kind: VoteKind, real: &TickVote, hash: Hash) -> TickVote {
        TickVote::sign(
            kind,
            &self.key,
            &self.genesis_hash,
            self.id,
            real.view,
            hash,
            real.reading,
        )
    }

    fn conflicting(&self, p: &Proposal) -> Proposal {
        let mut batch = Batch {
            node: self.id,
            second: p.tick.second,
            root: Hash(*blake3::hash(&p.tick.view.0.to_be_bytes()).as_bytes()),
            count: 1,
            signature: Signature([0; 64]),
        };
        batch.signature = sign(&self.key, &batch.signing_bytes(&self.genesis_hash));
        let mut batches = p.batches.clone();
        batches.push(batch);
        let tree = tickchain_sdk::batch::tick_tree(&batches, &self.genesis_hash);
        let mut tick = p.tick.clone();
        tick.batch_root = tree.root();
        tick.batch_count = tree.len();
        let hash = tick.hash(&self.genesis_hash);
        Proposal {
            vote: self.forge(VoteKind::Notarize, &p.vote, hash),
            tick,
            parent_view: p.parent_view,
            batches,
        }
    }

    /// The actions the Byzantine node performs instead of `actions`.
    pub fn rewrite(&mut self, actions: Vec<Action>) -> Vec<Action> {
        let mut out = Vec::with_capacity(actions.len() * 2);
        for action in actions {
            match action {
                Action::Broadcast(Message::Proposal(p)) => {
                    let q = self.conflicting(&p);
                    self.alt.insert(p.tick.view, q.vote.tick_hash);
                    let (vp, vq) = (p.vote.clone(), q.vote.clone());
                    self.split(Message::Proposal(p), Message::Proposal(q), &mut out);
                    self.split(Message::Notarize(vq), Message::Notarize(vp), &mut out);
                }
                Action::Broadcast(Message::Notarize(v)) => {
                    let other = *self
                        .alt
                        .entry(v.view)
                        .or_insert_with(|| Hash(*blake3::hash(&v.signature.0).as_bytes()));
                    let forged = self.forge(VoteKind::Notarize, &v, other);
                    self.split(Message::Notarize(v), Message::Notarize(forged), &mut out);
                }
                Action::Broadcast(Message::Finalize(v)) => {
                    let forged = self
                        .alt
                        .get(&v.view)
                        .map(|h| self.forge(VoteKind::Finalize, &v, *h));
                    match forged {
                        Some(f) => self.split(Message::Finalize(v), Message::Finalize(f), &mut out),
                        None => out.push(Action::Broadcast(Message::Finalize(v))),
                    }
                }
                other => out.push(other),
            }
        }
        out
    }
}
