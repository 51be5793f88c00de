//! tickchain's formats and the offline verifier.
//!
//! Owns: the wire and proof formats, the canonical signing bytes (defined here once, used by
//! every other crate), BLAKE3 Merkle trees, and `verify`, which checks a proof with nothing but
//! the network's genesis. Never: tokio in any feature. With `default-features = false` (how
//! auditors embed it) it has no sockets, clocks or randomness at all; the default features add
//! the `tickchain` CLI and its small blocking HTTP client.
//!
//! ```text
//! digest ─salt─▶ leaf ─batch_path─▶ batch.root ─(signed by node)─▶ batch leaf
//!        ─tick_path─▶ tick.batch_root ─▶ tick hash ◀─ q finalize votes (certificate)
//!        ─▶ genesis hash (pinned keys, f, quorum)
//! ```

pub mod anchor;
pub mod anchor_proof;
pub mod attest;
pub mod batch;
mod bytes;
pub mod certificate;
#[cfg(feature = "client")]
pub mod client;
pub mod devicelog;
pub mod encoding;
mod error;
pub mod evidence;
#[cfg(feature = "client")]
pub mod evm_rpc;
mod genesis;
mod json_doc;
#[cfg(feature = "keys")]
pub mod keys;
pub mod merkle;
pub mod proof;
pub mod rfc3161;
pub mod roughtime;
pub mod signing;
pub mod testkit;
mod tick;
pub mod time_response;
mod units;
pub mod vectors;
pub mod verify;
pub mod votes;

pub use anchor_proof::{AnchorProof, EvmTxHash};
pub use batch::Batch;
pub use bytes::{Digest, Hash, HexError, PublicKey, Salt, Signature, decode_hex};
pub use certificate::{CertVote, CertWindow, FinalityCertificate};
pub use error::VerifyError;
pub use evidence::{Evidence, EvidenceError, Rule, Statement, VerifiedEvidence};
pub use genesis::{
    GENESIS_VERSION, GENESIS_VERSION_GATEWAYS, GENESIS_VERSION_NO_ATTESTATION, Genesis,
    GenesisError, GenesisGateway, GenesisNode, MAX_GATEWAYS,
};
pub use proof::{Proof, ProofFormatError};
pub use tick::Tick;
pub use units::{Height, NANOS_PER_SECOND, Nanos, NodeId, Second, Span, UtcNanos, View};
pub use verify::{CheckedAnchor, Network, VerifiedTimestamp, verify};
