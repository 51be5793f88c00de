//! The consensus messages: proposals, the three votes, their certificates, and catch-up.
//!
//! Owns: the shapes of everything one ring member sends another, and the signing of votes
//! (through the sdk's canonical bytes). Never: decides when to send any of them (that is the
//! core's job) and never defines signing bytes of its own.

use ed25519_dalek::SigningKey;
use tickchain_sdk::signing::sign;
use tickchain_sdk::votes::{ClockReading, VoteKind, nullify_signing_bytes, vote_signing_bytes};
use tickchain_sdk::{Batch, FinalityCertificate, Hash, NodeId, Signature, Tick, View};

/// A notarize or finalize vote: `signer` saw `tick_hash` proposed in `view` at `reading`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickVote {
    /// The view of the tick.
    pub view: View,
    /// The tick's hash.
    pub tick_hash: Hash,
    /// Who voted.
    pub signer: NodeId,
    /// The voter's clock reading when it accepted the proposal (signed).
    pub reading: ClockReading,
    /// Ed25519 over `votes::vote_signing_bytes(kind, ..)`.
    pub signature: Signature,
}

impl TickVote {
    /// Signs a vote of `kind` with `key`.
    pub fn sign(
        kind: VoteKind,
        key: &SigningKey,
        genesis_hash: &Hash,
        signer: NodeId,
        view: View,
        tick_hash: Hash,
        reading: ClockReading,
    ) -> TickVote {
        let msg = vote_signing_bytes(kind, genesis_hash, view, &tick_hash, &reading);
        TickVote {
            view,
            tick_hash,
            signer,
            reading,
            signature: sign(key, &msg),
        }
    }

    /// The bytes this vote's signature covers, for a vote of `kind`.
    pub fn signing_bytes(&self, kind: VoteKind, genesis_hash: &Hash) -> Vec<u8> {
        vote_signing_bytes(
            kind,
            genesis_hash,
            self.view,
            &self.tick_hash,
            &self.reading,
        )
    }
}

/// A nullify vote: `signer` gives up on `view`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NullifyVote {
    /// The abandoned view.
    pub view: View,
    /// Who voted.
    pub signer: NodeId,
    /// Ed25519 over `votes::nullify_signing_bytes`.
    pub signature: Signature,
}

impl NullifyVote {
    /// Signs a nullify vote for `view`.
    pub fn sign(key: &SigningKey, genesis_hash: &Hash, signer: NodeId, view: View) -> NullifyVote {
        NullifyVote {
            view,
            signer,
            signature: sign(key, &nullify_signing_bytes(genesis_hash, view)),
        }
    }
}

/// One of this node's own votes, as persisted before it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vote {
    /// A notarize vote (the leader's is inside its proposal).
    Notarize(TickVote),
    /// A finalize vote.
    Finalize(TickVote),
    /// A nullify vote.
    Nullify(NullifyVote),
}

impl Vote {
    /// The view voted in.
    pub fn view(&self) -> View {
        match self {
            Vote::Notarize(v) | Vote::Finalize(v) => v.view,
            Vote::Nullify(v) => v.view,
        }
    }
}

/// The leader's proposal: the tick, the batches it commits to, and the leader's own notarize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// The proposed tick.
    pub tick: Tick,
    /// The view of the tick's parent (0 for the genesis parent); every view strictly between
    /// it and `tick.view` must be nullified.
    pub parent_view: View,
    /// The signed batches under `tick.batch_root`, in leaf order.
    pub batches: Vec<Batch>,
    /// The leader's notarize vote on the tick.
    pub vote: TickVote,
}

/// q notarize votes on one tick: the view is over and the tick may be built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notarization {
    /// The notarized tick.
    pub tick: Tick,
    /// At least q notarize votes on it, ascending by signer.
    pub votes: Vec<TickVote>,
}

/// q nullify votes on one view: the view produced nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nullification {
    /// The nullified view.
    pub view: View,
    /// At least q nullify votes, ascending by signer.
    pub votes: Vec<NullifyVote>,
}

/// A finalized tick with its finality certificate (the sdk's format).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finalization {
    /// The finalized tick.
    pub tick: Tick,
    /// q finalize votes on it.
    pub certificate: FinalityCertificate,
}

/// A final tick as served to a lagging peer: the tick, and its own certificate when one formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTick {
    /// The tick.
    pub tick: Tick,
    /// Its own finality certificate, if it has one (ticks finalized only through a descendant
    /// have none).
    pub certificate: Option<FinalityCertificate>,
}

/// A final tick with the batch list it commits to, as a ring member delivers it to the
/// gateways connected to it (`specs/consensus.md` §5, Gateways). The gateway checks it against
/// genesis: the certificate (or a certified descendant's, through `prev_hash`) and the list
/// against `tick.batch_root`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The final tick and its own certificate, if it has one.
    pub tick: ChainTick,
    /// The signed batches under `tick.batch_root`, in leaf order.
    pub batches: Vec<Batch>,
}

/// A request for certificates this node is missing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fetch {
    /// Views whose certificate (notarization, nullification or finalization) is wanted.
    pub views: Vec<View>,
    /// Final ticks wanted by hash; the answer walks back through their ancestors.
    pub ticks: Vec<Hash>,
}

/// Everything one ring member sends another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A leader's proposal.
    Proposal(Proposal),
    /// A notarize vote.
    Notarize(TickVote),
    /// A finalize vote.
    Finalize(TickVote),
    /// A nullify vote.
    Nullify(NullifyVote),
    /// A notarization certificate.
    Notarization(Notarization),
    /// A nullification certificate.
    Nullification(Nullification),
    /// A finalization certificate.
    Finalization(Finalization),
    /// A request for missing certificates.
    Fetch(Fetch),
    /// Final ticks, newest first, answering a [`Fetch`].
    Chain(Vec<ChainTick>),
    /// A node's or gateway's signed batch root, offered to whoever leads next (only its signer
    /// sends it).
    Batch(Batch),
    /// A final tick with its batches, from a ring member to a gateway (never to a member).
    Delivered(Delivered),
}

impl Message {
    /// The message for one of our own votes.
    pub fn from_vote(vote: &Vote) -> Message {
        match vote {
            Vote::Notarize(v) => Message::Notarize(v.clone()),
            Vote::Finalize(v) => Message::Finalize(v.clone()),
            Vote::Nullify(v) => Message::Nullify(v.clone()),
        }
    }

    /// A short name for logs and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Proposal(_) => "proposal",
            Message::Notarize(_) => "notarize",
            Message::Finalize(_) => "finalize",
            Message::Nullify(_) => "nullify",
            Message::Notarization(_) => "notarization",
            Message::Nullification(_) => "nullification",
            Message::Finalization(_) => "finalization",
            Message::Fetch(_) => "fetch",
            Message::Chain(_) => "chain",
            Message::Batch(_) => "batch",
            Message::Delivered(_) => "delivered",
        }
    }
}
