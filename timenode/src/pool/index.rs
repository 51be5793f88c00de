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
/// Most entries in one level-0 run written while rebuilding the index (44 MiB of entries in
/// memory).
const REBUILD_ENTRIES: usize = 1 << 20;
/// How far into the second after a batch's own the indexer writes its run.
const INDEX_AFTER: tickchain_sdk::Nanos = tickchain_sdk::Nanos(300_000_000);
/// How long the indexer waits before it tries a failed run write again.
const RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// A sealed batch to index.
type Job = (Second, Arc<BatchTree>);

/// The recent digests: where each sits, and which digests each second added (so forgetting a
/// second costs its own digests, not a scan of the window).
#[derive(Debug, Default)]
pub struct Recent {
    map: HashMap<Digest, Location>,
    by_second: std::collections::BTreeMap<Second, Vec<Digest>>,
}

impl Recent {
    /// Where `digest` sits, if it is recent; otherwise it is recorded at `place()`.
    pub fn get_or_insert(&mut self, digest: Digest, place: impl FnOnce() -> Location) -> Location {
        match self.map.entry(digest) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let at = place();
                e.insert(at);
                self.by_second.entry(at.second).or_default().push(digest);
                at
            }
        }
    }

    /// Records `digest` at `at` (a move), replacing what was recorded.
    pub fn insert(&mut self, digest: Digest, at: Location) {
        self.map.insert(digest, at);
        self.by_second.entry(at.second).or_default().push(digest);
    }

    /// Forgets the digests of every second before `from` (those recorded since at a later
    /// second stay).
    fn forget_before(&mut self, from: Second) {
        while let Some(entry) = self.by_second.first_entry() {
            if *entry.key() >= from {
                break;
            }
            let (second, digests) = entry.remove_entry();
            for d in digests {
                if self.map.get(&d).is_some_and(|l| l.second == second) {
                    self.map.remove(&d);
                }
            }
        }
    }
}

/// The digest index of one node's pool.
pub struct DigestIndex {
    dir: PathBuf,
    /// Recent digests: the duplicate window and every batch not yet in a run.
    recent: RwLock<Recent>,
    /// The runs, oldest span first.
    runs: RwLock<Vec<Arc<Run>>>,
    /// One more than the newest second whose batch is in a run (0: none).
    indexed_to: AtomicU64,
    /// One more than the newest second the writer sealed (0: none).
    sealed_to: AtomicU64,
    /// Set by [`DigestIndex::stop`]: the threads stop without finishing queued work.
    stopping: std::sync::atomic::AtomicBool,
    jobs: Mutex<Option<Sender<Job>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    dedup_window_secs: u64,
}

