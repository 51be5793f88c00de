//! A test hook that kills the process at a chosen write boundary, to prove crash consistency.
//!
//! Owns: reading `TICKCHAIN_TEST_ABORT_AFTER=<kind>:<n>` once, counting the node's durable
//! writes of each [`WriteKind`], and aborting the process (no destructors, no flush: like
//! SIGKILL) right after the `n`th write of that kind is durable. Never: acts when the variable is
//! unset (every production start), or delays a write.
//!
//! Kinds: `records` (any append to the consensus record log), `final-record` (an append that
//! holds a final tick's record), `final` (a final tick appended to the chain), `reseal` (a
//! stale batch's digests moved into the open batch, `specs/pool.md` §6, before that batch is
//! sealed).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The environment variable that arms the hook.
pub const ENV: &str = "TICKCHAIN_TEST_ABORT_AFTER";

/// A kind of durable write the hook can stop after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// Records appended to the consensus record log.
    Records,
    /// Records appended that include a final tick's record.
    FinalRecord,
    /// A final tick appended to the chain store.
    Final,
    /// A stale batch re-sealed into the open batch (not yet sealed itself).
    Reseal,
}

impl WriteKind {
    fn parse(s: &str) -> Option<WriteKind> {
        match s {
            "records" => Some(WriteKind::Records),
            "final-record" => Some(WriteKind::FinalRecord),
            "final" => Some(WriteKind::Final),
            "reseal" => Some(WriteKind::Reseal),
            _ => None,
        }
    }
}

fn armed() -> Option<(WriteKind, u64)> {
    static ARMED: OnceLock<Option<(WriteKind, u64)>> = OnceLock::new();
    *ARMED.get_or_init(|| {
        let v = std::env::var(ENV).ok()?;
        let (kind, n) = v.split_once(':')?;
        let parsed = (WriteKind::parse(kind)?, n.parse().ok()?);
        tracing::warn!(hook = %v, "test hook armed: this process aborts after that write");
        Some(parsed)
    })
}

/// Records that a write of `kind` is durable; aborts the process if it is the armed one.
pub fn wrote(kind: WriteKind) {
    static COUNT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
    let Some((want, n)) = armed() else { return };
    if want != kind {
        return;
    }
    let slot = kind as usize;
    if COUNT[slot].fetch_add(1, Ordering::SeqCst) + 1 == n {
        eprintln!("{ENV}: aborting after durable write {n} of kind {kind:?}");
        std::process::abort();
    }
}
