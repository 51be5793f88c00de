//! The digest index: where each accepted digest sits, without a B-tree operation per digest.
//!
//! Owns: the in-memory map of recent digests (the duplicate window, and every digest whose
//! batch is not yet in a run), writing one level-0 run per sealed batch on its own thread,
//! merging runs in tiers on another, recovering the runs at startup (re-indexing from the
//! stored leaves whatever a crash or a damaged file left out), and answering lookups with
//! every candidate location (`specs/pool.md` §1, §4.1). Never: the source of truth (the leaf
//! segments are; every run can be rebuilt from them), on the acknowledgement path, a reason to
//! stop the pool (a failed run write is retried, a failed merge waits for the next), or decides
//! which candidate location is valid (the reader does).

use super::PoolError;
use super::cache::BatchTree;
use super::layout::{self, Location, PoolTrees};
use super::runs::{self, Run, Span};
use super::writer::{ClockFn, Failure};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, RwLock};
use tickchain_sdk::{Digest, Second};
use tracing::{debug, info, warn};

/// Runs of one level merged into one run of the next level.
pub const FANOUT: usize = 8;
/// How long the indexer waits before it tries a failed run write again.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A sealed batch to index.
type Job = (Second, Arc<BatchTree>);

/// The digest index of one node's pool.
pub struct DigestIndex {
    dir: PathBuf,
    /// Recent digests: the duplicate window and every batch not yet in a run.
    recent: RwLock<HashMap<Digest, Location>>,
    /// The runs, oldest span first.
    runs: RwLock<Vec<Arc<Run>>>,
    /// One more than the newest second whose batch is in a run (0: none).
    indexed_to: AtomicU64,
    /// One more than the newest second the writer sealed (0: none).
    sealed_to: AtomicU64,
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    dedup_window_secs: u64,
}

fn plus_one(s: Option<Second>) -> u64 {
    s.map_or(0, |s| s.0 + 1)
}

impl DigestIndex {
    /// Opens the runs in `dir` (creating it), removes what an interrupted write or merge left,
    /// and indexes from the stored leaves every sealed batch no run covers (a damaged or lost
    /// run, a batch sealed just before a crash, a database from before the index runs), so
    /// every sealed batch is in a run when this returns.
    pub fn open(
        dir: &Path,
        trees: &PoolTrees,
        dedup_window_secs: u64,
    ) -> Result<DigestIndex, PoolError> {
        std::fs::create_dir_all(dir).map_err(|e| index_error(dir, e))?;
        let mut runs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| index_error(dir, e))? {
            let path = entry.map_err(|e| index_error(dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tmp") {
                std::fs::remove_file(&path).map_err(|e| index_error(&path, e))?;
                continue;
            }
            if Span::parse(name).is_none() {
                warn!(file = %path.display(), "not an index run; left alone");
                continue;
            }
            match Run::open(&path) {
                Ok(run) => runs.push(Arc::new(run)),
                Err(e) => {
                    warn!(error = %e, "a damaged index run is rebuilt from the stored leaves");
                    std::fs::remove_file(&path).map_err(|e| index_error(&path, e))?;
                }
            }
        }
        // Inputs of a merge that was published but not cleaned up lie inside its output.
        let spans: Vec<Span> = runs.iter().map(|r| r.span).collect();
        runs.retain(|r| {
            let leftover = spans.iter().any(|s| r.span.inside(s));
            if leftover {
                let _ = std::fs::remove_file(&r.path);
            }
            !leftover
        });
        runs.sort_by_key(|r| (r.span.first, r.span.last));
        // The seconds no run covers: before the first, between two, after the last.
        let mut gaps = Vec::new();
        let mut next = Second(0);
        for r in &runs {
            if r.span.first > next {
                gaps.push((next, Some(Second(r.span.first.0 - 1))));
            }
            next = Second(next.0.max(r.span.last.0.saturating_add(1)));
        }
        gaps.push((next, None));
        let index = DigestIndex {
            dir: dir.to_owned(),
            recent: RwLock::new(HashMap::new()),
            indexed_to: AtomicU64::new(plus_one(runs.last().map(|r| r.span.last))),
            runs: RwLock::new(runs),
            sealed_to: AtomicU64::new(0),
            jobs: Mutex::new(None),
            threads: Mutex::new(Vec::new()),
            dedup_window_secs,
        };
        for (from, to) in gaps {
            index.reindex(trees, from, to)?;
        }
        if let Some((k, _)) = trees.sealed.last()? {
            index
                .sealed_to
                .store(layout::second_from_key(&k)?.0 + 1, Ordering::SeqCst);
        }
        Ok(index)
    }

