//! Proofs: everything an auditor needs to check a timestamp offline, in JSON and compact binary.
//!
//! Owns: the proof's fields, its JSON form (`.tcproof`) and compact form (`.tcproof.bin`),
//! `specs/proof.md` §2–3. Never: verification (see `verify`).

use crate::anchor::{Anchor, EvmAddress};
use crate::anchor_proof::{AnchorProof, EvmTxHash, MAX_ANCHORS, deserialize_anchors};
use crate::certificate::{CertVote, FinalityCertificate};
use crate::encoding::{DecodeError, Reader, Writer};
use crate::merkle::{self, MAX_PATH_LEN, MerklePath};
use crate::votes::ClockReading;
use crate::{Batch, Digest, Hash, Height, NodeId, Salt, Second, Signature, Tick, UtcNanos, View};
use serde::{Deserialize, Serialize};

/// The proof format version this crate reads and writes.
pub const PROOF_VERSION: u8 = 1;
/// Largest proof file accepted, in either form (bytes).
pub const MAX_PROOF_BYTES: usize = 128 * 1024;
/// First bytes of the compact binary form.
pub const COMPACT_MAGIC: &[u8; 4] = b"TCPF";
/// Most descendant ticks a proof may carry between its tick and the certified one.
pub const MAX_DESCENDANTS: usize = 64;
/// Most signer bytes in a compact certificate bitmap.
const MAX_BITMAP_BYTES: usize = crate::genesis::MAX_NODES / 8;

/// A timestamp proof: digest → batch root → tick → finality certificate → genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proof {
    /// Format version; [`PROOF_VERSION`].
    pub version: u8,
    /// Hash of the genesis of the network that signed it.
    pub genesis_hash: Hash,
    /// The document digest being timestamped.
    pub digest: Digest,
    /// The digest's per-leaf salt.
    pub salt: Salt,
    /// Path from the salted digest leaf to `batch.root`.
    pub batch_path: MerklePath,
    /// The node's signed batch.
    pub batch: Batch,
    /// Path from the batch leaf to `tick.batch_root`.
    pub tick_path: MerklePath,
    /// The tick that committed to the batch.
    pub tick: Tick,
    /// When `tick` was finalized only through a descendant: the ticks after it, in height
    /// order, each linked to the one before by `prev_hash`; `certificate` certifies the last.
    /// Empty when the certificate is the tick's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub descendants: Vec<Tick>,
    /// The tick's finality certificate.
    pub certificate: FinalityCertificate,
    /// Where `tick` is anchored on EVM chains (at most [`MAX_ANCHORS`]), each with the tick's
    /// path to the anchored root. Empty (and omitted from both forms) until the proof is
    /// upgraded.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "deserialize_anchors"
    )]
    pub anchors: Vec<AnchorProof>,
}

