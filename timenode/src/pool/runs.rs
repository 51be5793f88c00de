//! Index runs: immutable, sorted files of `digest → location` entries, the on-disk half of the
//! pool's digest index (`specs/pool.md` §4).
//!
//! Owns: the run file format (entries sorted bytewise, a fence per block of entries, a footer
//! and a BLAKE3 checksum), writing a run durably (temporary file, fsync, rename, directory
//! fsync), opening one with every length, order and checksum checked, looking a digest up with
//! one block read, and merging runs into one. Never: decides which runs exist or when to merge
//! them (the index does), or trusts a byte of a file it did not check.

use super::location::Location;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tickchain_sdk::{Digest, Second};

/// Bytes of one entry: `digest 32 ‖ second u64 ‖ index u32`.
pub const ENTRY_BYTES: usize = 32 + 8 + 4;
/// Entries per block; the file keeps the first digest of each block (a fence) so a lookup
/// reads one block.
pub const BLOCK_ENTRIES: usize = 64;
/// `count u64 ‖ first u64 ‖ last u64 ‖ level u8 ‖ magic 7`.
const FOOTER_BYTES: usize = 32;
/// Marks the footer of a run file, format version 1.
const MAGIC: &[u8; 7] = b"TCRUN01";
/// The BLAKE3 hash of everything before it.
const CHECKSUM_BYTES: usize = 32;
/// Entries written between two syncs of a run being written (about 4 MiB).
const SYNC_EVERY_ENTRIES: u64 = 100_000;

/// One entry as it is stored (and sorted: bytewise, so by digest, then second, then index).
pub type Entry = [u8; ENTRY_BYTES];

