//! Building device logs entry by entry, without files or randomness: for test vectors, tests
//! and fuzz seeds (the writer is `DeviceLog`).
//!
//! Owns: a log's bytes as a list of frames that tests can drop, swap or alter one by one.
//! Never: decides whether the result is valid.

use super::entry::{
    Chain, Entry, HeadRef, LogId, Record, Stamp, chain_anchor, record_hash, record_signing_bytes,
};
use super::frame::FILE_MAGIC;
use crate::signing::{public_key, sign};
use crate::{Hash, UtcNanos};
use ed25519_dalek::SigningKey;

/// A log under construction: its entries, in order.
#[derive(Debug, Clone, Default)]
pub struct LogBuilder {
    /// The entries so far.
    pub entries: Vec<Entry>,
    heads: Vec<(Hash, u64)>,
}

impl LogBuilder {
    /// An empty log.
    pub fn new() -> LogBuilder {
        LogBuilder::default()
    }

    /// Begins a chain for `key` with `log_id`; returns its index.
    pub fn chain(&mut self, key: &SigningKey, log_id: LogId) -> u32 {
        let index = self.heads.len() as u32;
        let device = public_key(key);
        self.heads.push((chain_anchor(&device, &log_id), 0));
        self.entries.push(Entry::Chain(Chain {
            index,
            device,
            log_id,
        }));
        index
    }

    /// Appends a record signed by `key` to `chain`; returns its head.
    pub fn record(
        &mut self,
        chain: u32,
        key: &SigningKey,
        device_time: UtcNanos,
        payload: &[u8],
    ) -> HeadRef {
        let (prev, seq) = self.heads[chain as usize];
        let hash = record_hash(&prev, seq, device_time, payload);
        self.entries.push(Entry::Record(Record {
            chain,
            seq,
            device_time,
            cursor: 0,
            payload: payload.to_vec(),
            signature: sign(key, &record_signing_bytes(&hash)),
        }));
        self.heads[chain as usize] = (hash, seq + 1);
        HeadRef { chain, seq, hash }
    }

    /// Appends a stamp of `heads` with a compact proof.
    pub fn stamp(&mut self, heads: Vec<HeadRef>, proof: Vec<u8>) {
        self.entries.push(Entry::Stamp(Stamp { heads, proof }));
    }

    /// The file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = FILE_MAGIC.to_vec();
        for e in &self.entries {
            out.extend(e.to_frame());
        }
        out
    }
}
