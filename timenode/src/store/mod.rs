//! The node's durable state: the consensus record log (its own file, [`record_log`]) and the
//! final chain (sled).
//!
//! Owns: key layout, flushing, and the second → height index. Never: interprets record bytes
//! (the consensus codec does) and never returns before what it was given is durable: every
//! write method flushes (fsync) before it returns, so "written" means "survives SIGKILL".
//!
//! The record log, `records.log`, holds our votes, proposals and the certificates we hold,
//! appended before anything that depends on them is sent. Before it, they lived in a sled tree
//! `records`; opening a store moves them into the log and drops the tree.
//!
//! Trees:
//! - `final`: u64 big-endian height → final tick bytes;
//! - `seconds`: u64 big-endian second → u64 big-endian height;
//! - `hashes`: tick hash → u64 big-endian height (to serve catch-up fetches by hash);
//! - `evidence`: u64 big-endian height → conflicting final ticks (`specs/consensus.md` §7);
//! - `misbehaviour`: u64 big-endian sequence → one member's conflicting signed statements
//!   (`specs/evidence.md`), at most [`MAX_MISBEHAVIOUR`], the first kept; and
//!   `misbehaviour-ids`: the caller's identity of each → its sequence, so each is kept once.

pub mod record_frame;
pub mod record_log;

use record_log::RecordLog;
use sled::Transactional;
use std::path::Path;
use std::sync::Arc;
use tickchain_sdk::{Hash, Height, Second};

/// Most pieces of misbehaviour evidence kept; later ones are dropped (the first are kept, so
/// a member cannot push its oldest evidence out by misbehaving more).
pub const MAX_MISBEHAVIOUR: usize = 4096;

/// What [`Store::put_misbehaviour`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// Stored (and flushed).
    Stored,
    /// Evidence with the same identity is already kept.
    Known,
    /// [`MAX_MISBEHAVIOUR`] pieces are kept already; this one is dropped.
    Full,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled reported an error (I/O or corruption).
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    /// A final tick was written out of order.
    #[error("final tick at height {found} does not follow the tip at height {tip}")]
    OutOfOrder {
        /// The current tip height.
        tip: u64,
        /// The height written.
        found: u64,
    },
    /// Reading, writing or syncing a file of the store failed.
    #[error("store file {}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A stored key or value is malformed (a damaged disk or a foreign writer).
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// A final tick's second does not increase.
    #[error("final tick second {found} is not after the tip's second {tip}")]
    SecondNotIncreasing {
        /// The tip's second.
        tip: u64,
        /// The second written.
        found: u64,
    },
}

/// The node's sled database.
#[derive(Clone)]
pub struct Store {
    dir: std::path::PathBuf,
    db: sled::Db,
    records: Arc<RecordLog>,
    finals: sled::Tree,
    seconds: sled::Tree,
    hashes: sled::Tree,
}

