//! Offline verification of proofs and certificates against a genesis (`specs/proof.md` §4).
//!
//! Owns: the ordered list of checks and the verified result, and the far-future check a caller
//! with a clock adds (§5). Never: I/O, reading a clock, or any trust in the proof beyond what the
//! genesis keys sign.

use crate::anchor::{Anchor, EvmAddress};
use crate::anchor_proof::EvmTxHash;
use crate::certificate::{CertWindow, FinalityCertificate};
use crate::error::VerifyError;
use crate::proof::{PROOF_VERSION, Proof};
use crate::signing::{parse_key, verify_with};
use crate::votes::{VoteKind, vote_signing_bytes};
use crate::{Batch, Digest, Genesis, Hash, Height, NodeId, Second, Tick, UtcNanos, merkle};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;

/// What a valid proof establishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedTimestamp {
    /// The document digest.
    pub digest: Digest,
    /// The UTC second of the tick that committed to it.
    pub second: Second,
    /// The certificate was completed no earlier than this instant (certificate window).
    pub earliest: UtcNanos,
    /// The digest existed no later than this instant (certificate window).
    pub latest: UtcNanos,
    /// The tick's height.
    pub height: Height,
    /// Height of the tick the certificate signs (equals `height` unless the tick was finalized
    /// through a descendant).
    pub certified_height: Height,
    /// The certified tick's hash.
    pub tick_hash: Hash,
    /// The batch signer that accepted the digest: a node (below `n`) or a gateway (`n + i`).
    pub batch_node: NodeId,
    /// The gateway's genesis name when a gateway signed the batch (genesis version 3); omitted
    /// from JSON when a node did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_gateway: Option<String>,
    /// The certificate's signers, ascending.
    pub signers: Vec<NodeId>,
    /// The anchors whose paths were checked offline (§4.14), in proof order: the tick's hash
    /// is a leaf of each anchored tree. That each root is on its chain is not checked offline
    /// (`tickchain verify --rpc`). Omitted from JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anchors: Vec<CheckedAnchor>,
}

/// An anchor whose path from the tick's hash to its root checked out offline; the chain
/// side (`rootAt(anchor.to) == anchor.root` on `contract`) is still a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckedAnchor {
    /// The EVM chain id.
    pub chain_id: u64,
    /// The `TickOracle` contract.
    pub contract: EvmAddress,
    /// The anchored range, second and root.
    pub anchor: Anchor,
    /// The anchoring transaction, as the proof states it.
    pub tx_hash: EvmTxHash,
    /// Its block, as the proof states it.
    pub block_number: u64,
}

/// A genesis with its keys decoded once, ready to verify many proofs.
#[derive(Debug, Clone)]
pub struct Network {
    genesis: Genesis,
    keys: Vec<Option<VerifyingKey>>,
    /// The gateways' keys, in genesis order: batch signers `n..n + gateways`.
    gateway_keys: Vec<Option<VerifyingKey>>,
}

impl Network {
    /// Prepares to verify against `genesis` (assumed validated, as `Genesis::from_json` does;
    /// a key that does not decode simply makes its signatures fail).
    pub fn new(genesis: Genesis) -> Network {
        let keys = genesis
            .nodes
            .iter()
            .map(|n| parse_key(&n.public_key))
            .collect();
        let gateway_keys = genesis
            .gateways
            .iter()
            .map(|g| parse_key(&g.public_key))
            .collect();
        Network {
            genesis,
            keys,
            gateway_keys,
        }
    }

    /// The genesis this network verifies against.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// Checks a ring member's signature over `msg` (votes, certificates): gateways are never
    /// members, so a gateway id fails here.
    pub fn verify_signature(&self, node: NodeId, msg: &[u8], sig: &crate::Signature) -> bool {
        match self.keys.get(node.index()) {
            Some(Some(key)) => verify_with(key, msg, sig),
            _ => false,
        }
    }

    /// Checks a batch signer's signature over `msg`: a node's key below `n`, gateway `i`'s key
    /// for `n + i` (genesis version 3). Only batches may be signed by a gateway.
    pub fn verify_batch_signature(
        &self,
        signer: NodeId,
        msg: &[u8],
        sig: &crate::Signature,
    ) -> bool {
        let key = match signer.index().checked_sub(self.keys.len()) {
            None => self.keys.get(signer.index()),
            Some(i) => self.gateway_keys.get(i),
        };
        match key {
            Some(Some(key)) => verify_with(key, msg, sig),
            _ => false,
        }
    }