    /// Writes a level-0 run for every sealed batch from `from` (to `to`, inclusive), from its
    /// stored leaves.
    fn reindex(
        &self,
        trees: &PoolTrees,
        from: Second,
        to: Option<Second>,
    ) -> Result<(), PoolError> {
        let lo = layout::second_key(from);
        let keys: Vec<Second> = match to {
            Some(to) => trees.sealed.range(lo..=layout::second_key(to)),
            None => trees.sealed.range(lo..),
        }
        .keys()
        .map(|k| Ok(layout::second_from_key(&k?)?))
        .collect::<Result<_, PoolError>>()?;
        let n = keys.len();
        for second in keys {
            let leaves = super::reader::read_batch_leaves(trees, second)?;
            let entries = leaves
                .iter()
                .enumerate()
                .map(|(i, (d, _))| {
                    runs::entry(
                        d,
                        Location {
                            second,
                            index: i as u32,
                        },
                    )
                })
                .collect();
            self.publish_level0(second, entries)?;
        }
        if n > 0 {
            info!(
                batches = n,
                "indexed sealed batches from their stored leaves"
            );
        }
        Ok(())
    }

    fn publish_level0(&self, second: Second, entries: Vec<runs::Entry>) -> Result<(), PoolError> {
        let span = Span {
            level: 0,
            first: second,
            last: second,
        };
        let run =
            Run::write(&self.dir, span, entries).map_err(|e| PoolError::Index(e.to_string()))?;
        let mut list = self.runs.write().expect("runs lock");
        list.push(Arc::new(run));
        list.sort_by_key(|r| (r.span.first, r.span.last));
        drop(list);
        self.indexed_to
            .fetch_max(second.0.saturating_add(1), Ordering::SeqCst);
        Ok(())
    }

