//! Typed bindings to `TickOracle`, generated from the committed artifact
//! (`contracts/artifacts/TickOracle.json`: ABI and creation bytecode, built by
//! `scripts/compile-contracts`).
//!
//! Owns: the generated Rust types for the contract's functions, events and custom errors.
//! Never: hand-written ABI encoding.

#![allow(missing_docs)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    TickOracle,
    "../contracts/artifacts/TickOracle.json"
);
