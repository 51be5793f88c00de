//! Gas per `TickOracle.anchor` (3-of-4 and 5-of-7), measured from receipts on a real anvil,
//! and what anchoring costs per day at 1 gwei.
//!
//! ```text
//! scripts/install-npm && cargo run -p tickchain-anchor --features devnet --example anchor_gas
//! ```

use alloy::primitives::B256;
use alloy::signers::local::PrivateKeySigner;
use tickchain_anchor::anvil::{DEV_KEY_0, ETHEREUM_CHAIN_ID, POLYGON_CHAIN_ID};
use tickchain_anchor::{Anvil, AttestationKey, OracleClient, connect};
use tickchain_sdk::anchor::{Anchor, EvmAddress, EvmSignature, keccak256, pack_signatures};
use tickchain_sdk::{Hash, Height, Second};

/// Anchors measured per configuration (the first is reported apart: it is no different in
/// storage terms, but shows any warm-up effect).
const ANCHORS: u64 = 6;
/// Seconds per day.
const DAY: u64 = 86_400;

/// Gas of each of `ANCHORS` consecutive anchors of `cadence` ticks with `k`-of-`n` signatures.
async fn measure(chain_id: u64, n: usize, k: usize, cadence: u64) -> anyhow::Result<Vec<u64>> {
    let anvil = Anvil::spawn(chain_id)?;
    let provider = connect(
        &anvil.endpoint(),
        PrivateKeySigner::from_bytes(&B256::from(DEV_KEY_0))?,
    )?;
    let ring: Vec<AttestationKey> = (0..n)
        .map(|i| AttestationKey::from_secret(&keccak256(format!("gas/{i}").as_bytes())))
        .collect::<Option<_>>()
        .ok_or_else(|| anyhow::anyhow!("derived an invalid key"))?;
    let addresses: Vec<EvmAddress> = ring.iter().map(AttestationKey::address).collect();
    let (oracle, _) = OracleClient::deploy(provider, &addresses, k as u8).await?;
    let mut gas = Vec::new();
    for i in 0..ANCHORS {
        let (from, to) = (i * cadence + 1, (i + 1) * cadence);
        let hashes: Vec<Hash> = (from..=to)
            .map(|h| Hash(keccak256(&h.to_be_bytes())))
            .collect();
        let anchor = Anchor::over_ticks(
            Height(from),
            Height(to),
            Second(1_767_225_600 + to),
            &hashes,
        )?;
        let digest = anchor.digest(&oracle.domain());
        let signed: Vec<(EvmAddress, EvmSignature)> =
            ring[..k].iter().map(|key| key.attest(&digest)).collect();
        gas.push(
            oracle
                .anchor(&anchor, &pack_signatures(&signed)?)
                .await?
                .gas_used,
        );
    }
    Ok(gas)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    println!("TickOracle.anchor gas, from receipts on anvil ({ANCHORS} consecutive anchors each)");
    for (chain, chain_id, cadence, token) in [
        ("Ethereum (31337)", ETHEREUM_CHAIN_ID, 60, "ETH"),
        ("Polygon (137)", POLYGON_CHAIN_ID, 10, "POL"),
    ] {
        let per_day = DAY / cadence;
        for (k, n) in [(3, 4), (5, 7)] {
            let gas = measure(chain_id, n, k, cadence).await?;
            let steady = gas[1..].iter().sum::<u64>() / (gas.len() as u64 - 1);
            // gas × anchors/day × 1 gwei = gas × anchors/day × 1e-9 native token.
            let daily = (steady * per_day) as f64 * 1e-9;
            println!(
                "{chain:17} {k}-of-{n}: first {:>6} gas, then {:>6} gas each; one anchor per \
                 {cadence} ticks = {per_day} anchors/day = {:.4} {token}/day at 1 gwei",
                gas[0], steady, daily
            );
        }
    }
    Ok(())
}
