//! Attestation bindings: the cross-signature that ties a node's secp256k1 attestation key (the
//! key that co-signs anchors on EVM chains) to its Ed25519 identity (`specs/encoding.md` §3.5).
//!
//! Owns: the binding message, secp256k1 signing of a 32-byte digest and signer recovery (the
//! same `r || s || v` form and low-`s` rule as `ecrecover` in the contract), and checking that
//! each key of a binding signed the other. Never: stores keys on disk, or decides which keys a
//! contract registers.
//!
//! ```text
//! message = tag "tickchain/attest/v1" | ed25519 public key 32 | evm address 20
//! ed25519_signature = Ed25519(identity key, message)
//! evm_signature     = secp256k1(attestation key, keccak256(message))   recovers to address
//! ```

use crate::anchor::{EvmAddress, EvmSignature, keccak256};
use crate::encoding::{Writer, tag};
use crate::signing;
use crate::{PublicKey, Signature};
use k256::ecdsa::{RecoveryId, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an attestation binding or signature does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestError {
    /// The Ed25519 identity key's signature over the binding message is invalid.
    #[error("ed25519_signature: the identity key {public_key} did not sign address {address}")]
    Ed25519Signature {
        /// The identity key.
        public_key: PublicKey,
        /// The address it should have signed.
        address: EvmAddress,
    },
    /// The secp256k1 signature is malformed (`v` not 27/28, high `s`, or not a curve point).
    #[error("evm_signature: {reason}")]
    Malformed {
        /// What was wrong.
        reason: String,
    },
    /// The secp256k1 signature recovers to another address than the binding states.
    #[error("evm_signature: expected signer {expected}, recovered {found}")]
    WrongSigner {
        /// The binding's address.
        expected: EvmAddress,
        /// The address the signature recovers to.
        found: EvmAddress,
    },
    /// A secret scalar is zero or not below the curve order.
    #[error("secp256k1 secret key out of range")]
    SecretOutOfRange,
}

/// The bytes both keys of a binding sign (§3.5): the tag, the Ed25519 key, the EVM address.
pub fn binding_message(public_key: &PublicKey, address: &EvmAddress) -> Vec<u8> {
    let mut w = Writer::with_tag(tag::ATTEST);
    w.bytes(&public_key.0).bytes(&address.0);
    w.finish()
}

/// A secp256k1 attestation signer (secret in memory only; `Debug` shows the address only).
#[derive(Clone)]
pub struct AttestationSigner {
    key: SigningKey,
}

impl AttestationSigner {
    /// The signer with this 32-byte big-endian secret scalar.
    pub fn from_secret(secret: &[u8; 32]) -> Result<AttestationSigner, AttestError> {
        SigningKey::from_slice(secret)
            .map(|key| AttestationSigner { key })
            .map_err(|_| AttestError::SecretOutOfRange)
    }

    /// The 32-byte secret scalar, for writing to a mode-0600 key file. Never log it.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The EVM address of this key.
    pub fn address(&self) -> EvmAddress {
        address_of(self.key.verifying_key())
    }

    /// Signs a 32-byte digest: RFC 6979 nonce, low `s`, `v` = 27 + recovery id (§6.5).
    pub fn sign_digest(&self, digest: &[u8; 32]) -> EvmSignature {
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(digest)
            .expect("signing a 32-byte prehash with a valid key cannot fail");
        let mut out = [0u8; 65];
        out[..64].copy_from_slice(&sig.to_bytes());
        out[64] = 27 + recid.to_byte();
        EvmSignature(out)
    }
}

impl fmt::Debug for AttestationSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttestationSigner({})", self.address())
    }
}

fn address_of(key: &VerifyingKey) -> EvmAddress {
    let point = key.to_encoded_point(false);
    let xy: &[u8; 64] = point.as_bytes()[1..]
        .try_into()
        .expect("an uncompressed point is 65 bytes");
    EvmAddress::from_public_key(xy)
}

/// The address that signed `digest`, as the contract's `ecrecover` (with its low-`s` rule)
/// would see it.
pub fn recover_signer(digest: &[u8; 32], sig: &EvmSignature) -> Result<EvmAddress, AttestError> {
    let malformed = |reason: &str| AttestError::Malformed {
        reason: reason.to_string(),
    };
    let v = sig.0[64];
    if v != 27 && v != 28 {
        return Err(malformed(&format!("expected v 27 or 28, found {v}")));
    }
    if !sig.is_low_s() {
        return Err(malformed("expected s <= secp256k1n/2, found a high s"));
    }
    let parsed = k256::ecdsa::Signature::from_slice(&sig.0[..64])
        .map_err(|_| malformed("r or s is zero or not below the curve order"))?;
    let recid = RecoveryId::from_byte(v - 27).expect("0 or 1 is a recovery id");
    let key = VerifyingKey::recover_from_prehash(digest, &parsed, recid)
        .map_err(|_| malformed("no public key recovers from this signature"))?;
    Ok(address_of(&key))
}

