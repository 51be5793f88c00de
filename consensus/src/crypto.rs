//! Signature checks for the core, with a cache of signatures already found valid.
//!
//! Owns: the one place the core asks "did node i sign these bytes?". A vote arrives once on its
//! own and again inside every certificate that carries it; the cache makes the second check a
//! hash lookup. Never: signs, and never caches a failure (a bad signature is rechecked, which
//! costs an attacker as much as us).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tickchain_sdk::{Genesis, Network, NodeId, Signature};

/// Entries kept before the cache is cleared (bounded memory, 32 bytes each).
const CACHE_LIMIT: usize = 1 << 20;

/// Checks node signatures against a genesis; clones share one cache (co-located cores in the
/// simulator share it so every signature is checked once per run, not once per node).
#[derive(Debug, Clone)]
pub struct Verifier {
    network: Arc<Network>,
    cache: Arc<Mutex<HashSet<[u8; 32]>>>,
}

impl Verifier {
    /// A verifier for `genesis` with an empty cache.
    pub fn new(genesis: Genesis) -> Verifier {
        Verifier {
            network: Arc::new(Network::new(genesis)),
            cache: Arc::default(),
        }
    }

    /// The network (genesis and decoded keys).
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Whether ring member `signer` signed `msg` with `sig` (Ed25519 `verify_strict`); a
    /// gateway id fails: gateways never vote.
    pub fn check(&self, signer: NodeId, msg: &[u8], sig: &Signature) -> bool {
        self.cached(0, signer, msg, sig, |n| {
            n.verify_signature(signer, msg, sig)
        })
    }

    /// Whether batch signer `signer` (a node, or a gateway `n + i` of a version 3 genesis)
    /// signed the batch bytes `msg` with `sig`.
    pub fn check_batch(&self, signer: NodeId, msg: &[u8], sig: &Signature) -> bool {
        self.cached(1, signer, msg, sig, |n| {
            n.verify_batch_signature(signer, msg, sig)
        })
    }

    /// `kind` (0 member, 1 batch signer) is part of the cache key, so a signature found
    /// valid under one lookup never answers the other.
    fn cached(
        &self,
        kind: u8,
        signer: NodeId,
        msg: &[u8],
        sig: &Signature,
        verify: impl FnOnce(&Network) -> bool,
    ) -> bool {
        let mut h = blake3::Hasher::new();
        h.update(&[kind]);
        h.update(&signer.0.to_be_bytes());
        h.update(&sig.0);
        h.update(msg);
        let key = *h.finalize().as_bytes();
        if self.cache.lock().expect("cache lock").contains(&key) {
            return true;
        }
        if !verify(&self.network) {
            return false;
        }
        let mut cache = self.cache.lock().expect("cache lock");
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key);
        true
    }
}
