//! One chain's anchoring settings, as a node config section will hold them.
//!
//! Owns: the per-chain keys, their units and defaults, and their validation. Never: reads files
//! (the node's config loader embeds this struct) or holds keys.

use super::deliver::SendPolicy;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tickchain_sdk::anchor::EvmAddress;

/// Anchoring to one EVM chain (`[[anchor.chains]]` in `node.toml`, kebab-case keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ChainConfig {
    /// A label for logs and metrics, e.g. `ethereum`, `polygon`.
    pub name: String,
    /// The chain's HTTP JSON-RPC endpoint.
    pub rpc_url: String,
    /// The `TickOracle` deployment.
    pub contract: EvmAddress,
    /// Ticks per anchor (K): one anchor every `cadence` seconds of chain time.
    pub cadence: u64,
    /// Blocks, counting the transaction's own, before an anchor counts as done. Default 2.
    #[serde(default = "defaults::confirmations")]
    pub confirmations: u64,
    /// Milliseconds each backup waits after the node before it in the turn order, while the
    /// chain still shows nothing for the range. Default 60,000.
    #[serde(default = "defaults::backup_delay_ms")]
    pub backup_delay_ms: u64,
    /// Milliseconds between polls of the chain and the tick source. Default 1,000.
    #[serde(default = "defaults::poll_interval_ms")]
    pub poll_interval_ms: u64,
    /// Milliseconds a sent transaction may stay unmined before it is replaced with higher
    /// fees. Default 60,000.
    #[serde(default = "defaults::tx_timeout_ms")]
    pub tx_timeout_ms: u64,
    /// Percent each replacement raises both EIP-1559 fee caps (at least 10, what nodes
    /// require to accept a replacement). Default 25.
    #[serde(default = "defaults::fee_bump_percent")]
    pub fee_bump_percent: u64,
    /// The highest `maxFeePerGas` ever offered, in gwei; absent means no cap.
    #[serde(default)]
    pub max_fee_per_gas_gwei: Option<u64>,
    /// Milliseconds one poll (a few RPC calls) may take before it is abandoned. Default 10,000.
    #[serde(default = "defaults::rpc_timeout_ms")]
    pub rpc_timeout_ms: u64,
    /// The block from which `Anchored` events are read (the contract's deployment block is
    /// enough). Default 0.
    #[serde(default)]
    pub start_block: u64,
    /// Most blocks per `eth_getLogs` request (public endpoints limit the span). Default 2,000.
    #[serde(default = "defaults::log_chunk_blocks")]
    pub log_chunk_blocks: u64,
}

mod defaults {
    pub fn confirmations() -> u64 {
        2
    }
    pub fn backup_delay_ms() -> u64 {
        60_000
    }
    pub fn poll_interval_ms() -> u64 {
        1_000
    }
    pub fn tx_timeout_ms() -> u64 {
        60_000
    }
    pub fn fee_bump_percent() -> u64 {
        25
    }
    pub fn rpc_timeout_ms() -> u64 {
        10_000
    }
    pub fn log_chunk_blocks() -> u64 {
        2_000
    }
}

/// A chain setting outside its allowed range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("anchor chain {chain:?}: {field}: {reason}")]
pub struct ChainConfigError {
    /// The chain's name.
    pub chain: String,
    /// The key.
    pub field: &'static str,
    /// Expected and found.
    pub reason: String,
}

impl ChainConfig {
    /// Settings for `name` at `rpc_url` and `contract` anchoring every `cadence` ticks, with
    /// every other key at its default.
    pub fn new(
        name: impl Into<String>,
        rpc_url: impl Into<String>,
        contract: EvmAddress,
        cadence: u64,
    ) -> ChainConfig {
        ChainConfig {
            name: name.into(),
            rpc_url: rpc_url.into(),
            contract,
            cadence,
            confirmations: defaults::confirmations(),
            backup_delay_ms: defaults::backup_delay_ms(),
            poll_interval_ms: defaults::poll_interval_ms(),
            tx_timeout_ms: defaults::tx_timeout_ms(),
            fee_bump_percent: defaults::fee_bump_percent(),
            max_fee_per_gas_gwei: None,
            rpc_timeout_ms: defaults::rpc_timeout_ms(),
            start_block: 0,
            log_chunk_blocks: defaults::log_chunk_blocks(),
        }
    }

    /// Checks every range rule.
    pub fn validate(&self) -> Result<(), ChainConfigError> {
        let bad = |field, reason: String| {
            Err(ChainConfigError {
                chain: self.name.clone(),
                field,
                reason,
            })
        };
        if self.cadence == 0 {
            return bad("cadence", "expected at least 1 tick, found 0".into());
        }
        if self.confirmations == 0 {
            return bad("confirmations", "expected at least 1, found 0".into());
        }
        if self.fee_bump_percent < 10 {
            return bad(
                "fee-bump-percent",
                format!("expected at least 10, found {}", self.fee_bump_percent),
            );
        }
        if self.poll_interval_ms == 0 || self.rpc_timeout_ms == 0 || self.tx_timeout_ms == 0 {
            return bad(
                "poll-interval-ms / rpc-timeout-ms / tx-timeout-ms",
                "expected more than 0".into(),
            );
        }
        if self.log_chunk_blocks == 0 {
            return bad("log-chunk-blocks", "expected at least 1, found 0".into());
        }
        if !(self.rpc_url.starts_with("http://") || self.rpc_url.starts_with("https://")) {
            return bad(
                "rpc-url",
                format!("expected an http(s) URL, found {:?}", self.rpc_url),
            );
        }
        Ok(())
    }

    /// The transaction policy these settings describe.
    pub fn send_policy(&self) -> SendPolicy {
        SendPolicy {
            confirmations: self.confirmations,
            tx_timeout: Duration::from_millis(self.tx_timeout_ms),
            fee_bump_percent: self.fee_bump_percent,
            max_fee_per_gas: self
                .max_fee_per_gas_gwei
                .map(|g| u128::from(g) * 1_000_000_000),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_toml_section_takes_the_defaults() {
        let c: ChainConfig = toml::from_str(
            r#"
            name = "polygon"
            rpc-url = "http://127.0.0.1:8545"
            contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            cadence = 60
            "#,
        )
        .unwrap();
        c.validate().unwrap();
        assert_eq!(
            c,
            ChainConfig::new("polygon", "http://127.0.0.1:8545", c.contract, 60)
        );
    }

    #[test]
    fn out_of_range_settings_name_the_key() {
        let mut c = ChainConfig::new("eth", "http://x", EvmAddress([1; 20]), 0);
        assert_eq!(c.validate().unwrap_err().field, "cadence");
        c.cadence = 10;
        c.fee_bump_percent = 5;
        let e = c.validate().unwrap_err();
        assert_eq!(e.field, "fee-bump-percent");
        assert!(
            e.to_string().contains("expected at least 10, found 5"),
            "{e}"
        );
    }
}