fn be(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

/// The big-endian `u64` that starts `bytes`; a shorter value is corruption, reported, never a
/// panic.
fn from_be(bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| {
            StoreError::Corrupt(format!("{}-byte key or value, expected 8", bytes.len()))
        })
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    ///
    /// sled releases its file lock only when its background flusher lets go of the database,
    /// a moment after the last handle is dropped; a reopen in the same process waits for that
    /// (up to 3 s) instead of failing. A lock held by another process still fails after 3 s.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        let db = loop {
            match sled::Config::new()
                .path(dir)
                .mode(sled::Mode::HighThroughput)
                .open()
            {
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other?,
            }
        };
        let records = Arc::new(open_records(dir, &db)?);
        Ok(Store {
            dir: dir.to_owned(),
            records,
            finals: db.open_tree("final")?,
            seconds: db.open_tree("seconds")?,
            hashes: db.open_tree("hashes")?,
            db,
        })
    }

    /// Keeps evidence of conflicting finality (`specs/consensus.md` §7): `bytes` under
    /// `height`, in the `evidence` tree, flushed before it returns. A second report for the
    /// same height keeps the first.
    pub fn put_evidence(&self, height: Height, bytes: &[u8]) -> Result<(), StoreError> {
        let tree = self.db.open_tree("evidence")?;
        let _ = tree.compare_and_swap(be(height.0), None::<&[u8]>, Some(bytes))?;
        self.db.flush()?;
        Ok(())
    }

    /// The evidence of conflicting finality kept so far: (height, the `Chain` message bytes
    /// holding our tick, then theirs).
    pub fn evidence(&self) -> Result<Vec<(Height, Vec<u8>)>, StoreError> {
        self.db
            .open_tree("evidence")?
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((Height(from_be(&k)?), v.to_vec()))
            })
            .collect()
    }

    /// Keeps one piece of misbehaviour evidence (`specs/evidence.md`): `bytes` under the next
    /// sequence number, unless evidence with identity `id` is kept already or
    /// [`MAX_MISBEHAVIOUR`] pieces are; flushed before it returns when stored.
    pub fn put_misbehaviour(&self, id: &[u8], bytes: &[u8]) -> Result<Kept, StoreError> {
        let items = self.db.open_tree("misbehaviour")?;
        let ids = self.db.open_tree("misbehaviour-ids")?;
        if ids.contains_key(id)? {
            return Ok(Kept::Known);
        }
        // Sequence numbers are dense from 0 and nothing is ever deleted, so the next one is
        // the count kept, and the cap is one comparison.
        let next = match items.last()? {
            Some((k, _)) => from_be(&k)? + 1,
            None => 0,
        };
        if next >= MAX_MISBEHAVIOUR as u64 {
            return Ok(Kept::Full);
        }
        (&items, &ids)
            .transaction(|(items, ids)| {
                items.insert(&be(next), bytes)?;
                ids.insert(id, &be(next))?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
                sled::transaction::TransactionError::Abort(()) => unreachable!("never aborts"),
            })?;
        self.db.flush()?;
        Ok(Kept::Stored)
    }

    /// Up to `limit` pieces of misbehaviour evidence kept, newest first.
    pub fn misbehaviour(&self, limit: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        self.db
            .open_tree("misbehaviour")?
            .iter()
            .rev()
            .take(limit)
            .map(|kv| kv.map(|(_, v)| v.to_vec()).map_err(StoreError::from))
            .collect()
    }

    /// The underlying database, for other components' trees (the request pool's).
    pub fn db(&self) -> &sled::Db {
        &self.db
    }

    /// The directory the database lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What the node needs from durable storage. Every write returns only once it is durable.
