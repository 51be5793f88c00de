//! `tickchain-anchor`: anchoring ticks to EVM chains: the `TickOracle` contract's Rust client, the nodes'
//! secp256k1 attestation keys, the relayer that anchors every K ticks, and (feature `devnet`) a
//! local anvil chain for tests and the testnet.
//!
//! Owns: calls to a `TickOracle` deployment (deploy, `anchor`, `rotate`, views), signing
//! EIP-712 digests with attestation keys, and relaying anchors (schedule, turns, transactions,
//! confirmed-anchor records), and the one rule for which anchors a node co-signs ([`cosign`]). Never: defines what is signed (the digests, the anchored root and
//! the packed signature format live in `tickchain_sdk::anchor`, once), stores ticks, or gathers
//! other nodes' signatures (the node implements [`TickSource`] and [`Attestor`]).

#[cfg(feature = "devnet")]
pub mod anvil;
pub mod bindings;
pub mod client;
pub mod config;
pub mod cosign;
pub mod deliver;
#[cfg(feature = "devnet")]
pub mod devnet;
pub mod error;
pub mod record;
pub mod relayer;
pub mod schedule;
pub mod signer;
pub mod source;

#[cfg(feature = "devnet")]
pub use anvil::{Anvil, AnvilError, AnvilOptions};
pub use client::{OracleClient, TxOutcome, connect};
pub use config::ChainConfig;
pub use cosign::{ChainHeads, CosignRule, Head, Refusal};
pub use error::OracleError;
pub use record::{AnchorPath, AnchorRecord};
pub use relayer::{RelayError, RelayEvent, Relayer};
pub use schedule::{Range, Schedule};
pub use signer::{ATTEST_KEY_FILE, AttestationKey};
pub use source::{Attestor, BoxError, FinalTick, LocalAttestor, TickSource};
