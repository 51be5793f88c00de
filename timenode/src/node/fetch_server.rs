//! Answers peers' fetches for old final ticks from the chain store, off the event loop.
//!
//! Owns: the worker thread that reads the sled chain for a fetch and sends the `Chain`
//! answers, its bounded request queue, and the per-peer budget checked before a request is
//! queued (`specs/consensus.md` §10). Never: runs on the consensus loop, reads more than
//! [`CHAIN_ANSWER`] ticks per wanted hash, or lets one peer use another's budget.

use super::budget::Budget;
use super::records;
use crate::net::TransportSender;
use crate::store::{ChainStore, Store};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::Instant;
use tickchain_consensus::codec::{self, CHAIN_ANSWER};
use tickchain_consensus::{ChainTick, Message};
use tickchain_sdk::{Hash, Height, NodeId};
use tracing::debug;

/// Wanted hashes one peer may have served from the store per second, and its burst.
pub const HASHES_PER_SECOND: f64 = 64.0;
/// See [`HASHES_PER_SECOND`].
pub const HASHES_BURST: f64 = 256.0;
/// Requests waiting for the worker, over all peers.
const QUEUE: usize = 64;

/// Why a fetch was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The peer spent its budget.
    OverBudget,
    /// The worker is busy with other requests.
    QueueFull,
}

/// The handle the event loop holds.
pub struct FetchServer {
    queue: SyncSender<(NodeId, Vec<Hash>)>,
    budget: Budget,
}

impl FetchServer {
    /// Starts the worker thread; it stops when this handle is dropped.
    pub fn start(n: usize, store: Store, sender: TransportSender) -> std::io::Result<FetchServer> {
        let (queue, requests) = sync_channel::<(NodeId, Vec<Hash>)>(QUEUE);
        std::thread::Builder::new()
            .name("fetch-server".into())
            .spawn(move || {
                for (to, hashes) in requests {
                    for hash in hashes {
                        match answer(&store, &hash) {
                            Ok(Some(ticks)) => {
                                sender.send(to, codec::encode(&Message::Chain(ticks)));
                            }
                            Ok(None) => {}
                            Err(e) => debug!(peer = %to, error = %e, "fetch from the store failed"),
                        }
                    }
                }
            })?;
        Ok(FetchServer {
            queue,
            budget: Budget::new(n, HASHES_PER_SECOND, HASHES_BURST),
        })
    }

    /// Queues `hashes` (deduplicated by the caller) to be answered for `from`, if its budget
    /// allows and the worker has room.
    pub fn submit(&mut self, from: NodeId, hashes: Vec<Hash>, now: Instant) -> Result<(), Refused> {
        if hashes.is_empty() {
            return Ok(());
        }
        if !self.budget.take(from, hashes.len() as f64, now) {
            return Err(Refused::OverBudget);
        }
        match self.queue.try_send((from, hashes)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Refused::QueueFull),
        }
    }
}

/// The final tick with `hash` and up to [`CHAIN_ANSWER`] − 1 ancestors, newest first; `None`
/// if the store does not hold it.
fn answer(store: &Store, hash: &Hash) -> Result<Option<Vec<ChainTick>>, super::NodeError> {
    let store: &dyn ChainStore = store;
    let Some(top) = store.height_of_hash(hash)? else {
        return Ok(None);
    };
    let from = Height(top.0.saturating_sub(CHAIN_ANSWER as u64 - 1).max(1));
    let mut ticks = Vec::with_capacity(CHAIN_ANSWER);
    for (_, bytes) in store.finals_from(from, CHAIN_ANSWER)? {
        let t = records::decode_final(&bytes)?;
        if t.tick.height <= top {
            ticks.push(t);
        }
    }
    ticks.reverse();
    Ok(Some(ticks))
}
