//! A node's secp256k1 attestation key: signs the EIP-712 anchor and rotation digests.
//!
//! Owns: the private key and producing `r || s || v` signatures in the low-s form the contract
//! accepts. Never: computes digests (`tickchain_sdk::anchor` does) or sends transactions.

use alloy::primitives::B256;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use tickchain_sdk::anchor::{Eip712Hash, EvmAddress, EvmSignature};

/// A secp256k1 key that attests anchors for one node.
#[derive(Clone, Debug)]
pub struct AttestationKey {
    key: PrivateKeySigner,
}

impl AttestationKey {
    /// A fresh key from the OS random number generator.
    pub fn random() -> AttestationKey {
        AttestationKey {
            key: PrivateKeySigner::random(),
        }
    }

    /// The key with this 32-byte secret scalar, or `None` if it is zero or not below the
    /// curve order.
    pub fn from_secret(secret: &[u8; 32]) -> Option<AttestationKey> {
        PrivateKeySigner::from_bytes(&B256::from(*secret))
            .ok()
            .map(|key| AttestationKey { key })
    }

    /// The EVM address the contract registers for this key.
    pub fn address(&self) -> EvmAddress {
        EvmAddress(self.key.address().into_array())
    }

    /// Signs an EIP-712 digest (RFC 6979, deterministic): `r || s || v` with low `s` and
    /// `v` 27 or 28.
    pub fn sign(&self, digest: &Eip712Hash) -> EvmSignature {
        let sig = self
            .key
            .sign_hash_sync(&B256::from(digest.0))
            .expect("signing a 32-byte prehash with a valid key cannot fail");
        let mut out = [0u8; 65];
        out[..32].copy_from_slice(&sig.r().to_be_bytes::<32>());
        out[32..64].copy_from_slice(&sig.s().to_be_bytes::<32>());
        out[64] = 27 + u8::from(sig.v());
        EvmSignature(out)
    }

    /// The address and signature together, as `pack_signatures` takes them.
    pub fn attest(&self, digest: &Eip712Hash) -> (EvmAddress, EvmSignature) {
        (self.address(), self.sign(digest))
    }
}
