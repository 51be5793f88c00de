//! The device log's entries and the hashes that chain and stamp them (`specs/devicelog.md`
//! §3–§4).
//!
//! Owns: the chain, record and stamp bodies, the record hash, what a device signs, the chain
//! anchor and the stamp tree. Never: reads files or decides whether a log is valid (see
//! `verify`).

use super::frame::{Kind, encode_frame};
use crate::encoding::{DecodeError, Reader, Writer, tag};
use crate::merkle::{self, MerkleTree};
use crate::proof::MAX_PROOF_BYTES;
use crate::{Hash, PublicKey, Signature, UtcNanos};

/// Largest record payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
/// Most chain heads one stamp may carry.
pub const MAX_STAMP_HEADS: usize = 16_384;

/// A log's random id, so two logs of one device never share a chain anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId(pub [u8; 16]);

/// A chain: one device's sequence of records in this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// Its index in the file (chains are numbered 0, 1, … in the order they appear).
    pub index: u32,
    /// The device's Ed25519 public key.
    pub device: PublicKey,
    /// The log's id.
    pub log_id: LogId,
}

/// A signed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The chain it belongs to.
    pub chain: u32,
    /// Its position in the chain, from 0.
    pub seq: u64,
    /// The device's own clock when it made the record (a claim, not a proof).
    pub device_time: UtcNanos,
    /// Where the logger's input stood after this record (for resuming; not signed).
    pub cursor: u64,
    /// The record's content.
    pub payload: Vec<u8>,
    /// The device's signature over [`record_signing_bytes`].
    pub signature: Signature,
}

/// One chain's head as a stamp names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadRef {
    /// The chain.
    pub chain: u32,
    /// The record that was the head.
    pub seq: u64,
    /// That record's hash.
    pub hash: Hash,
}

/// A stamp: the heads that moved since the last one, and the network's proof for the root of
/// the tree over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The heads, chains strictly increasing (the tree's leaves in this order).
    pub heads: Vec<HeadRef>,
    /// The proof of the tree's root, in the compact form (`specs/proof.md` §3).
    pub proof: Vec<u8>,
}

/// Any entry of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A chain begins.
    Chain(Chain),
    /// A record.
    Record(Record),
    /// A stamp.
    Stamp(Stamp),
}

/// The hash a chain's first record links to: `H(tag ‖ device ‖ log id)`.
pub fn chain_anchor(device: &PublicKey, log_id: &LogId) -> Hash {
    Writer::with_tag(tag::DEVICELOG_CHAIN)
        .bytes(&device.0)
        .bytes(&log_id.0)
        .hash()
}

/// A record's hash: `H(tag ‖ prev ‖ seq ‖ device time ‖ payload length ‖ payload)`.
pub fn record_hash(prev: &Hash, seq: u64, device_time: UtcNanos, payload: &[u8]) -> Hash {
    let mut h = blake3::Hasher::new();
    let mut head = Writer::with_tag(tag::DEVICELOG_RECORD);
    head.bytes(&prev.0)
        .u64(seq)
        .i64(device_time.0)
        .u32(payload.len() as u32);
    h.update(head.as_slice());
    h.update(payload);
    Hash(*h.finalize().as_bytes())
}

/// What the device signs for a record: `tag ‖ record hash`.
pub fn record_signing_bytes(hash: &Hash) -> Vec<u8> {
    let mut w = Writer::with_tag(tag::DEVICELOG_SIGN);
    w.bytes(&hash.0);
    w.finish()
}

/// A head's leaf hash in a stamp tree: `leaf(tag ‖ record hash)`.
pub fn head_leaf(hash: &Hash) -> Hash {
    merkle::leaf_hash(
        Writer::with_tag(tag::DEVICELOG_HEAD)
            .bytes(&hash.0)
            .as_slice(),
    )
}

/// The root of the stamp tree over `heads`, in order: the digest the network stamps.
pub fn stamp_root(heads: &[HeadRef]) -> Hash {
    MerkleTree::from_leaf_hashes(heads.iter().map(|h| head_leaf(&h.hash)).collect()).root()
}

impl Entry {
    /// The entry as a frame.
    pub fn to_frame(&self) -> Vec<u8> {
        let mut w = Writer::new();
        let kind = match self {
            Entry::Chain(c) => {
                w.u32(c.index).bytes(&c.device.0).bytes(&c.log_id.0);
                Kind::Chain
            }
            Entry::Record(r) => {
                w.u32(r.chain)
                    .u64(r.seq)
                    .i64(r.device_time.0)
                    .u64(r.cursor)
                    .u32(r.payload.len() as u32)
                    .bytes(&r.payload)
                    .bytes(&r.signature.0);
                Kind::Record
            }
            Entry::Stamp(s) => {
                w.u32(s.heads.len() as u32);
                for h in &s.heads {
                    w.u32(h.chain).u64(h.seq).bytes(&h.hash.0);
                }
                w.u32(s.proof.len() as u32).bytes(&s.proof);
                Kind::Stamp
            }
        };
        encode_frame(kind, w.as_slice())
    }