pub trait ChainStore: Send + Sync {
    /// Appends records in order and flushes; returns the sequence number of the last one.
    fn append_records(&self, records: &[Vec<u8>]) -> Result<u64, StoreError>;
    /// Every record with its sequence number, oldest first.
    fn records(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// Deletes the records for which `obsolete` returns true.
    fn prune_records(&self, obsolete: &mut dyn FnMut(&[u8]) -> bool) -> Result<usize, StoreError>;
    /// Appends the final tick at `height` (the tip's successor) for `second` with hash `hash`.
    fn append_final(
        &self,
        height: Height,
        second: Second,
        hash: &Hash,
        bytes: &[u8],
    ) -> Result<(), StoreError>;
    /// The final tick bytes at `height`.
    fn final_at(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError>;
    /// The height of the final tick for `second`, if that second has one.
    fn height_of_second(&self, second: Second) -> Result<Option<Height>, StoreError>;
    /// The height of the final tick with hash `hash`.
    fn height_of_hash(&self, hash: &Hash) -> Result<Option<Height>, StoreError>;
    /// The tip's height and second.
    fn tip(&self) -> Result<Option<(Height, Second)>, StoreError>;
    /// Up to `limit` final ticks from `from` upwards.
    fn finals_from(&self, from: Height, limit: usize)
    -> Result<Vec<(Height, Vec<u8>)>, StoreError>;
}

/// Opens the record log of the store in `dir`, moving the records of the sled tree `records`
/// (where stores written before the log kept them) into it and then dropping the tree. A crash
/// after the log is written and before the tree is dropped leaves both: the log is kept, the
/// tree dropped at the next open.
fn open_records(dir: &Path, db: &sled::Db) -> Result<RecordLog, StoreError> {
    const OLD_TREE: &[u8] = b"records";
    let had_tree = db.tree_names().iter().any(|n| n.as_ref() == OLD_TREE);
    let log = RecordLog::open(dir, || {
        if !had_tree {
            // A store with a chain always has its log: a missing one was deleted, or lost
            // with a rename that was not atomic. Starting over with no votes could make this
            // node vote twice in a view (`specs/consensus.md` §10).
            let has_chain = !db.open_tree("final")?.is_empty();
            let tmp = dir.join(record_log::TMP_NAME);
            if has_chain || tmp.exists() {
                return Err(StoreError::Corrupt(format!(
                    "{} is missing while the store holds {}: the node's own votes are lost. \
                     Restore the file from a backup; or, accepting the risk described for a \
                     wiped node in specs/consensus.md §10, keep the node down until the ring \
                     has finalized ticks after it stopped, then create an empty file of that \
                     name and start it",
                    dir.join(record_log::FILE_NAME).display(),
                    if has_chain {
                        "final ticks"
                    } else {
                        "a half-written replacement of it"
                    },
                )));
            }
            return Ok(Vec::new());
        }
        db.open_tree(OLD_TREE)?
            .iter()
            .map(|kv| {
                let (k, v) = kv?;
                Ok((from_be(&k)?, v.to_vec()))
            })
            .collect()
    })?;
    if had_tree {
        db.drop_tree(OLD_TREE)?;
        db.flush()?;
    }
    Ok(log)
}

impl ChainStore for Store {
    /// Appends records in order and flushes; returns the sequence number of the last one.
    /// Several records in one call share one flush (group commit).
    fn append_records(&self, records: &[Vec<u8>]) -> Result<u64, StoreError> {
        self.records.append(records)
    }

    /// Every record with its sequence number, oldest first.
    fn records(&self) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.records.records()
    }

    /// Deletes the records for which `obsolete` returns true (e.g. below the final tip's view).
    fn prune_records(&self, obsolete: &mut dyn FnMut(&[u8]) -> bool) -> Result<usize, StoreError> {
        self.records.prune(obsolete)
    }

    /// Appends the final tick at `height` for `second` with hash `hash`; heights must follow
    /// the tip by one and seconds must increase. Re-writing the tip's height with the same
    /// bytes is a no-op.
    fn append_final(
        &self,
        height: Height,
        second: Second,
        hash: &Hash,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        if let Some((tip, tip_second)) = self.tip()? {
            if height == tip && self.finals.get(be(height.0))?.is_some_and(|b| b == bytes) {
                return Ok(());
            }
            if height.0 != tip.0 + 1 {
                return Err(StoreError::OutOfOrder {
                    tip: tip.0,
                    found: height.0,
                });
            }
            if second <= tip_second {
                return Err(StoreError::SecondNotIncreasing {
                    tip: tip_second.0,
                    found: second.0,
                });
            }
        } else if height.0 != 1 {
            return Err(StoreError::OutOfOrder {
                tip: 0,
                found: height.0,
            });
        }
        (&self.finals, &self.seconds, &self.hashes)
            .transaction(|(finals, seconds, hashes)| {
                finals.insert(&be(height.0), bytes)?;
                seconds.insert(&be(second.0), &be(height.0))?;
                hashes.insert(&hash.0, &be(height.0))?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => StoreError::Sled(e),
                sled::transaction::TransactionError::Abort(()) => unreachable!("never aborts"),
            })?;
        self.db.flush()?;
        Ok(())
    }

    /// The final tick bytes at `height`.
    fn final_at(&self, height: Height) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.finals.get(be(height.0))?.map(|v| v.to_vec()))
    }

    /// The height of the final tick for `second`, if that second has one.
    fn height_of_second(&self, second: Second) -> Result<Option<Height>, StoreError> {
        self.seconds
            .get(be(second.0))?
            .map(|v| from_be(&v).map(Height))
            .transpose()
    }

    /// The height of the final tick with hash `hash`.
    fn height_of_hash(&self, hash: &Hash) -> Result<Option<Height>, StoreError> {
        self.hashes
            .get(hash.0)?
            .map(|v| from_be(&v).map(Height))
            .transpose()
    }

    /// The tip's height and second.
    fn tip(&self) -> Result<Option<(Height, Second)>, StoreError> {
        let Some((k, _)) = self.finals.last()? else {
            return Ok(None);
        };
        // The seconds index holds exactly one entry per height; the tip's is the largest second.
        // Read the pair from that one entry, so a tick appended between the two reads cannot
        // mix heights.
        let Some((s, h)) = self.seconds.last()? else {
            return Err(StoreError::Corrupt(format!(
                "final tick {} has no seconds index entry",
                from_be(&k)?
            )));
        };
        Ok(Some((Height(from_be(&h)?), Second(from_be(&s)?))))
    }

    /// Up to `limit` final ticks from `from` upwards.
    fn finals_from(
        &self,
        from: Height,
        limit: usize,
    ) -> Result<Vec<(Height, Vec<u8>)>, StoreError> {
        self.finals
            .range(be(from.0)..)
            .take(limit)
            .map(|kv| {
                let (k, v) = kv?;
                Ok((Height(from_be(&k)?), v.to_vec()))
            })
            .collect()
    }
}
