//! A node's secp256k1 attestation key: signs the EIP-712 anchor and rotation digests.
//!
//! Owns: the node's attestation key in memory and on disk (`attest.key`, mode 0600, through
//! `tickchain_sdk::keys`), and producing `r || s || v` signatures in the low-s form the contract
//! accepts (with the sdk's one secp256k1 implementation, which genesis also uses to check the
//! key's binding). Never: computes digests (`tickchain_sdk::anchor` does), sends transactions,
//! or prints the secret.

use std::path::Path;
use tickchain_sdk::anchor::{Eip712Hash, EvmAddress, EvmSignature};
use tickchain_sdk::attest::{AttestationBinding, AttestationSigner};
use tickchain_sdk::keys::{self, KeyError};

/// The attestation key file `timenode keygen` writes next to `node.key` (mode 0600).
pub const ATTEST_KEY_FILE: &str = "attest.key";

/// A secp256k1 key that attests anchors for one node. `Debug` shows only its address.
#[derive(Clone, Debug)]
pub struct AttestationKey {
    key: AttestationSigner,
}

impl AttestationKey {
    /// A fresh key from OS randomness.
    ///
    /// # Panics
    /// If the OS random source fails (see [`AttestationKey::generate`] to handle that).
    pub fn random() -> AttestationKey {
        AttestationKey::generate().expect("OS randomness")
    }

    /// A fresh key from OS randomness.
    pub fn generate() -> Result<AttestationKey, KeyError> {
        keys::generate_attestation().map(|key| AttestationKey { key })
    }

    /// The key with this 32-byte secret scalar, or `None` if it is zero or not below the
    /// curve order.
    pub fn from_secret(secret: &[u8; 32]) -> Option<AttestationKey> {
        AttestationSigner::from_secret(secret)
            .ok()
            .map(|key| AttestationKey { key })
    }

    /// Reads `attest.key` (64 hex characters), refusing files readable by group or others.
    pub fn read(path: &Path) -> Result<AttestationKey, KeyError> {
        keys::read_attestation(path).map(|key| AttestationKey { key })
    }

    /// Writes the key to a new file at `path` with mode 0600 (never overwrites).
    pub fn write(&self, path: &Path) -> Result<(), KeyError> {
        keys::write_attestation(path, &self.key)
    }

    /// The EVM address the contract registers for this key.
    pub fn address(&self) -> EvmAddress {
        self.key.address()
    }

    /// Signs an EIP-712 digest (RFC 6979, deterministic): `r || s || v` with low `s` and
    /// `v` 27 or 28.
    pub fn sign(&self, digest: &Eip712Hash) -> EvmSignature {
        self.key.sign_digest(&digest.0)
    }

    /// The address and signature together, as `pack_signatures` takes them.
    pub fn attest(&self, digest: &Eip712Hash) -> (EvmAddress, EvmSignature) {
        (self.address(), self.sign(digest))
    }

    /// The genesis binding of this key to the node's Ed25519 identity `identity`: each key
    /// signs the other (`specs/encoding.md` §3.5).
    pub fn bind(&self, identity: &ed25519_dalek::SigningKey) -> AttestationBinding {
        AttestationBinding::create(identity, &self.key)
    }
}
