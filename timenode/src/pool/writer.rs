//! The pool writer: one thread that makes accepted digests durable in group commits and seals
//! one signed batch per second.
//!
//! Owns: leaf assignment (second and index), duplicates within the window, salts, the group
//! commit (one append to the open batch's segment, one sync answers every submission queued
//! behind it), sealing and signing batches, when to re-seal batches
//! that outlived the batch window (the move itself is `reseal`'s), retention pruning, and
//! stopping the pool when storage fails ([`Failure`]). Never: answers a submission before its
//! digests are flushed (or after a failed flush), puts a digest into a batch that is already
//! sealed, or aborts the process.

use super::cache::{BatchTree, TreeCache};
use super::index::DigestIndex;
use super::layout::{self, Location, PoolTrees};
use super::reseal;
use ed25519_dalek::SigningKey;
use sled::Transactional;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tickchain_api::{Receipt, SubmitError};
use tickchain_sdk::signing::sign;
use tickchain_sdk::{Batch, Digest, Hash, Nanos, NodeId, Salt, Second, Signature, UtcNanos};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

/// Most digests written in one group commit. A commit that would end after the seal instant
/// (at the recent cost per digest) waits for the seal, so a batch is sealed late only by a
/// misestimate, bounded by this (about 20,000 × 1.5 µs on a busy 2-core machine).
const GROUP_DIGESTS: usize = 20_000;
/// How often the writer looks for batches to re-seal.
const RESEAL_EVERY: Duration = Duration::from_secs(1);
/// How often retention pruning runs.
const PRUNE_EVERY: Duration = Duration::from_secs(1);
/// Most batches deleted by one pruning pass (it runs on the writer thread, between commits;
/// a batch costs a few sled deletes and one unlink whatever its size), far more than the one
/// batch a second adds.
const PRUNE_BATCHES: usize = 64;

/// A request to the writer thread.
pub enum Command {
    /// Make `digests` durable and answer with one receipt per digest.
    Submit {
        /// The digests, already validated by the API.
        digests: Vec<Digest>,
        /// Where the receipts (or the refusal) go.
        reply: oneshot::Sender<Result<Vec<Receipt>, SubmitError>>,
    },
    /// Stop after answering everything queued before this.
    Stop,
}

/// The batch being filled: the second it will be sealed for and its leaves so far.
pub(super) struct Open {
    /// The batch's second.
    pub second: Second,
    /// Digests and salts, in index order.
    pub leaves: Vec<(Digest, Salt)>,
    /// Their leaf hashes, computed as they are accepted so the seal only builds the tree
    /// above them.
    pub hashes: Vec<Hash>,
}

impl Open {
    fn push(&mut self, d: Digest, s: Salt) {
        self.hashes.push(tickchain_sdk::merkle::digest_leaf(&s, &d));
        self.leaves.push((d, s));
    }
}

/// One submission's answer, sent once its group is flushed.
pub type Answer = (
    oneshot::Sender<Result<Vec<Receipt>, SubmitError>>,
    Result<Vec<Receipt>, SubmitError>,
);

/// A group handed to the flusher: its answers and the segment file it was appended to.
pub(super) type Group = (Vec<Answer>, Option<Arc<std::fs::File>>);

/// The flusher: syncs each segment file written since its last pass once (`fdatasync`), then
/// answers every group of the pass, so the writer assigns and writes the next groups while the
/// disk syncs. A failed sync answers every group behind it with an error (nothing of them is
/// acknowledged), stops the pool ([`Failure`]) and answers every later group the same way.
pub(super) fn run_flusher(rx: Receiver<Group>, failure: Arc<Failure>) {
    while let Ok(first) = rx.recv() {
        let mut groups = vec![first];
        while let Ok(more) = rx.try_recv() {
            groups.push(more);
        }
        let mut files: Vec<&Arc<std::fs::File>> = Vec::new();
        for f in groups.iter().filter_map(|(_, f)| f.as_ref()) {
            if !files.iter().any(|seen| Arc::ptr_eq(seen, f)) {
                files.push(f);
            }
        }
        for f in files {
            if failure.get().is_none()
                && let Err(e) = f.sync_data()
            {
                failure.set("syncing group commits", &e);
            }
        }
        let failed = failure.get();
        for (reply, answer) in groups.into_iter().flat_map(|(answers, _)| answers) {
            let answer = match failed {
                Some(why) => Err(SubmitError::Storage(why.to_owned())),
                None => answer,
            };
            let _ = reply.send(answer);
        }
    }
}

