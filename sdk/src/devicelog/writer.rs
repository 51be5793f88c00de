//! Writing a device log (feature `keys`): open or resume a file, sign and chain records, make
//! them durable, and append stamps (`specs/devicelog.md` §6).
//!
//! Owns: the file handle, each chain's head and the durability order (records are synced
//! before their head is offered for stamping, so a stamped head is always in the log after a
//! crash and a restart never forks a chain). Never: talks to the network (see `stamper`).

use super::entry::{
    Chain, Entry, HeadRef, LogId, MAX_PAYLOAD_BYTES, Record, Stamp, chain_anchor, record_hash,
    record_signing_bytes,
};
use super::frame::FILE_MAGIC;
use super::reader::{FrameReader, ReadError};
use crate::signing::{public_key, sign};
use crate::{Hash, PublicKey, UtcNanos};
use ed25519_dalek::SigningKey;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Why a log could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file exists but is not a log this writer can continue.
    #[error("{path}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Another process has the log open for writing.
    #[error("{path}: another logger has this log open (one writer per log file)")]
    Locked {
        /// The file.
        path: String,
    },
    /// A payload is larger than [`MAX_PAYLOAD_BYTES`].
    #[error("record of {size} bytes is above the {MAX_PAYLOAD_BYTES}-byte limit")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// An earlier write failed; the log refuses further writes until reopened.
    #[error("{path}: an earlier write failed; reopen the log to continue")]
    Poisoned {
        /// The file.
        path: String,
    },
    /// The OS random source failed.
    #[error("OS randomness unavailable: {0}")]
    Random(String),
}

struct ChainState {
    chain: Chain,
    key: Option<SigningKey>,
    /// Seq of the next record.
    next_seq: u64,
    /// Hash of the last record (the anchor before any).
    head: Hash,
    /// Cursor of the last record.
    cursor: Option<u64>,
    /// Highest seq offered for stamping (in this run) or stamped (in the file).
    offered: Option<u64>,
}

/// An open device log.
pub struct DeviceLog {
    path: PathBuf,
    file: File,
    /// Frames written since the last sync.
    pending: Vec<u8>,
    chains: Vec<ChainState>,
    /// Chain index by device key.
    by_device: HashMap<PublicKey, u32>,
    poisoned: bool,
    /// Bytes of a torn tail cut at open, and where they were kept.
    cut: Option<(u64, PathBuf)>,
}

