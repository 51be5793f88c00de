//! The relayer of one chain: anchors the ring's final ticks every K ticks, in turn with the
//! other nodes, and reports every confirmed anchor so proofs can be upgraded.
//!
//! Owns: the poll loop (observe the contract's `Anchored` events, then send the next range when
//! it is this node's turn) and the events it reports. Never: gathers signatures itself (an
//! [`Attestor`] does), stores ticks (a [`TickSource`] does), or stops on an RPC error (it logs
//! and polls again, so a chain that goes down and comes back resumes where it stopped).
//!
//! ```text
//! every poll:  observe  eth_getLogs(Anchored) up to head - confirmations + 1
//!                       └▶ root == anchor_root(our ticks)? ─▶ RelayEvent::Anchored(record)
//!              act      latest = contract.latestHeight; range = latest+1 ..= latest+K
//!                       final height ≥ range.to and waited rank × backup delay?
//!                       └▶ attest ─▶ pack ─▶ Inflight (send / bump / confirm)
//! ```

use super::bindings::TickOracle;
use super::client::OracleClient;
use super::config::{ChainConfig, ChainConfigError};
use super::cosign::{ChainHeads, Head};
use super::deliver::{Attempt, DeliverError, Inflight, Progress, SendPolicy, Wallet};
use super::error::OracleError;
use super::record::AnchorRecord;
use super::schedule::{Range, Schedule};
use super::source::{Attestor, BoxError, FinalTick, TickSource};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, TxHash};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolCall, SolEvent};
use alloy::transports::http::reqwest::Url;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tickchain_sdk::anchor::{Anchor, AnchorError, EvmAddress, pack_signatures};
use tickchain_sdk::attest::recover_signer;
use tickchain_sdk::{Hash, Height, NodeId, Second};
use tokio::sync::mpsc::UnboundedSender;

/// What a relayer reports, in the order it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayEvent {
    /// This node sent a transaction for `range` (a first attempt, or a fee-bumped replacement
    /// when `attempt.bump > 0`).
    Sent {
        /// The chain.
        chain_id: u64,
        /// The range.
        range: Range,
        /// The sending account.
        sender: EvmAddress,
        /// The transaction.
        attempt: Attempt,
    },
    /// This node's transaction for `range` is mined with the required confirmations.
    Delivered {
        /// The chain.
        chain_id: u64,
        /// The range.
        range: Range,
        /// The transaction.
        tx: TxHash,
        /// Its block.
        block_number: u64,
        /// Fee bumps it took.
        bumps: u32,
    },
    /// `range` was already on chain when this node looked (another node's transaction, or a
    /// duplicate of ours that reverted): success, nothing sent.
    AlreadyAnchored {
        /// The chain.
        chain_id: u64,
        /// The range.
        range: Range,
    },
    /// An anchor is confirmed on chain and its root is the root of this node's own final
    /// ticks: everything a proof upgrade needs. Reported once per anchor, whoever sent it.
    Anchored(AnchorRecord),
    /// An anchor is confirmed on chain whose root or second is NOT what this node's final
    /// ticks give: the attestation keys signed something the ring did not finalize.
    Conflict {
        /// The chain.
        chain_id: u64,
        /// The range on chain.
        range: Range,
        /// The root on chain.
        chain_root: Hash,
        /// The root of our ticks.
        local_root: Hash,
    },
}

