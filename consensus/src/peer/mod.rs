//! Everything one ring member sends another over the ring's authenticated connections, as one
//! envelope with one decoder.
//!
//! Owns: the kind-byte namespace of peer messages and [`PeerMessage`], the one type the driver
//! decodes peer bytes into; the time-probe ([`time`]) and attestation ([`attest`]) codecs; and
//! the parser that takes a peer's Ed25519 key out of its TLS certificate ([`spki`]). Never:
//! acts on a message (the core, the clock and the anchoring wiring do) or trusts a field before
//! its own decoder has bounded it.
//!
//! | first byte | message | codec |
//! |---|---|---|
//! | 1–11 | consensus ([`Message`]: proposal, votes, certificates, fetch, chain, batch, delivered) | [`crate::codec`], `specs/consensus.md` §11 |
//! | 0x70–0x71 | time probe request / reply | [`time`], `specs/time.md` §4.4 |
//! | 0x72–0x73 | co-sign request / co-signature | [`attest`] |
//!
//! These types live in the consensus crate, not in the daemon, so that every decoder of bytes a
//! peer sends can be fuzzed without compiling the daemon's transport, store or EVM client.

pub mod attest;
pub mod spki;
pub mod time;

pub use attest::AttestMessage;
pub use time::TimeMessage;

use crate::codec::{self, CodecError};
use crate::messages::Message;
use tickchain_sdk::encoding::DecodeError;

/// One message from a peer, of any of the ring's three kinds.
#[derive(Debug, Clone, PartialEq)]
pub enum PeerMessage {
    /// A consensus message (kinds 1–11).
    Consensus(Message),
    /// A time probe (0x70–0x71).
    Time(TimeMessage),
    /// An attestation request or co-signature (0x72–0x73).
    Attest(AttestMessage),
}

/// Why bytes from a peer are not a [`PeerMessage`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerDecodeError {
    /// No bytes at all.
    #[error("empty peer message")]
    Empty,
    /// The first byte belongs to no namespace.
    #[error("unknown peer message kind {found:#04x}: expected 1 to 11, 0x70 to 0x73")]
    UnknownKind {
        /// The kind byte that arrived.
        found: u8,
    },
    /// A consensus message that does not decode.
    #[error("consensus message: {0}")]
    Consensus(#[from] CodecError),
    /// A time probe that does not decode.
    #[error("time probe: {0}")]
    Time(DecodeError),
    /// An attestation message that does not decode.
    #[error("attestation message: {0}")]
    Attest(DecodeError),
}

impl PeerMessage {
    /// Decodes one peer message; the first byte picks the codec, which checks the rest.
    pub fn decode(bytes: &[u8]) -> Result<PeerMessage, PeerDecodeError> {
        match bytes.first() {
            None => Err(PeerDecodeError::Empty),
            Some(&time::TIME_REQUEST | &time::TIME_REPLY) => TimeMessage::decode(bytes)
                .map(PeerMessage::Time)
                .map_err(PeerDecodeError::Time),
            Some(&attest::ATTEST_REQUEST | &attest::ATTEST_REPLY) => AttestMessage::decode(bytes)
                .map(PeerMessage::Attest)
                .map_err(PeerDecodeError::Attest),
            Some(&k) if codec::is_kind(k) => Ok(PeerMessage::Consensus(codec::decode(bytes)?)),
            Some(&found) => Err(PeerDecodeError::UnknownKind { found }),
        }
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PeerMessage::Consensus(m) => codec::encode(m),
            PeerMessage::Time(m) => m.encode(),
            PeerMessage::Attest(m) => m.encode(),
        }
    }

    /// A short name for logs and metrics.
    pub fn kind_name(&self) -> &'static str {
        match self {
            PeerMessage::Consensus(m) => m.kind(),
            PeerMessage::Time(_) => "time",
            PeerMessage::Attest(_) => "attest",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_namespaces_do_not_overlap_and_unknown_kinds_are_named() {
        for k in 1..=11u8 {
            assert!(codec::is_kind(k));
        }
        for k in [0x70u8, 0x71, 0x72, 0x73] {
            assert!(!codec::is_kind(k));
        }
        assert_eq!(PeerMessage::decode(&[]), Err(PeerDecodeError::Empty));
        assert_eq!(
            PeerMessage::decode(&[0x74, 0, 0]),
            Err(PeerDecodeError::UnknownKind { found: 0x74 })
        );
        assert_eq!(
            PeerMessage::decode(&[0]),
            Err(PeerDecodeError::UnknownKind { found: 0 })
        );
        let probe = PeerMessage::Time(TimeMessage::Request { t1: 7 });
        assert_eq!(PeerMessage::decode(&probe.encode()), Ok(probe));
        assert!(matches!(
            PeerMessage::decode(&[0x71, 1]),
            Err(PeerDecodeError::Time(_))
        ));
        assert!(matches!(
            PeerMessage::decode(&[0x72, 1]),
            Err(PeerDecodeError::Attest(_))
        ));
        assert!(matches!(
            PeerMessage::decode(&[2, 1]),
            Err(PeerDecodeError::Consensus(_))
        ));
    }
}
