//! The request pool: the digests this node accepted, made durable in group commits, sealed
//! into one signed batch per second, and everything needed to serve their proofs.
//!
//! Owns: acceptance (durable before acknowledged), sealing, re-sealing batches that outlived
//! the ring's batch window, proof assembly and retention (`specs/pool.md`; §4 for the stored
//! layout, §6 for re-sealing). Never: offers batches to the ring or decides
//! which tick carries them (the node and the consensus core do).
//!
//! ```text
//! API submit ─▶ queue ─▶ writer thread: duplicates (in memory), assign (second, index), salt,
//!                        append to the second's segment ─▶ flusher: fdatasync ─▶ receipts
//!        at second end − lead − recent seal time: seal, sign ─▶ node: broadcast Batch, core
//!                                              └─▶ indexer: index run ─▶ compactor: merges
//! node: final tick carrying our batch ─▶ mark_included ─▶ reader: proofs
//! writer, every second: a pending batch older than the batch window ─▶ re-sealed into the open batch
//! ```

pub mod cache;
pub mod chunks;
pub mod disk;
pub mod index;
pub mod layout;
pub mod location;
pub mod lru;
pub mod reader;
pub mod reseal;
pub mod runs;
pub mod seal_time;
pub mod segments;
pub mod writer;

use crate::config::PoolSection;
use ed25519_dalek::SigningKey;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickchain_api::{Receipt, SubmitError};
use tickchain_sdk::encoding::DecodeError;
use tickchain_sdk::{Batch, Digest, Hash, Nanos, NodeId, Second};
use tokio::sync::{mpsc, oneshot};
use tracing::info;

pub use cache::TreeCache;
pub use layout::PoolTrees;
pub use reader::PoolReader;
pub use writer::{ClockFn, Command, Failure};

impl From<cache::Busy> for PoolError {
    fn from(_: cache::Busy) -> PoolError {
        PoolError::Busy
    }
}

