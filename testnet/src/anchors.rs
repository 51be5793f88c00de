//! `testnet --anchor`: two local EVM chains (anvil, chain ids 31337 as Ethereum and 137 as
//! Polygon) with `TickOracle` deployed for the network's attestation keys, and every node's
//! `[anchor]` section pointing at them.
//!
//! Owns: starting the chains for one launcher run (they are ephemeral: a restart deploys anew
//! and rewrites each node's `[anchor]` section). Never: anything on a real chain.

use anyhow::Context;
use std::path::Path;
use tickchain_anchor::anvil::{ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::devnet::{self, DevChain};
use tickchain_sdk::Genesis;
use tickchain_timenode::localnet;

/// Ticks per anchor on the local Ethereum and Polygon.
pub const CADENCES: (u64, u64) = (10, 5);

/// Starts both chains, funds a gas account per node (written once as `node-i/gas.key`), and
/// rewrites each node's `[anchor]` section. The chains stop when the returned value is dropped.
pub fn start(dir: &Path, genesis: &Genesis) -> anyhow::Result<Vec<DevChain>> {
    let mut gas = Vec::new();
    for i in 0..genesis.n() {
        let node = localnet::node_dir(dir, i);
        let path = node.join("gas.key");
        let address = if path.exists() {
            tickchain_timenode::config::AnchorSection {
                attest_key_file: node.join("attest.key"),
                gas_key_file: Some(path.clone()),
                chains: Vec::new(),
                max_cosign_range: tickchain_anchor::cosign::DEFAULT_MAX_RANGE,
            }
            .gas_signer()
            .map(|s| tickchain_sdk::anchor::EvmAddress(s.address().into_array()))
            .map_err(anyhow::Error::msg)?
        } else {
            devnet::write_gas_key(&path).map_err(anyhow::Error::msg)?
        };
        gas.push(address);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let chains = rt.block_on(async {
        let eth = devnet::start_chain("ethereum", ETHEREUM_CHAIN_ID, genesis, &gas).await?;
        let pol = devnet::start_chain("polygon", POLYGON_CHAIN_ID, genesis, &gas).await?;
        Ok::<_, String>(vec![eth, pol])
    });
    let chains = chains
        .map_err(anyhow::Error::msg)
        .context("starting the local chains (anvil from `scripts/install-npm`)")?;
    for i in 0..genesis.n() {
        let node = localnet::node_dir(dir, i);
        let config = node.join("node.toml");
        let text = std::fs::read_to_string(&config)?;
        // Drop a previous run's section (its chains are gone), then append this run's.
        let kept = match text.find("\n[anchor]") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        let section =
            devnet::anchor_section(&node, &[(&chains[0], CADENCES.0), (&chains[1], CADENCES.1)]);
        std::fs::write(&config, kept.trim_end().to_string() + "\n" + &section)?;
    }
    Ok(chains)
}