/// Why the pool stopped after a storage failure (set once, by the writer or the flusher).
///
/// A failed sled write or flush leaves sled's database unusable until it is reopened, so the
/// pool stops: nothing of the failed group is acknowledged, the writer thread ends (the node
/// sees its sealed-batch channel close and stops), and reopening the pool re-establishes every
/// invariant (`specs/pool.md` §2). This replaces aborting the process, which cannot recover by
/// itself when the disk is full.
#[derive(Debug, Default)]
pub struct Failure(std::sync::OnceLock<String>);

impl Failure {
    /// Records the first failure and logs it.
    pub(super) fn set(&self, what: &str, e: &dyn std::fmt::Display) {
        let why = format!("{what} failed: {e}");
        if self.0.set(why.clone()).is_ok() {
            error!(error = %e, "{what} failed; the pool stops (reopening it recovers)");
        }
    }

    /// The failure, if the pool stopped.
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// The pool stopped after a storage failure (see [`Failure`]).
#[derive(Debug)]
pub(super) struct Stopped;

/// Where the local clock is, for seal times and receipts.
pub type ClockFn = Arc<dyn Fn() -> UtcNanos + Send + Sync>;

/// The writer's state; it lives on its own thread.
pub(super) struct Writer {
    pub trees: PoolTrees,
    pub key: SigningKey,
    pub me: NodeId,
    pub genesis_hash: Hash,
    pub lead: Nanos,
    pub salt_key: [u8; 32],
    pub open: Open,
    pub sealed_out: mpsc::UnboundedSender<Batch>,
    pub cache: Arc<TreeCache>,
    pub depth: Arc<AtomicU64>,
    pub max_depth: u64,
    pub retention: Option<u64>,
    pub clock: ClockFn,
    /// Groups written but not yet durable, with their answers, for the flusher thread.
    pub flusher: std::sync::mpsc::Sender<Group>,
    /// The open batch's segment file, once a leaf is written to it.
    pub segment: Option<super::segments::Segment>,
    /// Recent cost of one digest in a large group commit (moving average, nanoseconds).
    pub cost_per_digest_ns: f64,
    /// Recent cost of a small group commit (moving average, nanoseconds): mostly the flush.
    pub cost_per_commit_ns: f64,
    /// How long recent seals took: sealing starts that much before the seal instant.
    pub seal_times: super::seal_time::SealTimes,
    /// Set once a write or flush failed; the writer then stops.
    pub failure: Arc<Failure>,
    /// The ring's batch window (seconds): older pending batches are re-sealed.
    pub batch_window_secs: Arc<AtomicU64>,
    /// The disk reserve, checked again before each submission is written.
    pub disk: Arc<super::disk::DiskGuard>,
    /// Where each digest sits: duplicates are looked up and new digests recorded here.
    pub index: Arc<DigestIndex>,
}

/// The salt of leaf `index` in `second`'s batch: keyed BLAKE3 under a key derived from the
/// node key, so salts are unguessable to anyone else (they are stored too).
pub(super) fn salt(salt_key: &[u8; 32], second: Second, index: u32) -> Salt {
    let mut input = [0u8; 12];
    input[..8].copy_from_slice(&second.0.to_be_bytes());
    input[8..].copy_from_slice(&index.to_be_bytes());
    let h = blake3::keyed_hash(salt_key, &input);
    Salt(h.as_bytes()[..16].try_into().expect("16 bytes"))
}

/// The instant `second`'s batch is sealed: `lead` before the second ends.
fn seal_at(second: Second, lead: Nanos) -> UtcNanos {
    Second(second.0 + 1).start().saturating_sub(lead)
}

/// The second whose batch a digest accepted at `now` joins.
pub(super) fn open_second(now: UtcNanos, lead: Nanos) -> Second {
    Second(now.saturating_add(lead).second_floor().max(0) as u64)
}

impl Writer {
    /// Serves commands until `Stop`, until every sender is gone, or until storage fails.
    pub fn run(mut self, rx: Receiver<Command>) {
        if self.serve(&rx).is_err() {
            // Answer what is queued (nothing of it is acknowledged) before the channel closes.
            let why = self.failure.get().unwrap_or("the pool stopped").to_owned();
            while let Ok(c) = rx.try_recv() {
                if let Command::Submit { reply, .. } = c {
                    let _ = reply.send(Err(SubmitError::Storage(why.clone())));
                }
            }
        }
        debug!("pool writer stopped");
    }

