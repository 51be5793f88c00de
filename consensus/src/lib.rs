//! `tickchain-consensus`: the ring's sans-IO Simplex core, which signs one UTC tick per second.
//!
//! Owns: the protocol of `specs/consensus.md` — views with round-robin leaders, proposals at
//! second boundaries, notarize / nullify / finalize votes and their certificates at
//! q = n − f, view changes on any certificate, catch-up by fetch — together with its wire codec,
//! its persisted state, a deterministic simulator and (in tests) a stateright model. Never:
//! sockets, clocks, threads or randomness inside the core: the driver passes in every message,
//! timer expiry and clock reading, and executes the returned [`Action`]s in order, flushing
//! every [`Action::Persist`] before any later send.
//!
//! ```text
//!  leader(v) ──Proposal(tick@second, parent, batches, its notarize)──▶ all
//!  voter: valid ∧ parent certified ∧ gaps nullified ∧ clock timely ─▶ Notarize(reading)
//!  q Notarize ─▶ Notarization ─▶ enter v+1, Finalize(same reading) unless nullified
//!  q Finalize ─▶ FinalityCertificate (sdk) ─▶ tick and its ancestors final
//!  timeout / late / invalid ─▶ Nullify ─ q ─▶ Nullification ─▶ enter v+1
//! ```

mod batches;
mod chain;
pub mod clock;
pub mod codec;
pub mod config;
mod core;
pub mod crypto;
mod evidence;
pub mod io;
mod leader;
pub mod messages;
pub mod peer;
pub mod persist;
pub mod reject;
mod round;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
mod tally;
mod voter;

#[cfg(test)]
mod model;
#[cfg(test)]
mod tests;

pub use self::core::Core;
pub use clock::{LocalClock, Tolerance};
pub use codec::{CodecError, decode, encode};
pub use config::{Config, Context};
pub use crypto::Verifier;
pub use io::{Action, Input, Record, Timer};
pub use messages::{
    ChainTick, Delivered, Fetch, Finalization, Message, Notarization, Nullification, NullifyVote,
    Proposal, TickVote, Vote,
};
pub use peer::{PeerDecodeError, PeerMessage};
pub use persist::Persisted;
pub use reject::{Rejection, Rejections};
