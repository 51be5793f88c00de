//! The binary codec of consensus messages, as carried between ring members.
//!
//! Owns: the wire layout of [`Message`] (spec `specs/consensus.md` § Wire format) built on the
//! sdk's `encoding::{Writer, Reader}`, and the size caps that bound what an untrusted peer can
//! make us allocate. Never: verifies signatures or meaning (the core does), and never produces
//! signing bytes (the sdk does).
//!
//! Layout: one kind byte, then the body. Integers are big-endian; every list is a u16 count
//! checked against its cap and against the bytes that remain before anything is allocated.

use super::messages::{
    ChainTick, Delivered, Fetch, Finalization, Message, Notarization, Nullification, NullifyVote,
    Proposal, TickVote,
};
use tickchain_sdk::encoding::{DecodeError, Reader, Writer};
use tickchain_sdk::votes::ClockReading;
use tickchain_sdk::{
    Batch, CertVote, FinalityCertificate, Hash, NodeId, Second, Signature, Tick, UtcNanos, View,
};

/// Largest encoded message accepted or produced, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;
/// Most votes in one certificate (the sdk's `MAX_NODES`).
pub const MAX_VOTES: usize = 1024;
/// Most batches one proposal may carry.
pub const MAX_BATCHES: usize = 4096;
/// Most entries in one fetch request.
pub const MAX_FETCH: usize = 256;
/// Most ticks in one chain answer.
pub const MAX_CHAIN: usize = 128;
/// Most final ticks one catch-up answer carries: the wanted tick and up to 31 ancestors
/// (`specs/consensus.md` §10). The codec accepts up to [`MAX_CHAIN`]; answers stay smaller.
pub const CHAIN_ANSWER: usize = 32;

const TICK_BYTES: usize = 8 + 8 + 8 + 32 + 32 + 4 + 2;
const BATCH_BYTES: usize = 2 + 8 + 32 + 4 + 64;
const COMPACT_VOTE_BYTES: usize = 2 + 8 + 8 + 64;

mod kind {
    pub const PROPOSAL: u8 = 1;
    pub const NOTARIZE: u8 = 2;
    pub const FINALIZE: u8 = 3;
    pub const NULLIFY: u8 = 4;
    pub const NOTARIZATION: u8 = 5;
    pub const NULLIFICATION: u8 = 6;
    pub const FINALIZATION: u8 = 7;
    pub const FETCH: u8 = 8;
    pub const CHAIN: u8 = 9;
    pub const BATCH: u8 = 10;
    pub const DELIVERED: u8 = 11;
}

/// True when `byte` is the kind byte of a consensus message (1–11); the other peer-message
/// namespaces are listed in [`crate::peer`].
pub fn is_kind(byte: u8) -> bool {
    (kind::PROPOSAL..=kind::DELIVERED).contains(&byte)
}

/// Why bytes from a peer are not a consensus message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The message is larger than the cap.
    #[error("message of {size} bytes exceeds the cap of {max} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// [`MAX_MESSAGE_BYTES`].
        max: usize,
    },
    /// The first byte names no message kind.
    #[error("unknown message kind {found}: expected 1 to 11")]
    UnknownKind {
        /// The kind byte that arrived.
        found: u8,
    },
    /// A list is longer than its cap.
    #[error("{field} has {found} entries, at most {max} allowed")]
    TooMany {
        /// The list.
        field: &'static str,
        /// Its stated length.
        found: usize,
        /// The cap.
        max: usize,
    },
    /// A field was truncated, invalid, or bytes trailed.
    #[error(transparent)]
    Field(#[from] DecodeError),
}

/// Encodes `msg` for the wire.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut w = Writer::new();
    match msg {
        Message::Proposal(p) => {
            w.u8(kind::PROPOSAL);
            put_tick(&mut w, &p.tick);
            w.u64(p.parent_view.0);
            put_count(&mut w, p.batches.len());
            for b in &p.batches {
                put_batch(&mut w, b);
            }
            put_tick_vote(&mut w, &p.vote);
        }
        Message::Notarize(v) => {
            w.u8(kind::NOTARIZE);
            put_tick_vote(&mut w, v);
        }
        Message::Finalize(v) => {
            w.u8(kind::FINALIZE);
            put_tick_vote(&mut w, v);
        }
        Message::Nullify(v) => {
            w.u8(kind::NULLIFY);
            w.u64(v.view.0).u16(v.signer.0).bytes(&v.signature.0);
        }
        Message::Notarization(n) => {
            w.u8(kind::NOTARIZATION);
            put_tick(&mut w, &n.tick);
            w.bytes(&n.votes.first().map_or([0; 32], |v| v.tick_hash.0));
            put_count(&mut w, n.votes.len());
            for v in &n.votes {
                put_compact(&mut w, v.signer, &v.reading, &v.signature);
            }
        }
        Message::Nullification(n) => {
            w.u8(kind::NULLIFICATION);
            w.u64(n.view.0);
            put_count(&mut w, n.votes.len());
            for v in &n.votes {
                w.u16(v.signer.0).bytes(&v.signature.0);
            }
        }
        Message::Finalization(f) => {
            w.u8(kind::FINALIZATION);
            put_tick(&mut w, &f.tick);
            put_cert(&mut w, &f.certificate);
        }
        Message::Fetch(f) => {
            w.u8(kind::FETCH);
            put_count(&mut w, f.views.len());
            for v in &f.views {
                w.u64(v.0);
            }
            put_count(&mut w, f.ticks.len());
            for h in &f.ticks {
                w.bytes(&h.0);
            }
        }
        Message::Chain(ticks) => {
            w.u8(kind::CHAIN);
            put_count(&mut w, ticks.len());
            for t in ticks {
                put_chain_tick(&mut w, t);
            }
        }
        Message::Delivered(d) => {
            w.u8(kind::DELIVERED);
            put_chain_tick(&mut w, &d.tick);
            put_count(&mut w, d.batches.len());
            for b in &d.batches {
                put_batch(&mut w, b);
            }
        }
        Message::Batch(b) => {
            w.u8(kind::BATCH);
            put_batch(&mut w, b);
        }
    }
    w.finish()
}

