//! Consensus votes and the bytes each one signs.
//!
//! Owns: the signing bytes of notarize, finalize and nullify votes (`specs/encoding.md` §3.4).
//! Never: vote logic (the consensus core decides when to vote).

use crate::encoding::{Writer, tag};
use crate::{Hash, UtcNanos, View};
use serde::{Deserialize, Serialize};

/// A clock reading: the signer's `[earliest, latest]` bound on true UTC when it saw a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockReading {
    /// Lower bound on true UTC, nanoseconds since the epoch.
    pub earliest: UtcNanos,
    /// Upper bound on true UTC, nanoseconds since the epoch.
    pub latest: UtcNanos,
}

/// Which vote a signature is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoteKind {
    /// Notarize: the proposal is valid and timely for the voter.
    Notarize,
    /// Finalize: the voter saw the tick notarized and did not nullify the view.
    Finalize,
}

impl VoteKind {
    fn tag(self) -> &'static str {
        match self {
            VoteKind::Notarize => tag::NOTARIZE,
            VoteKind::Finalize => tag::FINALIZE,
        }
    }
}

/// The bytes signed by a notarize or finalize vote for `tick_hash` in `view`, carrying the
/// voter's clock reading at proposal receipt.
pub fn vote_signing_bytes(
    kind: VoteKind,
    genesis_hash: &Hash,
    view: View,
    tick_hash: &Hash,
    reading: &ClockReading,
) -> Vec<u8> {
    let mut w = Writer::with_tag(kind.tag());
    w.bytes(&genesis_hash.0)
        .u64(view.0)
        .bytes(&tick_hash.0)
        .i64(reading.earliest.0)
        .i64(reading.latest.0);
    w.finish()
}

/// The bytes signed by a nullify vote for `view`.
pub fn nullify_signing_bytes(genesis_hash: &Hash, view: View) -> Vec<u8> {
    let mut w = Writer::with_tag(tag::NULLIFY);
    w.bytes(&genesis_hash.0).u64(view.0);
    w.finish()
}
