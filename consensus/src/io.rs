//! What goes into the core and what comes out of it.
//!
//! Owns: the [`Input`], [`Timer`] and [`Action`] vocabulary and the driver's contract: execute
//! actions in order, and make every [`Action::Persist`] durable (flushed) before executing any
//! later send. Never: performs any of it (the driver or the simulator does).

use super::messages::{ChainTick, Message, Notarization, Nullification, Proposal, Vote};
use tickchain_sdk::{Batch, Evidence, Height, NodeId, UtcNanos, View};

/// A timer the core asked for; it comes back as [`Input::Timer`] when the local clock's
/// midpoint reaches the requested instant. Stale timers (for views already left) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// The leader's second boundary has come: propose for this view.
    Propose(View),
    /// A proposal arrived too early for our clock: look at it again.
    Recheck(View),
    /// No timely proposal can arrive any more: nullify the view.
    LeaderTimeout(View),
    /// No notarization arrived in time: nullify the view.
    NotarizeTimeout(View),
    /// The view is still stuck after our nullify: rebroadcast it with the entry certificate.
    Retry(View),
    /// An outstanding fetch got no answer: ask everyone.
    Fetch,
    /// Offer again our batches that no final tick has carried yet (`specs/consensus.md` §5,
    /// Batches).
    Reoffer,
}

/// An event handed to the core, always with the caller's clock reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The node started (or restarted from its persisted state).
    Start,
    /// A message from a peer, authenticated as `from` by the transport.
    Message {
        /// The authenticated sender.
        from: NodeId,
        /// What it sent.
        message: Message,
    },
    /// A timer expired.
    Timer(Timer),
    /// A signed batch root offered for the next tick this node proposes.
    Batch(Batch),
}

/// State that must survive a crash, written through [`Action::Persist`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// One of our own votes: durable before it is sent, so a restarted node never equivocates.
    Vote(Vote),
    /// Our own proposal (its notarize vote included): durable before it is sent.
    Proposal(Proposal),
    /// A notarization we hold (lets a restarted node find its parent).
    Notarization(Notarization),
    /// A nullification we hold.
    Nullification(Nullification),
    /// The newest final tick.
    Finalized(ChainTick),
}

/// Something the driver must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Make this record durable before executing any later action that sends.
    Persist(Record),
    /// Send to every other ring member.
    Broadcast(Message),
    /// Send to one ring member.
    Send {
        /// The recipient.
        to: NodeId,
        /// What to send.
        message: Message,
    },
    /// Fire [`Input::Timer`] with `timer` when the local clock's midpoint reaches `at`.
    SetTimer {
        /// Which timer.
        timer: Timer,
        /// When, on the local clock's midpoint.
        at: UtcNanos,
    },
    /// A tick became final; ticks are reported once each, in height order.
    Finalized {
        /// The tick (and its own certificate, if it has one).
        tick: ChainTick,
        /// The batches the tick carries, in its order, when this core holds the tick's proposal
        /// and the list hashes to the tick's `batch_root` (`specs/consensus.md` §5); `None` for
        /// a tick learnt only from a certificate or a catch-up answer. Our batches in a tick
        /// whose list is unknown are offered again and land in a later tick.
        batches: Option<Vec<Batch>>,
    },
    /// Two different final ticks at one height, each final by a certificate that verifies
    /// against genesis: more than `f` members signed both, and the ring's promise is broken
    /// (`specs/consensus.md` §7). The driver keeps both as evidence, raises the alarm and stops
    /// the node (fail-stop); the core reports nothing after it.
    Conflict {
        /// The height at which the two chains differ.
        height: Height,
        /// This node's final tick at `height`.
        ours: ChainTick,
        /// The other chain: a tick with its own certificate first, then its hash-linked
        /// ancestors down to the tick at `height`.
        theirs: Vec<ChainTick>,
    },
    /// A ring member signed two statements no honest member signs together (two proposals or
    /// two notarize votes in one view, a finalize and a nullify, ...), both with valid
    /// signatures (`specs/evidence.md`). Reported once per member, view and rule; the driver
    /// keeps it and counts it, and the core goes on (the first statement is the one counted).
    Evidence(Evidence),
}
