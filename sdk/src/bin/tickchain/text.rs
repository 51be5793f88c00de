//! Human-readable rendering of times and files for the CLI.

use crate::Failure;
use std::path::Path;
use tickchain_sdk::{Genesis, Proof, UtcNanos};

/// RFC 3339 with nanoseconds, e.g. `2026-11-24T12:00:00.007000000Z`.
pub fn rfc3339(t: UtcNanos) -> String {
    chrono::DateTime::from_timestamp_nanos(t.0).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// RFC 3339 of a whole second.
pub fn second(s: u64) -> String {
    i64::try_from(s)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("second {s}"),
            |d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", path.display())))
}

/// Reads and parses a proof file in either form.
pub fn read_proof(path: &Path) -> Result<Proof, Failure> {
    let bytes = read(path)?;
    Proof::from_bytes(&bytes).map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))
}

/// Reads and validates a genesis file.
pub fn read_genesis(path: &Path) -> Result<Genesis, Failure> {
    let bytes = read(path)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::BadInput(format!("{}: genesis is not UTF-8 JSON", path.display())))?;
    Genesis::from_json(text).map_err(|e| Failure::BadInput(format!("{}: {e}", path.display())))
}