    fn serve(&mut self, rx: &Receiver<Command>) -> Result<(), Stopped> {
        let mut last_prune = (self.clock)();
        // The first pass a second after start: `Pool::set_batch_window` comes right after open.
        let mut last_reseal = last_prune;
        let mut last_forget = 0u64;
        loop {
            if self.failure.get().is_some() {
                return Err(Stopped);
            }
            let now = (self.clock)();
            let until = self.seal_start();
            // Woken at least every 100 ms, so a clock that jumps is noticed.
            let wait = Duration::from_nanos((until.0 - now.0).clamp(0, 100_000_000) as u64);
            match rx.recv_timeout(wait) {
                Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(first) => {
                    let mut n = digest_count(&first);
                    let mut group = vec![first];
                    let mut stop = false;
                    while n < GROUP_DIGESTS {
                        match rx.try_recv() {
                            Ok(Command::Stop) => {
                                stop = true;
                                break;
                            }
                            Ok(c) => {
                                n += digest_count(&c);
                                group.push(c);
                            }
                            Err(_) => break,
                        }
                    }
                    self.roll()?;
                    self.seal_early_if_commit_would_straddle(n)?;
                    self.commit(group)?;
                    if stop {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            self.roll()?;
            let now = (self.clock)();
            // Once a second, half way through it (away from the seal and the ring's tick).
            let this_second = now.second_floor().max(0) as u64;
            if now.0 - Second(this_second).start().0 >= 500_000_000 && last_forget < this_second {
                last_forget = this_second;
                self.index.forget_old(Second(this_second));
            }
            if now.0.saturating_sub(last_reseal.0) >= RESEAL_EVERY.as_nanos() as i64 {
                last_reseal = now;
                self.reseal_stale()?;
            }
            if self.retention.is_some() && now.0 - last_prune.0 >= PRUNE_EVERY.as_nanos() as i64 {
                last_prune = now;
                if let Err(e) = self.prune() {
                    warn!(error = %e, "retention pruning failed; will retry");
                }
            }
        }
        Ok(())
    }

    /// When to start sealing the open batch: its seal instant, less the time recent seals took,
    /// so the signed batch is out `lead` before its second ends.
    fn seal_start(&self) -> UtcNanos {
        // Lead and margin together stay inside the second, so sealing never starts in the
        // second before the batch's own (the open batch is at most one second ahead).
        let room = Nanos::from_millis(950).0.saturating_sub(self.lead.0).max(0);
        let margin = self.seal_times.margin().0.min(room);
        seal_at(self.open.second, Nanos(self.lead.0.saturating_add(margin)))
    }

    /// Seals the open batch if its time has come, and opens the next second.
    fn roll(&mut self) -> Result<(), Stopped> {
        let now = (self.clock)();
        if now < self.seal_start() {
            return Ok(());
        }
        if !self.open.leaves.is_empty() {
            self.seal()?;
        }
        self.open.second = Second((self.open.second.0 + 1).max(open_second(now, self.lead).0));
        Ok(())
    }

    /// A commit in progress delays the seal, and a late batch misses its tick. When a commit of
    /// `n` digests, at the recent cost per digest, would end after the seal instant, the open
    /// batch is sealed now (early) and the commit goes into the next second's batch.
    fn seal_early_if_commit_would_straddle(&mut self, n: usize) -> Result<(), Stopped> {
        let now = (self.clock)();
        let estimate = (self.cost_per_commit_ns + self.cost_per_digest_ns * n as f64).min(1e9);
        if self.open.leaves.is_empty()
            // never more than one batch ahead of the clock
            || self.open.second > open_second(now, self.lead)
            || now.saturating_add(Nanos(estimate as i64)) < self.seal_start()
        {
            return Ok(());
        }
        self.seal()?;
        self.open.second = Second(self.open.second.0 + 1);
        Ok(())
    }

    /// Seals, signs, stores and hands out the open batch. A storage failure stops the pool
    /// (see [`Failure`]): its acknowledged digests are durable and reopening seals them.
    fn seal(&mut self) -> Result<(), Stopped> {
        let started = std::time::Instant::now();
        let second = self.open.second;
        let leaves = std::mem::take(&mut self.open.leaves);
        let hashes = std::mem::take(&mut self.open.hashes);
        // The leaves are durable before the signed batch is (the flusher may not have synced
        // the last group yet).
        if let Some(segment) = self.segment.take()
            && let Err(e) = segment.file.sync_data()
        {
            self.failure
                .set(&format!("syncing the leaves of second {}", second.0), &e);
            return Err(Stopped);
        }
        let (batch, tree) = match seal_tree(
            &self.trees,
            &self.key,
            self.me,
            &self.genesis_hash,
            second,
            BatchTree::from_hashes(leaves, hashes),
        ) {
            Ok(sealed) => sealed,
            Err(e) => {
                self.failure
                    .set(&format!("sealing the batch of second {}", second.0), &e);
                return Err(Stopped);
            }
        };
        self.cache.insert(second, tree.clone());
        self.index.sealed(second, tree);
        debug!(second = second.0, count = batch.count, "sealed batch");
        let _ = self.sealed_out.send(batch);
        self.seal_times.record(started.elapsed());
        Ok(())
    }

    /// Writes every new digest of `group` with one flush, then answers each submission.
    fn commit(&mut self, group: Vec<Command>) -> Result<(), Stopped> {
        let t0 = Instant::now();
        let second = self.open.second;
        let first = self.open.leaves.len() as u32;
        let mut chunk = Vec::new();
        let mut answers = Vec::with_capacity(group.len());
        let depth = self.depth.load(Ordering::Relaxed);
        let mut added = 0u64;
        let index = self.index.clone();
        let mut recent = index.recent();
        for cmd in group {
            let Command::Submit { digests, reply } = cmd else {
                continue;
            };
            if let Err(low) = self.disk.check() {
                let _ = reply.send(Err(low));
                continue;
            }
            if depth + added + digests.len() as u64 > self.max_depth {
                let _ = reply.send(Err(SubmitError::Overloaded {
                    retry_after: Duration::from_secs(1),
                }));
                continue;
            }
            chunk.reserve(digests.len() * layout::LEAF_BYTES);
            self.open.leaves.reserve(digests.len());
            self.open.hashes.reserve(digests.len());
            let mut receipts = Vec::with_capacity(digests.len());
            for d in digests {
                // A digest inside the duplicate window keeps its location.
                let loc = recent.get_or_insert(d, || {
                    let index = self.open.leaves.len() as u32;
                    let s = salt(&self.salt_key, second, index);
                    layout::push_leaf(&mut chunk, &d, &s);
                    self.open.push(d, s);
                    added += 1;
                    Location { second, index }
                });
                receipts.push(receipt(self.me, d, loc.second));
            }
            answers.push((reply, receipts));
        }
        drop(recent);
        let t1 = t0.elapsed();
        let n = self.open.leaves.len() as u32 - first;
        let written = if chunk.is_empty() {
            Ok(None)
        } else {
            self.append(second, &chunk).map(Some)
        };
        debug!(
            digests = n,
            assign_us = t1.as_micros() as u64,
            write_us = (t0.elapsed() - t1).as_micros() as u64,
            "group commit"
        );
        let took = t0.elapsed().as_nanos() as f64;
        if n >= 1000 {
            let per = took / f64::from(n);
            self.cost_per_digest_ns = 0.8 * self.cost_per_digest_ns + 0.2 * per;
        } else if n > 0 {
            self.cost_per_commit_ns = 0.8 * self.cost_per_commit_ns + 0.2 * took;
        }
        let file = match written {
            Ok(file) => file,
            Err(e) => {
                // Part of the group may be on disk and nothing of it is acknowledged; reopening
                // seals whatever is there into this second's batch (unacknowledged extras are
                // harmless, a torn leaf is cut).
                self.failure.set("writing a group commit", &e);
                let why = SubmitError::Storage(format!("writing a group commit failed: {e}"));
                for (reply, _) in answers {
                    let _ = reply.send(Err(why.clone()));
                }
                return Err(Stopped);
            }
        };
        self.depth.fetch_add(added, Ordering::Relaxed);
        let answers = answers
            .into_iter()
            .map(|(reply, receipts)| (reply, Ok(receipts)))
            .collect();
        // Answered only after the flusher's next sync, which covers this group.
        if self.flusher.send((answers, file)).is_err() {
            self.failure
                .set("handing a group to the flusher", &"the flusher stopped");
            return Err(Stopped);
        }
        Ok(())
    }

    /// Moves the leaves of the stale batch `old` into the open batch of `open` from leaf
    /// `first`: appended and synced there, named in the index's recent map (so a proof read
    /// finds each digest in one of the two batches), then the old batch is deleted.
    fn move_batch(
        &mut self,
        old: Second,
        open: Second,
        first: u32,
    ) -> Result<reseal::Moved, super::PoolError> {
        let moved = reseal::prepare(&self.trees, self.me, &self.salt_key, old, open, first)?;
        if !moved.chunk.is_empty() {
            self.append(open, &moved.chunk)
                .and_then(|f| f.sync_data())
                .map_err(|e| super::PoolError::leaves(open, e))?;
        }
        let mut recent = self.index.recent();
        for (i, (d, _)) in moved.leaves.iter().enumerate() {
            recent.insert(
                *d,
                Location {
                    second: open,
                    index: first + i as u32,
                },
            );
        }
        drop(recent);
        reseal::finish(&self.trees, old)?;
        Ok(moved)
    }

    /// Appends whole leaves to `second`'s segment (opening it first); returns the file for the
    /// flusher to sync.
    fn append(&mut self, second: Second, bytes: &[u8]) -> std::io::Result<Arc<std::fs::File>> {
        if self.segment.as_ref().is_none_or(|s| s.second != second) {
            self.segment = Some(self.trees.segments.append_to(second)?);
        }
        let segment = self.segment.as_ref().expect("opened above");
        segment.append(bytes)?;
        Ok(segment.file.clone())
    }

    /// Moves the digests of every pending batch that outlived the batch window into the open
    /// batch (`specs/pool.md` §6); they are sealed with it.
    fn reseal_stale(&mut self) -> Result<(), Stopped> {
        let now = Second((self.clock)().second_floor().max(0) as u64);
        let window = self.batch_window_secs.load(Ordering::Relaxed);
        let stale = match reseal::stale(&self.trees, self.me, now, window) {
            Ok(s) => s,
            Err(e) => {
                self.failure.set("finding batches to re-seal", &e);
                return Err(Stopped);
            }
        };
        for old in stale {
            let open = self.open.second;
            let first = self.open.leaves.len() as u32;
            let moved = match self.move_batch(old, open, first) {
                Ok(m) => m,
                Err(e) => {
                    self.failure
                        .set(&format!("re-sealing the batch of second {}", old.0), &e);
                    return Err(Stopped);
                }
            };
            crate::node::failpoint::wrote(crate::node::failpoint::WriteKind::Reseal);
            self.cache.remove(old);
            let n = moved.leaves.len() as u64;
            let _ = self
                .depth
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                    Some(
                        d.saturating_sub(u64::from(moved.old_count))
                            .saturating_add(n),
                    )
                });
            for (d, s) in moved.leaves {
                self.open.push(d, s);
            }
            warn!(
                from = old.0,
                into = open.0,
                digests = n,
                window_secs = window,
                "re-sealed a batch that outlived the batch window without a final tick"
            );
        }
        Ok(())
    }

    /// Deletes batches whose second is older than the retention period and that are in a
    /// final tick (pending batches are kept until they have proofs).
    fn prune(&self) -> Result<(), Box<dyn std::error::Error>> {
        let Some(keep) = self.retention else {
            return Ok(());
        };
        let now = (self.clock)().second_floor().max(0) as u64;
        let cutoff = Second(now.saturating_sub(keep));
        let mut removed = Vec::new();
        let mut digests = 0usize;
        for kv in self.trees.included.range(..layout::second_key(cutoff)) {
            let (k, _) = kv?;
            let second = layout::second_from_key(&k)?;
            digests += remove_batch(&self.trees, self.me, second)?;
            self.cache.remove(second);
            removed.push(second);
            if removed.len() >= PRUNE_BATCHES {
                break;
            }
        }
        if removed.is_empty() {
            return Ok(());
        }
        // The records are gone for good before the leaves are: a crash in between leaves a
        // segment no record names, never a record without its leaves.
        self.trees.db.flush()?;
        for second in &removed {
            self.trees.segments.remove(*second)?;
            self.trees.unlink.remove(layout::second_key(*second))?;
        }
        info!(
            batches = removed.len(),
            digests,
            cutoff = cutoff.0,
            "pruned batches past retention"
        );
        Ok(())
    }
}

fn digest_count(c: &Command) -> usize {
    match c {
        Command::Submit { digests, .. } => digests.len(),
        Command::Stop => 0,
    }
}

/// The receipt of a digest in `second`'s batch of node `me`.
pub(super) fn receipt(me: NodeId, digest: Digest, second: Second) -> Receipt {
    Receipt {
        digest,
        node: me,
        accepted_second: second,
        expected_tick_second: Second(second.0.saturating_add(1)),
    }
}

/// Builds, signs and durably records the batch of `second` over `leaves`.
pub(super) fn seal_leaves(
    trees: &PoolTrees,
    key: &SigningKey,
    me: NodeId,
    genesis_hash: &Hash,
    second: Second,
    leaves: Vec<(Digest, Salt)>,
) -> Result<(Batch, Arc<BatchTree>), sled::Error> {
    seal_tree(trees, key, me, genesis_hash, second, BatchTree::new(leaves))
}

/// Signs and durably records the batch of `second` over its built tree.
fn seal_tree(
    trees: &PoolTrees,
    key: &SigningKey,
    me: NodeId,
    genesis_hash: &Hash,
    second: Second,
    built: BatchTree,
) -> Result<(Batch, Arc<BatchTree>), sled::Error> {
    let mut batch = Batch {
        node: me,
        second,
        root: built.tree.root(),
        count: built.tree.len(),
        signature: Signature([0; 64]),
    };
    batch.signature = sign(key, &batch.signing_bytes(genesis_hash));
    let k = layout::second_key(second);
    let value = layout::encode_sealed(&batch);
    let chunk_roots = super::chunks::roots(&built.tree);
    // Sealed, pending and its chunk roots together, or none (a sealed batch is offered until
    // it is final).
    (&trees.sealed, &trees.pending, &trees.chunks)
        .transaction(|(sealed, pending, chunks)| {
            sealed.insert(&k, value.as_slice())?;
            pending.insert(&k, &[] as &[u8])?;
            chunks.insert(&k, chunk_roots.as_slice())?;
            Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
        })
        .map_err(layout::transaction_error)?;
    trees.db.flush()?;
    Ok((batch, Arc::new(built)))
}

/// Deletes this node's sled records of the batch of `second` (no flush; the caller deletes its
/// segment after flushing); returns how many digests it held. Its index entries stay until a
/// merge drops them (a lookup skips entries whose batch is gone); the sealed record goes first,
/// so a reader sees the digest as unknown rather than half a batch (and a reader that raced it
/// finds a tree whose root does not match).
fn remove_batch(
    trees: &PoolTrees,
    me: NodeId,
    second: Second,
) -> Result<usize, Box<dyn std::error::Error>> {
    let k = layout::second_key(second);
    // A record that does not decode counts as empty: it is deleted all the same.
    let count = match trees.sealed.get(k)? {
        Some(v) => layout::decode_sealed(me, second, &v).map_or(0, |b| b.count) as usize,
        None => 0,
    };
    // The unlink mark first: sled keeps the order of writes, so no crash keeps the deletion
    // and loses the mark.
    trees.unlink.insert(k, &[] as &[u8])?;
    trees.sealed.remove(k)?;
    trees.included.remove(k)?;
    trees.pending.remove(k)?;
    trees.chunks.remove(k)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_accepted_before_the_seal_instant_joins_that_seconds_batch() {
        let lead = Nanos::from_millis(100);
        let s = Second(1_800_000_000);
        assert_eq!(open_second(UtcNanos(s.start().0 + 899_000_000), lead), s);
        assert_eq!(
            open_second(UtcNanos(s.start().0 + 900_000_000), lead),
            Second(s.0 + 1)
        );
        assert_eq!(seal_at(s, lead), UtcNanos(s.start().0 + 900_000_000));
    }

    #[test]
    fn salts_differ_per_leaf_and_per_key() {
        let k1 = [1u8; 32];
        let k2 = [2u8; 32];
        assert_ne!(salt(&k1, Second(5), 0), salt(&k1, Second(5), 1));
        assert_ne!(salt(&k1, Second(5), 0), salt(&k1, Second(6), 0));
        assert_ne!(salt(&k1, Second(5), 0), salt(&k2, Second(5), 0));
        assert_eq!(salt(&k1, Second(5), 0), salt(&k1, Second(5), 0));
    }
}