/// Decodes one message from a peer: the whole input, nothing trailing, every cap enforced.
pub fn decode(bytes: &[u8]) -> Result<Message, CodecError> {
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(CodecError::TooLarge {
            size: bytes.len(),
            max: MAX_MESSAGE_BYTES,
        });
    }
    let mut r = Reader::new(bytes);
    let msg = match r.u8("message.kind")? {
        kind::PROPOSAL => {
            let tick = get_tick(&mut r)?;
            let parent_view = View(r.u64("proposal.parent_view")?);
            let count = get_count(&mut r, "proposal.batches", MAX_BATCHES, BATCH_BYTES)?;
            let batches = (0..count)
                .map(|_| get_batch(&mut r))
                .collect::<Result<_, _>>()?;
            let vote = get_tick_vote(&mut r)?;
            Message::Proposal(Proposal {
                tick,
                parent_view,
                batches,
                vote,
            })
        }
        kind::NOTARIZE => Message::Notarize(get_tick_vote(&mut r)?),
        kind::FINALIZE => Message::Finalize(get_tick_vote(&mut r)?),
        kind::NULLIFY => Message::Nullify(NullifyVote {
            view: View(r.u64("nullify.view")?),
            signer: NodeId(r.u16("nullify.signer")?),
            signature: Signature(r.array("nullify.signature")?),
        }),
        kind::NOTARIZATION => {
            let tick = get_tick(&mut r)?;
            let tick_hash = Hash(r.array("notarization.tick_hash")?);
            let count = get_count(&mut r, "notarization.votes", MAX_VOTES, COMPACT_VOTE_BYTES)?;
            let votes = (0..count)
                .map(|_| {
                    let (signer, reading, signature) = get_compact(&mut r)?;
                    Ok(TickVote {
                        view: tick.view,
                        tick_hash,
                        signer,
                        reading,
                        signature,
                    })
                })
                .collect::<Result<_, CodecError>>()?;
            Message::Notarization(Notarization { tick, votes })
        }
        kind::NULLIFICATION => {
            let view = View(r.u64("nullification.view")?);
            let count = get_count(&mut r, "nullification.votes", MAX_VOTES, 2 + 64)?;
            let votes = (0..count)
                .map(|_| {
                    Ok(NullifyVote {
                        view,
                        signer: NodeId(r.u16("nullification.signer")?),
                        signature: Signature(r.array("nullification.signature")?),
                    })
                })
                .collect::<Result<_, CodecError>>()?;
            Message::Nullification(Nullification { view, votes })
        }
        kind::FINALIZATION => {
            let tick = get_tick(&mut r)?;
            let certificate = get_cert(&mut r)?;
            Message::Finalization(Finalization { tick, certificate })
        }
        kind::FETCH => {
            let count = get_count(&mut r, "fetch.views", MAX_FETCH, 8)?;
            let views = (0..count)
                .map(|_| Ok(View(r.u64("fetch.view")?)))
                .collect::<Result<_, CodecError>>()?;
            let count = get_count(&mut r, "fetch.ticks", MAX_FETCH, 32)?;
            let ticks = (0..count)
                .map(|_| Ok(Hash(r.array("fetch.tick")?)))
                .collect::<Result<_, CodecError>>()?;
            Message::Fetch(Fetch { views, ticks })
        }
        kind::CHAIN => {
            let count = get_count(&mut r, "chain.ticks", MAX_CHAIN, TICK_BYTES + 1)?;
            let ticks = (0..count)
                .map(|_| get_chain_tick(&mut r))
                .collect::<Result<_, CodecError>>()?;
            Message::Chain(ticks)
        }
        kind::DELIVERED => {
            let tick = get_chain_tick(&mut r)?;
            let count = get_count(&mut r, "delivered.batches", MAX_BATCHES, BATCH_BYTES)?;
            let batches = (0..count)
                .map(|_| get_batch(&mut r))
                .collect::<Result<_, _>>()?;
            Message::Delivered(Delivered { tick, batches })
        }
        kind::BATCH => Message::Batch(get_batch(&mut r)?),
        found => return Err(CodecError::UnknownKind { found }),
    };
    r.finish()?;
    Ok(msg)
}