/// Why one poll failed (it is logged and the next poll tries again).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The chain settings are invalid.
    #[error(transparent)]
    Config(#[from] ChainConfigError),
    /// The RPC endpoint failed or answered nonsense.
    #[error("RPC: {0}")]
    Rpc(String),
    /// A contract view failed.
    #[error(transparent)]
    Oracle(#[from] OracleError),
    /// Sending or confirming the transaction failed.
    #[error(transparent)]
    Deliver(#[from] DeliverError),
    /// The tick source or the attestor failed.
    #[error("{what}: {source}")]
    Node {
        /// Which call.
        what: &'static str,
        /// Its error.
        source: BoxError,
    },
    /// The tick source returned ticks that do not form the requested range.
    #[error("tick source returned {found} for {range}: {reason}")]
    Ticks {
        /// The requested range.
        range: Range,
        /// What came back.
        found: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// An anchor value could not be built.
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// A poll took longer than `rpc-timeout-ms`.
    #[error("poll timed out after {0:?}")]
    Timeout(Duration),
}

fn rpc(e: impl std::fmt::Display) -> RelayError {
    RelayError::Rpc(e.to_string())
}

/// The contract client and the sending account, once the chain has answered.
#[derive(Debug, Clone)]
struct Conn {
    oracle: OracleClient,
    wallet: Wallet,
}

/// The relayer of one chain for one node. Build it with [`Relayer::new`], then [`Relayer::run`].
pub struct Relayer<S, A> {
    chain: ChainConfig,
    node: NodeId,
    schedule: Schedule,
    policy: SendPolicy,
    url: Url,
    sender: PrivateKeySigner,
    source: Arc<S>,
    attestor: Arc<A>,
    events: UnboundedSender<RelayEvent>,
    conn: Option<Conn>,
    scan_from: u64,
    reported_to: Height,
    ready_since: Option<(Range, Instant)>,
    inflight: Option<Inflight>,
    heads: Option<ChainHeads>,
}

impl<S, A> std::fmt::Debug for Relayer<S, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relayer")
            .field("chain", &self.chain.name)
            .field("node", &self.node)
            .field("sender", &self.sender.address())
            .finish_non_exhaustive()
    }
}

impl<S: TickSource, A: Attestor> Relayer<S, A> {
    /// A relayer for `node` (of a ring of `nodes`) on `chain`, paying gas from `sender`,
    /// anchoring `source`'s final ticks with `attestor`'s signatures and reporting to `events`.
    pub fn new(
        chain: ChainConfig,
        node: NodeId,
        nodes: u16,
        sender: PrivateKeySigner,
        source: Arc<S>,
        attestor: Arc<A>,
        events: UnboundedSender<RelayEvent>,
    ) -> Result<Relayer<S, A>, RelayError> {
        chain.validate()?;
        let url = chain.rpc_url.parse::<Url>().map_err(|e| ChainConfigError {
            chain: chain.name.clone(),
            field: "rpc-url",
            reason: e.to_string(),
        })?;
        Ok(Relayer {
            schedule: Schedule {
                cadence: chain.cadence,
                nodes,
                backup_delay: Duration::from_millis(chain.backup_delay_ms),
            },
            policy: chain.send_policy(),
            scan_from: chain.start_block,
            chain,
            node,
            url,
            sender,
            source,
            attestor,
            events,
            conn: None,
            reported_to: Height(0),
            ready_since: None,
            inflight: None,
            heads: None,
        })
    }

    /// Also publishes the contract's newest anchored height to `heads` on every poll, for the
    /// node's co-signing rule ([`crate::cosign`]).
    pub fn reporting_heads(mut self, heads: ChainHeads) -> Relayer<S, A> {
        self.heads = Some(heads);
        self
    }

    /// Polls until `shutdown` completes. Errors never stop it: each is logged, and the next
    /// poll starts from what the chain shows then.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let poll = Duration::from_millis(self.chain.poll_interval_ms);
        let limit = Duration::from_millis(self.chain.rpc_timeout_ms);
        loop {
            let result = match tokio::time::timeout(limit, self.poll()).await {
                Ok(r) => r,
                Err(_) => Err(RelayError::Timeout(limit)),
            };
            if let Err(e) = result {
                tracing::warn!(chain = %self.chain.name, node = self.node.0, "anchoring: {e}");
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One poll: report newly confirmed anchors, then send (or advance) this node's anchor if
    /// it is due.
    pub async fn poll(&mut self) -> Result<(), RelayError> {
        let conn = match &self.conn {
            Some(c) => c.clone(),
            None => {
                let c = self.connect().await?;
                self.conn = Some(c.clone());
                c
            }
        };
        self.observe(&conn).await?;
        self.act(&conn).await
    }

    async fn connect(&self) -> Result<Conn, RelayError> {
        let provider = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(self.url.clone())
            .erased();
        let oracle = OracleClient::at(provider.clone(), self.chain.contract).await?;
        let wallet = Wallet {
            chain_id: oracle.domain().chain_id,
            provider,
            wallet: EthereumWallet::from(self.sender.clone()),
            from: self.sender.address(),
        };
        Ok(Conn { oracle, wallet })
    }

    fn emit(&self, event: RelayEvent) {
        // A node that stopped listening does not stop the relayer.
        let _ = self.events.send(event);
    }

    /// Reads `Anchored` events up to the newest block with enough confirmations and reports
    /// each one whose ticks this node has.
    async fn observe(&mut self, conn: &Conn) -> Result<(), RelayError> {
        let provider = &conn.wallet.provider;
        let head = provider.get_block_number().await.map_err(rpc)?;
        let Some(confirmed) = (head + 1).checked_sub(self.chain.confirmations) else {
            return Ok(());
        };
        while self.scan_from <= confirmed {
            let end = confirmed.min(self.scan_from + self.chain.log_chunk_blocks - 1);
            let filter = Filter::new()
                .address(Address::from(self.chain.contract.0))
                .event_signature(TickOracle::Anchored::SIGNATURE_HASH)
                .from_block(self.scan_from)
                .to_block(end);
            let logs = provider.get_logs(&filter).await.map_err(rpc)?;
            for log in &logs {
                if !self.report(conn, log).await? {
                    // Our ticks are behind the chain: read these blocks again next poll.
                    return Ok(());
                }
            }
            self.scan_from = end + 1;
        }
        Ok(())
    }

    /// Reports one `Anchored` log; false if this node does not have its ticks yet.
    async fn report(&mut self, conn: &Conn, log: &Log) -> Result<bool, RelayError> {
        let event = log.log_decode::<TickOracle::Anchored>().map_err(rpc)?;
        let data = &event.inner.data;
        let range = Range {
            from: Height(data.fromHeight),
            to: Height(data.toHeight),
        };
        if range.to <= self.reported_to {
            return Ok(true);
        }
        if self.final_height().await? < range.to {
            return Ok(false);
        }
        let ticks = self.ticks(range).await?;
        let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash).collect();
        let local =
            Anchor::over_ticks(range.from, range.to, ticks[ticks.len() - 1].second, &hashes)?;
        let chain_id = conn.oracle.domain().chain_id;
        let chain_root = Hash(data.root.0);
        self.reported_to = range.to;
        if local.root != chain_root || local.second != Second(data.second) {
            tracing::error!(chain = %self.chain.name, %range, %chain_root, local_root = %local.root,
                "anchor on chain does not match our final ticks");
            self.emit(RelayEvent::Conflict {
                chain_id,
                range,
                chain_root,
                local_root: local.root,
            });
            return Ok(true);
        }
        let (Some(tx_hash), Some(block_number), Some(block_hash)) =
            (log.transaction_hash, log.block_number, log.block_hash)
        else {
            return Err(rpc(
                "a confirmed Anchored log without its transaction or block",
            ));
        };
        let sender = conn
            .wallet
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(rpc)?
            .map(|r| EvmAddress(r.from.into_array()))
            .ok_or_else(|| rpc(format!("no receipt for anchoring transaction {tx_hash}")))?;
        tracing::info!(chain = %self.chain.name, %range, tx = %tx_hash, block = block_number,
            %sender, "anchored");
        self.emit(RelayEvent::Anchored(AnchorRecord {
            chain_id,
            contract: self.chain.contract,
            anchor: local,
            tx_hash,
            block_number,
            block_hash: B256::from(block_hash.0),
            sender,
            tick_hashes: hashes,
        }));
        Ok(true)
    }

    async fn final_height(&self) -> Result<Height, RelayError> {
        self.source
            .final_height()
            .await
            .map_err(|source| RelayError::Node {
                what: "final_height",
                source,
            })
    }

    /// The final ticks of `range`, checked to be exactly that range in order.
    async fn ticks(&self, range: Range) -> Result<Vec<FinalTick>, RelayError> {
        let ticks = self
            .source
            .final_ticks(range.from, range.to)
            .await
            .map_err(|source| RelayError::Node {
                what: "final_ticks",
                source,
            })?;
        let in_order = ticks.len() as u64 == range.len()
            && ticks
                .iter()
                .enumerate()
                .all(|(i, t)| t.height.0 == range.from.0 + i as u64);
        if !in_order {
            return Err(RelayError::Ticks {
                range,
                found: format!("{} ticks", ticks.len()),
                reason: "expected every height of the range, in order",
            });
        }
        Ok(ticks)
    }

    /// Advances the in-flight anchor, or starts the next one when it is this node's turn.
    async fn act(&mut self, conn: &Conn) -> Result<(), RelayError> {
        let anchored = conn.oracle.latest_height().await?;
        let chain_id = conn.oracle.domain().chain_id;
        if let Some(heads) = &self.heads {
            heads.set(
                conn.oracle.domain(),
                Head {
                    latest: anchored,
                    cadence: self.chain.cadence,
                },
            );
        }
        if let Some(inflight) = &mut self.inflight {
            let range = inflight.range();
            let progress = inflight.poll(&conn.wallet, &self.policy, anchored).await?;
            match progress {
                Progress::Pending {
                    sent: Some(attempt),
                } => self.emit(RelayEvent::Sent {
                    chain_id,
                    range,
                    sender: EvmAddress(conn.wallet.from.into_array()),
                    attempt,
                }),
                Progress::Pending { sent: None } => {}
                Progress::Delivered {
                    tx,
                    block_number,
                    bumps,
                } => {
                    self.inflight = None;
                    self.emit(RelayEvent::Delivered {
                        chain_id,
                        range,
                        tx,
                        block_number,
                        bumps,
                    });
                }
                Progress::AlreadyAnchored => {
                    self.inflight = None;
                    self.emit(RelayEvent::AlreadyAnchored { chain_id, range });
                }
            }
            return Ok(());
        }
        let range = self.schedule.next_range(anchored);
        if self.final_height().await? < range.to {
            return Ok(());
        }
        let since = match self.ready_since {
            Some((r, at)) if r == range => at,
            _ => self.ready_since.insert((range, Instant::now())).1,
        };
        let wait = self.schedule.send_after(self.node, &range);
        if since.elapsed() < wait {
            return Ok(());
        }
        let Some(input) = self.anchor_call(conn, range).await? else {
            return Ok(());
        };
        tracing::info!(chain = %self.chain.name, %range, node = self.node.0,
            rank = self.schedule.rank(self.node, &range), "our turn to anchor");
        self.inflight = Some(Inflight::new(
            range,
            Address::from(self.chain.contract.0),
            input,
        ));
        Box::pin(self.act(conn)).await
    }

    /// The encoded `anchor` call for `range`, or `None` while fewer than the contract's
    /// threshold of valid attestations are available.
    async fn anchor_call(&self, conn: &Conn, range: Range) -> Result<Option<Bytes>, RelayError> {
        let ticks = self.ticks(range).await?;
        let hashes: Vec<Hash> = ticks.iter().map(|t| t.hash).collect();
        let anchor =
            Anchor::over_ticks(range.from, range.to, ticks[ticks.len() - 1].second, &hashes)?;
        let domain = conn.oracle.domain();
        let digest = anchor.digest(&domain);
        let signed = self
            .attestor
            .attest(&domain, &anchor)
            .await
            .map_err(|source| RelayError::Node {
                what: "attest",
                source,
            })?;
        // Keep only signatures that recover to the address they claim, one per signer.
        let mut valid: Vec<_> = signed
            .into_iter()
            .filter(|(who, sig)| recover_signer(&digest.0, sig).is_ok_and(|a| a == *who))
            .collect();
        valid.sort_by_key(|(who, _)| *who);
        valid.dedup_by_key(|(who, _)| *who);
        let threshold = usize::from(conn.oracle.threshold().await?);
        if valid.len() < threshold {
            tracing::debug!(%range, have = valid.len(), threshold, "waiting for attestations");
            return Ok(None);
        }
        // Exactly the threshold: every extra signature costs ~7k gas and proves nothing more.
        let packed = pack_signatures(&valid[..threshold])?;
        let call = TickOracle::anchorCall {
            fromHeight: anchor.from.0,
            toHeight: anchor.to.0,
            second: anchor.second.0,
            root: B256::from(anchor.root.0),
            signatures: Bytes::from(packed),
        };
        Ok(Some(Bytes::from(call.abi_encode())))
    }
}
