//! The tickchain node: configuration, keys, the consensus ring, the chain store and the request
//! pool, wired together by the `timenode` binary.
//!
//! Owns: everything a running node does. Never: defines wire or signing formats (those live in
//! `tickchain-sdk`, once).

pub mod config;
pub mod facade_stats;
pub mod gateway;
pub mod identity_cmd;
pub mod localnet;
pub mod log_limit;
pub mod net;
pub mod node;
pub mod ntp;
pub mod pool;
pub mod priority;
pub mod roughtime;
pub mod sources_cmd;
pub mod status_cmd;
pub mod store;
pub mod tsa;
