//! Anchoring ticks to EVM chains: the `TickOracle` contract's Rust client, the nodes'
//! secp256k1 attestation keys, and a local anvil chain for tests and the testnet.
//!
//! Owns: calls to a `TickOracle` deployment (deploy, `anchor`, `rotate`, views) and signing
//! EIP-712 digests with attestation keys. Never: defines what is signed (the digests, the
//! anchored root and the packed signature format live in `tickchain_sdk::anchor`, once), nor
//! decides when to anchor.

pub mod anvil;
pub mod bindings;
pub mod client;
pub mod error;
pub mod signer;

pub use anvil::{Anvil, AnvilError};
pub use client::{OracleClient, TxOutcome, connect};
pub use error::OracleError;
pub use signer::AttestationKey;