    /// Checks a batch's signer and signature (§4.5).
    pub fn verify_batch(&self, batch: &Batch) -> Result<(), VerifyError> {
        if batch.node.index() >= self.genesis.batch_signers() {
            return Err(VerifyError::UnknownBatchNode {
                node: batch.node,
                n: self.genesis.batch_signers(),
            });
        }
        let msg = batch.signing_bytes(&self.genesis.hash);
        if !self.verify_batch_signature(batch.node, &msg, &batch.signature) {
            return Err(VerifyError::BadBatchSignature { node: batch.node });
        }
        Ok(())
    }

    /// Checks that `cert` finalizes `tick` (§4.9–4.12) and returns its window.
    pub fn verify_certificate(
        &self,
        tick: &Tick,
        cert: &FinalityCertificate,
    ) -> Result<CertWindow, VerifyError> {
        let g = &self.genesis;
        let computed = tick.hash(&g.hash);
        if computed != cert.tick_hash {
            return Err(VerifyError::WrongTickHash {
                computed,
                stated: cert.tick_hash,
            });
        }
        if cert.view != tick.view {
            return Err(VerifyError::ViewMismatch {
                cert_view: cert.view.0,
                tick_view: tick.view.0,
            });
        }
        let n = g.n();
        let mut seen = vec![false; n];
        for vote in &cert.votes {
            let i = vote.signer.index();
            if i >= n {
                return Err(VerifyError::UnknownSigner {
                    signer: vote.signer,
                    n,
                });
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(VerifyError::DuplicateSigner {
                    signer: vote.signer,
                });
            }
        }
        if cert.votes.len() < g.quorum as usize {
            return Err(VerifyError::TooFewSignatures {
                found: cert.votes.len(),
                quorum: g.quorum as usize,
            });
        }
        for vote in &cert.votes {
            let msg = vote_signing_bytes(
                VoteKind::Finalize,
                &g.hash,
                cert.view,
                &cert.tick_hash,
                &vote.reading,
            );
            if !self.verify_signature(vote.signer, &msg, &vote.signature) {
                return Err(VerifyError::BadSignature {
                    signer: vote.signer,
                });
            }
        }
        let window = cert
            .window(g.f as usize)
            .expect("quorum >= f + 1 votes, checked above");
        let start = i128::from(self.check_second(tick)?.0);
        let early = g.max_early_ms as i128 * 1_000_000;
        let late = g.max_late_ms as i128 * 1_000_000;
        if (window.earliest.0 as i128) < start - early || (window.latest.0 as i128) > start + late {
            return Err(VerifyError::TickOutsideWindow {
                second: tick.second.0,
                earliest_ns: window.earliest.0,
                latest_ns: window.latest.0,
                max_early_ms: g.max_early_ms,
                max_late_ms: g.max_late_ms,
            });
        }
        Ok(window)
    }

    /// Checks that `tick`'s second is one a tick can carry (§4.6, §4.8, §4.12): after the genesis
    /// second and at most [`Second::MAX`], and returns its start. Checked, never wrapped: a
    /// second `real + 2^55` would otherwise start exactly when `real` does (issue 13).
    pub fn check_second(&self, tick: &Tick) -> Result<UtcNanos, VerifyError> {
        let genesis_second = self.genesis.genesis_second;
        tick.second
            .checked_start()
            .filter(|_| tick.second > genesis_second)
            .ok_or(VerifyError::InvalidSecond {
                height: tick.height.0,
                second: tick.second.0,
                genesis_second: genesis_second.0,
                max_second: Second::MAX.0,
            })
    }