/// Why bytes are not a well-formed proof (before any cryptographic check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFormatError {
    /// The input is larger than [`MAX_PROOF_BYTES`].
    #[error("proof is {size} bytes, the limit is {max}")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// The JSON form did not parse; `path` names the field.
    #[error("proof JSON at {path}: {message}")]
    Json {
        /// Field path, e.g. `batch_path.siblings[3]`.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The input is neither compact (magic `TCPF`) nor UTF-8 JSON.
    #[error("not a proof: neither compact binary (starts with TCPF) nor UTF-8 JSON")]
    UnknownForm,
    /// The compact form did not decode.
    #[error("compact proof: {0}")]
    Compact(#[from] DecodeError),
    /// The proof cannot be written compactly (signers not strictly ascending, or too many).
    #[error("cannot encode compactly: {0}")]
    NotCompactable(String),
}

impl Proof {
    /// Parses a proof in either form, detected by the compact magic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Proof, ProofFormatError> {
        check_size(bytes.len())?;
        if bytes.starts_with(COMPACT_MAGIC) {
            return Proof::from_compact(bytes);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ProofFormatError::UnknownForm)?;
        Proof::from_json(text)
    }

    /// Parses the JSON form.
    pub fn from_json(text: &str) -> Result<Proof, ProofFormatError> {
        check_size(text.len())?;
        // One proof per document: text after it is an error, not ignored.
        crate::json_doc::parse(text).map_err(|e| ProofFormatError::Json {
            path: e.path,
            message: e.message,
        })
    }

    /// The JSON form, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("proof serializes")
    }

    /// The compact binary form (`specs/proof.md` §3). Derivable fields are omitted.
    pub fn to_compact(&self) -> Result<Vec<u8>, ProofFormatError> {
        for (which, path) in [
            ("batch_path", &self.batch_path),
            ("tick_path", &self.tick_path),
        ] {
            path.check_shape()
                .map_err(|e| ProofFormatError::NotCompactable(format!("{which}: {e}")))?;
        }
        if self.descendants.len() > MAX_DESCENDANTS {
            return Err(ProofFormatError::NotCompactable(format!(
                "{} descendants, at most {MAX_DESCENDANTS}",
                self.descendants.len()
            )));
        }
        self.check_anchors_compactable()?;
        let votes = &self.certificate.votes;
        if votes.windows(2).any(|w| w[0].signer >= w[1].signer) {
            return Err(ProofFormatError::NotCompactable(
                "certificate signers must be strictly ascending".into(),
            ));
        }
        let n = votes.last().map_or(0, |v| v.signer.index() + 1);
        let bitmap = self.certificate.signer_bitmap(n);
        if bitmap.len() > MAX_BITMAP_BYTES {
            return Err(ProofFormatError::NotCompactable(format!(
                "signer {} is beyond the {}-node limit",
                n - 1,
                crate::genesis::MAX_NODES
            )));
        }
        let mut w = Writer::new();
        w.bytes(COMPACT_MAGIC)
            .u8(self.version)
            .bytes(&self.genesis_hash.0)
            .bytes(&self.digest.0)
            .bytes(&self.salt.0);
        write_path(&mut w, &self.batch_path);
        w.u16(self.batch.node.0)
            .u64(self.batch.second.0)
            .bytes(&self.batch.signature.0);
        write_path(&mut w, &self.tick_path);
        let t = &self.tick;
        w.u64(t.height.0)
            .u64(t.view.0)
            .u64(t.second.0)
            .bytes(&t.prev_hash.0)
            .u16(t.proposer.0);
        w.u8(self.descendants.len() as u8);
        for d in &self.descendants {
            w.u64(d.view.0)
                .u64(d.second.0)
                .bytes(&d.batch_root.0)
                .u32(d.batch_count)
                .u16(d.proposer.0);
        }
        w.u16(bitmap.len() as u16).bytes(&bitmap);
        for v in votes {
            w.i64(v.reading.earliest.0)
                .i64(v.reading.latest.0)
                .bytes(&v.signature.0);
        }
        if !self.anchors.is_empty() {
            w.u8(self.anchors.len() as u8);
            for a in &self.anchors {
                w.u64(a.chain_id)
                    .bytes(&a.contract.0)
                    .u64(a.anchor.from.0)
                    .u64(a.anchor.to.0)
                    .u64(a.anchor.second.0)
                    .bytes(&a.anchor.root.0)
                    .bytes(&a.tx_hash.0)
                    .u64(a.block_number);
                for s in &a.path.siblings {
                    w.bytes(&s.0);
                }
            }
        }
        Ok(w.finish())
    }

    /// The compact form derives each anchor path's index and size from the tick's height and
    /// the range, so they must be exactly that (and the path well formed).
    fn check_anchors_compactable(&self) -> Result<(), ProofFormatError> {
        if self.anchors.len() > MAX_ANCHORS {
            return Err(ProofFormatError::NotCompactable(format!(
                "{} anchors, at most {MAX_ANCHORS}",
                self.anchors.len()
            )));
        }
        for (i, a) in self.anchors.iter().enumerate() {
            let position = a.position(self.tick.height);
            if position != Some((a.path.index, a.path.size)) {
                return Err(ProofFormatError::NotCompactable(format!(
                    "anchors[{i}].path is leaf {} of {}, not the tick's position in {}..={}",
                    a.path.index, a.path.size, a.anchor.from, a.anchor.to
                )));
            }
            a.path
                .check_shape()
                .map_err(|e| ProofFormatError::NotCompactable(format!("anchors[{i}].path: {e}")))?;
        }
        Ok(())
    }

    /// Parses the compact binary form, recomputing the omitted fields.
    pub fn from_compact(bytes: &[u8]) -> Result<Proof, ProofFormatError> {
        check_size(bytes.len())?;
        let mut r = Reader::new(bytes);
        let magic = r.array::<4>("magic")?;
        if &magic != COMPACT_MAGIC {
            return Err(ProofFormatError::UnknownForm);
        }
        let version = r.u8("version")?;
        let genesis_hash = Hash(r.array("genesis_hash")?);
        let digest = Digest(r.array("digest")?);
        let salt = Salt(r.array("salt")?);
        let batch_path = read_path(&mut r, "batch_path")?;
        let node = NodeId(r.u16("batch.node")?);
        let second = Second(r.u64("batch.second")?);
        let signature = Signature(r.array("batch.signature")?);
        let batch_root = batch_path
            .root_from(merkle::digest_leaf(&salt, &digest))
            .map_err(|e| invalid("batch_path", e.to_string()))?;
        let batch = Batch {
            node,
            second,
            root: batch_root,
            count: batch_path.size,
            signature,
        };
        let tick_path = read_path(&mut r, "tick_path")?;
        let height = Height(r.u64("tick.height")?);
        let view = View(r.u64("tick.view")?);
        let tick_second = Second(r.u64("tick.second")?);
        let prev_hash = Hash(r.array("tick.prev_hash")?);
        let proposer = NodeId(r.u16("tick.proposer")?);
        let tick_batch_root = tick_path
            .root_from(batch.leaf_hash(&genesis_hash))
            .map_err(|e| invalid("tick_path", e.to_string()))?;
        let tick = Tick {
            height,
            view,
            second: tick_second,
            prev_hash,
            batch_root: tick_batch_root,
            batch_count: tick_path.size,
            proposer,
        };
        let count = r.u8("descendants.count")? as usize;
        if count > MAX_DESCENDANTS {
            return Err(invalid(
                "descendants.count",
                format!("at most {MAX_DESCENDANTS}, got {count}"),
            ));
        }
        let mut descendants: Vec<Tick> = Vec::with_capacity(count);
        for _ in 0..count {
            let prev = descendants.last().unwrap_or(&tick);
            let next = Tick {
                height: Height(prev.height.0.wrapping_add(1)),
                prev_hash: prev.hash(&genesis_hash),
                view: View(r.u64("descendants.view")?),
                second: Second(r.u64("descendants.second")?),
                batch_root: Hash(r.array("descendants.batch_root")?),
                batch_count: r.u32("descendants.batch_count")?,
                proposer: NodeId(r.u16("descendants.proposer")?),
            };
            descendants.push(next);
        }
        let certified = descendants.last().unwrap_or(&tick);
        let (cert_view, cert_tick_hash) = (certified.view, certified.hash(&genesis_hash));
        let bitmap_len = r.u16("certificate.bitmap_len")? as usize;
        if bitmap_len > MAX_BITMAP_BYTES {
            return Err(invalid(
                "certificate.bitmap_len",
                format!("at most {MAX_BITMAP_BYTES} bytes, got {bitmap_len}"),
            ));
        }
        let bitmap = r.take("certificate.bitmap", bitmap_len)?.to_vec();
        let mut votes = Vec::new();
        for i in 0..bitmap_len * 8 {
            if bitmap[i / 8] & (1 << (i % 8)) == 0 {
                continue;
            }
            let earliest = UtcNanos(r.i64("certificate.votes.earliest")?);
            let latest = UtcNanos(r.i64("certificate.votes.latest")?);
            let signature = Signature(r.array("certificate.votes.signature")?);
            votes.push(CertVote {
                signer: NodeId(i as u16),
                reading: ClockReading { earliest, latest },
                signature,
            });
        }
        let anchors = if r.remaining() > 0 {
            read_anchors(&mut r, height)?
        } else {
            Vec::new()
        };
        r.finish()?;
        let certificate = FinalityCertificate {
            view: cert_view,
            tick_hash: cert_tick_hash,
            votes,
        };
        Ok(Proof {
            version,
            genesis_hash,
            digest,
            salt,
            batch_path,
            batch,
            tick_path,
            tick,
            descendants,
            certificate,
            anchors,
        })
    }
}

