//! Answers peers' fetches for old final ticks from the chain store, off the event loop.
//!
//! Owns: the worker thread that reads the sled chain for a fetch and sends the `Chain`
//! answers, its bounded request queue, and the per-peer budget checked before a request is
//! queued (`specs/consensus.md` §10), and at most 8 queued requests per member and 8 for all
//! gateways together. Never: runs on
//! the consensus loop, reads more than [`CHAIN_ANSWER`] ticks per wanted hash, or lets one peer
//! use another's budget or fill the queue.

use super::budget::Budget;
use super::records;
use crate::net::TransportSender;
use crate::store::{ChainStore, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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
/// Requests waiting for the worker from one peer, so one peer cannot fill the queue.
const PER_PEER: usize = 8;

/// Why a fetch was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The peer spent its budget.
    OverBudget,
    /// The worker is busy with other requests, or with enough of this peer's.
    QueueFull,
}

/// The handle the event loop holds.
pub struct FetchServer {
    queue: Option<SyncSender<(NodeId, Vec<Hash>)>>,
    budget: Budget,
    /// Requests queued or being answered: one slot per ring member, and one slot all gateways
    /// share, so gateways together never hold more of the queue than one member.
    in_flight: Arc<Vec<AtomicUsize>>,
    /// Ring members; ids from here up are gateways.
    members: usize,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FetchServer {
    /// Stops the worker (it finishes the request at hand) and waits for it, so its store
    /// handle is gone when the node's stores close.
    fn drop(&mut self) {
        self.queue = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl FetchServer {
    /// Starts the worker thread for `members` ring members and `peers` peers in all (members,
    /// then gateways); it stops when this handle is dropped.
    pub fn start(
        members: usize,
        peers: usize,
        store: Store,
        sender: TransportSender,
    ) -> std::io::Result<FetchServer> {
        let (queue, requests) = sync_channel::<(NodeId, Vec<Hash>)>(QUEUE);
        let in_flight: Arc<Vec<AtomicUsize>> =
            Arc::new((0..=members).map(|_| AtomicUsize::new(0)).collect());
        let counts = in_flight.clone();
        let worker = std::thread::Builder::new()
            .name("fetch-server".into())
            .spawn(move || {
                for (to, hashes) in requests {
                    let _done = Done(&counts[to.index().min(members)]);
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
            queue: Some(queue),
            budget: Budget::new(peers, HASHES_PER_SECOND, HASHES_BURST),
            in_flight,
            members,
            worker: Some(worker),
        })
    }

    /// Queues `hashes` (deduplicated by the caller) to be answered for `from`, if its budget
    /// allows and the worker has room.
    pub fn submit(&mut self, from: NodeId, hashes: Vec<Hash>, now: Instant) -> Result<(), Refused> {
        if hashes.is_empty() {
            return Ok(());
        }
        let Some(count) = self.in_flight.get(from.index().min(self.members)) else {
            return Err(Refused::OverBudget);
        };
        if count.load(Ordering::Acquire) >= PER_PEER {
            return Err(Refused::QueueFull);
        }
        let cost = hashes.len() as f64;
        if !self.budget.take(from, cost, now) {
            return Err(Refused::OverBudget);
        }
        count.fetch_add(1, Ordering::AcqRel);
        let sent = self.queue.as_ref().map(|q| q.try_send((from, hashes)));
        match sent {
            Some(Ok(())) => Ok(()),
            Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => {
                count.fetch_sub(1, Ordering::AcqRel);
                self.budget.refund(from, cost);
                Err(Refused::QueueFull)
            }
        }
    }
}

/// Counts a request as answered when the worker is done with it (even if answering panicked).
struct Done<'a>(&'a AtomicUsize);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
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
