//! An anchor as it stands on one chain, and the path a proof upgrade adds for one tick.
//!
//! Owns: what a proof upgrade needs from an anchoring (chain id, contract, range, root,
//! transaction, block) and the inclusion path of a tick hash in the anchored tree
//! (`tickchain_sdk::anchor::anchor_tree`). Never: reads a chain.

use super::schedule::Range;
use alloy::primitives::{B256, TxHash};
use serde::{Deserialize, Serialize};
use tickchain_sdk::anchor::{Anchor, EvmAddress, anchor_tree};
use tickchain_sdk::merkle::{MerklePath, leaf_hash};
use tickchain_sdk::{Hash, Height};

/// A confirmed anchor on one chain whose root the node recomputed from its own final ticks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnchorRecord {
    /// The EVM chain id (EIP-155).
    pub chain_id: u64,
    /// The `TickOracle` contract.
    pub contract: EvmAddress,
    /// The anchored range, second and root.
    pub anchor: Anchor,
    /// The transaction that anchored it.
    pub tx_hash: TxHash,
    /// The block that holds the transaction.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// The account that sent the transaction (the relayer whose turn it was, or a backup).
    pub sender: EvmAddress,
    /// The tick hashes of the range in height order: the anchored tree's leaves.
    pub tick_hashes: Vec<Hash>,
}

/// What a proof upgrade adds for one tick: where its tick hash is anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnchorPath {
    /// The EVM chain id (EIP-155).
    pub chain_id: u64,
    /// The `TickOracle` contract.
    pub contract: EvmAddress,
    /// The anchored range, second and root.
    pub anchor: Anchor,
    /// The transaction that anchored it.
    pub tx_hash: TxHash,
    /// The block that holds the transaction.
    pub block_number: u64,
    /// The tick's hash.
    pub tick_hash: Hash,
    /// Its inclusion path in the anchored tree (leaf index `height - from`).
    pub path: MerklePath,
}

impl AnchorPath {
    /// True if `path` leads from `tick_hash` to the anchored root.
    pub fn verifies(&self) -> bool {
        self.path
            .verifies(leaf_hash(&self.tick_hash.0), &self.anchor.root)
    }
}

impl AnchorRecord {
    /// The anchored range.
    pub fn range(&self) -> Range {
        Range {
            from: self.anchor.from,
            to: self.anchor.to,
        }
    }

    /// The anchor path of the tick at `height`, or `None` outside the range.
    pub fn path(&self, height: Height) -> Option<AnchorPath> {
        if !self.range().contains(height) {
            return None;
        }
        let index = height.0 - self.anchor.from.0;
        let tick_hash = *self.tick_hashes.get(usize::try_from(index).ok()?)?;
        let path = anchor_tree(&self.tick_hashes).path(u32::try_from(index).ok()?)?;
        Some(AnchorPath {
            chain_id: self.chain_id,
            contract: self.contract,
            anchor: self.anchor,
            tx_hash: self.tx_hash,
            block_number: self.block_number,
            tick_hash,
            path,
        })
    }
}