    /// Starts the thread that writes a run per sealed batch and the one that merges runs.
    pub fn start(
        self: &Arc<Self>,
        trees: PoolTrees,
        retention: Option<u64>,
        clock: ClockFn,
        failure: Arc<Failure>,
    ) -> Result<(), PoolError> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let (merge_tx, merge_rx) = std::sync::mpsc::channel::<()>();
        let me = self.clone();
        let fail = failure.clone();
        let indexer = std::thread::Builder::new()
            .name("pool-indexer".into())
            .spawn(move || me.run_indexer(rx, merge_tx, fail))
            .map_err(|e| PoolError::Index(format!("cannot start the pool indexer: {e}")))?;
        let me = self.clone();
        let compactor = std::thread::Builder::new()
            .name("pool-compactor".into())
            .spawn(move || me.run_compactor(merge_rx, trees, retention, clock, failure))
            .map_err(|e| PoolError::Index(format!("cannot start the pool compactor: {e}")))?;
        *self.jobs.lock().expect("jobs lock") = Some(tx);
        self.threads
            .lock()
            .expect("threads lock")
            .extend([indexer, compactor]);
        Ok(())
    }

    /// Stops both threads after the queued batches are indexed, and waits for them.
    pub fn stop(&self) {
        self.jobs.lock().expect("jobs lock").take();
        for t in self.threads.lock().expect("threads lock").drain(..) {
            let _ = t.join();
        }
    }

    /// Writes a level-0 run per sealed batch, in order. A failed write (a full disk) is
    /// retried every [`RETRY`] until it succeeds or the pool stops: acknowledgements never
    /// wait for the index, and the batch's digests stay in the recent map meanwhile.
    fn run_indexer(&self, rx: Receiver<Job>, merge: Sender<()>, failure: Arc<Failure>) {
        while let Ok((second, tree)) = rx.recv() {
            let entries: Vec<runs::Entry> = tree
                .leaves
                .iter()
                .enumerate()
                .map(|(i, (d, _))| {
                    runs::entry(
                        d,
                        Location {
                            second,
                            index: i as u32,
                        },
                    )
                })
                .collect();
            let mut logged = false;
            while let Err(e) = self.publish_level0(second, entries.clone()) {
                let _ = std::fs::remove_file(self.dir.join(format!(
                    "{}.tmp",
                    Span {
                        level: 0,
                        first: second,
                        last: second
                    }
                    .file_name()
                )));
                if !logged {
                    warn!(second = second.0, error = %e, "cannot write an index run; retrying");
                    logged = true;
                }
                if failure.get().is_some() {
                    return;
                }
                std::thread::sleep(RETRY);
            }
            let _ = merge.send(());
        }
    }

    fn run_compactor(
        &self,
        rx: Receiver<()>,
        trees: PoolTrees,
        retention: Option<u64>,
        clock: ClockFn,
        failure: Arc<Failure>,
    ) {
        while rx.recv().is_ok() {
            while let Some(inputs) = self.plan() {
                // A failed merge (a full disk) changes nothing: its inputs stay, and it is
                // tried again after the next run is written.
                if let Err(e) = self.merge(&inputs, &trees, retention, &clock) {
                    warn!(error = %e, "cannot merge index runs; will retry");
                    let tmp = format!("{}.tmp", merge_span(&inputs).file_name());
                    let _ = std::fs::remove_file(self.dir.join(tmp));
                    if failure.get().is_some() {
                        return;
                    }
                    break;
                }
            }
        }
    }

    /// The oldest [`FANOUT`] runs of the lowest level that has that many, if any.
    fn plan(&self) -> Option<Vec<Arc<Run>>> {
        let list = self.runs.read().expect("runs lock");
        let mut by_level: HashMap<u8, Vec<Arc<Run>>> = HashMap::new();
        for r in list.iter() {
            by_level.entry(r.span.level).or_default().push(r.clone());
        }
        let level = by_level
            .iter()
            .filter(|(_, rs)| rs.len() >= FANOUT)
            .map(|(l, _)| *l)
            .min()?;
        let mut rs = by_level.remove(&level).expect("level present");
        rs.truncate(FANOUT);
        Some(rs)
    }

    /// Merges `inputs` into one run of the next level, dropping entries of batches past
    /// retention (unless still pending), then swaps it in and removes the inputs.
    fn merge(
        &self,
        inputs: &[Arc<Run>],
        trees: &PoolTrees,
        retention: Option<u64>,
        clock: &ClockFn,
    ) -> Result<(), PoolError> {
        let span = merge_span(inputs);
        let now = (clock)().second_floor().max(0) as u64;
        let cutoff = retention.map(|keep| now.saturating_sub(keep));
        let pending: HashSet<Second> = match cutoff {
            Some(_) => trees
                .pending
                .iter()
                .keys()
                .map(|k| Ok(layout::second_from_key(&k?)?))
                .collect::<Result<_, PoolError>>()?,
            None => HashSet::new(),
        };
        let keep =
            |l: Location| cutoff.is_none_or(|c| l.second.0 >= c || pending.contains(&l.second));
        let merged = Run::merge(&self.dir, span, inputs, keep)
            .map_err(|e| PoolError::Index(e.to_string()))?;
        debug!(
            level = span.level,
            entries = merged.count(),
            "merged index runs"
        );
        let mut list = self.runs.write().expect("runs lock");
        list.retain(|r| !inputs.iter().any(|i| Arc::ptr_eq(i, r)));
        list.push(Arc::new(merged));
        list.sort_by_key(|r| (r.span.first, r.span.last));
        drop(list);
        for r in inputs {
            // Readers still holding the run keep reading the unlinked file.
            std::fs::remove_file(&r.path).map_err(|e| index_error(&r.path, e))?;
        }
        Ok(())
    }

    /// The writer sealed `second`'s batch: it is queued for its run.
    pub fn sealed(&self, second: Second, tree: Arc<BatchTree>) {
        self.sealed_to.fetch_max(second.0 + 1, Ordering::SeqCst);
        if let Some(tx) = self.jobs.lock().expect("jobs lock").as_ref() {
            let _ = tx.send((second, tree));
        }
    }

    /// Whether `second`'s batch is sealed (or was, before retention or re-sealing removed it).
    pub fn is_sealed(&self, second: Second) -> bool {
        second.0 < self.sealed_to.load(Ordering::SeqCst)
    }

    /// The recent digests, for the writer: it looks duplicates up and records new digests
    /// under one lock per group commit.
    pub fn recent(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<Digest, Location>> {
        self.recent.write().expect("recent lock")
    }

    /// Forgets recent digests older than the duplicate window whose batch is in a run.
    pub fn forget_old(&self, now: Second) {
        let indexed_to = self.indexed_to.load(Ordering::SeqCst);
        let keep_from = now.0.saturating_sub(self.dedup_window_secs);
        self.recent
            .write()
            .expect("recent lock")
            .retain(|_, l| l.second.0 >= keep_from || l.second.0 >= indexed_to);
    }

    /// Every location recorded for `digest`, earliest first, duplicates removed. The recent
    /// map is read before the runs, so a digest moved from it into a run is not missed.
    pub fn candidates(&self, digest: &Digest) -> Result<Vec<Location>, PoolError> {
        let mut out: Vec<Location> = self
            .recent
            .read()
            .expect("recent lock")
            .get(digest)
            .copied()
            .into_iter()
            .collect();
        let list: Vec<Arc<Run>> = self.runs.read().expect("runs lock").clone();
        for run in list {
            out.extend(
                run.lookup(digest)
                    .map_err(|e| PoolError::Index(e.to_string()))?,
            );
        }
        out.sort_by_key(|l| (l.second, l.index));
        out.dedup();
        Ok(out)
    }

    /// Runs on disk and entries in them, for status and tests.
    pub fn run_stats(&self) -> (usize, u64) {
        let list = self.runs.read().expect("runs lock");
        (list.len(), list.iter().map(|r| r.count()).sum())
    }
}

/// The span of the run merging `inputs` (one level up, from the first to the last second).
fn merge_span(inputs: &[Arc<Run>]) -> Span {
    Span {
        level: inputs[0].span.level.saturating_add(1),
        first: inputs.iter().map(|r| r.span.first).min().expect("inputs"),
        last: inputs.iter().map(|r| r.span.last).max().expect("inputs"),
    }
}

fn index_error(path: &Path, e: std::io::Error) -> PoolError {
    PoolError::Index(format!("{}: {e}", path.display()))
}