    /// Decodes a frame's body, checking every length and count against its cap.
    pub fn decode(kind: Kind, body: &[u8]) -> Result<Entry, DecodeError> {
        let mut r = Reader::new(body);
        let entry = match kind {
            Kind::Chain => Entry::Chain(Chain {
                index: r.u32("chain.index")?,
                device: PublicKey(r.array("chain.device")?),
                log_id: LogId(r.array("chain.log_id")?),
            }),
            Kind::Record => {
                let chain = r.u32("record.chain")?;
                let seq = r.u64("record.seq")?;
                let device_time = UtcNanos(r.i64("record.device_time")?);
                let cursor = r.u64("record.cursor")?;
                let len = r.u32("record.payload_len")? as usize;
                if len > MAX_PAYLOAD_BYTES {
                    return Err(invalid(
                        "record.payload_len",
                        format!("{len} bytes, the limit is {MAX_PAYLOAD_BYTES}"),
                    ));
                }
                let payload = r.take("record.payload", len)?.to_vec();
                Entry::Record(Record {
                    chain,
                    seq,
                    device_time,
                    cursor,
                    payload,
                    signature: Signature(r.array("record.signature")?),
                })
            }
            Kind::Stamp => {
                let count = r.u32("stamp.count")? as usize;
                if count == 0 || count > MAX_STAMP_HEADS {
                    return Err(invalid(
                        "stamp.count",
                        format!("{count} heads, expected 1 to {MAX_STAMP_HEADS}"),
                    ));
                }
                if r.remaining() < count * 44 {
                    return Err(DecodeError::Truncated {
                        field: "stamp.heads",
                        needed: count * 44,
                        remaining: r.remaining(),
                    });
                }
                let mut heads: Vec<HeadRef> = Vec::with_capacity(count);
                for _ in 0..count {
                    let head = HeadRef {
                        chain: r.u32("stamp.head.chain")?,
                        seq: r.u64("stamp.head.seq")?,
                        hash: Hash(r.array("stamp.head.hash")?),
                    };
                    if heads.last().is_some_and(|p| p.chain >= head.chain) {
                        return Err(invalid(
                            "stamp.head.chain",
                            format!("chain {} is not above the one before it", head.chain),
                        ));
                    }
                    heads.push(head);
                }
                let len = r.u32("stamp.proof_len")? as usize;
                if len > MAX_PROOF_BYTES {
                    return Err(invalid(
                        "stamp.proof_len",
                        format!("{len} bytes, the limit is {MAX_PROOF_BYTES}"),
                    ));
                }
                Entry::Stamp(Stamp {
                    heads,
                    proof: r.take("stamp.proof", len)?.to_vec(),
                })
            }
        };
        r.finish()?;
        Ok(entry)
    }
}

fn invalid(field: &'static str, reason: String) -> DecodeError {
    DecodeError::Invalid { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devicelog::frame::scan;

    #[test]
    fn entries_round_trip_through_frames() {
        let entries = [
            Entry::Chain(Chain {
                index: 0,
                device: PublicKey([7; 32]),
                log_id: LogId([9; 16]),
            }),
            Entry::Record(Record {
                chain: 0,
                seq: 3,
                device_time: UtcNanos(-5),
                cursor: 77,
                payload: b"reading 21.5 C".to_vec(),
                signature: Signature([1; 64]),
            }),
            Entry::Stamp(Stamp {
                heads: vec![
                    HeadRef {
                        chain: 0,
                        seq: 3,
                        hash: Hash([2; 32]),
                    },
                    HeadRef {
                        chain: 4,
                        seq: 0,
                        hash: Hash([3; 32]),
                    },
                ],
                proof: vec![5; 40],
            }),
        ];
        let mut file = crate::devicelog::FILE_MAGIC.to_vec();
        for e in &entries {
            file.extend(e.to_frame());
        }
        let s = scan(&file).unwrap();
        let back: Vec<Entry> = s
            .frames
            .iter()
            .map(|f| Entry::decode(f.kind, f.body).unwrap())
            .collect();
        assert_eq!(back, entries);
    }

    #[test]
    fn a_stamp_with_chains_out_of_order_is_refused() {
        let bad = Entry::Stamp(Stamp {
            heads: vec![
                HeadRef {
                    chain: 2,
                    seq: 0,
                    hash: Hash([0; 32]),
                },
                HeadRef {
                    chain: 2,
                    seq: 1,
                    hash: Hash([0; 32]),
                },
            ],
            proof: vec![],
        })
        .to_frame();
        let err = Entry::decode(Kind::Stamp, &bad[5..bad.len() - 8]).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::Invalid {
                    field: "stamp.head.chain",
                    ..
                }
            ),
            "{err}"
        );
    }
}
