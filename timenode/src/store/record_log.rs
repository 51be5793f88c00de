//! The consensus record log: one append-only file, `records.log`, beside the sled database.
//!
//! Owns: the file, its appends (one `write` and one `fdatasync` per group of records), the
//! cut of a torn tail at open, pruning by rewrite, and the move of the records out of the
//! sled tree where they lived before. Never: interprets a record (the consensus codec does),
//! returns from an append before the records are durable, appends after a failed write or
//! sync (the bytes of the failed append are cut and this log refuses; the store must be
//! opened again), or cuts damage that whole records follow (only a torn tail is cut; anything
//! else refuses to open, and what is cut is kept aside in `records.log.cut-PID`).
//!
//! Why not sled: every vote waits for its record to be durable before it is sent, so the
//! record flush sits on the ring's critical path two or three times per tick. A sled flush
//! hands the write to sled's I/O threads and waits for every writer of the database, the
//! pool's included; under intake load it took 4 ms at the median and 27 ms at p99, and the
//! final-tick lag p99 was 45–60 ms. A `write` plus `fdatasync` of this file from the consensus
//! thread took 0.4–0.6 ms at the median, and the lag p99 fell under 30 ms (issue 13,
//! finding 8; figures in the README).
//!
//! Pruning rewrites the live records into `records.log.tmp`, syncs it, renames it over the log
//! and syncs the directory, all under the log's lock: it runs every 16 final ticks, off the
//! consensus loop, on a log of a few dozen records, so an append waits for it rarely and
//! briefly. A crash before the rename leaves the old log (nothing pruned), after it the new one.

use super::StoreError;
use super::record_frame::{self, End};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing::warn;

/// File name of the log in the data directory.
pub const FILE_NAME: &str = "records.log";
/// File name of a replacement of the log being written (pruning, creation).
pub const TMP_NAME: &str = "records.log.tmp";

/// The record log of one data directory.
pub struct RecordLog {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    file: File,
    /// Bytes of valid frames in the file (where the next append goes).
    len: u64,
    /// Sequence number of the newest record (0 when the log is empty).
    last: u64,
    /// Set when a write or sync failed: the file's state is unknown until a restart.
    failed: bool,
}

impl RecordLog {
    /// Opens the log in `dir`, cutting a torn tail. When no log exists yet, it is created
    /// holding the records `initial` returns, `(sequence, record)` in increasing sequence
    /// (atomically: all of them or, after a crash, no file), so records kept elsewhere move in
    /// without a window where they are in neither.
    pub fn open(
        dir: &Path,
        initial: impl FnOnce() -> Result<Vec<(u64, Vec<u8>)>, StoreError>,
    ) -> Result<RecordLog, StoreError> {
        let path = dir.join(FILE_NAME);
        if !path.try_exists().map_err(|e| io(&path, e))? {
            let records = initial()?;
            let (_, _) = replace(dir, &records).map_err(|(e, _)| e)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let bytes = read_all(&mut file, &path)?;
        let parsed = record_frame::parse(&bytes);
        if let Some(end) = parsed.end {
            let last = parsed.records.last().map_or(0, |(s, _)| *s);
            let rest = &bytes[parsed.valid_len..];
            if record_frame::whole_frame_after(rest, last) {
                return Err(StoreError::Corrupt(format!(
                    "{}: a frame at byte {} is damaged ({}) and whole records follow it: this                      is not an unfinished append, and cutting it would lose acknowledged votes;                      restore the file from a backup (the node refuses to start on it)",
                    path.display(),
                    parsed.valid_len,
                    describe(end)
                )));
            }
            // Kept aside before the cut, in case a person wants to look at it.
            let aside = dir.join(format!("{FILE_NAME}.cut-{}", std::process::id()));
            std::fs::write(&aside, rest).map_err(|e| io(&aside, e))?;
            warn!(
                path = %path.display(),
                bytes = rest.len(),
                kept_in = %aside.display(),
                why = describe(end),
                "record log: cutting an unfinished append at the end"
            );
            file.set_len(parsed.valid_len as u64)
                .and_then(|()| file.sync_data())
                .map_err(|e| io(&path, e))?;
        }
        Ok(RecordLog {
            dir: dir.to_owned(),
            inner: Mutex::new(Inner {
                file,
                len: parsed.valid_len as u64,
                last: parsed.records.last().map_or(0, |(s, _)| *s),
                failed: false,
            }),
        })
    }

    /// Appends `records` in order (one write, one sync); returns the sequence number of the
    /// last. Returns only once they are durable.
    pub fn append(&self, records: &[Vec<u8>]) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let mut bytes = Vec::with_capacity(
            records
                .iter()
                .map(|r| r.len() + record_frame::HEADER + record_frame::CHECK)
                .sum(),
        );
        let mut last = inner.last;
        for r in records {
            check_size(r)?;
            last = last.checked_add(1).ok_or_else(|| {
                StoreError::Corrupt("the record log's sequence numbers are exhausted".into())
            })?;
            record_frame::encode(last, r, &mut bytes);
        }
        if bytes.is_empty() {
            return Ok(last);
        }
        let path = self.dir.join(FILE_NAME);
        let at = inner.len;
        let written = {
            use std::os::unix::fs::FileExt;
            inner
                .file
                .write_all_at(&bytes, at)
                .and_then(|()| inner.file.sync_data())
        };
        if let Err(e) = written {
            // What a failed sync left in the page cache may read back as valid later (in a
            // reopen in this process, or after a restart) and never reach the disk: cut it now.
            let _ = inner.file.set_len(at).and_then(|()| inner.file.sync_data());
            inner.failed = true;
            return Err(io(&path, e));
        }
        inner.len += bytes.len() as u64;
        inner.last = last;
        Ok(last)
    }

