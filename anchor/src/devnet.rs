//! Local EVM chains for a local network: anvil with `TickOracle` deployed for a genesis's
//! attestation keys, relayer accounts funded, and the `[anchor]` config text that points nodes
//! at them. For `testnet --anchor` and the end-to-end tests; never for real chains.
//!
//! Owns: wiring a dev chain to a ring. Never: anything a production node runs.

use super::anvil::{Anvil, DEV_KEY_0};
use super::client::{OracleClient, connect};
use alloy::primitives::{B256, U256};
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use std::path::Path;
use tickchain_sdk::Genesis;
use tickchain_sdk::anchor::EvmAddress;

/// One local chain with the oracle deployed.
pub struct DevChain {
    /// Its label in node configs (`ethereum`, `polygon`).
    pub name: String,
    /// The running anvil (killed by pid when dropped).
    pub anvil: Anvil,
    /// The `TickOracle` deployment.
    pub contract: EvmAddress,
}

/// Starts anvil with `chain_id`, deploys `TickOracle` for `genesis`'s attestation addresses
/// with threshold = quorum, and gives each of `fund` 100 ETH.
pub async fn start_chain(
    name: &str,
    chain_id: u64,
    genesis: &Genesis,
    fund: &[EvmAddress],
) -> Result<DevChain, String> {
    let anvil = Anvil::spawn(chain_id).map_err(|e| e.to_string())?;
    let dev = PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0)).map_err(|e| e.to_string())?;
    let provider = connect(&anvil.endpoint(), dev).map_err(|e| e.to_string())?;
    let signers = genesis
        .attestation_addresses()
        .ok_or("the genesis binds no attestation keys (a version 1 genesis cannot anchor)")?;
    let (oracle, _) = OracleClient::deploy(provider.clone(), &signers, genesis.quorum as u8)
        .await
        .map_err(|e| format!("deploying TickOracle on {name}: {e}"))?;
    for a in fund {
        let _: serde_json::Value = provider
            .raw_request(
                "anvil_setBalance".into(),
                (
                    alloy::primitives::Address::from(a.0),
                    U256::from(10u128.pow(20)),
                ),
            )
            .await
            .map_err(|e| format!("funding {a} on {name}: {e}"))?;
    }
    Ok(DevChain {
        name: name.to_string(),
        contract: oracle.domain().contract,
        anvil,
    })
}

/// Writes a fresh gas account key to `path` (hex, mode 0600) and returns its address.
pub fn write_gas_key(path: &Path) -> Result<EvmAddress, String> {
    let signer = PrivateKeySigner::random();
    let hex = format!("0x{}\n", alloy::hex::encode(signer.to_bytes()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut f, hex.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(EvmAddress(signer.address().into_array()))
}

/// The `[anchor]` section of a node whose keys are in `node_dir`, anchoring to `chains` every
/// `cadence` ticks each, with quick polls and a short backup delay suited to a local network.
pub fn anchor_section(node_dir: &Path, chains: &[(&DevChain, u64)]) -> String {
    let mut text = format!(
        "\n[anchor]\nattest-key-file = {:?}\ngas-key-file = {:?}\n",
        node_dir.join(crate::signer::ATTEST_KEY_FILE),
        node_dir.join("gas.key"),
    );
    for (chain, cadence) in chains {
        text.push_str(&format!(
            "\n[[anchor.chains]]\nname = \"{}\"\nrpc-url = \"{}\"\ncontract = \"{}\"\n\
             cadence = {cadence}\nconfirmations = 1\nbackup-delay-ms = 5000\n\
             poll-interval-ms = 500\ntx-timeout-ms = 10000\n",
            chain.name,
            chain.anvil.endpoint(),
            chain.contract,
        ));
    }
    text
}
