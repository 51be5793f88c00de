//! RFC 3161 time-stamping (with RFC 5652 CMS and RFC 5816 ESS): the codec a node's TSA and the
//! `tickchain` verifier share (`specs/facades.md` § RFC 3161).
//!
//! A token's `genTime` is the UTC second of the final tick that holds the digest, its accuracy
//! comes from the tick's certified window, and the tickchain proof of the same digest travels
//! in a non-critical `TSTInfo` extension, so one file is both an RFC 3161 token (checked by
//! `openssl ts -verify` against the network's TSA root) and an offline tickchain proof
//! (checked by `tickchain verify` against genesis).
//!
//! Owns: DER reading and writing ([`der`]), requests ([`request`]), certificate fields
//! ([`signer`]), issuing ([`token`]) and reading tokens back ([`read`]), and the check that a
//! token agrees with the proof inside it ([`verify_token`]). Never: I/O, clocks, randomness or
//! private keys.

pub mod der;
pub mod read;
pub mod request;
pub mod signer;
pub mod token;

use crate::{Network, Proof, VerifiedTimestamp, VerifyError};

/// `id-sha256` (2.16.840.1.101.3.4.2.1), contents octets.
pub const SHA256_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
/// `ecdsa-with-SHA256` (1.2.840.10045.4.3.2).
pub const ECDSA_SHA256_OID: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
/// `id-signedData` (1.2.840.113549.1.7.2).
pub const ID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// `id-ct-TSTInfo` (1.2.840.113549.1.9.16.1.4).
pub const ID_CT_TSTINFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
/// `id-contentType` (1.2.840.113549.1.9.3).
pub const CONTENT_TYPE_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
/// `id-messageDigest` (1.2.840.113549.1.9.4).
pub const MESSAGE_DIGEST_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
/// `id-aa-signingCertificateV2` (1.2.840.113549.1.9.16.2.47).
pub const SIGNING_CERTIFICATE_V2_OID: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];

/// tickchain's arc: a UUID OID (ITU-T X.667), `2.25.126422331236093151969242485033668484883`.
pub const ARC: &str = "2.25.126422331236093151969242485033668484883";
/// The TSA policy, [`ARC`]`.1`.
pub const POLICY: &str = "2.25.126422331236093151969242485033668484883.1";
/// Contents octets of [`POLICY`].
pub const TICKCHAIN_POLICY_OID: &[u8] = &[
    0x69, 0x81, 0xbe, 0x9c, 0x87, 0x8a, 0xd1, 0xb7, 0xea, 0xb0, 0xfd, 0x9a, 0xb0, 0xcb, 0xa9, 0xb7,
    0xf0, 0xb2, 0xbe, 0x13, 0x01,
];
/// The `TSTInfo` extension carrying the compact tickchain proof, [`ARC`]`.2`.
pub const PROOF_EXTENSION: &str = "2.25.126422331236093151969242485033668484883.2";
/// Contents octets of [`PROOF_EXTENSION`].
pub const PROOF_EXTENSION_OID: &[u8] = &[
    0x69, 0x81, 0xbe, 0x9c, 0x87, 0x8a, 0xd1, 0xb7, 0xea, 0xb0, 0xfd, 0x9a, 0xb0, 0xcb, 0xa9, 0xb7,
    0xf0, 0xb2, 0xbe, 0x13, 0x02,
];

/// Why a token is not an offline tickchain proof of its own statement.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Not a readable reply or token.
    #[error("not an RFC 3161 reply or token: {0}")]
    Format(#[from] der::DerError),
    /// A refusal, not a token.
    #[error("the reply is a refusal (status {status}): {text}")]
    Refused {
        /// `PKIStatus`.
        status: u64,
        /// Its text.
        text: String,
    },
    /// No tickchain proof inside (a token from another TSA).
    #[error("the token carries no tickchain proof (extension {PROOF_EXTENSION})")]
    NoProof,
    /// The proof inside does not decode.
    #[error("the proof inside the token: {0}")]
    ProofFormat(#[from] crate::ProofFormatError),
    /// The proof inside does not verify.
    #[error("the proof inside the token: {0}")]
    Proof(#[from] VerifyError),
    /// The token's imprint is not the proof's digest.
    #[error("the token's imprint {token} is not the proof's digest {proof}")]
    DigestMismatch {
        /// The imprint.
        token: crate::Digest,
        /// The proof's digest.
        proof: crate::Digest,
    },
    /// The token's genTime is not the proof's tick second.
    #[error("the token's genTime {token} is not the proof's tick second {proof}")]
    TimeMismatch {
        /// genTime, POSIX seconds.
        token: u64,
        /// The tick's second.
        proof: u64,
    },
}

/// Reads a reply or token, verifies the tickchain proof inside it against `network`, and checks
/// that the token states what the proof proves: the same digest, and `genTime` equal to the
/// tick's second. The token's CMS signature is not checked here (the proof's quorum is the
/// stronger statement; `openssl ts -verify` checks the CMS layer against the TSA root).
pub fn verify_token(
    network: &Network,
    bytes: &[u8],
) -> Result<(read::TokenInfo, Proof, VerifiedTimestamp), TokenError> {
    let info = match read::read(bytes)? {
        read::Reply::Token(info) => info,
        read::Reply::Refused { status, text } => return Err(TokenError::Refused { status, text }),
    };
    let proof = Proof::from_compact(info.proof.as_deref().ok_or(TokenError::NoProof)?)?;
    let verified = network.verify(&proof)?;
    if verified.digest != info.digest {
        return Err(TokenError::DigestMismatch {
            token: info.digest,
            proof: verified.digest,
        });
    }
    if verified.second.0 != info.gen_time {
        return Err(TokenError::TimeMismatch {
            token: info.gen_time,
            proof: verified.second.0,
        });
    }
    Ok((info, proof, verified))
}

/// The token accuracy for a tick labelled `second` whose certified window is
/// `[earliest, latest]` (nanoseconds): the larger distance from the second's start to either
/// end, rounded up to whole microseconds, so `genTime ± accuracy` covers the whole window.
pub fn accuracy_for(second: u64, earliest_ns: i64, latest_ns: i64) -> token::Accuracy {
    let start = (second as i128) * 1_000_000_000;
    let before = (start - earliest_ns as i128).max(0);
    let after = (latest_ns as i128 - start).max(0);
    let ns = before.max(after) as u128;
    token::Accuracy {
        micros: u64::try_from(ns.div_ceil(1000)).unwrap_or(u64::MAX),
    }
}