impl DeviceLog {
    /// Opens the log at `path`, creating it if missing. An existing log is read back: its
    /// chains resume where their last whole record left them; a torn tail (a write cut short)
    /// is cut and kept in `PATH.cut-PID`; damage before whole frames is refused.
    pub fn open(path: &Path) -> Result<DeviceLog, WriteError> {
        let shown = path.display().to_string();
        let io = |source| WriteError::Io {
            path: shown.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        // One writer per file: a second logger on the same log would fork its chains.
        file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => WriteError::Locked {
                path: shown.clone(),
            },
            std::fs::TryLockError::Error(source) => io(source),
        })?;
        // What a killed writer wrote may still be only in the page cache: make it durable
        // before any head read back from it is offered for stamping.
        file.sync_all().map_err(io)?;
        let mut len = file.metadata().map_err(io)?.len();
        if len == 0 {
            file.write_all(FILE_MAGIC).map_err(io)?;
            file.sync_all().map_err(io)?;
            sync_dir(path).map_err(io)?;
            len = FILE_MAGIC.len() as u64;
        }
        let corrupt = |reason: String| WriteError::Corrupt {
            path: shown.clone(),
            reason,
        };
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut frames = FrameReader::new(BufReader::new(&file), len).map_err(|e| match e {
            ReadError::Io(source) => io(source),
            ReadError::Frame(f) => corrupt(f.to_string()),
        })?;
        let mut chains: Vec<ChainState> = Vec::new();
        let mut by_device = HashMap::new();
        loop {
            let frame = match frames.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(ReadError::Io(source)) => return Err(io(source)),
                Err(ReadError::Frame(f)) => return Err(corrupt(f.to_string())),
            };
            let at = frame.offset;
            let entry = Entry::decode(frame.kind, &frame.body)
                .map_err(|e| corrupt(format!("frame at byte {at}: {e}")))?;
            resume(&mut chains, &mut by_device, entry)
                .map_err(|r| corrupt(format!("frame at byte {at}: {r}")))?;
        }
        let mut cut = None;
        if let Some(at) = frames.torn_at() {
            drop(frames);
            let aside = PathBuf::from(format!("{shown}.cut-{}", std::process::id()));
            let mut torn = Vec::new();
            file.seek(SeekFrom::Start(at)).map_err(io)?;
            (&file).take(len - at).read_to_end(&mut torn).map_err(io)?;
            std::fs::write(&aside, &torn).map_err(io)?;
            file.set_len(at).map_err(io)?;
            file.sync_all().map_err(io)?;
            cut = Some((len - at, aside));
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(DeviceLog {
            path: path.to_owned(),
            file,
            pending: Vec::new(),
            chains,
            by_device,
            poisoned: false,
            cut,
        })
    }

    /// The torn tail cut at open, if any: its length and the file it was kept in.
    pub fn cut_at_open(&self) -> Option<&(u64, PathBuf)> {
        self.cut.as_ref()
    }

    /// The chain of `key`'s device, begun if the log has none yet (its frame is written with
    /// the next sync, before any of its heads can be offered).
    pub fn chain_for(&mut self, key: SigningKey) -> Result<u32, WriteError> {
        let device = public_key(&key);
        if let Some(&index) = self.by_device.get(&device) {
            self.chains[index as usize].key = Some(key);
            return Ok(index);
        }
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id).map_err(|e| WriteError::Random(e.to_string()))?;
        let chain = Chain {
            index: self.chains.len() as u32,
            device,
            log_id: LogId(id),
        };
        self.pending.extend(Entry::Chain(chain.clone()).to_frame());
        let index = chain.index;
        self.by_device.insert(device, index);
        self.chains.push(ChainState {
            head: chain_anchor(&chain.device, &chain.log_id),
            chain,
            key: Some(key),
            next_seq: 0,
            cursor: None,
            offered: None,
        });
        Ok(index)
    }

    /// The device key of chain `chain`.
    pub fn device(&self, chain: u32) -> Option<PublicKey> {
        self.chains.get(chain as usize).map(|c| c.chain.device)
    }

    /// The next record's seq in `chain`.
    pub fn next_seq(&self, chain: u32) -> u64 {
        self.chains.get(chain as usize).map_or(0, |c| c.next_seq)
    }

    /// The cursor of `chain`'s last record, if it has one.
    pub fn cursor(&self, chain: u32) -> Option<u64> {
        self.chains.get(chain as usize).and_then(|c| c.cursor)
    }

    /// Signs and chains a record; it is durable after the next [`DeviceLog::sync`].
    ///
    /// # Panics
    /// If `chain` was not returned by [`DeviceLog::chain_for`] in this run.
    pub fn append(
        &mut self,
        chain: u32,
        payload: &[u8],
        device_time: UtcNanos,
        cursor: u64,
    ) -> Result<u64, WriteError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(WriteError::TooLarge {
                size: payload.len(),
            });
        }
        let c = &mut self.chains[chain as usize];
        let key = c.key.as_ref().expect("chain_for gave this chain its key");
        let seq = c.next_seq;
        let hash = record_hash(&c.head, seq, device_time, payload);
        let record = Record {
            chain,
            seq,
            device_time,
            cursor,
            payload: payload.to_vec(),
            signature: sign(key, &record_signing_bytes(&hash)),
        };
        self.pending.extend(Entry::Record(record).to_frame());
        c.head = hash;
        c.next_seq += 1;
        c.cursor = Some(cursor);
        Ok(seq)
    }

    /// Writes everything appended since the last sync and waits until it is on disk.
    pub fn sync(&mut self) -> Result<(), WriteError> {
        if self.poisoned {
            return Err(WriteError::Poisoned {
                path: self.path.display().to_string(),
            });
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self
            .file
            .write_all(&self.pending)
            .and_then(|()| self.file.sync_data());
        if let Err(source) = result {
            self.poisoned = true;
            return Err(WriteError::Io {
                path: self.path.display().to_string(),
                source,
            });
        }
        self.pending.clear();
        Ok(())
    }

    /// The heads of up to `limit` chains that moved since they were last offered, marked as
    /// offered (the others wait for the next call). Call right after [`DeviceLog::sync`], so
    /// only durable records are offered.
    pub fn take_heads(&mut self, limit: usize) -> Vec<HeadRef> {
        debug_assert!(self.pending.is_empty(), "offer only synced heads");
        let mut heads = Vec::new();
        for c in &mut self.chains {
            if heads.len() >= limit {
                break;
            }
            let Some(last) = c.next_seq.checked_sub(1) else {
                continue;
            };
            if c.offered.is_some_and(|o| o >= last) {
                continue;
            }
            c.offered = Some(last);
            heads.push(HeadRef {
                chain: c.chain.index,
                seq: last,
                hash: c.head,
            });
        }
        heads
    }

    /// Marks heads as not offered, so their chains are offered again (a root that was given
    /// up).
    pub fn reoffer(&mut self, heads: &[HeadRef]) {
        for h in heads {
            if let Some(c) = self.chains.get_mut(h.chain as usize)
                && c.offered == Some(h.seq)
            {
                c.offered = h.seq.checked_sub(1);
            }
        }
    }

    /// Appends a stamp (durable after the next sync).
    ///
    /// # Panics
    /// If `heads` is empty or longer than [`super::MAX_STAMP_HEADS`] (a stamp the reader
    /// refuses must never be written).
    pub fn append_stamp(&mut self, heads: Vec<HeadRef>, compact_proof: Vec<u8>) {
        assert!(
            (1..=super::MAX_STAMP_HEADS).contains(&heads.len()),
            "a stamp carries 1 to MAX_STAMP_HEADS heads"
        );
        self.pending.extend(
            Entry::Stamp(Stamp {
                heads,
                proof: compact_proof,
            })
            .to_frame(),
        );
    }
}

