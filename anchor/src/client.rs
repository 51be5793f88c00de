//! The `TickOracle` client: deploys the contract, relays co-signed anchors and rotations, and
//! reads its views.
//!
//! Owns: turning sdk anchor values into contract calls and receipts into `TxOutcome`s. Never:
//! signs attestations (the relayer receives already-packed signatures) or computes digests
//! (except `contract_anchor_digest`, which asks the contract so tests can cross-check the sdk).

use super::bindings::TickOracle::{self, TickOracleInstance};
use super::error::OracleError;
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, TxHash};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use alloy::transports::http::reqwest::Url;
use std::time::Duration;
use tickchain_sdk::anchor::{Anchor, AnchorDomain, Eip712Hash, EvmAddress, Rotate};
use tickchain_sdk::{Hash, Height, Second};

/// An HTTP provider for `rpc_url` that signs and sends transactions from `sender`, filling
/// nonce, gas and chain id itself.
///
/// The nonce is read from the chain for every transaction (not cached): a call the contract
/// rejects fails at gas estimation, and a cached nonce would then skip a number and leave every
/// later transaction stuck behind the gap.
pub fn connect(rpc_url: &str, sender: PrivateKeySigner) -> Result<DynProvider, OracleError> {
    let url = rpc_url.parse::<Url>().map_err(|e| OracleError::Url {
        url: rpc_url.to_string(),
        reason: e.to_string(),
    })?;
    Ok(ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_simple_nonce_management()
        .with_gas_estimation()
        .fetch_chain_id()
        .wallet(EthereumWallet::from(sender))
        .connect_http(url)
        .erased())
}

/// How long to wait for a sent transaction's receipt before giving up on it.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// What a mined transaction cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOutcome {
    /// The transaction hash.
    pub tx: TxHash,
    /// Gas it used (from the receipt).
    pub gas_used: u64,
}

/// One `TickOracle` deployment on one chain.
#[derive(Debug, Clone)]
pub struct OracleClient {
    instance: TickOracleInstance<DynProvider>,
    domain: AnchorDomain,
}

fn address(a: &EvmAddress) -> Address {
    Address::from(a.0)
}

fn outcome(receipt: &TransactionReceipt) -> Result<TxOutcome, OracleError> {
    let tx = receipt.transaction_hash;
    if !receipt.status() {
        return Err(OracleError::Failed {
            tx: tx.to_string(),
            gas_used: receipt.gas_used,
        });
    }
    Ok(TxOutcome {
        tx,
        gas_used: receipt.gas_used,
    })
}

impl OracleClient {
    /// Deploys `TickOracle` with the initial signer set (sorted here, as the contract requires)
    /// and `threshold`, waiting for the receipt.
    pub async fn deploy(
        provider: DynProvider,
        signers: &[EvmAddress],
        threshold: u8,
    ) -> Result<(OracleClient, TxOutcome), OracleError> {
        let mut sorted = signers.to_vec();
        sorted.sort();
        let set: Vec<Address> = sorted.iter().map(address).collect();
        let receipt = TickOracle::deploy_builder(provider.clone(), set, threshold)
            .send()
            .await?
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await?;
        let done = outcome(&receipt)?;
        let at = receipt
            .contract_address
            .ok_or_else(|| OracleError::NoContractAddress {
                tx: done.tx.to_string(),
            })?;
        let client = OracleClient::at(provider, EvmAddress(at.into_array())).await?;
        Ok((client, done))
    }

    /// The deployment at `contract` on the provider's chain.
    pub async fn at(
        provider: DynProvider,
        contract: EvmAddress,
    ) -> Result<OracleClient, OracleError> {
        let chain_id = provider.get_chain_id().await?;
        Ok(OracleClient {
            instance: TickOracle::new(address(&contract), provider),
            domain: AnchorDomain { chain_id, contract },
        })
    }

    /// The EIP-712 domain of this deployment (chain id and address).
    pub fn domain(&self) -> AnchorDomain {
        self.domain
    }

    /// Relays `anchor` with signatures packed by `tickchain_sdk::anchor::pack_signatures`.
    pub async fn anchor(
        &self,
        anchor: &Anchor,
        signatures: &[u8],
    ) -> Result<TxOutcome, OracleError> {
        let receipt = self
            .instance
            .anchor(
                anchor.from.0,
                anchor.to.0,
                anchor.second.0,
                B256::from(anchor.root.0),
                Bytes::copy_from_slice(signatures),
            )
            .send()
            .await?
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await?;
        outcome(&receipt)
    }

    /// Relays a signer-set rotation with the current set's packed signatures.
    pub async fn rotate(
        &self,
        rotate: &Rotate,
        signatures: &[u8],
    ) -> Result<TxOutcome, OracleError> {
        let set: Vec<Address> = rotate.signers.iter().map(address).collect();
        let receipt = self
            .instance
            .rotate(set, rotate.threshold, Bytes::copy_from_slice(signatures))
            .send()
            .await?
            .with_timeout(Some(RECEIPT_TIMEOUT))
            .get_receipt()
            .await?;
        outcome(&receipt)
    }

    /// The newest anchored height (0 before the first anchor).
    pub async fn latest_height(&self) -> Result<Height, OracleError> {
        Ok(Height(self.instance.latestHeight().call().await?))
    }

    /// The second of the newest anchored tick (0 before the first anchor).
    pub async fn latest_second(&self) -> Result<Second, OracleError> {
        Ok(Second(self.instance.latestSecond().call().await?))
    }

    /// The root anchored for the range ending at `to`, if any.
    pub async fn root_at(&self, to: Height) -> Result<Option<Hash>, OracleError> {
        let root = self.instance.rootAt(to.0).call().await?;
        Ok((root != B256::ZERO).then_some(Hash(root.0)))
    }

    /// Signatures an anchor needs under the current signer set.
    pub async fn threshold(&self) -> Result<u8, OracleError> {
        Ok(self.instance.threshold().call().await?)
    }

    /// The provider this client reads (and, for `anchor` / `rotate`, sends) through.
    pub fn provider(&self) -> &DynProvider {
        self.instance.provider()
    }

    /// The current signer-set epoch.
    pub async fn epoch(&self) -> Result<u64, OracleError> {
        Ok(self.instance.epoch().call().await?)
    }

    /// The digest as the contract computes it (to cross-check `Anchor::digest`).
    pub async fn contract_anchor_digest(&self, anchor: &Anchor) -> Result<Eip712Hash, OracleError> {
        let d = self
            .instance
            .anchorDigest(
                anchor.from.0,
                anchor.to.0,
                anchor.second.0,
                B256::from(anchor.root.0),
            )
            .call()
            .await?;
        Ok(Eip712Hash(d.0))
    }
}