/// Reads the optional trailing anchors section (`specs/proof.md` §3): a count of 1 to
/// [`MAX_ANCHORS`], then each anchor, its path's index and size derived from `height`.
fn read_anchors(r: &mut Reader<'_>, height: Height) -> Result<Vec<AnchorProof>, ProofFormatError> {
    let count = r.u8("anchors.count")? as usize;
    if count == 0 || count > MAX_ANCHORS {
        return Err(invalid(
            "anchors.count",
            format!("1 to {MAX_ANCHORS} (the section is absent when there are none), got {count}"),
        ));
    }
    let mut anchors = Vec::with_capacity(count);
    for _ in 0..count {
        let chain_id = r.u64("anchors.chain_id")?;
        let contract = EvmAddress(r.array("anchors.contract")?);
        let anchor = Anchor {
            from: Height(r.u64("anchors.anchor.from")?),
            to: Height(r.u64("anchors.anchor.to")?),
            second: Second(r.u64("anchors.anchor.second")?),
            root: Hash(r.array("anchors.anchor.root")?),
        };
        let tx_hash = EvmTxHash(r.array("anchors.tx_hash")?);
        let block_number = r.u64("anchors.block_number")?;
        let mut a = AnchorProof {
            chain_id,
            contract,
            anchor,
            tx_hash,
            block_number,
            path: MerklePath {
                index: 0,
                size: 0,
                siblings: Vec::new(),
            },
        };
        let (index, size) = a.position(height).ok_or_else(|| {
            invalid(
                "anchors.anchor",
                format!(
                    "tick height {height} is not in the range {}..={} (of at most 2^32-1 ticks)",
                    anchor.from, anchor.to
                ),
            )
        })?;
        let len = merkle::path_len(index, size);
        for _ in 0..len {
            a.path
                .siblings
                .push(Hash(r.array("anchors.path.siblings")?));
        }
        (a.path.index, a.path.size) = (index, size);
        anchors.push(a);
    }
    Ok(anchors)
}

fn check_size(size: usize) -> Result<(), ProofFormatError> {
    if size > MAX_PROOF_BYTES {
        return Err(ProofFormatError::TooLarge {
            size,
            max: MAX_PROOF_BYTES,
        });
    }
    Ok(())
}

fn invalid(field: &'static str, reason: String) -> ProofFormatError {
    ProofFormatError::Compact(DecodeError::Invalid { field, reason })
}

fn write_path(w: &mut Writer, path: &MerklePath) {
    w.u32(path.index).u32(path.size);
    for s in &path.siblings {
        w.bytes(&s.0);
    }
}

fn read_path(r: &mut Reader<'_>, field: &'static str) -> Result<MerklePath, ProofFormatError> {
    let index = r.u32(field)?;
    let size = r.u32(field)?;
    if index >= size {
        return Err(invalid(
            field,
            format!("leaf index {index} is outside a tree of {size} leaves"),
        ));
    }
    let len = merkle::path_len(index, size);
    debug_assert!(len <= MAX_PATH_LEN);
    let mut siblings = Vec::with_capacity(len);
    for _ in 0..len {
        siblings.push(Hash(r.array(field)?));
    }
    Ok(MerklePath {
        index,
        size,
        siblings,
    })
}
