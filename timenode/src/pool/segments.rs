//! Leaf segments: the digests and salts of each batch, appended to one file per second.
//!
//! Owns: the segment files under `<data-dir>/pool-leaves/` (`specs/pool.md` §4): creating one
//! durably, appending a group commit's leaves, reading a batch's leaves whole or in a range,
//! cutting a torn tail after a crash, and deleting a batch's file. Never: decides what to
//! write or when to make it durable (the writer and the flusher do), or trusts a length it has
//! not checked.

use super::layout::LEAF_BYTES;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use tickchain_sdk::{Digest, Salt, Second};

/// Seconds per bucket directory, so no directory holds more than this many files.
const BUCKET_SECONDS: u64 = 100_000;

/// The segment files of one node's pool.
#[derive(Debug)]
pub struct Segments {
    dir: PathBuf,
    /// Buckets made durable by this process (a bucket a crash left before its directory
    /// fsync is synced again the first time it is used).
    synced: std::sync::Mutex<std::collections::HashSet<u64>>,
}

/// Creates `dir` if missing and makes its entry durable in its parent.
pub fn create_durable_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

/// A segment file open for appending.
#[derive(Debug)]
pub struct Segment {
    /// The batch's second.
    pub second: Second,
    /// The file, appended to by the writer and synced by the flusher.
    pub file: std::sync::Arc<File>,
}

fn leaf(c: &[u8]) -> (Digest, Salt) {
    (
        Digest(c[..32].try_into().expect("32 bytes")),
        Salt(c[32..LEAF_BYTES].try_into().expect("16 bytes")),
    )
}

impl Segments {
    /// The segments in `dir` (created if missing).
    pub fn open(dir: &Path) -> std::io::Result<Segments> {
        create_durable_dir(dir)?;
        Ok(Segments {
            dir: dir.to_owned(),
            synced: Default::default(),
        })
    }

    fn bucket(&self, second: Second) -> PathBuf {
        self.dir.join(format!("{:015}", second.0 / BUCKET_SECONDS))
    }

    fn path(&self, second: Second) -> PathBuf {
        self.bucket(second).join(format!("{:020}.leaves", second.0))
    }

    /// Opens `second`'s segment for appending, creating it (and its bucket) durably.
    pub fn append_to(&self, second: Second) -> std::io::Result<Segment> {
        let bucket = self.bucket(second);
        let number = second.0 / BUCKET_SECONDS;
        if !self.synced.lock().expect("synced lock").contains(&number) {
            create_durable_dir(&bucket)?;
            self.synced.lock().expect("synced lock").insert(number);
        }
        let path = self.path(second);
        let existed = path.exists();
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if !existed {
            File::open(&bucket)?.sync_all()?;
        }
        Ok(Segment {
            second,
            file: std::sync::Arc::new(file),
        })
    }

    /// Every whole leaf of `second`'s segment and whether a torn partial leaf follows them.
    pub fn read_torn(&self, second: Second) -> std::io::Result<(Vec<(Digest, Salt)>, bool)> {
        let bytes = match std::fs::read(self.path(second)) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let torn = !bytes.len().is_multiple_of(LEAF_BYTES);
        Ok((bytes.chunks_exact(LEAF_BYTES).map(leaf).collect(), torn))
    }

    /// Every leaf of `second`'s batch, in index order (none if it has no segment). A segment
    /// ending in a partial leaf is an error naming the file.
    pub fn read(&self, second: Second) -> std::io::Result<Vec<(Digest, Salt)>> {
        let (leaves, torn) = self.read_torn(second)?;
        if torn {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: not a whole number of {LEAF_BYTES}-byte leaves",
                    self.path(second).display()
                ),
            ));
        }
        Ok(leaves)
    }

    /// The leaves `range` of `second`'s batch (fewer if the segment is shorter).
    pub fn read_range(
        &self,
        second: Second,
        range: std::ops::Range<u32>,
    ) -> std::io::Result<Vec<(Digest, Salt)>> {
        let file = match File::open(self.path(second)) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len() / LEAF_BYTES as u64;
        let end = u64::from(range.end).min(len);
        let start = u64::from(range.start).min(end);
        let mut buf = vec![0u8; ((end - start) as usize) * LEAF_BYTES];
        file.read_exact_at(&mut buf, start * LEAF_BYTES as u64)?;
        Ok(buf.chunks_exact(LEAF_BYTES).map(leaf).collect())
    }

    /// Cuts `second`'s segment to its first `leaves` leaves, durably (a torn or unacknowledged
    /// tail after a crash), creating it if missing.
    pub fn truncate(&self, second: Second, leaves: usize) -> std::io::Result<()> {
        drop(self.append_to(second)?);
        let file = OpenOptions::new().write(true).open(self.path(second))?;
        file.set_len((leaves * LEAF_BYTES) as u64)?;
        file.sync_all()
    }

    /// Makes `second`'s segment durable as it is.
    pub fn sync(&self, second: Second) -> std::io::Result<()> {
        File::open(self.path(second))?.sync_all()
    }

    /// Deletes `second`'s segment (nothing if it has none).
    pub fn remove(&self, second: Second) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(second)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The seconds from `from` on that have a segment, in order.
    pub fn seconds_from(&self, from: Second) -> std::io::Result<Vec<Second>> {
        let mut out = Vec::new();
        for bucket in std::fs::read_dir(&self.dir)? {
            let bucket = bucket?;
            let Some(b) = bucket
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if b.saturating_add(1).saturating_mul(BUCKET_SECONDS) <= from.0 {
                continue;
            }
            for f in std::fs::read_dir(bucket.path())? {
                let name = f?.file_name();
                let second = name
                    .to_str()
                    .and_then(|n| n.strip_suffix(".leaves"))
                    .and_then(|n| n.parse::<u64>().ok());
                if let Some(s) = second.filter(|s| *s >= from.0) {
                    out.push(Second(s));
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl Segment {
    /// Appends `bytes` (whole leaves).
    pub fn append(&self, bytes: &[u8]) -> std::io::Result<()> {
        (&*self.file).write_all(bytes)
    }
}