/// Why a run could not be written, read or merged.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The filesystem failed.
    #[error("index run {path}: {source}")]
    Io {
        /// The run's file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a valid run.
    #[error("index run {path} is corrupt: {reason}")]
    Corrupt {
        /// The run's file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_owned(),
        source,
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> RunError {
    RunError::Corrupt {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// The entry of `digest` at `at`.
pub fn entry(digest: &Digest, at: Location) -> Entry {
    let mut e = [0u8; ENTRY_BYTES];
    e[..32].copy_from_slice(&digest.0);
    e[32..].copy_from_slice(&at.to_bytes());
    e
}

/// The entries of one batch's leaves (`second`'s, in leaf order), unsorted.
pub fn batch_entries<S>(second: Second, leaves: &[(Digest, S)]) -> Vec<Entry> {
    leaves
        .iter()
        .enumerate()
        .map(|(i, (d, _))| {
            entry(
                d,
                Location {
                    second,
                    index: i as u32,
                },
            )
        })
        .collect()
}

/// The location an entry names.
pub fn location(e: &Entry) -> Location {
    Location {
        second: Second(u64::from_be_bytes(e[32..40].try_into().expect("8 bytes"))),
        index: u32::from_be_bytes(e[40..44].try_into().expect("4 bytes")),
    }
}

/// What a run covers: its level in the merge tiers and the seconds of its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// 0 for a run written from one sealed batch, `k + 1` for a merge of level-`k` runs.
    pub level: u8,
    /// The first second covered.
    pub first: Second,
    /// The last second covered (inclusive).
    pub last: Second,
}

impl Span {
    /// The run's file name: `LL-FIRST-LAST.run`, zero-padded so names sort by level, then age.
    pub fn file_name(&self) -> String {
        format!(
            "{:02}-{:020}-{:020}.run",
            self.level, self.first.0, self.last.0
        )
    }

    /// Reads a file name written by [`Span::file_name`]; `None` for anything else.
    pub fn parse(name: &str) -> Option<Span> {
        let stem = name.strip_suffix(".run")?;
        let mut parts = stem.split('-');
        let (l, f, t) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || l.len() != 2 || f.len() != 20 || t.len() != 20 {
            return None;
        }
        let span = Span {
            level: l.parse().ok()?,
            first: Second(f.parse().ok()?),
            last: Second(t.parse().ok()?),
        };
        (span.first <= span.last).then_some(span)
    }

    /// Whether this span lies inside `other` (and is not the same run).
    pub fn inside(&self, other: &Span) -> bool {
        self != other && other.first <= self.first && self.last <= other.last
    }
}

/// An open, checked run: its file and its fences in memory.
#[derive(Debug)]
pub struct Run {
    /// Level and seconds.
    pub span: Span,
    /// Where it lives.
    pub path: PathBuf,
    file: File,
    count: u64,
    fences: Vec<[u8; 32]>,
}

fn blocks(count: u64) -> u64 {
    count.div_ceil(BLOCK_ENTRIES as u64)
}

/// Writes entries, fences, footer and checksum to a temporary file, then publishes it.
struct RunWriter {
    tmp: PathBuf,
    out: BufWriter<File>,
    hasher: blake3::Hasher,
    fences: Vec<[u8; 32]>,
    count: u64,
    last: Option<Entry>,
}

impl RunWriter {
    fn create(dir: &Path, span: &Span) -> Result<RunWriter, RunError> {
        let tmp = dir.join(format!("{}.tmp", span.file_name()));
        let file = File::create(&tmp).map_err(io(&tmp))?;
        Ok(RunWriter {
            out: BufWriter::with_capacity(1 << 20, file),
            tmp,
            hasher: blake3::Hasher::new(),
            fences: Vec::new(),
            count: 0,
            last: None,
        })
    }

    fn put(&mut self, e: &Entry) -> Result<(), RunError> {
        debug_assert!(self.last.is_none_or(|l| l <= *e), "entries out of order");
        if self.count.is_multiple_of(BLOCK_ENTRIES as u64) {
            self.fences.push(e[..32].try_into().expect("32 bytes"));
        }
        self.hasher.update(e);
        self.out.write_all(e).map_err(io(&self.tmp))?;
        self.count += 1;
        // A large run is synced as it is written, so it never leaves a backlog of dirty pages
        // that a consensus fsync would have to wait behind.
        if self.count.is_multiple_of(SYNC_EVERY_ENTRIES) {
            self.out.flush().map_err(io(&self.tmp))?;
            self.out.get_ref().sync_data().map_err(io(&self.tmp))?;
        }
        self.last = Some(*e);
        Ok(())
    }

    /// Finishes the file, makes it durable and renames it into place.
    fn publish(mut self, dir: &Path, span: Span) -> Result<Run, RunError> {
        let mut tail = Vec::with_capacity(self.fences.len() * 32 + FOOTER_BYTES);
        for f in &self.fences {
            tail.extend_from_slice(f);
        }
        tail.extend_from_slice(&self.count.to_be_bytes());
        tail.extend_from_slice(&span.first.0.to_be_bytes());
        tail.extend_from_slice(&span.last.0.to_be_bytes());
        tail.push(span.level);
        tail.extend_from_slice(MAGIC);
        self.hasher.update(&tail);
        tail.extend_from_slice(self.hasher.finalize().as_bytes());
        self.out.write_all(&tail).map_err(io(&self.tmp))?;
        let file = self
            .out
            .into_inner()
            .map_err(|e| io(&self.tmp)(e.into_error()))?;
        file.sync_all().map_err(io(&self.tmp))?;
        let path = dir.join(span.file_name());
        std::fs::rename(&self.tmp, &path).map_err(io(&path))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
        drop(file);
        let file = File::open(&path).map_err(io(&path))?;
        Ok(Run {
            span,
            path,
            file,
            count: self.count,
            fences: self.fences,
        })
    }
}

impl Run {
    /// Writes the level-0 run of one batch's `entries` (sorted here) into `dir`, durably.
    pub fn write(dir: &Path, span: Span, mut entries: Vec<Entry>) -> Result<Run, RunError> {
        entries.sort_unstable();
        let mut w = RunWriter::create(dir, &span)?;
        for e in &entries {
            w.put(e)?;
        }
        w.publish(dir, span)
    }

    /// Opens and checks the run at `path`: its name, its length, its footer, the order of its
    /// fences and the checksum over the whole file.
    pub fn open(path: &Path) -> Result<Run, RunError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| corrupt(path, "the file name is not UTF-8"))?;
        let span = Span::parse(name).ok_or_else(|| corrupt(path, "not a run file name"))?;
        let file = File::open(path).map_err(io(path))?;
        let len = file.metadata().map_err(io(path))?.len();
        let tail = (FOOTER_BYTES + CHECKSUM_BYTES) as u64;
        if len < tail {
            return Err(corrupt(
                path,
                format!("{len} bytes is shorter than a footer"),
            ));
        }
        let mut footer = [0u8; FOOTER_BYTES];
        file.read_exact_at(&mut footer, len - tail)
            .map_err(io(path))?;
        let count = check_footer(&footer, &span, len).map_err(|r| corrupt(path, r))?;
        let entry_bytes = count * ENTRY_BYTES as u64;
        let mut fence_bytes = vec![0u8; (blocks(count) * 32) as usize];
        file.read_exact_at(&mut fence_bytes, entry_bytes)
            .map_err(io(path))?;
        let fences: Vec<[u8; 32]> = fence_bytes
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        if !fences.is_sorted() {
            return Err(corrupt(path, "fences out of order"));
        }
        // The checksum, over entries, fences and footer.
        let mut hasher = blake3::Hasher::new();
        let mut reader =
            BufReader::with_capacity(1 << 20, (&file).take(len - CHECKSUM_BYTES as u64));
        std::io::copy(&mut reader, &mut hasher).map_err(io(path))?;
        let mut stored = [0u8; CHECKSUM_BYTES];
        file.read_exact_at(&mut stored, len - CHECKSUM_BYTES as u64)
            .map_err(io(path))?;
        if hasher.finalize().as_bytes() != &stored {
            return Err(corrupt(path, "checksum mismatch"));
        }
        Ok(Run {
            span,
            path: path.to_owned(),
            file,
            count,
            fences,
        })
    }

    /// Entries in the run.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Every location this run records for `digest`, in entry order.
    pub fn lookup(&self, digest: &Digest) -> Result<Vec<Location>, RunError> {
        let mut out = Vec::new();
        // The first block whose fence is not below the digest may start with it, so its
        // entries can begin in the block before.
        let mut block = self
            .fences
            .partition_point(|f| f < &digest.0)
            .saturating_sub(1);
        let mut buf = vec![0u8; BLOCK_ENTRIES * ENTRY_BYTES];
        while block < self.fences.len() && self.fences[block] <= digest.0 {
            let first = block as u64 * BLOCK_ENTRIES as u64;
            let n = (self.count - first).min(BLOCK_ENTRIES as u64) as usize;
            let bytes = &mut buf[..n * ENTRY_BYTES];
            self.file
                .read_exact_at(bytes, first * ENTRY_BYTES as u64)
                .map_err(io(&self.path))?;
            for e in bytes.chunks_exact(ENTRY_BYTES) {
                match e[..32].cmp(&digest.0) {
                    std::cmp::Ordering::Less => {}
                    std::cmp::Ordering::Equal => {
                        out.push(location(e.try_into().expect("entry")));
                    }
                    std::cmp::Ordering::Greater => return Ok(out),
                }
            }
            block += 1;
        }
        Ok(out)
    }

    /// Merges `runs` into one run of `span` in `dir`, durably, dropping every entry `keep`
    /// refuses. The inputs stay on disk (the caller removes them once the merge is published).
    pub fn merge(
        dir: &Path,
        span: Span,
        runs: &[std::sync::Arc<Run>],
        keep: impl Fn(Location) -> bool,
    ) -> Result<Run, RunError> {
        let mut inputs = Vec::with_capacity(runs.len());
        for r in runs {
            let len = r.count * ENTRY_BYTES as u64;
            let file = r.file.try_clone().map_err(io(&r.path))?;
            let mut stream = Stream {
                reader: BufReader::with_capacity(
                    256 << 10,
                    ReadAt {
                        file,
                        at: 0,
                        end: len,
                    },
                ),
                head: None,
                path: r.path.clone(),
            };
            stream.advance()?;
            inputs.push(stream);
        }
        let mut w = RunWriter::create(dir, &span)?;
        // A linear scan over at most a handful of inputs beats a heap here; entries are
        // compared by their first 16 bytes as one integer first (digests rarely share them).
        let prefix = |e: &Entry| u128::from_be_bytes(e[..16].try_into().expect("16 bytes"));
        while let Some((i, e)) = inputs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.head.map(|h| (i, h)))
            .min_by(|a, b| prefix(&a.1).cmp(&prefix(&b.1)).then_with(|| a.1.cmp(&b.1)))
        {
            if w.last != Some(e) && keep(location(&e)) {
                w.put(&e)?;
            }
            inputs[i].advance()?;
        }
        w.publish(dir, span)
    }
}