    /// Runs every check of `specs/proof.md` §4, in order, and returns what the proof shows.
    pub fn verify(&self, proof: &Proof) -> Result<VerifiedTimestamp, VerifyError> {
        let g = &self.genesis;
        // §4.1 version, §4.2 network.
        if proof.version != PROOF_VERSION {
            return Err(VerifyError::UnsupportedVersion {
                found: proof.version,
            });
        }
        if proof.genesis_hash != g.hash {
            return Err(VerifyError::WrongGenesis {
                expected: g.hash,
                found: proof.genesis_hash,
            });
        }
        // §4.3–4.4 digest → batch root.
        let batch = &proof.batch;
        if proof.batch_path.size != batch.count {
            return Err(VerifyError::BatchCountMismatch {
                path_size: proof.batch_path.size,
                batch_count: batch.count,
            });
        }
        let computed = proof
            .batch_path
            .root_from(merkle::digest_leaf(&proof.salt, &proof.digest))
            .map_err(|source| VerifyError::MalformedPath {
                which: "batch_path",
                source,
            })?;
        if computed != batch.root {
            return Err(VerifyError::BatchInclusion {
                computed,
                stated: batch.root,
            });
        }
        // §4.5 batch signature, §4.6 the tick's second, and batch before tick.
        self.verify_batch(batch)?;
        let tick = &proof.tick;
        self.check_second(tick)?;
        if batch.second > tick.second {
            return Err(VerifyError::BatchAfterTick {
                batch_second: batch.second.0,
                tick_second: tick.second.0,
            });
        }
        // §4.7 batch → tick.
        if proof.tick_path.size != tick.batch_count {
            return Err(VerifyError::TickBatchCountMismatch {
                path_size: proof.tick_path.size,
                batch_count: tick.batch_count,
            });
        }
        let computed = proof
            .tick_path
            .root_from(batch.leaf_hash(&g.hash))
            .map_err(|source| VerifyError::MalformedPath {
                which: "tick_path",
                source,
            })?;
        if computed != tick.batch_root {
            return Err(VerifyError::TickInclusion {
                computed,
                stated: tick.batch_root,
            });
        }
        // §4.8 tick → descendants (if any) → the certified tick.
        let mut certified = tick;
        for next in &proof.descendants {
            let link = certified.hash(&g.hash);
            if next.prev_hash != link
                || next.height.0 != certified.height.0.wrapping_add(1)
                || next.second <= certified.second
            {
                return Err(VerifyError::BrokenChain {
                    height: next.height.0,
                });
            }
            self.check_second(next)?;
            certified = next;
        }
        // §4.9–4.12 certified tick → certificate → window.
        let window = self.verify_certificate(certified, &proof.certificate)?;
        let mut signers: Vec<NodeId> = proof.certificate.votes.iter().map(|v| v.signer).collect();
        signers.sort_unstable();
        // §4.14 the tick's hash → each anchored root.
        let tick_hash = tick.hash(&g.hash);
        let mut anchors = Vec::with_capacity(proof.anchors.len());
        for (index, a) in proof.anchors.iter().enumerate() {
            a.check(tick.height, &tick_hash)
                .map_err(|source| VerifyError::AnchorPath {
                    index,
                    chain_id: a.chain_id,
                    source,
                })?;
            anchors.push(CheckedAnchor {
                chain_id: a.chain_id,
                contract: a.contract,
                anchor: a.anchor,
                tx_hash: a.tx_hash,
                block_number: a.block_number,
            });
        }
        Ok(VerifiedTimestamp {
            digest: proof.digest,
            second: tick.second,
            earliest: window.earliest,
            latest: window.latest,
            height: tick.height,
            certified_height: certified.height,
            tick_hash: proof.certificate.tick_hash,
            batch_node: batch.node,
            batch_gateway: g.gateway(batch.node).map(|gw| gw.name.clone()),
            signers,
            anchors,
        })
    }
}

/// How far ahead of the local clock `tickchain verify` accepts a proof's certified tick
/// (`specs/proof.md` §5): one day, in seconds. No honest ring labels a tick more than its
/// tolerances ahead of true UTC; the margin leaves room for a badly set local clock.
pub const FUTURE_MARGIN_S: u64 = 86_400;

/// The clock check the offline verifier cannot make (`specs/proof.md` §5): fails with
/// `future_second` when the certified tick's second (the last descendant's, or the tick's own)
/// is more than `margin_s` seconds after the second `now` falls in. `now` is the caller's
/// clock; run it after [`Network::verify`] accepted the proof.
pub fn check_not_future(proof: &Proof, now: UtcNanos, margin_s: u64) -> Result<(), VerifyError> {
    let second = proof.descendants.last().unwrap_or(&proof.tick).second;
    let now_second = now.posix_second();
    let ahead = i128::from(second.0) - i128::from(now_second);
    if ahead > i128::from(margin_s) {
        return Err(VerifyError::FutureSecond {
            second: second.0,
            now_second,
            ahead_s: u64::try_from(ahead).unwrap_or(u64::MAX),
            margin_s,
        });
    }
    Ok(())
}

/// Verifies `proof` against `genesis` (convenience for one proof; use [`Network`] for many).
pub fn verify(proof: &Proof, genesis: &Genesis) -> Result<VerifiedTimestamp, VerifyError> {
    Network::new(genesis.clone()).verify(proof)
}