    /// Every record with its sequence number, oldest first (read from the file).
    pub fn records(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let mut inner = self.lock()?;
        self.read_whole(&mut inner)
    }

    /// Removes the records for which `obsolete` returns true, by rewriting the log; returns how
    /// many were removed (nothing is written when none is). A failure before the new log is in
    /// place leaves the old one as it was (the log keeps working); only a failure after it
    /// makes the log refuse further appends.
    pub fn prune(&self, obsolete: &mut dyn FnMut(&[u8]) -> bool) -> Result<usize, StoreError> {
        let mut inner = self.lock()?;
        let records = self.read_whole(&mut inner)?;
        let before = records.len();
        let live: Vec<(u64, Vec<u8>)> = records.into_iter().filter(|(_, r)| !obsolete(r)).collect();
        let removed = before - live.len();
        if removed == 0 {
            return Ok(0);
        }
        // Live records keep their sequence numbers, and the next append continues after the
        // newest ever written: numbers are never reused.
        match replace(&self.dir, &live) {
            Ok((file, len)) => {
                inner.file = file;
                inner.len = len;
                Ok(removed)
            }
            Err((e, Stage::BeforeRename)) => {
                let _ = std::fs::remove_file(self.dir.join(TMP_NAME));
                Err(e)
            }
            Err((e, Stage::AfterRename)) => {
                inner.failed = true;
                Err(e)
            }
        }
    }

    /// The valid records, read from the file; an error if anything but whole frames is
    /// there (appends only ever leave whole frames behind once they return).
    fn read_whole(&self, inner: &mut Inner) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let path = self.dir.join(FILE_NAME);
        let len = inner.len as usize;
        let mut bytes = read_all(&mut inner.file, &path)?;
        bytes.truncate(len);
        let parsed = record_frame::parse(&bytes);
        if let Some(end) = parsed.end {
            return Err(StoreError::Corrupt(format!(
                "{}: the frame at byte {} is damaged ({}) while the node runs",
                path.display(),
                parsed.valid_len,
                describe(end)
            )));
        }
        Ok(parsed.records)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, StoreError> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.failed {
            return Err(StoreError::Corrupt(
                "the record log failed a write or sync earlier; restart the node".into(),
            ));
        }
        Ok(inner)
    }
}

/// Where [`replace`] failed: before the rename (the old log is intact) or after it.
enum Stage {
    BeforeRename,
    AfterRename,
}

/// Writes `records` (in increasing sequence) as the whole log: a temporary file, synced,
/// renamed over the log, and the directory synced; returns the new log, open, and its length.
fn replace(dir: &Path, records: &[(u64, Vec<u8>)]) -> Result<(File, u64), (StoreError, Stage)> {
    let before = |e| (e, Stage::BeforeRename);
    let tmp = dir.join(TMP_NAME);
    let mut bytes = Vec::new();
    let mut previous = None;
    for (seq, r) in records {
        check_size(r).map_err(before)?;
        if previous.is_some_and(|p| *seq <= p) {
            return Err(before(StoreError::Corrupt(format!(
                "record {seq} does not follow record {}",
                previous.unwrap_or_default()
            ))));
        }
        previous = Some(*seq);
        record_frame::encode(*seq, r, &mut bytes);
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| before(io(&tmp, e)))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| before(io(&tmp, e)))?;
    let path = dir.join(FILE_NAME);
    std::fs::rename(&tmp, &path).map_err(|e| before(io(&path, e)))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| (io(dir, e), Stage::AfterRename))?;
    Ok((file, bytes.len() as u64))
}

fn check_size(record: &[u8]) -> Result<(), StoreError> {
    if record.len() > record_frame::MAX_PAYLOAD {
        return Err(StoreError::Corrupt(format!(
            "a {}-byte record exceeds the record log's limit of {} bytes",
            record.len(),
            record_frame::MAX_PAYLOAD
        )));
    }
    Ok(())
}

fn read_all(file: &mut File, path: &Path) -> Result<Vec<u8>, StoreError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| io(path, e))?;
    Ok(bytes)
}

