//! What the relayer needs from the node: final ticks, and attestation signatures over anchors.
//!
//! Owns: the two traits the node implements for the relayer ([`TickSource`], [`Attestor`]) and
//! a local-key attestor for tests and single-operator networks. Never: decides when to anchor
//! or talks to a chain.

use super::signer::AttestationKey;
use async_trait::async_trait;
use tickchain_sdk::anchor::{Anchor, AnchorDomain, EvmAddress, EvmSignature};
use tickchain_sdk::{Hash, Height, Second};

/// An error from the node's side of a trait (store, network); the relayer logs it and retries.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One final tick, as much of it as an anchor needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalTick {
    /// Its height.
    pub height: Height,
    /// The UTC second it stands for.
    pub second: Second,
    /// Its tick hash (`specs/encoding.md` §3.2).
    pub hash: Hash,
}

/// The node's chain of final ticks.
#[async_trait]
pub trait TickSource: Send + Sync {
    /// The height of the newest final tick (`Height(0)` before the first).
    async fn final_height(&self) -> Result<Height, BoxError>;

    /// The final ticks `from..=to`, in height order, every height present. Called only with
    /// `to <= final_height()`.
    async fn final_ticks(&self, from: Height, to: Height) -> Result<Vec<FinalTick>, BoxError>;
}

/// Collects the ring's attestation signatures over an anchor.
#[async_trait]
pub trait Attestor: Send + Sync {
    /// Signatures over `anchor.digest(domain)` gathered so far, each with its signer's
    /// address. May return fewer than the contract's threshold (the relayer asks again on its
    /// next poll); the order does not matter, the relayer sorts them.
    async fn attest(
        &self,
        domain: &AnchorDomain,
        anchor: &Anchor,
    ) -> Result<Vec<(EvmAddress, EvmSignature)>, BoxError>;
}

/// An attestor holding the attestation keys itself (a test ring, or one operator running every
/// node of a devnet).
#[derive(Debug, Clone)]
pub struct LocalAttestor {
    keys: Vec<AttestationKey>,
}

impl LocalAttestor {
    /// Signs with every key in `keys`.
    pub fn new(keys: Vec<AttestationKey>) -> LocalAttestor {
        LocalAttestor { keys }
    }
}

#[async_trait]
impl Attestor for LocalAttestor {
    async fn attest(
        &self,
        domain: &AnchorDomain,
        anchor: &Anchor,
    ) -> Result<Vec<(EvmAddress, EvmSignature)>, BoxError> {
        let digest = anchor.digest(domain);
        Ok(self.keys.iter().map(|k| k.attest(&digest)).collect())
    }
}
