//! Getting one anchor transaction mined: EIP-1559 fees, an explicit nonce, fee-bumped
//! replacements when it is not mined in time, and waiting for confirmations.
//!
//! Owns: the in-flight state of one range's transaction (nonce, fees, every hash sent for it),
//! advanced one poll at a time so an RPC outage in between loses nothing. Never: decides which
//! range or whose turn (see `schedule`), or signs attestations.
//!
//! ```text
//! send(nonce = confirmed count, fees = estimate) ──not mined within tx_timeout──▶ resend same
//! nonce with fees × (1 + bump%) ──receipt──▶ wait for N confirmations ──▶ Delivered
//! at every poll: the contract already holds the range (anyone's tx) ──▶ AlreadyAnchored
//!                the node no longer knows any of our hashes (restarted) ──▶ resend now
//! ```

use super::error::OracleError;
use super::schedule::Range;
use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes, TxHash};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use std::time::{Duration, Instant};
use tickchain_sdk::Height;

/// EIP-1559 fee caps of one attempt, in wei.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    /// `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`.
    pub max_priority_fee_per_gas: u128,
}

impl Fees {
    /// These fees raised by `percent` (and by at least 1 wei), but never below `floor`, and
    /// with `max_fee_per_gas` capped at `cap`.
    pub fn bumped(&self, percent: u64, floor: Fees, cap: Option<u128>) -> Fees {
        let up = |v: u128| v + (v * u128::from(percent)).div_ceil(100).max(1);
        let mut max_fee = up(self.max_fee_per_gas).max(floor.max_fee_per_gas);
        if let Some(cap) = cap {
            max_fee = max_fee.min(cap);
        }
        let prio = up(self.max_priority_fee_per_gas)
            .max(floor.max_priority_fee_per_gas)
            .min(max_fee);
        Fees {
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: prio,
        }
    }
}

/// How transactions are sent on one chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// Blocks (including the transaction's own) before an anchor counts as delivered.
    pub confirmations: u64,
    /// How long a sent transaction may stay unmined before it is replaced with higher fees.
    pub tx_timeout: Duration,
    /// How much each replacement raises both fee caps, in percent (nodes need at least 10).
    pub fee_bump_percent: u64,
    /// The highest `maxFeePerGas` this relayer ever offers, in wei (`None`: no cap).
    pub max_fee_per_gas: Option<u128>,
}

/// One sent transaction (a first attempt or a replacement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    /// Its hash.
    pub tx: TxHash,
    /// The nonce (the same for a transaction and its replacements).
    pub nonce: u64,
    /// Its fee caps.
    pub fees: Fees,
    /// 0 for the first send, 1 for the first fee bump, and so on.
    pub bump: u32,
}

/// How a poll of an in-flight anchor ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Nothing final yet; `sent` is set when this poll sent a transaction.
    Pending {
        /// The transaction sent during this poll, if any.
        sent: Option<Attempt>,
    },
    /// Our transaction is mined, succeeded, and has the required confirmations.
    Delivered {
        /// Its hash.
        tx: TxHash,
        /// Its block.
        block_number: u64,
        /// Fee bumps it took.
        bumps: u32,
    },
    /// The contract already holds the range (another relayer's transaction, or one of ours
    /// that the chain reverted as a duplicate): success, nothing more to send.
    AlreadyAnchored,
}

/// Why a poll failed; the relayer logs it and polls again.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// The RPC endpoint failed or answered nonsense.
    #[error("RPC: {0}")]
    Rpc(String),
    /// Gas estimation reverted: the contract would reject the call now.
    #[error("the contract rejects anchoring {range}: {reason}")]
    Rejected {
        /// The range.
        range: Range,
        /// The revert, as the node reported it.
        reason: String,
    },
    /// A contract view failed.
    #[error(transparent)]
    Oracle(#[from] OracleError),
}

fn rpc(e: impl std::fmt::Display) -> DeliverError {
    DeliverError::Rpc(e.to_string())
}

/// The in-flight transaction of one range on one chain.
#[derive(Debug)]
pub struct Inflight {
    range: Range,
    contract: Address,
    input: Bytes,
    nonce: Option<u64>,
    gas: Option<u64>,
    fees: Option<Fees>,
    sent: Vec<TxHash>,
    last_send: Option<Instant>,
    bumps: u32,
    bump_next: bool,
}