fn io(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

fn describe(end: End) -> &'static str {
    match end {
        End::Short => "a frame is cut short",
        End::TooLong => "a frame's length is out of range",
        End::Check => "a frame fails its check",
        End::Sequence => "a frame's sequence number does not follow",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let p = std::env::temp_dir().join(format!("tc-records-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn open(dir: &Path) -> RecordLog {
        RecordLog::open(dir, || Ok(Vec::new())).expect("open")
    }

    #[test]
    fn appends_survive_a_reopen_and_a_torn_tail_is_cut() {
        let dir = TempDir::new("torn");
        let log = open(dir.path());
        assert_eq!(log.append(&[b"a".to_vec(), b"b".to_vec()]).unwrap(), 2);
        assert_eq!(log.append(&[b"c".to_vec()]).unwrap(), 3);
        drop(log);
        // An append that died half-way through its write.
        let path = dir.path().join(FILE_NAME);
        let mut torn = Vec::new();
        record_frame::encode(4, b"never acknowledged", &mut torn);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&torn[..torn.len() - 3]).unwrap();
        drop(f);
        let log = open(dir.path());
        let all = log.records().unwrap();
        assert_eq!(
            all,
            vec![(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c".to_vec())]
        );
        let aside = dir
            .path()
            .join(format!("{FILE_NAME}.cut-{}", std::process::id()));
        assert_eq!(std::fs::read(&aside).unwrap(), torn[..torn.len() - 3]);
        // The next append follows the last whole record, over the cut bytes.
        assert_eq!(log.append(&[b"d".to_vec()]).unwrap(), 4);
        drop(log);
        let reopened = open(dir.path()).records().unwrap();
        assert_eq!(reopened.last(), Some(&(4, b"d".to_vec())));
        assert_eq!(reopened.len(), 4);
    }

    #[test]
    fn damage_that_whole_records_follow_is_refused_not_cut() {
        let dir = TempDir::new("damage");
        let log = open(dir.path());
        for r in [b"a", b"b", b"c"] {
            log.append(&[r.to_vec()]).unwrap();
        }
        drop(log);
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        // A flipped bit in the second frame's payload (bit rot), the third frame intact.
        let second = record_frame::HEADER + 1 + record_frame::CHECK;
        bytes[second + record_frame::HEADER] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        let err = RecordLog::open(dir.path(), || Ok(Vec::new()))
            .err()
            .expect("refused");
        assert!(err.to_string().contains("whole records follow"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing was cut");
    }

    #[test]
    fn a_prune_that_fails_before_the_rename_leaves_the_log_working() {
        let dir = TempDir::new("prune-fails");
        let log = open(dir.path());
        log.append(&[vec![1], vec![2]]).unwrap();
        // The temporary file cannot be created: a directory has its name.
        std::fs::create_dir(dir.path().join(TMP_NAME)).unwrap();
        assert!(log.prune(&mut |r| r[0] == 1).is_err());
        assert_eq!(log.append(&[vec![3]]).unwrap(), 3, "appends go on");
        std::fs::remove_dir(dir.path().join(TMP_NAME)).unwrap();
        assert_eq!(log.prune(&mut |r| r[0] == 1).unwrap(), 1);
        assert_eq!(log.records().unwrap(), vec![(2, vec![2]), (3, vec![3])]);
    }

    #[test]
    fn prune_keeps_the_live_records_in_order() {
        let dir = TempDir::new("prune");
        let log = open(dir.path());
        let records: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i]).collect();
        log.append(&records).unwrap();
        let removed = log.prune(&mut |r| r[0] % 3 != 0).unwrap();
        assert_eq!(removed, 6);
        assert_eq!(log.prune(&mut |_| false).unwrap(), 0);
        log.append(&[vec![42]]).unwrap();
        drop(log);
        let payloads: Vec<Vec<u8>> = open(dir.path())
            .records()
            .unwrap()
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        assert_eq!(payloads, vec![vec![0], vec![3], vec![6], vec![9], vec![42]]);
        assert!(!dir.path().join(TMP_NAME).exists());
    }

    #[test]
    fn initial_records_are_written_once_when_the_log_is_created() {
        let dir = TempDir::new("initial");
        let old = vec![(5, b"old".to_vec()), (9, b"older".to_vec())];
        let log = RecordLog::open(dir.path(), || Ok(old)).unwrap();
        assert_eq!(log.append(&[b"new".to_vec()]).unwrap(), 10);
        drop(log);
        let again = RecordLog::open(dir.path(), || panic!("the log exists")).unwrap();
        assert_eq!(
            again.records().unwrap(),
            vec![
                (5, b"old".to_vec()),
                (9, b"older".to_vec()),
                (10, b"new".to_vec())
            ]
        );
    }

    #[test]
    fn the_log_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("private");
        drop(open(dir.path()));
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
}