/// Checks a footer against the file's name and length; returns the entry count.
pub fn check_footer(footer: &[u8; FOOTER_BYTES], span: &Span, len: u64) -> Result<u64, String> {
    if &footer[25..32] != MAGIC {
        return Err("no run footer (bad magic)".into());
    }
    let count = u64::from_be_bytes(footer[..8].try_into().expect("8 bytes"));
    let first = u64::from_be_bytes(footer[8..16].try_into().expect("8 bytes"));
    let last = u64::from_be_bytes(footer[16..24].try_into().expect("8 bytes"));
    let level = footer[24];
    if (level, Second(first), Second(last)) != (span.level, span.first, span.last) {
        return Err(format!(
            "footer says level {level}, seconds {first}..={last}; the name says otherwise"
        ));
    }
    let expected = count
        .checked_mul(ENTRY_BYTES as u64)
        .and_then(|b| b.checked_add(blocks(count) * 32))
        .and_then(|b| b.checked_add((FOOTER_BYTES + CHECKSUM_BYTES) as u64));
    if expected != Some(len) {
        return Err(format!("{count} entries do not make a file of {len} bytes"));
    }
    Ok(count)
}

/// Reads a file region through positioned reads (so clones of one `File` do not share an
/// offset with lookups).
struct ReadAt {
    file: File,
    at: u64,
    end: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.end - self.at).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        let got = self.file.read_at(&mut buf[..n], self.at)?;
        self.at += got as u64;
        Ok(got)
    }
}