fn plus_one(s: Option<Second>) -> u64 {
    s.map_or(0, |s| s.0.saturating_add(1))
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
        super::segments::create_durable_dir(dir).map_err(|e| index_error(dir, e))?;
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
                Err(e @ runs::RunError::Corrupt { .. }) => {
                    warn!(error = %e, "a damaged index run is rebuilt from the stored leaves");
                    std::fs::remove_file(&path).map_err(|e| index_error(&path, e))?;
                }
                // A run that cannot be read now (too many open files, an I/O error) is not
                // damaged: never deleted for it.
                Err(e) => return Err(PoolError::Index(e.to_string())),
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
            recent: RwLock::new(Recent::default()),
            indexed_to: AtomicU64::new(plus_one(runs.last().map(|r| r.span.last))),
            runs: RwLock::new(runs),
            sealed_to: AtomicU64::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
            jobs: Mutex::new(None),
            threads: Mutex::new(Vec::new()),
            dedup_window_secs,
        };
        for (from, to) in gaps {
            index.reindex(trees, from, to)?;
        }
        // Every second a run covers was sealed once, even if its batch was pruned since.
        let mut sealed_to = index.indexed_to.load(Ordering::SeqCst);
        if let Some((k, _)) = trees.sealed.last()? {
            sealed_to = sealed_to.max(layout::second_from_key(&k)?.0.saturating_add(1));
        }
        index.sealed_to.store(sealed_to, Ordering::SeqCst);
        Ok(index)
    }

    /// Indexes every sealed batch from `from` (to `to`, inclusive) from its stored leaves:
    /// consecutive batches share a level-0 run of up to [`REBUILD_ENTRIES`] entries, and runs
    /// are merged as they accumulate, so a rebuild of any size keeps few files open. A batch
    /// whose segment cannot be read is logged and left out (its proofs fail either way).
    fn reindex(
        &self,
        trees: &PoolTrees,
        from: Second,
        to: Option<Second>,
    ) -> Result<(), PoolError> {
        let lo = layout::second_key(from);
        let keys = match to {
            Some(to) => trees.sealed.range(lo..=layout::second_key(to)),
            None => trees.sealed.range(lo..),
        }
        .keys();
        let mut entries = Vec::new();
        let mut span: Option<(Second, Second)> = None;
        let mut batches = 0usize;
        for k in keys {
            let second = layout::second_from_key(&k?)?;
            match super::reader::read_batch_leaves(trees, second) {
                Ok(leaves) => entries.extend(runs::batch_entries(second, &leaves)),
                Err(e) => {
                    tracing::error!(second = second.0, error = %e, "cannot index a batch");
                }
            }
            span = Some((span.map_or(second, |s| s.0), second));
            batches += 1;
            if entries.len() >= REBUILD_ENTRIES {
                let (first, last) = span.take().expect("a batch was read");
                self.publish(
                    Span {
                        level: 0,
                        first,
                        last,
                    },
                    std::mem::take(&mut entries),
                )?;
                while let Some(inputs) = self.plan() {
                    self.merge(&inputs, |_| true)?;
                }
            }
        }
        if let Some((first, last)) = span {
            self.publish(
                Span {
                    level: 0,
                    first,
                    last,
                },
                entries,
            )?;
        }
        if batches > 0 {
            info!(batches, "indexed sealed batches from their stored leaves");
        }
        Ok(())
    }

    fn publish(&self, span: Span, entries: Vec<runs::Entry>) -> Result<(), PoolError> {
        let run =
            Run::write(&self.dir, span, entries).map_err(|e| PoolError::Index(e.to_string()))?;
        let mut list = self.runs.write().expect("runs lock");
        list.push(Arc::new(run));
        list.sort_by_key(|r| (r.span.first, r.span.last));
        drop(list);
        self.indexed_to
            .fetch_max(span.last.0.saturating_add(1), Ordering::SeqCst);
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
        let indexer_clock = clock.clone();
        let indexer = std::thread::Builder::new()
            .name("pool-indexer".into())
            .spawn(move || me.run_indexer(rx, merge_tx, indexer_clock, fail))
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

    /// Stops both threads and waits for them; batches still queued are left to the next
    /// start, which indexes them from their leaves.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.jobs.lock().expect("jobs lock").take();
        for t in self.threads.lock().expect("threads lock").drain(..) {
            let _ = t.join();
        }
    }

    /// Writes a level-0 run per sealed batch, in order. A failed write (a full disk) is
    /// retried every [`RETRY`] until it succeeds or the pool stops: acknowledgements never
    /// wait for the index, and the batch's digests stay in the recent map meanwhile.
    fn run_indexer(
        &self,
        rx: Receiver<Job>,
        merge: Sender<()>,
        clock: ClockFn,
        failure: Arc<Failure>,
    ) {
        crate::priority::lower_this_thread(crate::priority::BACKGROUND_NICE);
        while let Ok((second, tree)) = rx.recv() {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            // The batch of `s` is sealed just before `s + 1`, when the ring finalizes a tick:
            // its run waits until that is done, so sorting, writing and merging stay off the
            // second boundary.
            let after = Second(second.0.saturating_add(1))
                .start()
                .saturating_add(INDEX_AFTER);
            let wait = after.0.saturating_sub((clock)().0);
            if wait > 0 {
                std::thread::sleep(std::time::Duration::from_nanos(
                    (wait as u64).min(1_000_000_000),
                ));
            }
            let entries = runs::batch_entries(second, &tree.leaves);
            let span = Span {
                level: 0,
                first: second,
                last: second,
            };
            let mut logged = false;
            while let Err(e) = self.publish(span, entries.clone()) {
                let _ = std::fs::remove_file(self.dir.join(format!("{}.tmp", span.file_name())));
                if !logged {
                    warn!(second = second.0, error = %e, "cannot write an index run; retrying");
                    logged = true;
                }
                if failure.get().is_some() || self.stopping.load(Ordering::SeqCst) {
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
        crate::priority::lower_this_thread(crate::priority::BACKGROUND_NICE);
        while rx.recv().is_ok() {
            while let Some(inputs) = self.plan() {
                if self.stopping.load(Ordering::SeqCst) {
                    return;
                }
                // A failed merge (a full disk) changes nothing: its inputs stay, and it is
                // tried again after the next run is written.
                let merged =
                    expiry(&trees, retention, &clock).and_then(|keep| self.merge(&inputs, keep));
                if let Err(e) = merged {
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

    /// The oldest [`FANOUT`] runs of the lowest level among runs next to each other (no
    /// other run's seconds between them), if any: a merge never spans another run, so runs
    /// never overlap and a run inside another's range is always a merge's leftover input.
    fn plan(&self) -> Option<Vec<Arc<Run>>> {
        let list = self.runs.read().expect("runs lock");
        let mut best: Option<(u8, usize)> = None;
        let mut i = 0;
        while i < list.len() {
            let level = list[i].span.level;
            let mut j = i;
            while j < list.len() && list[j].span.level == level {
                j += 1;
            }
            if j - i >= FANOUT && best.is_none_or(|(l, _)| level < l) {
                best = Some((level, i));
            }
            i = j;
        }
        best.map(|(_, i)| list[i..i + FANOUT].to_vec())
    }

    /// Merges `inputs` into one run of the next level, dropping entries `keep` refuses, then
    /// swaps it in and removes the inputs.
    fn merge(&self, inputs: &[Arc<Run>], keep: impl Fn(Location) -> bool) -> Result<(), PoolError> {
        let span = merge_span(inputs);
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
    pub fn recent(&self) -> std::sync::RwLockWriteGuard<'_, Recent> {
        self.recent.write().expect("recent lock")
    }

    /// Remembers the digests of `second`'s sealed batch, in leaf order, as recent (a digest
    /// already recorded keeps its earlier place): the duplicate window rebuilt at open.
    pub fn remember(&self, second: Second, digests: impl IntoIterator<Item = Digest>) {
        let mut recent = self.recent();
        for (index, d) in (0u32..).zip(digests) {
            recent.get_or_insert(d, || Location { second, index });
        }
    }

    /// Forgets recent digests older than the duplicate window whose batch is in a run.
    pub fn forget_old(&self, now: Second) {
        let indexed_to = self.indexed_to.load(Ordering::SeqCst);
        let keep_from = now.0.saturating_sub(self.dedup_window_secs).min(indexed_to);
        self.recent
            .write()
            .expect("recent lock")
            .forget_before(Second(keep_from));
    }

    /// Every location recorded for `digest`, earliest first, duplicates removed. The recent
    /// map is read before the runs, so a digest moved from it into a run is not missed.
    pub fn candidates(&self, digest: &Digest) -> Result<Vec<Location>, PoolError> {
        let mut out: Vec<Location> = self
            .recent
            .read()
            .expect("recent lock")
            .map
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

/// Which entries a merge keeps: all, or (with retention) those of batches inside the
/// retention period or still pending.
fn expiry(
    trees: &PoolTrees,
    retention: Option<u64>,
    clock: &ClockFn,
) -> Result<impl Fn(Location) -> bool + use<>, PoolError> {
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
    Ok(move |l: Location| cutoff.is_none_or(|c| l.second.0 >= c || pending.contains(&l.second)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn index_with(dir: &Path, spans: &[(u8, u64, u64)]) -> DigestIndex {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        let runs = spans
            .iter()
            .map(|&(level, first, last)| {
                let span = Span {
                    level,
                    first: Second(first),
                    last: Second(last),
                };
                Arc::new(Run::write(dir, span, Vec::new()).unwrap())
            })
            .collect();
        DigestIndex {
            dir: dir.to_owned(),
            recent: RwLock::new(Recent::default()),
            runs: RwLock::new(runs),
            indexed_to: AtomicU64::new(0),
            sealed_to: AtomicU64::new(0),
            stopping: std::sync::atomic::AtomicBool::new(false),
            jobs: Mutex::new(None),
            threads: Mutex::new(Vec::new()),
            dedup_window_secs: 10,
        }
    }

    fn planned(index: &DigestIndex) -> Option<Vec<(u8, u64, u64)>> {
        index.plan().map(|rs| {
            rs.iter()
                .map(|r| (r.span.level, r.span.first.0, r.span.last.0))
                .collect()
        })
    }

    #[test]
    fn a_merge_takes_only_runs_next_to_each_other_so_runs_never_overlap() {
        let dir = std::env::temp_dir().join(format!("tc-index-plan-{}", std::process::id()));
        // A straggler re-indexed at 10 and seven new level-0 runs after a level-1 run: the
        // straggler must not join them (their merge would span the level-1 run).
        let mut spans = vec![(0, 10, 10), (1, 64, 127)];
        spans.extend((130..137).map(|s| (0, s, s)));
        let index = index_with(&dir, &spans);
        assert_eq!(planned(&index), None, "only 7 neighbours");
        drop(index);
        spans.push((0, 137, 137));
        let index = index_with(&dir, &spans);
        let want: Vec<_> = (130..138).map(|s| (0, s, s)).collect();
        assert_eq!(planned(&index), Some(want));
        index.merge(&index.plan().unwrap(), |_| true).unwrap();
        let list: Vec<_> = index
            .runs
            .read()
            .unwrap()
            .iter()
            .map(|r| (r.span.level, r.span.first.0, r.span.last.0))
            .collect();
        assert_eq!(list, vec![(0, 10, 10), (1, 64, 127), (1, 130, 137)]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
