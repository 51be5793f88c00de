//! The consensus core's persisted records as bytes in the store, through the wire codec.
//!
//! Owns: the mapping `Record` ↔ `Message` (every record is a message the node sent or holds).
//! Never: a second encoding of consensus data — the codec in `consensus::codec` is the only one.

use tickchain_consensus::codec::{self, CodecError};
use tickchain_consensus::io::Record;
use tickchain_consensus::messages::{ChainTick, Message, Vote};

/// The bytes stored for a record.
pub fn encode(record: &Record) -> Vec<u8> {
    codec::encode(&match record {
        Record::Vote(v) => Message::from_vote(v),
        Record::Proposal(p) => Message::Proposal(p.clone()),
        Record::Notarization(n) => Message::Notarization(n.clone()),
        Record::Nullification(n) => Message::Nullification(n.clone()),
        Record::Finalized(t) => Message::Chain(vec![t.clone()]),
    })
}

/// Why stored bytes are not a record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The bytes do not decode.
    #[error("stored record does not decode: {0}")]
    Codec(#[from] CodecError),
    /// The message is not one a record is stored as.
    #[error("stored message kind {0} is not a record")]
    NotARecord(&'static str),
}

/// The record stored as `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Record, RecordError> {
    Ok(match codec::decode(bytes)? {
        Message::Notarize(v) => Record::Vote(Vote::Notarize(v)),
        Message::Finalize(v) => Record::Vote(Vote::Finalize(v)),
        Message::Nullify(v) => Record::Vote(Vote::Nullify(v)),
        Message::Proposal(p) => Record::Proposal(p),
        Message::Notarization(n) => Record::Notarization(n),
        Message::Nullification(n) => Record::Nullification(n),
        Message::Chain(mut ticks) if ticks.len() == 1 => Record::Finalized(ticks.remove(0)),
        other => return Err(RecordError::NotARecord(other.kind())),
    })
}

/// The bytes stored for a final tick in the chain.
pub fn encode_final(tick: &ChainTick) -> Vec<u8> {
    codec::encode(&Message::Chain(vec![tick.clone()]))
}

/// The final tick stored as `bytes`.
pub fn decode_final(bytes: &[u8]) -> Result<ChainTick, RecordError> {
    match decode(bytes)? {
        Record::Finalized(t) => Ok(t),
        _ => Err(RecordError::NotARecord("non-final record")),
    }
}
