//! What the RFC 3161 route needs from a node that signs tokens.
//!
//! Owns: the contract between `POST /v1/tsa` and a node's TSA key. Never: the key, or the
//! token's bytes (the node builds them with `tickchain_sdk::rfc3161`).

use tickchain_sdk::Proof;
use tickchain_sdk::rfc3161::request::{Refusal, TsaRequest};

/// What happened to one time-stamp request, for the node's per-protocol counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsaEvent {
    /// A request arrived (counted once its body is read).
    Request,
    /// A token was granted.
    Granted,
    /// A `rejection` was answered.
    Rejected,
}

/// A node's Time-Stamp Authority: signs a token for a request whose digest `proof` proves.
pub trait TsaSigner: Send + Sync + 'static {
    /// The `TimeStampToken` (CMS `ContentInfo`) for `request`, stating what `proof` proves;
    /// a refusal when the proof does not verify or does not cover the request's digest.
    fn issue(&self, request: &TsaRequest, proof: &Proof) -> Result<Vec<u8>, Refusal>;

    /// Counts `event`.
    fn count(&self, event: TsaEvent) {
        let _ = event;
    }
}