/// The account and chain an [`Inflight`] sends through.
#[derive(Debug, Clone)]
pub struct Wallet {
    /// The provider (no fillers: every field is set explicitly).
    pub provider: DynProvider,
    /// Signs the transactions.
    pub wallet: EthereumWallet,
    /// The sending account.
    pub from: Address,
    /// The chain id every transaction names (EIP-155).
    pub chain_id: u64,
}

impl Inflight {
    /// A transaction calling `contract` with `input` (the encoded `anchor` call) for `range`.
    pub fn new(range: Range, contract: Address, input: Bytes) -> Inflight {
        Inflight {
            range,
            contract,
            input,
            nonce: None,
            gas: None,
            fees: None,
            sent: Vec::new(),
            last_send: None,
            bumps: 0,
            bump_next: false,
        }
    }

    /// The range this transaction anchors.
    pub fn range(&self) -> Range {
        self.range
    }

    /// One step: check what the chain shows, and send or replace the transaction if due.
    /// `anchored` is the contract's newest anchored height, read by the caller this poll.
    pub async fn poll(
        &mut self,
        w: &Wallet,
        policy: &SendPolicy,
        anchored: Height,
    ) -> Result<Progress, DeliverError> {
        if let Some(progress) = self.check_receipts(w, policy).await? {
            return Ok(progress);
        }
        if anchored.0 >= self.range.to.0 {
            return Ok(Progress::AlreadyAnchored);
        }
        let confirmed_nonce = w
            .provider
            .get_transaction_count(w.from)
            .block_id(BlockId::latest())
            .await
            .map_err(rpc)?;
        if let Some(nonce) = self.nonce
            && confirmed_nonce > nonce
        {
            // Our nonce is used, but by nothing we are watching (the receipts above would have
            // shown it): a transaction from before a restart, or a race. Start afresh.
            tracing::info!(range = %self.range, nonce, "nonce used elsewhere; resending");
            self.nonce = None;
            self.gas = None;
            self.sent.clear();
            self.last_send = None;
        }
        let mut due = match self.last_send {
            None => true,
            Some(at) => at.elapsed() >= policy.tx_timeout || self.bump_next,
        };
        if !due && !self.any_known(w).await? {
            // The node forgot our transaction (a restart empties its pool): resend now rather
            // than after the timeout.
            tracing::info!(range = %self.range, "the chain no longer knows our transaction");
            due = true;
        }
        if !due {
            return Ok(Progress::Pending { sent: None });
        }
        let sent = self.send(w, policy, confirmed_nonce).await?;
        Ok(Progress::Pending { sent })
    }

