//! Checking a device log offline (`specs/devicelog.md` §5): who made each record of one
//! device's chain, its order, and the second by which it existed.
//!
//! Owns: the verification rules and the first-bad-record error. Never: trusts a frame, a
//! count or a proof from the file before checking it; never verifies other devices' records
//! (a log may hold many chains; only the audited device's are checked).

use super::entry::{Entry, HeadRef, LogId, Record, chain_anchor, record_hash, stamp_root};
use super::frame::FrameError;
use super::reader::{FrameReader, ReadError};
use crate::encoding::DecodeError;
use crate::signing::{parse_key, verify_with};
use crate::verify::{Network, VerifiedTimestamp};
use crate::{Digest, Hash, Proof, PublicKey, VerifyError};
use serde::Serialize;
use std::io::Read;

/// Why a log does not verify. Each names the byte offset of the first bad frame and, for
/// records, the sequence number expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The file is not a log, or damaged in the middle.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The log could not be read.
    #[error("reading the log: {0}")]
    Io(String),
    /// A frame's body does not decode.
    #[error("frame at byte {offset}: {error}")]
    Decode {
        /// The frame's offset.
        offset: u64,
        /// What is wrong.
        error: DecodeError,
    },
    /// Chains must be numbered 0, 1, … in the order they appear.
    #[error("chain frame at byte {offset} has index {found}, expected {expected}")]
    ChainIndex {
        /// The frame's offset.
        offset: u64,
        /// The index it should have.
        expected: u32,
        /// The index it has.
        found: u32,
    },
    /// The device has no chain in this log.
    #[error("no chain of device {device} in this log")]
    NoChain {
        /// The device key asked for.
        device: PublicKey,
    },
    /// The device has two chains in one log.
    #[error("device {device} has a second chain at byte {offset}; a log holds one per device")]
    SecondChain {
        /// The device.
        device: PublicKey,
        /// The second chain's offset.
        offset: u64,
    },
    /// A record or stamp names a chain that has not begun.
    #[error("frame at byte {offset} names chain {chain}, which has not begun before it")]
    UnknownChain {
        /// The frame's offset.
        offset: u64,
        /// The chain named.
        chain: u32,
    },
    /// A record is out of sequence: one was removed, inserted or moved here.
    #[error(
        "record at byte {offset} has seq {found} where seq {expected} was expected: \
         a record was removed, inserted or moved here"
    )]
    Sequence {
        /// The record's offset.
        offset: u64,
        /// The sequence number expected.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// A record's signature does not verify.
    #[error(
        "record seq {seq} at byte {offset}: the device's signature does not verify \
         (the record, or one before it, was altered, or another key signed it)"
    )]
    Signature {
        /// The record's offset.
        offset: u64,
        /// Its sequence number.
        seq: u64,
    },
    /// A stamp names a record of this device that is not before it in the log.
    #[error("stamp at byte {offset} names record seq {seq}, which is not before it in the log")]
    StampedRecordMissing {
        /// The stamp's offset.
        offset: u64,
        /// The record it names.
        seq: u64,
    },
    /// A stamp's head hash differs from the log's record: the log was rewritten after the
    /// stamp.
    #[error(
        "stamp at byte {offset} stamped record seq {seq} with another hash: the log's records \
         up to seq {seq} are not the ones that were stamped"
    )]
    StampedHeadDiffers {
        /// The stamp's offset.
        offset: u64,
        /// The record it names.
        seq: u64,
    },
    /// A stamp's proof is malformed, for another digest, or does not verify.
    #[error("stamp at byte {offset}: {reason}")]
    StampProof {
        /// The stamp's offset.
        offset: u64,
        /// What is wrong (with the verifier's outcome code).
        reason: String,
    },
}