fn resume(
    chains: &mut Vec<ChainState>,
    by_device: &mut HashMap<PublicKey, u32>,
    entry: Entry,
) -> Result<(), String> {
    match entry {
        Entry::Chain(c) => {
            if c.index as usize != chains.len() {
                return Err(format!("chain index {} out of order", c.index));
            }
            if by_device.insert(c.device, c.index).is_some() {
                return Err(format!("a second chain for device {}", c.device));
            }
            chains.push(ChainState {
                head: chain_anchor(&c.device, &c.log_id),
                chain: c,
                key: None,
                next_seq: 0,
                cursor: None,
                offered: None,
            });
        }
        Entry::Record(r) => {
            let c = chains
                .get_mut(r.chain as usize)
                .ok_or_else(|| format!("record of unknown chain {}", r.chain))?;
            if r.seq != c.next_seq {
                return Err(format!(
                    "chain {} has record seq {} where {} was expected",
                    r.chain, r.seq, c.next_seq
                ));
            }
            c.head = record_hash(&c.head, r.seq, r.device_time, &r.payload);
            c.next_seq += 1;
            c.cursor = Some(r.cursor);
        }
        Entry::Stamp(s) => {
            for h in s.heads {
                let c = chains
                    .get_mut(h.chain as usize)
                    .ok_or_else(|| format!("stamp of unknown chain {}", h.chain))?;
                c.offered = Some(c.offered.map_or(h.seq, |o| o.max(h.seq)));
            }
        }
    }
    Ok(())
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}