    /// True if the node still knows (pending or mined) any transaction we sent.
    async fn any_known(&self, w: &Wallet) -> Result<bool, DeliverError> {
        for tx in self.sent.iter().rev() {
            if w.provider
                .get_transaction_by_hash(*tx)
                .await
                .map_err(rpc)?
                .is_some()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// A receipt of any transaction we sent: delivered once confirmed; a reverted one means
    /// someone else's anchor got in first (the caller's chain check then says so).
    async fn check_receipts(
        &mut self,
        w: &Wallet,
        policy: &SendPolicy,
    ) -> Result<Option<Progress>, DeliverError> {
        for tx in self.sent.clone() {
            let Some(receipt) = w.provider.get_transaction_receipt(tx).await.map_err(rpc)? else {
                continue;
            };
            if !receipt.status() {
                tracing::info!(range = %self.range, %tx, "our transaction reverted (a duplicate)");
                return Ok(None);
            }
            return self.confirmed(w, policy, &receipt).await;
        }
        Ok(None)
    }

    async fn confirmed(
        &self,
        w: &Wallet,
        policy: &SendPolicy,
        receipt: &TransactionReceipt,
    ) -> Result<Option<Progress>, DeliverError> {
        let Some(block) = receipt.block_number else {
            return Ok(Some(Progress::Pending { sent: None }));
        };
        let head = w.provider.get_block_number().await.map_err(rpc)?;
        if head + 1 < block + policy.confirmations.max(1) {
            return Ok(Some(Progress::Pending { sent: None }));
        }
        Ok(Some(Progress::Delivered {
            tx: receipt.transaction_hash,
            block_number: block,
            bumps: self.bumps,
        }))
    }

    async fn send(
        &mut self,
        w: &Wallet,
        policy: &SendPolicy,
        confirmed_nonce: u64,
    ) -> Result<Option<Attempt>, DeliverError> {
        let nonce = *self.nonce.get_or_insert(confirmed_nonce);
        let call = TransactionRequest::default()
            .with_from(w.from)
            .with_to(self.contract)
            .with_input(self.input.clone());
        let gas = match self.gas {
            Some(g) => g,
            None => {
                // Estimated against the newest block, not the pending one, which may already
                // hold our own earlier attempt.
                let estimate = w
                    .provider
                    .estimate_gas(call.clone())
                    .block(BlockId::latest())
                    .await
                    .map_err(|e| DeliverError::Rejected {
                        range: self.range,
                        reason: e.to_string(),
                    })?;
                *self.gas.insert(estimate + estimate / 5)
            }
        };
        let estimate = w.provider.estimate_eip1559_fees().await.map_err(rpc)?;
        let floor = Fees {
            max_fee_per_gas: estimate.max_fee_per_gas,
            max_priority_fee_per_gas: estimate.max_priority_fee_per_gas,
        };
        let replacing = !self.sent.is_empty() || self.bump_next;
        let fees = match self.fees {
            Some(prev) if replacing => {
                let next = prev.bumped(policy.fee_bump_percent, floor, policy.max_fee_per_gas);
                if next.max_fee_per_gas <= prev.max_fee_per_gas {
                    tracing::warn!(range = %self.range, "at the fee cap; waiting without a bump");
                    self.last_send = Some(Instant::now());
                    self.bump_next = false;
                    return Ok(None);
                }
                self.bumps += 1;
                next
            }
            _ => match policy.max_fee_per_gas {
                Some(cap) => Fees {
                    max_fee_per_gas: floor.max_fee_per_gas.min(cap),
                    max_priority_fee_per_gas: floor.max_priority_fee_per_gas.min(cap),
                },
                None => floor,
            },
        };
        self.fees = Some(fees);
        let envelope = call
            .with_chain_id(w.chain_id)
            .with_nonce(nonce)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(fees.max_fee_per_gas)
            .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas)
            .build(&w.wallet)
            .await
            .map_err(rpc)?;
        let tx = *envelope.tx_hash();
        // Watch the hash even if sending fails: the node may have taken it before the error.
        self.sent.push(tx);
        self.last_send = Some(Instant::now());
        self.bump_next = false;
        let attempt = Attempt {
            tx,
            nonce,
            fees,
            bump: self.bumps,
        };
        match w.provider.send_tx_envelope(envelope).await {
            Ok(_) => {
                tracing::info!(range = %self.range, %tx, nonce, bump = self.bumps,
                    max_fee = fees.max_fee_per_gas, "sent anchor transaction");
                Ok(Some(attempt))
            }
            Err(e) => {
                // Typically "replacement underpriced" against an attempt from before a restart:
                // bump at the next poll.
                self.bump_next = true;
                Err(rpc(format!("sending {tx} (nonce {nonce}): {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_raise_both_caps_respect_the_floor_and_stop_at_the_cap() {
        let fees = Fees {
            max_fee_per_gas: 100,
            max_priority_fee_per_gas: 10,
        };
        let zero = Fees {
            max_fee_per_gas: 0,
            max_priority_fee_per_gas: 0,
        };
        assert_eq!(
            fees.bumped(25, zero, None),
            Fees {
                max_fee_per_gas: 125,
                max_priority_fee_per_gas: 13
            }
        );
        let high_floor = Fees {
            max_fee_per_gas: 500,
            max_priority_fee_per_gas: 50,
        };
        assert_eq!(fees.bumped(25, high_floor, None), high_floor);
        assert_eq!(fees.bumped(25, zero, Some(110)).max_fee_per_gas, 110);
    }
}