impl LogError {
    /// A short, stable code for scripts (`sequence`, `signature`, `stamp_proof`, …).
    pub fn code(&self) -> &'static str {
        match self {
            LogError::Frame(FrameError::Magic) => "not_a_log",
            LogError::Frame(FrameError::Damaged { .. }) => "damaged_frame",
            LogError::Io(_) => "io",
            LogError::Decode { .. } => "bad_frame",
            LogError::ChainIndex { .. } => "chain_index",
            LogError::NoChain { .. } => "no_chain",
            LogError::SecondChain { .. } => "second_chain",
            LogError::UnknownChain { .. } => "unknown_chain",
            LogError::Sequence { .. } => "sequence",
            LogError::Signature { .. } => "signature",
            LogError::StampedRecordMissing { .. } => "stamped_record_missing",
            LogError::StampedHeadDiffers { .. } => "stamped_head_differs",
            LogError::StampProof { .. } => "stamp_proof",
        }
    }

    /// Byte offset of the first bad frame, when the error names one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            LogError::Frame(FrameError::Damaged { offset, .. })
            | LogError::Decode { offset, .. }
            | LogError::ChainIndex { offset, .. }
            | LogError::SecondChain { offset, .. }
            | LogError::UnknownChain { offset, .. }
            | LogError::Sequence { offset, .. }
            | LogError::Signature { offset, .. }
            | LogError::StampedRecordMissing { offset, .. }
            | LogError::StampedHeadDiffers { offset, .. }
            | LogError::StampProof { offset, .. } => Some(*offset),
            LogError::Frame(FrameError::Magic) | LogError::NoChain { .. } | LogError::Io(_) => None,
        }
    }
}

/// One verified record of the audited chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordCheck {
    /// Its sequence number.
    pub seq: u64,
    /// Its offset in the file.
    pub offset: u64,
    /// Its hash.
    pub hash: Hash,
    /// The device's claimed time of the record (not proven).
    pub device_time: crate::UtcNanos,
    /// Its payload.
    #[serde(skip)]
    pub payload: Vec<u8>,
    /// Index in [`LogReport::stamps`] of the stamp that proves it existed earliest; `None`
    /// when no stamp covers it yet.
    pub proven_by: Option<usize>,
}

/// One verified stamp of the audited chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StampCheck {
    /// Its offset in the file.
    pub offset: u64,
    /// The head it stamped.
    pub seq: u64,
    /// What the network's proof establishes (its `latest` is the bound).
    pub timestamp: VerifiedTimestamp,
}

/// What a valid log proves about one device's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogReport {
    /// The device.
    pub device: PublicKey,
    /// The log's id (hex).
    pub log_id: String,
    /// Every record, in order (seq 0, 1, …).
    pub records: Vec<RecordCheck>,
    /// Every stamp naming the chain, in file order.
    pub stamps: Vec<StampCheck>,
    /// Offset of a torn tail left by a write cut short (bytes from there are not part of the
    /// log), if any.
    pub torn_at: Option<u64>,
}

impl LogReport {
    /// The highest stamped record, if any: every record up to it is proven unaltered.
    pub fn stamped_through(&self) -> Option<u64> {
        self.stamps.iter().map(|s| s.seq).max()
    }
}

/// Verifies the chain of `device` in the log `file` against the network: every record is in
/// sequence and signed by the device, and every stamp naming the chain carries a valid proof
/// of a tree whose leaf is the chain's head at that record.
pub fn verify_log(
    file: &[u8],
    device: &PublicKey,
    network: &Network,
) -> Result<LogReport, LogError> {
    verify_log_from(file, file.len() as u64, device, network)
}