fn put_count(w: &mut Writer, n: usize) {
    w.u16(u16::try_from(n).expect("lists are capped well below 65536 entries"));
}

fn get_count(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
    min_item_bytes: usize,
) -> Result<usize, CodecError> {
    let found = r.u16(field)? as usize;
    if found > max {
        return Err(CodecError::TooMany { field, found, max });
    }
    if found * min_item_bytes > r.remaining() {
        return Err(CodecError::Field(DecodeError::Truncated {
            field,
            needed: found * min_item_bytes,
            remaining: r.remaining(),
        }));
    }
    Ok(found)
}

fn put_chain_tick(w: &mut Writer, t: &ChainTick) {
    put_tick(w, &t.tick);
    match &t.certificate {
        None => {
            w.u8(0);
        }
        Some(c) => {
            w.u8(1);
            put_cert(w, c);
        }
    }
}

fn get_chain_tick(r: &mut Reader<'_>) -> Result<ChainTick, CodecError> {
    let tick = get_tick(r)?;
    let certificate = match r.u8("chain.has_certificate")? {
        0 => None,
        1 => Some(get_cert(r)?),
        other => {
            return Err(CodecError::Field(DecodeError::Invalid {
                field: "chain.has_certificate",
                reason: format!("expected 0 or 1, found {other}"),
            }));
        }
    };
    Ok(ChainTick { tick, certificate })
}

fn put_tick(w: &mut Writer, t: &Tick) {
    t.write_fields(w);
}

fn get_tick(r: &mut Reader<'_>) -> Result<Tick, CodecError> {
    Ok(Tick::read_fields(r)?)
}

fn put_batch(w: &mut Writer, b: &Batch) {
    w.u16(b.node.0)
        .u64(b.second.0)
        .bytes(&b.root.0)
        .u32(b.count)
        .bytes(&b.signature.0);
}

fn get_batch(r: &mut Reader<'_>) -> Result<Batch, CodecError> {
    Ok(Batch {
        node: NodeId(r.u16("batch.node")?),
        second: Second(r.u64("batch.second")?),
        root: Hash(r.array("batch.root")?),
        count: r.u32("batch.count")?,
        signature: Signature(r.array("batch.signature")?),
    })
}

fn put_compact(w: &mut Writer, signer: NodeId, reading: &ClockReading, sig: &Signature) {
    w.u16(signer.0)
        .i64(reading.earliest.0)
        .i64(reading.latest.0)
        .bytes(&sig.0);
}

fn get_compact(r: &mut Reader<'_>) -> Result<(NodeId, ClockReading, Signature), CodecError> {
    let signer = NodeId(r.u16("vote.signer")?);
    let reading = ClockReading {
        earliest: UtcNanos(r.i64("vote.earliest")?),
        latest: UtcNanos(r.i64("vote.latest")?),
    };
    Ok((signer, reading, Signature(r.array("vote.signature")?)))
}

fn put_tick_vote(w: &mut Writer, v: &TickVote) {
    w.u64(v.view.0).bytes(&v.tick_hash.0);
    put_compact(w, v.signer, &v.reading, &v.signature);
}

fn get_tick_vote(r: &mut Reader<'_>) -> Result<TickVote, CodecError> {
    let view = View(r.u64("vote.view")?);
    let tick_hash = Hash(r.array("vote.tick_hash")?);
    let (signer, reading, signature) = get_compact(r)?;
    Ok(TickVote {
        view,
        tick_hash,
        signer,
        reading,
        signature,
    })
}

fn put_cert(w: &mut Writer, c: &FinalityCertificate) {
    w.u64(c.view.0).bytes(&c.tick_hash.0);
    put_count(w, c.votes.len());
    for v in &c.votes {
        put_compact(w, v.signer, &v.reading, &v.signature);
    }
}

fn get_cert(r: &mut Reader<'_>) -> Result<FinalityCertificate, CodecError> {
    let view = View(r.u64("certificate.view")?);
    let tick_hash = Hash(r.array("certificate.tick_hash")?);
    let count = get_count(r, "certificate.votes", MAX_VOTES, COMPACT_VOTE_BYTES)?;
    let votes = (0..count)
        .map(|_| {
            let (signer, reading, signature) = get_compact(r)?;
            Ok(CertVote {
                signer,
                reading,
                signature,
            })
        })
        .collect::<Result<_, CodecError>>()?;
    Ok(FinalityCertificate {
        view,
        tick_hash,
        votes,
    })
}