/// One merge input: its reader and its next entry.
struct Stream {
    reader: BufReader<ReadAt>,
    head: Option<Entry>,
    path: PathBuf,
}

impl Stream {
    fn advance(&mut self) -> Result<(), RunError> {
        let mut e = [0u8; ENTRY_BYTES];
        match self.reader.read_exact(&mut e) {
            Ok(()) => {
                if self.head.is_some_and(|h| h > e) {
                    return Err(corrupt(&self.path, "entries out of order"));
                }
                self.head = Some(e);
            }
            Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => self.head = None,
            Err(err) => return Err(io(&self.path)(err)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A fresh directory, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!("tc-runs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn d(i: u32) -> Digest {
        Digest(*blake3::hash(&i.to_be_bytes()).as_bytes())
    }

    fn at(second: u64, index: u32) -> Location {
        Location {
            second: Second(second),
            index,
        }
    }

    fn span(level: u8, first: u64, last: u64) -> Span {
        Span {
            level,
            first: Second(first),
            last: Second(last),
        }
    }

    #[test]
    fn a_written_run_finds_every_digest_and_only_those() {
        let dir = Scratch::new("find");
        let entries: Vec<Entry> = (0..1000).map(|i| entry(&d(i), at(7, i))).collect();
        let run = Run::write(dir.path(), span(0, 7, 7), entries).unwrap();
        assert_eq!(run.count(), 1000);
        let run = Run::open(&run.path).unwrap();
        for i in 0..1000 {
            assert_eq!(run.lookup(&d(i)).unwrap(), vec![at(7, i)], "digest {i}");
        }
        assert!(run.lookup(&d(1000)).unwrap().is_empty());
        assert!(run.lookup(&Digest([0; 32])).unwrap().is_empty());
        assert!(run.lookup(&Digest([0xff; 32])).unwrap().is_empty());
    }

    #[test]
    fn repeats_of_one_digest_across_blocks_are_all_found() {
        let dir = Scratch::new("repeats");
        let mut entries: Vec<Entry> = (0..200).map(|i| entry(&d(i), at(3, i))).collect();
        entries.extend((0..150).map(|i| entry(&d(5), at(3, 1000 + i))));
        let run = Run::write(dir.path(), span(0, 3, 3), entries).unwrap();
        let found = run.lookup(&d(5)).unwrap();
        assert_eq!(found.len(), 151);
        assert_eq!(found[0], at(3, 5));
    }

    #[test]
    fn a_merge_keeps_every_entry_in_order_and_drops_what_it_is_told() {
        let dir = Scratch::new("merge");
        let runs: Vec<Arc<Run>> = (0..4u64)
            .map(|s| {
                let entries = (0..300)
                    .map(|i| entry(&d(i * 4 + s as u32), at(s, i)))
                    .collect();
                Arc::new(Run::write(dir.path(), span(0, s, s), entries).unwrap())
            })
            .collect();
        let merged =
            Run::merge(dir.path(), span(1, 0, 3), &runs, |l| l.second != Second(2)).unwrap();
        assert_eq!(merged.count(), 900);
        let merged = Run::open(&merged.path).unwrap();
        for i in 0..1200u32 {
            let (s, idx) = ((i % 4) as u64, i / 4);
            let want = if s == 2 { vec![] } else { vec![at(s, idx)] };
            assert_eq!(merged.lookup(&d(i)).unwrap(), want, "digest {i}");
        }
    }

    #[test]
    fn a_damaged_file_is_refused_with_its_reason() {
        let dir = Scratch::new("damaged");
        let entries: Vec<Entry> = (0..100).map(|i| entry(&d(i), at(9, i))).collect();
        let path = Run::write(dir.path(), span(0, 9, 9), entries).unwrap().path;
        let good = std::fs::read(&path).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                {
                    let mut b = good.clone();
                    b[100] ^= 1;
                    b
                },
                "checksum",
            ),
            (good[..good.len() - 1].to_vec(), "magic"),
            (good[1..].to_vec(), "do not make a file"),
            (good[..10].to_vec(), "shorter than a footer"),
        ];
        for (bytes, reason) in cases {
            std::fs::write(&path, &bytes).unwrap();
            let err = Run::open(&path).unwrap_err().to_string();
            assert!(err.contains(reason), "{err} should name {reason}");
        }
        let renamed = dir.path().join(span(0, 8, 9).file_name());
        std::fs::write(&renamed, &good).unwrap();
        assert!(
            Run::open(&renamed)
                .unwrap_err()
                .to_string()
                .contains("the name says")
        );
    }

    #[test]
    fn names_round_trip_and_junk_is_not_a_run() {
        let s = span(3, 1_800_000_000, 1_800_000_511);
        assert_eq!(Span::parse(&s.file_name()), Some(s));
        for junk in [
            "x.run",
            "00-1-2.run",
            "00-00000000000000000002-00000000000000000001.run",
        ] {
            assert_eq!(Span::parse(junk), None, "{junk}");
        }
        assert!(span(0, 5, 5).inside(&span(1, 0, 7)));
        assert!(!span(1, 0, 7).inside(&span(1, 0, 7)));
        assert!(!span(0, 8, 8).inside(&span(1, 0, 7)));
    }
}
