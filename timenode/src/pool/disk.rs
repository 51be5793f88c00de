//! The disk reserve (`[pool] min-free-bytes`, `specs/pool.md` §1): submissions are refused
//! while the filesystem holding the node's data directory has less free space than the reserve,
//! so one client cannot fill the disk under the chain. The pool checks it when a submission
//! arrives and again on the writer thread before each group commit, so what was queued while
//! space remained cannot overshoot the reserve by more than one group.
//!
//! Owns: reading the free space (`statvfs`, what an unprivileged writer may use), caching it for
//! [`CHECK_EVERY`] so a flood of submissions costs one syscall per interval, and the count of
//! refusals. Never: writes anything, or refuses anything but new digests (ticks and proofs go
//! on).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tickchain_api::SubmitError;
use tracing::warn;

/// How long one free-space reading is trusted.
pub const CHECK_EVERY: Duration = Duration::from_millis(200);
/// The `Retry-After` a refusal suggests.
const RETRY_AFTER: Duration = Duration::from_secs(5);

static STATVFS_FAILED_LOG: crate::log_limit::LogLimit =
    crate::log_limit::LogLimit::new(Duration::from_secs(60));
static LOW_DISK_LOG: crate::log_limit::LogLimit =
    crate::log_limit::LogLimit::new(Duration::from_secs(10));

/// Bytes available to an unprivileged writer on the filesystem holding `path`.
pub fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let s = rustix::fs::statvfs(path)?;
    Ok(s.f_bavail.saturating_mul(s.f_frsize))
}

/// Free bytes a node whose storage failed for lack of space waits for before it reopens: its
/// reserve, and at least 1 MiB when the reserve is off.
pub fn resume_bytes(reserve_bytes: u64) -> u64 {
    reserve_bytes.max(1024 * 1024)
}

/// Waits, polling once a second, until the filesystem of `path` has `bytes` free (a path that
/// cannot be read counts as free: opening it will say what is wrong); `false` if `stop` turned
/// true first.
pub async fn wait_for_space(
    path: &Path,
    bytes: u64,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> bool {
    let mut logged = false;
    loop {
        if *stop.borrow() {
            return false;
        }
        match free_bytes(path) {
            Ok(free) if free < bytes => {
                if !logged {
                    warn!(path = %path.display(), free_bytes = free, needed_bytes = bytes,
                        "waiting for free disk space before opening the store");
                    logged = true;
                }
            }
            _ => return true,
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => {}
        }
    }
}

/// The reserve check in front of the pool.
#[derive(Debug)]
pub struct DiskGuard {
    path: PathBuf,
    reserve_bytes: u64,
    origin: Instant,
    /// Milliseconds after `origin` of the last reading, plus one (0: never read).
    read_at_ms: AtomicU64,
    /// The last reading (`u64::MAX` when it could not be read: then nothing is refused).
    free: AtomicU64,
    refused: AtomicU64,
}

impl DiskGuard {
    /// A guard keeping `reserve_bytes` free on the filesystem of `path` (0: never refuses).
    pub fn new(path: &Path, reserve_bytes: u64) -> DiskGuard {
        DiskGuard {
            path: path.to_owned(),
            reserve_bytes,
            origin: Instant::now(),
            read_at_ms: AtomicU64::new(0),
            free: AtomicU64::new(u64::MAX),
            refused: AtomicU64::new(0),
        }
    }

    /// Free bytes as of at most [`CHECK_EVERY`] ago; one caller re-reads when it is stale.
    fn free(&self) -> u64 {
        let now_ms = self.origin.elapsed().as_millis() as u64 + 1;
        let read = self.read_at_ms.load(Ordering::Acquire);
        let stale = read == 0 || now_ms.saturating_sub(read) >= CHECK_EVERY.as_millis() as u64;
        if stale
            && self
                .read_at_ms
                .compare_exchange(read, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            let free = match free_bytes(&self.path) {
                Ok(b) => b,
                Err(e) => {
                    if let Some(held) = STATVFS_FAILED_LOG.allow() {
                        warn!(path = %self.path.display(), error = %e, similar_held_back = held,
                            "cannot read free disk space; not enforcing the reserve");
                    }
                    u64::MAX
                }
            };
            self.free.store(free, Ordering::Release);
        }
        self.free.load(Ordering::Acquire)
    }

    /// Refuses new digests while free space is under the reserve.
    pub fn check(&self) -> Result<(), SubmitError> {
        if self.reserve_bytes == 0 {
            return Ok(());
        }
        let free = self.free();
        if free >= self.reserve_bytes {
            return Ok(());
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        if let Some(held) = LOW_DISK_LOG.allow() {
            warn!(
                free_bytes = free,
                reserve_bytes = self.reserve_bytes,
                similar_held_back = held,
                "refusing submissions: free disk space is below the reserve"
            );
        }
        Err(SubmitError::LowDisk {
            free_bytes: free,
            reserve_bytes: self.reserve_bytes,
            retry_after: RETRY_AFTER,
        })
    }

    /// Submissions refused since this guard was made.
    pub fn refusals(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_the_disk_refuses_and_a_zero_reserve_never_does() {
        let dir = std::env::temp_dir();
        let free = free_bytes(&dir).unwrap();
        assert!(free > 0, "the temp dir's filesystem has space");
        let huge = DiskGuard::new(&dir, u64::MAX - 1);
        assert!(matches!(
            huge.check(),
            Err(SubmitError::LowDisk { retry_after, .. }) if retry_after > Duration::ZERO
        ));
        assert_eq!(huge.refusals(), 1);
        let off = DiskGuard::new(&dir, 0);
        assert_eq!(off.check(), Ok(()));
        assert_eq!(off.refusals(), 0);
    }
}