/// Why the pool failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// sled reported an error.
    #[error("pool storage: {0}")]
    Sled(#[from] sled::Error),
    /// The chain store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A stored value does not decode.
    #[error("pool record: {0}")]
    Decode(#[from] DecodeError),
    /// Stored values contradict each other.
    #[error("pool corrupt: {0}")]
    Corrupt(String),
    /// Proof reads are already rebuilding as many batch trees as allowed at once; retry.
    #[error("busy rebuilding batch trees; retry shortly")]
    Busy,
    /// The pool stopped after a storage failure (`Failure`); reopening it recovers.
    #[error("pool stopped: {0}")]
    Stopped(String),
    /// A leaf segment file failed or is damaged.
    #[error("pool leaves: {0}")]
    Leaves(String),
    /// The digest index's files failed or are damaged beyond what recovery repairs.
    #[error("pool index: {0}")]
    Index(String),
}

impl PoolError {
    /// A segment of `second`'s batch failed.
    pub(crate) fn leaves(second: Second, e: std::io::Error) -> PoolError {
        PoolError::Leaves(format!("batch {}: {e}", second.0))
    }
}

/// Moves the leaves of a database from before the segment files (the sled tree
/// `pool-leaves`, one value per group commit) into segments, then drops the tree. Each group
/// is written at its own offset, so a migration interrupted by a crash is simply run again.
fn migrate_leaves(db: &sled::Db, trees: &PoolTrees) -> Result<(), PoolError> {
    if !db.tree_names().iter().any(|n| n == b"pool-leaves") {
        return Ok(());
    }
    let old = db.open_tree("pool-leaves")?;
    let io = |e: std::io::Error| PoolError::Leaves(format!("migrating leaves: {e}"));
    let mut seconds = 0usize;
    let mut last = None;
    for kv in old.iter() {
        let (k, v) = kv?;
        let at = layout::Location::from_bytes(&k)?;
        layout::read_leaves(&v)?; // whole leaves only
        trees
            .segments
            .truncate(at.second, at.index as usize)
            .map_err(io)?;
        trees
            .segments
            .append_to(at.second)
            .and_then(|s| s.append(&v))
            .map_err(io)?;
        if last != Some(at.second) {
            seconds += 1;
            last = Some(at.second);
        }
    }
    for s in trees.segments.seconds_from(Second(0)).map_err(io)? {
        trees.segments.sync(s).map_err(io)?;
    }
    drop(old);
    db.drop_tree("pool-leaves")?;
    db.flush()?;
    info!(
        batches = seconds,
        "moved the pool's leaves from sled into segment files"
    );
    Ok(())
}

/// The leaves of a segment a crash left open, made durable, with a torn tail and any leaf
/// whose salt is not the one its position gives cut off (never acknowledged: a receipt is
/// sent only after its whole group is durable).
/// Removes the segment of every batch deleted before a crash let it go (`pool-unlink`), then
/// the marks.
pub(crate) fn finish_unlinks(trees: &PoolTrees) -> Result<(), PoolError> {
    let mut done = 0usize;
    for kv in trees.unlink.iter() {
        let (k, _) = kv?;
        let second = layout::second_from_key(&k)?;
        trees
            .segments
            .remove(second)
            .map_err(|e| PoolError::leaves(second, e))?;
        trees.unlink.remove(k)?;
        done += 1;
    }
    if done > 0 {
        trees.db.flush()?;
        info!(
            segments = done,
            "removed the segments of batches deleted just before a restart"
        );
    }
    Ok(())
}

fn recover_open_segment(
    trees: &PoolTrees,
    salt_key: &[u8; 32],
    second: Second,
) -> Result<Vec<(tickchain_sdk::Digest, tickchain_sdk::Salt)>, PoolError> {
    let io = |e| PoolError::leaves(second, e);
    let (mut leaves, torn) = trees.segments.read_torn(second).map_err(io)?;
    let good = leaves
        .iter()
        .enumerate()
        .position(|(i, (_, s))| *s != writer::salt(salt_key, second, i as u32))
        .unwrap_or(leaves.len());
    if torn || good < leaves.len() {
        tracing::warn!(
            second = second.0,
            kept = good,
            cut = leaves.len() - good,
            torn,
            "cut the unacknowledged tail of a batch left open by a crash"
        );
        leaves.truncate(good);
        trees.segments.truncate(second, good).map_err(io)?;
    } else {
        trees.segments.sync(second).map_err(io)?;
    }
    Ok(leaves)
}

/// Memory for batch trees cached for proof serving: 64 MiB, about 600,000 digests (a tree
/// costs about 112 bytes per digest; the newest tree is always kept, whatever its size).
const TREE_CACHE_BYTES: usize = 64 << 20;

/// Memory for chunks of cold batches read for proofs: 16 MiB, about 580 chunks of 256 leaves.
const CHUNK_CACHE_BYTES: usize = 16 << 20;
/// Memory for cold batches' chunk root trees: 8 MiB (64 bytes per 256 digests of a batch).
const UPPER_CACHE_BYTES: usize = 8 << 20;

/// The batch window until [`Pool::set_batch_window`] says otherwise (seconds): the consensus
/// core's default.
pub const DEFAULT_BATCH_WINDOW_SECS: u64 = 3600;

/// The pool's write side: submissions go to the writer thread.
pub struct Pool {
    tx: SyncSender<Command>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    failure: Arc<Failure>,
    batch_window_secs: Arc<AtomicU64>,
    disk: Arc<disk::DiskGuard>,
    index: Arc<index::DigestIndex>,
    /// The read side.
    pub reader: PoolReader,
}

/// A freshly opened pool.
pub struct Opened {
    /// The pool.
    pub pool: Arc<Pool>,
    /// Each batch the writer seals, to offer to the ring.
    pub sealed: mpsc::UnboundedReceiver<Batch>,
    /// Sealed batches not yet seen in a final tick (from before a restart), to offer again.
    pub unconfirmed: Vec<Batch>,
}

impl Pool {
    /// Opens the pool in `store`'s database, seals any batch a crash left open, and starts the
    /// writer thread.
    pub fn open(
        store: &crate::store::Store,
        key: &SigningKey,
        me: NodeId,
        genesis_hash: Hash,
        settings: &PoolSection,
        clock: ClockFn,
    ) -> Result<Opened, PoolError> {
        let trees = PoolTrees::open(store.db(), &store.dir().join("pool-leaves"))?;
        let salt_key = blake3::derive_key("tickchain pool salt v1", key.as_bytes());
        migrate_leaves(store.db(), &trees)?;
        let cache = Arc::new(TreeCache::new(TREE_CACHE_BYTES));
        let lead = Nanos::from_millis(settings.seal_lead_ms as i64);
        // Before anything reads the segments: those of deleted batches go (else the newest of
        // them would look like a batch left open below).
        finish_unlinks(&trees)?;
        // Batches left open by a crash: every segment after the last sealed second.
        let last_sealed = match trees.sealed.last()? {
            Some((k, _)) => Some(layout::second_from_key(&k)?),
            None => None,
        };
        let from = last_sealed.map_or(0, |s| s.0 + 1);
        let open_seconds = trees
            .segments
            .seconds_from(Second(from))
            .map_err(|e| PoolError::Leaves(e.to_string()))?;
        let mut newest = last_sealed;
        for second in open_seconds {
            let leaves = recover_open_segment(&trees, &salt_key, second)?;
            if leaves.is_empty() {
                trees
                    .segments
                    .remove(second)
                    .map_err(|e| PoolError::leaves(second, e))?;
                continue;
            }
            let (batch, tree) =
                writer::seal_leaves(&trees, key, me, &genesis_hash, second, leaves)?;
            info!(
                second = second.0,
                count = batch.count,
                "sealed a batch left open by a restart"
            );
            cache.insert(second, tree);
            newest = Some(second);
        }
        // Every sealed batch (those above included) is in an index run from here on.
        let index = Arc::new(index::DigestIndex::open(
            &store.dir().join("pool-index"),
            &trees,
            settings.dedup_window_secs,
        )?);
        // The duplicate window survives a restart: the digests of the batches sealed within
        // it are recent again, each at its earliest place (§1).
        let window_from =
            (clock().second_floor().max(0) as u64).saturating_sub(settings.dedup_window_secs);
        for kv in trees
            .sealed
            .range(layout::second_key(Second(window_from))..)
        {
            let (k, _) = kv?;
            let second = layout::second_from_key(&k)?;
            let leaves = trees
                .segments
                .read(second)
                .map_err(|e| PoolError::leaves(second, e))?;
            index.remember(second, leaves.into_iter().map(|(d, _)| d));
        }
        // Databases from before the index runs kept a B-tree of every digest.
        if store.db().tree_names().iter().any(|n| n == b"pool-digests") {
            store.db().drop_tree("pool-digests")?;
            info!("dropped the old digest B-tree; the index runs replace it");
        }
        let mut unconfirmed = Vec::new();
        let mut depth = 0u64;
        for kv in trees.pending.iter() {
            let (k, _) = kv?;
            let second = layout::second_from_key(&k)?;
            let Some(v) = trees.sealed.get(&k)? else {
                return Err(PoolError::Corrupt(format!(
                    "pending batch {} is not sealed",
                    second.0
                )));
            };
            let batch = layout::decode_sealed(me, second, &v)?;
            depth += u64::from(batch.count);
            unconfirmed.push(batch);
        }
        let depth = Arc::new(AtomicU64::new(depth));
        let now = clock();
        let open_at = Second(
            writer::open_second(now, lead)
                .0
                .max(newest.map_or(0, |s| s.0 + 1)),
        );
        let (sealed_tx, sealed) = mpsc::unbounded_channel();
        let (flush_tx, flush_rx) = std::sync::mpsc::channel();
        let failure = Arc::new(Failure::default());
        let flush_failure = failure.clone();
        let flusher = std::thread::Builder::new()
            .name("pool-flusher".into())
            .spawn(move || {
                crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
                writer::run_flusher(flush_rx, flush_failure)
            })
            .map_err(|e| PoolError::Corrupt(format!("cannot start the pool flusher: {e}")))?;
        index.start(
            trees.clone(),
            settings.retention_secs,
            clock.clone(),
            failure.clone(),
        )?;
        let batch_window_secs = Arc::new(AtomicU64::new(DEFAULT_BATCH_WINDOW_SECS));
        let disk = Arc::new(disk::DiskGuard::new(store.dir(), settings.min_free_bytes));
        let writer = writer::Writer {
            trees: trees.clone(),
            key: key.clone(),
            me,
            genesis_hash,
            lead,
            salt_key,
            open: writer::Open {
                second: open_at,
                leaves: Vec::new(),
                hashes: Vec::new(),
            },
            sealed_out: sealed_tx,
            cache: cache.clone(),
            depth: depth.clone(),
            max_depth: settings.max_pending_digests,
            retention: settings.retention_secs,
            clock,
            flusher: flush_tx,
            segment: None,
            cost_per_digest_ns: 5_000.0,
            cost_per_commit_ns: 1_000_000.0,
            seal_times: Default::default(),
            failure: failure.clone(),
            batch_window_secs: batch_window_secs.clone(),
            disk: disk.clone(),
            index: index.clone(),
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(settings.queue.max(1));
        let thread = std::thread::Builder::new()
            .name("pool-writer".into())
            .spawn(move || {
                crate::priority::lower_this_thread(crate::priority::INTAKE_NICE);
                writer.run(rx)
            })
            .map_err(|e| PoolError::Corrupt(format!("cannot start the pool writer: {e}")))?;
        let reader = PoolReader {
            trees,
            store: store.clone(),
            me,
            genesis_hash,
            cache,
            depth,
            index: index.clone(),
            caches: Arc::new(reader::ChunkCaches::new(
                CHUNK_CACHE_BYTES,
                UPPER_CACHE_BYTES,
            )),
        };
        Ok(Opened {
            pool: Arc::new(Pool {
                tx,
                thread: Mutex::new(Some(thread)),
                flusher: Mutex::new(Some(flusher)),
                failure,
                batch_window_secs,
                disk,
                index,
                reader,
            }),
            sealed,
            unconfirmed,
        })
    }

    /// Accepts `digests`; returns their receipts once every one is durable.
    pub async fn submit(&self, digests: Vec<Digest>) -> Result<Vec<Receipt>, SubmitError> {
        self.disk.check()?;
        let (reply, answer) = oneshot::channel();
        match self.tx.try_send(Command::Submit { digests, reply }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(SubmitError::Overloaded {
                    retry_after: Duration::from_millis(200),
                });
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(SubmitError::Storage("the node is stopping".into()));
            }
        }
        answer
            .await
            .map_err(|_| SubmitError::Storage("the node is stopping".into()))?
    }

    /// Sets the ring's batch window (`[consensus] batch-max-age-secs`): a pending batch of ours
    /// whose second lies further back is re-sealed (`specs/pool.md` §6). Default
    /// [`DEFAULT_BATCH_WINDOW_SECS`].
    pub fn set_batch_window(&self, window: Nanos) {
        let secs = (window.0 / 1_000_000_000).max(1) as u64;
        self.batch_window_secs
            .store(secs, std::sync::atomic::Ordering::Relaxed);
    }

    /// Index runs on disk and the entries in them.
    pub fn index_runs(&self) -> (usize, u64) {
        self.index.run_stats()
    }

    /// Submissions refused because the disk was below its reserve, since the pool opened.
    pub fn low_disk_refusals(&self) -> u64 {
        self.disk.refusals()
    }

    /// Why the pool stopped, if a storage failure stopped it.
    pub fn failure(&self) -> Option<&str> {
        self.failure.get()
    }

    /// Stops the writer after everything queued is answered, and waits for it (so the
    /// database can be reopened in the same process).
    pub fn stop(&self) {
        let _ = self.tx.send(Command::Stop);
        if let Some(t) = self.thread.lock().expect("thread lock").take() {
            let _ = t.join(); // the writer's end of the flusher channel goes with it
        }
        if let Some(t) = self.flusher.lock().expect("thread lock").take() {
            let _ = t.join();
        }
        self.index.stop();
    }
}