/// A node's attestation address with the cross-signature proving that one operator holds both
/// its Ed25519 identity key and the secp256k1 key behind `address` (genesis `attestation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationBinding {
    /// The EVM address of the node's secp256k1 attestation key (registered in `TickOracle`).
    pub address: EvmAddress,
    /// The identity key's Ed25519 signature over [`binding_message`].
    pub ed25519_signature: Signature,
    /// The attestation key's signature over `keccak256(binding_message)`, `r || s || v`.
    pub evm_signature: EvmSignature,
}

impl AttestationBinding {
    /// Binds `attestation` to the identity `identity` by having each key sign the other.
    pub fn create(
        identity: &ed25519_dalek::SigningKey,
        attestation: &AttestationSigner,
    ) -> AttestationBinding {
        let public_key = signing::public_key(identity);
        let address = attestation.address();
        let message = binding_message(&public_key, &address);
        AttestationBinding {
            address,
            ed25519_signature: signing::sign(identity, &message),
            evm_signature: attestation.sign_digest(&keccak256(&message)),
        }
    }

    /// Checks both signatures for the identity key `public_key`.
    pub fn verify(&self, public_key: &PublicKey) -> Result<(), AttestError> {
        let message = binding_message(public_key, &self.address);
        let ed_ok = signing::parse_key(public_key)
            .is_some_and(|k| signing::verify_with(&k, &message, &self.ed25519_signature));
        if !ed_ok {
            return Err(AttestError::Ed25519Signature {
                public_key: *public_key,
                address: self.address,
            });
        }
        let found = recover_signer(&keccak256(&message), &self.evm_signature)?;
        if found != self.address {
            return Err(AttestError::WrongSigner {
                expected: self.address,
                found,
            });
        }
        Ok(())
    }

    /// The canonical bytes of the binding inside the genesis encoding (§3.1):
    /// `address 20 | ed25519_signature 64 | evm_signature 65`.
    pub fn canonical_bytes(&self) -> [u8; 149] {
        let mut out = [0u8; 149];
        out[..20].copy_from_slice(&self.address.0);
        out[20..84].copy_from_slice(&self.ed25519_signature.0);
        out[84..].copy_from_slice(&self.evm_signature.0);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(i: u8) -> (ed25519_dalek::SigningKey, AttestationSigner) {
        (
            ed25519_dalek::SigningKey::from_bytes(&[i; 32]),
            AttestationSigner::from_secret(&keccak256(&[i])).unwrap(),
        )
    }

    #[test]
    fn a_binding_verifies_for_its_identity_and_no_other() {
        let (id, at) = pair(1);
        let b = AttestationBinding::create(&id, &at);
        assert_eq!(b.address, at.address());
        b.verify(&signing::public_key(&id)).unwrap();
        let other = signing::public_key(&pair(2).0);
        assert!(matches!(
            b.verify(&other),
            Err(AttestError::Ed25519Signature { .. })
        ));
    }

    #[test]
    fn a_binding_to_someone_elses_address_is_rejected() {
        let (id, at) = pair(1);
        let (_, theirs) = pair(2);
        // The identity key signs a foreign address, but the foreign key never signed ours.
        let mut b = AttestationBinding::create(&id, &at);
        b.address = theirs.address();
        let message = binding_message(&signing::public_key(&id), &b.address);
        b.ed25519_signature = signing::sign(&id, &message);
        let err = b.verify(&signing::public_key(&id)).unwrap_err();
        assert!(matches!(err, AttestError::WrongSigner { .. }), "{err}");
    }

    #[test]
    fn signatures_are_low_s_and_recover_their_signer() {
        for i in 0..32u8 {
            let (_, at) = pair(i);
            let digest = keccak256(&[i, 7]);
            let sig = at.sign_digest(&digest);
            assert!(sig.is_low_s());
            assert_eq!(recover_signer(&digest, &sig).unwrap(), at.address());
        }
    }

    #[test]
    fn the_malleated_twin_is_refused() {
        let (_, at) = pair(3);
        let digest = keccak256(b"x");
        let sig = at.sign_digest(&digest);
        let s = k256::ecdsa::Signature::from_slice(&sig.0[..64]).unwrap();
        let (r, s) = s.split_scalars();
        let high = k256::ecdsa::Signature::from_scalars(r, -*s).unwrap();
        let mut twin = [0u8; 65];
        twin[..64].copy_from_slice(&high.to_bytes());
        twin[64] = 55 - sig.0[64]; // 27 <-> 28
        let err = recover_signer(&digest, &EvmSignature(twin)).unwrap_err();
        assert!(err.to_string().contains("high s"), "{err}");
    }
}
