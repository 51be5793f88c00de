//! The request pool: the digests this node accepted, made durable in group commits, sealed
//! into one signed batch per second, and everything needed to serve their proofs.
//!
//! Owns: acceptance (durable before acknowledged), sealing, re-sealing batches that outlived
//! the ring's batch window, proof assembly and retention (`specs/pool.md`; §4 for the stored
//! layout, §6 for re-sealing). Never: offers batches to the ring or decides
//! which tick carries them (the node and the consensus core do).
//!
//! ```text
//! API submit ─▶ queue ─▶ writer thread: assign (second, index), salt, write ─▶ flusher: flush ─▶ receipts
//!                        at second end − lead: seal, sign ─▶ node: broadcast Batch, core
//! node: final tick carrying our batch ─▶ mark_included ─▶ reader: proofs
//! writer, every second: a pending batch older than the batch window ─▶ re-sealed into the open batch
//! ```

pub mod cache;
pub mod disk;
pub mod layout;
pub mod reader;
pub mod reseal;
pub mod writer;

use crate::config::PoolSection;
use ed25519_dalek::SigningKey;
use std::collections::BTreeMap;
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
}

/// Memory for batch trees cached for proof serving: 64 MiB, about 600,000 digests (a tree
/// costs about 112 bytes per digest; the newest tree is always kept, whatever its size).
const TREE_CACHE_BYTES: usize = 64 << 20;

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
        let trees = PoolTrees::open(store.db())?;
        let cache = Arc::new(TreeCache::new(TREE_CACHE_BYTES));
        let lead = Nanos::from_millis(settings.seal_lead_ms as i64);
        // Batches left open by a crash: every leaf after the last sealed second.
        let last_sealed = match trees.sealed.last()? {
            Some((k, _)) => Some(layout::second_from_key(&k)?),
            None => None,
        };
        let from = last_sealed.map_or(0, |s| s.0 + 1);
        let mut open_seconds = BTreeMap::new();
        for kv in trees.leaves.range(
            layout::Location {
                second: Second(from),
                index: 0,
            }
            .to_bytes()..,
        ) {
            let (k, _) = kv?;
            open_seconds.insert(layout::Location::from_bytes(&k)?.second, ());
        }
        let mut newest = last_sealed;
        for second in open_seconds.keys() {
            let leaves = reader::read_batch_leaves(&trees, *second)?;
            let (batch, tree) =
                writer::seal_leaves(&trees, key, me, &genesis_hash, *second, leaves)?;
            info!(
                second = second.0,
                count = batch.count,
                "sealed a batch left open by a restart"
            );
            cache.insert(*second, tree);
            newest = Some(*second);
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
        let flush_db = trees.db.clone();
        let failure = Arc::new(Failure::default());
        let flush_failure = failure.clone();
        let flusher = std::thread::Builder::new()
            .name("pool-flusher".into())
            .spawn(move || writer::run_flusher(flush_db, flush_rx, flush_failure))
            .map_err(|e| PoolError::Corrupt(format!("cannot start the pool flusher: {e}")))?;
        let salt_key = blake3::derive_key("tickchain pool salt v1", key.as_bytes());
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
            },
            sealed_out: sealed_tx,
            cache: cache.clone(),
            depth: depth.clone(),
            max_depth: settings.max_pending_digests,
            retention: settings.retention_secs,
            clock,
            flusher: flush_tx,
            cost_per_digest_ns: 5_000.0,
            cost_per_commit_ns: 1_000_000.0,
            failure: failure.clone(),
            batch_window_secs: batch_window_secs.clone(),
            disk: disk.clone(),
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(settings.queue.max(1));
        let thread = std::thread::Builder::new()
            .name("pool-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| PoolError::Corrupt(format!("cannot start the pool writer: {e}")))?;
        let reader = PoolReader {
            trees,
            store: store.clone(),
            me,
            genesis_hash,
            cache,
            depth,
        };
        Ok(Opened {
            pool: Arc::new(Pool {
                tx,
                thread: Mutex::new(Some(thread)),
                flusher: Mutex::new(Some(flusher)),
                failure,
                batch_window_secs,
                disk,
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
    }
}