/// [`verify_log`] over a stream of `len` bytes (a log file of any size, in memory bounded by
/// one frame and the audited chain's records).
pub fn verify_log_from(
    input: impl Read,
    len: u64,
    device: &PublicKey,
    network: &Network,
) -> Result<LogReport, LogError> {
    let mut frames = FrameReader::new(input, len).map_err(read_error)?;
    let key = parse_key(device);
    let mut chains = 0u32;
    let mut ours: Option<(u32, LogId, Hash)> = None;
    let mut records: Vec<RecordCheck> = Vec::new();
    let mut stamps: Vec<StampCheck> = Vec::new();
    while let Some(frame) = frames.next_frame().map_err(read_error)? {
        let offset = frame.offset;
        let entry = Entry::decode(frame.kind, &frame.body)
            .map_err(|error| LogError::Decode { offset, error })?;
        match entry {
            Entry::Chain(c) => {
                if c.index != chains {
                    return Err(LogError::ChainIndex {
                        offset,
                        expected: chains,
                        found: c.index,
                    });
                }
                chains += 1;
                if c.device == *device {
                    if ours.is_some() {
                        return Err(LogError::SecondChain {
                            device: *device,
                            offset,
                        });
                    }
                    ours = Some((c.index, c.log_id, chain_anchor(&c.device, &c.log_id)));
                }
            }
            Entry::Record(r) => {
                if r.chain >= chains {
                    return Err(LogError::UnknownChain {
                        offset,
                        chain: r.chain,
                    });
                }
                if let Some((index, _, anchor)) = ours
                    && r.chain == index
                {
                    let prev = records.last().map_or(anchor, |p| p.hash);
                    records.push(check_record(r, offset, records.len() as u64, &prev, key)?);
                }
            }
            Entry::Stamp(s) => {
                if let Some(h) = s.heads.iter().find(|h| h.chain >= chains) {
                    return Err(LogError::UnknownChain {
                        offset,
                        chain: h.chain,
                    });
                }
                let Some((index, _, _)) = ours else { continue };
                let Some(head) = s.heads.iter().find(|h| h.chain == index) else {
                    continue;
                };
                stamps.push(check_stamp(
                    offset, head, &s.heads, &s.proof, &records, network,
                )?);
            }
        }
    }
    let Some((_, log_id, _)) = ours else {
        return Err(LogError::NoChain { device: *device });
    };
    assign_proofs(&mut records, &stamps);
    Ok(LogReport {
        device: *device,
        log_id: hex::encode(log_id.0),
        records,
        stamps,
        torn_at: frames.torn_at(),
    })
}

fn read_error(e: ReadError) -> LogError {
    match e {
        ReadError::Frame(f) => LogError::Frame(f),
        ReadError::Io(e) => LogError::Io(e.to_string()),
    }
}

fn check_record(
    r: Record,
    offset: u64,
    expected: u64,
    prev: &Hash,
    key: Option<ed25519_dalek::VerifyingKey>,
) -> Result<RecordCheck, LogError> {
    if r.seq != expected {
        return Err(LogError::Sequence {
            offset,
            expected,
            found: r.seq,
        });
    }
    let hash = record_hash(prev, r.seq, r.device_time, &r.payload);
    let signed = super::entry::record_signing_bytes(&hash);
    if !key.is_some_and(|k| verify_with(&k, &signed, &r.signature)) {
        return Err(LogError::Signature { offset, seq: r.seq });
    }
    Ok(RecordCheck {
        seq: r.seq,
        offset,
        hash,
        device_time: r.device_time,
        payload: r.payload,
        proven_by: None,
    })
}

fn check_stamp(
    offset: u64,
    head: &HeadRef,
    heads: &[HeadRef],
    proof: &[u8],
    records: &[RecordCheck],
    network: &Network,
) -> Result<StampCheck, LogError> {
    let Some(record) = usize::try_from(head.seq).ok().and_then(|i| records.get(i)) else {
        return Err(LogError::StampedRecordMissing {
            offset,
            seq: head.seq,
        });
    };
    if record.hash != head.hash {
        return Err(LogError::StampedHeadDiffers {
            offset,
            seq: head.seq,
        });
    }
    let bad = |reason: String| LogError::StampProof { offset, reason };
    let proof = Proof::from_compact(proof).map_err(|e| bad(format!("malformed proof: {e}")))?;
    let root = Digest(stamp_root(heads).0);
    if proof.digest != root {
        return Err(bad(format!(
            "the proof is for digest {}, not the stamp tree's root {root}",
            proof.digest
        )));
    }
    let timestamp = network
        .verify(&proof)
        .map_err(|e: VerifyError| bad(format!("proof does not verify ({}): {e}", e.code())))?;
    Ok(StampCheck {
        offset,
        seq: head.seq,
        timestamp,
    })
}

/// Gives each record the stamp with the earliest bound among those at or after it.
fn assign_proofs(records: &mut [RecordCheck], stamps: &[StampCheck]) {
    let mut by_seq: Vec<(u64, usize)> =
        stamps.iter().enumerate().map(|(i, s)| (s.seq, i)).collect();
    by_seq.sort_unstable();
    let mut best: Option<usize> = None;
    let mut next = by_seq.len();
    for r in records.iter_mut().rev() {
        while next > 0 && by_seq[next - 1].0 >= r.seq {
            next -= 1;
            let i = by_seq[next].1;
            if best.is_none_or(|b| stamps[i].timestamp.latest < stamps[b].timestamp.latest) {
                best = Some(i);
            }
        }
        r.proven_by = best;
    }
}
