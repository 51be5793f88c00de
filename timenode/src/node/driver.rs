//! Executes what the consensus core asks for, in order.
//!
//! Owns: the driver's side of the core's contract (`tickchain_consensus::io`): make every
//! `Persist` durable (one flush for a run of them) before executing any later action, so no
//! vote leaves the node before it would survive SIGKILL; send what the core sends; keep its
//! timers; store each final tick and tell the pool, the API and observers; keep the evidence of
//! misbehaviour the core reports. Never: decides anything about the protocol (the core does) or
//! reads peer bytes (the shell does).

use super::api_handle::{self, LiveStatus};
use super::failpoint::{self, WriteKind};
use super::records;
use super::timers::Timers;
use super::{FinalEvent, NodeError};
use crate::net::Transport;
use crate::pool::Pool;
use crate::store::{ChainStore, Kept, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tickchain_api::TickSummary;
use tickchain_consensus::codec;
use tickchain_consensus::io::{Action, Record};
use tickchain_consensus::{ChainTick, Delivered, LocalClock, Message, Persisted};
use tickchain_sdk::{Batch, Evidence, Genesis, Hash, Height, NodeId};
use tracing::info;

/// Evidence writes that may be queued or running off the loop at once.
const MAX_EVIDENCE_WRITES: usize = 16;

static MISBEHAVIOUR_LOG: crate::log_limit::LogLimit =
    crate::log_limit::LogLimit::new(std::time::Duration::from_secs(10));

/// The executor of the core's actions, with everything they touch.
pub(super) struct Driver {
    pub store: Store,
    pub transport: Transport,
    pub timers: Timers,
    /// Height of the newest final tick in the chain store.
    pub tip: u64,
    pub genesis: Genesis,
    pub me: NodeId,
    pub events: Option<tokio::sync::broadcast::Sender<FinalEvent>>,
    pub pool: Arc<Pool>,
    pub ticks: tokio::sync::broadcast::Sender<TickSummary>,
    pub live: Arc<LiveStatus>,
    /// Whether a prune of the record log is under way (at most one at a time).
    pub pruning: Arc<AtomicBool>,
    /// Evidence writes queued or running off the loop (at most [`MAX_EVIDENCE_WRITES`]).
    pub evidence_writes: Arc<std::sync::atomic::AtomicUsize>,
}

/// The record log is pruned on disk after every this many final ticks (`specs/consensus.md`
/// §9): the log then holds at most about this many seconds of records plus the live views.
pub const PRUNE_EVERY_TICKS: u64 = 16;

impl Driver {
    /// Executes actions in order; a run of `Persist`s is flushed once, before the next action.
    pub fn execute(&mut self, now: &LocalClock, actions: Vec<Action>) -> Result<(), NodeError> {
        let mut pending: Vec<Vec<u8>> = Vec::new();
        let mut pending_final = false;
        for action in actions {
            tracing::trace!(?action, "core action");
            if let Action::Persist(record) = &action {
                pending_final |= matches!(record, Record::Finalized(_));
                pending.push(records::encode(record));
                continue;
            }
            if !pending.is_empty() {
                self.append_records(&std::mem::take(&mut pending), pending_final)?;
                pending_final = false;
            }
            match action {
                Action::Persist(_) => unreachable!("handled above"),
                Action::Broadcast(m) => {
                    tracing::debug!(kind = m.kind(), "broadcast");
                    self.transport.broadcast(&codec::encode(&m));
                }
                Action::Send { to, message } => {
                    self.transport.send(to, codec::encode(&message));
                }
                Action::SetTimer { timer, at } => {
                    tracing::debug!(?timer, in_ms = (at.0 - now.mid().0) / 1_000_000, "timer");
                    self.timers.set(timer, at);
                }
                Action::Finalized { tick, batches } => self.finalized(now, tick, batches)?,
                Action::Conflict {
                    height,
                    ours,
                    theirs,
                } => return Err(self.conflict(height, ours, theirs)),
                Action::Evidence(e) => self.misbehaviour(&e),
            }
        }
        if !pending.is_empty() {
            self.append_records(&pending, pending_final)?;
        }
        Ok(())
    }

    /// Appends records to the log (one flush); `has_final` says one of them is a final tick's.
    fn append_records(&self, pending: &[Vec<u8>], has_final: bool) -> Result<(), NodeError> {
        self.store.append_records(pending)?;
        failpoint::wrote(WriteKind::Records);
        if has_final {
            failpoint::wrote(WriteKind::FinalRecord);
        }
        Ok(())
    }

    /// Stores a final tick, records which of our batches it carries, and publishes it.
    fn finalized(
        &mut self,
        now: &LocalClock,
        t: ChainTick,
        batches: Option<Vec<Batch>>,
    ) -> Result<(), NodeError> {
        let height = t.tick.height.0;
        if height <= self.tip {
            return Ok(()); // already stored (reported again after a restart)
        }
        let hash = t.tick.hash(&self.genesis.hash);
        self.store.append_final(
            t.tick.height,
            t.tick.second,
            &hash,
            &records::encode_final(&t),
        )?;
        failpoint::wrote(WriteKind::Final);
        self.tip = height;
        if height.is_multiple_of(PRUNE_EVERY_TICKS) {
            self.prune_records(t.clone());
        }
        self.record_inclusions(&t.tick, &hash, batches.as_deref())?;
        self.deliver_to_gateways(&t, batches.as_deref());
        let lag = tickchain_sdk::Nanos(now.mid().0 - t.tick.second.start().0);
        self.live.ticks_final.fetch_add(1, Ordering::Relaxed);
        self.live.last_lag_ns.store(lag.0, Ordering::Relaxed);
        let _ = self.ticks.send(api_handle::summary(&t, &self.genesis));
        if let Some(events) = &self.events {
            let _ = events.send(FinalEvent {
                height: t.tick.height,
                second: t.tick.second,
                lag,
                certified: t.certificate.is_some(),
            });
        }
        let lag_ms = lag.0 as f64 / 1e6;
        info!(
            height,
            second = t.tick.second.0,
            view = t.tick.view.0,
            certified = t.certificate.is_some(),
            lag_ms,
            "final tick"
        );
        Ok(())
    }

    /// Two certified final ticks at one height: keeps both sides as evidence (our tick, then
    /// theirs, as one `Chain` message under the height), raises the alarm, and stops the node:
    /// with more than f faulty members its ticks can no longer be trusted (fail-stop,
    /// `specs/consensus.md` §7).
    fn conflict(&mut self, height: Height, ours: ChainTick, theirs: Vec<ChainTick>) -> NodeError {
        let hash = |t: &ChainTick| t.tick.hash(&self.genesis.hash);
        let their_hash = theirs.last().map(hash);
        tracing::error!(
            height = height.0,
            ours = ?hash(&ours),
            theirs = ?their_hash,
            "CONFLICTING FINAL TICKS: more than f ring members signed two ticks at one height; \
             keeping both as evidence and stopping"
        );
        let mut evidence = vec![ours];
        evidence.extend(theirs);
        if let Err(e) = self
            .store
            .put_evidence(height, &codec::encode(&Message::Chain(evidence)))
        {
            tracing::error!(error = %e, "cannot store the evidence of conflicting final ticks");
        }
        NodeError::ConflictingFinality { height }
    }

    /// A member signed two conflicting statements (`specs/evidence.md`): keeps the pair in the
    /// store's `misbehaviour` tree (once per member, view and rule; the first 4,096), counts
    /// it and logs it. The node goes on: the core already counted only the first statement.
    fn misbehaviour(&self, e: &Evidence) {
        if let Some(held) = MISBEHAVIOUR_LOG.allow() {
            tracing::warn!(
                member = e.member.0,
                rule = e.rule.code(),
                view = e.view().0,
                similar_held_back = held,
                "misbehaviour: a ring member signed two conflicting statements; keeping the evidence"
            );
        }
        // Stored by a blocking task (a sled write and flush), at most a few at a time, so a
        // member equivocating in every view cannot hold the event loop in fsyncs; what does not
        // fit is dropped (the member's next equivocation is evidence just as good).
        if self.evidence_writes.fetch_add(1, Ordering::AcqRel) >= MAX_EVIDENCE_WRITES {
            self.evidence_writes.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let mut id = Vec::with_capacity(10);
        id.extend_from_slice(&e.member.0.to_be_bytes());
        id.extend_from_slice(&e.view().0.to_be_bytes());
        id.extend_from_slice(e.rule.code().as_bytes());
        let json = serde_json::to_vec(e).expect("evidence serializes");
        let (store, live, writes) = (
            self.store.clone(),
            self.live.clone(),
            self.evidence_writes.clone(),
        );
        tokio::task::spawn_blocking(move || {
            match store.put_misbehaviour(&id, &json) {
                Ok(Kept::Stored) => {
                    live.evidence.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Kept::Known | Kept::Full) => {}
                Err(err) => tracing::error!(error = %err, "cannot store misbehaviour evidence"),
            }
            writes.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Deletes from the on-disk record log what a replay would drop now that `tip` is final
    /// (`Persisted::obsolete`), in a blocking task off the event loop, one prune at a time. The
    /// tip's own record was flushed before this tick was stored, so it is never among them; a
    /// record that does not decode is kept. A failed prune costs only disk space: it is logged
    /// and the next one tries again.
    fn prune_records(&self, tip: ChainTick) {
        if self.pruning.swap(true, Ordering::AcqRel) {
            return;
        }
        let store = self.store.clone();
        let pruning = self.pruning.clone();
        tokio::task::spawn_blocking(move || {
            // Clears the flag even if the prune panics, so later prunes still run.
            struct Done(Arc<AtomicBool>);
            impl Drop for Done {
                fn drop(&mut self) {
                    self.0.store(false, Ordering::Release);
                }
            }
            let _done = Done(pruning);
            let result = store.prune_records(&mut |bytes| {
                records::decode(bytes).is_ok_and(|r| Persisted::obsolete(&r, &tip))
            });
            match result {
                Ok(n) => {
                    tracing::debug!(pruned = n, height = tip.tick.height.0, "record log pruned")
                }
                Err(e) => tracing::warn!(error = %e, "cannot prune the record log"),
            }
        });
    }

    /// Sends the final tick with its batch list to every gateway connected now, when this node
    /// is one of the tick's f + 1 deliverers (members `height + k mod n`, k = 0..=f; so at
    /// least one of them is honest, and the ring sends each gateway f + 1 copies, not n;
    /// `specs/consensus.md` §5, Gateways). A tick whose list this node does not know is left to
    /// the others; a gateway that misses it fetches the tick and offers its batches again.
    fn deliver_to_gateways(&self, t: &ChainTick, batches: Option<&[Batch]>) {
        let Some(batches) = batches else { return };
        let n = self.genesis.n();
        let (members, f) = (n as u64, u64::from(self.genesis.f));
        let turn = (u64::from(self.me.0) + members - t.tick.height.0 % members) % members;
        if turn > f {
            return;
        }
        let gateways: Vec<NodeId> = self
            .transport
            .connected()
            .into_iter()
            .filter(|p| p.index() >= n)
            .collect();
        if gateways.is_empty() {
            return;
        }
        let bytes = codec::encode(&Message::Delivered(Delivered {
            tick: t.clone(),
            batches: batches.to_vec(),
        }));
        for g in gateways {
            self.transport.send(g, bytes.clone());
        }
    }

    /// Tells the pool which of our batches the final `tick` carries, so their proofs can be
    /// served. A tick whose batch list the core does not know teaches nothing: the core offers
    /// our batches in it again and they land in a later tick.
    fn record_inclusions(
        &mut self,
        tick: &tickchain_sdk::Tick,
        hash: &Hash,
        batches: Option<&[Batch]>,
    ) -> Result<(), NodeError> {
        if tick.batch_count == 0 {
            return Ok(());
        }
        let Some(batches) = batches else {
            tracing::debug!(height = tick.height.0, hash = ?hash, "final tick's batches unknown here");
            return Ok(());
        };
        for b in batches.iter().filter(|b| b.node == self.me) {
            self.pool
                .reader
                .mark_included(b.second, tick.height, batches)?;
        }
        Ok(())
    }
}
