//! Ed25519 signing and the one verification rule used everywhere: `verify_strict`.
//!
//! Owns: turning our byte types into dalek keys. Never: chooses what to sign (callers pass the
//! canonical bytes from `encoding`-based builders).

use crate::{PublicKey, Signature};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

/// Signs `msg` with `key`.
pub fn sign(key: &SigningKey, msg: &[u8]) -> Signature {
    Signature(key.sign(msg).to_bytes())
}

/// The public key of a signing key.
pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey(key.verifying_key().to_bytes())
}

/// Verifies with `verify_strict` (rejects small-order keys and non-canonical signatures).
pub fn verify_with(key: &VerifyingKey, msg: &[u8], sig: &Signature) -> bool {
    let sig = ed25519_dalek::Signature::from_bytes(&sig.0);
    key.verify_strict(msg, &sig).is_ok()
}

/// Parses a public key; `None` if it is not a valid point.
pub fn parse_key(key: &PublicKey) -> Option<VerifyingKey> {
    VerifyingKey::from_bytes(&key.0).ok()
}
