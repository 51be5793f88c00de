//! Fuzz target: a digest-index run file read back from disk (the disk is hostile too) must
//! never panic when opened, looked up or merged: `Run::open` checks its name, length, footer,
//! fence order and checksum, and a run that opens answers lookups with locations only.
//!
//! The pool's `location` and `runs` modules are compiled here from the node's sources, so the
//! fuzz build does not pull in the whole node.
#![no_main]

#[allow(dead_code)]
#[path = "../../timenode/src/pool/location.rs"]
mod location;
#[allow(dead_code)]
#[path = "../../timenode/src/pool/runs.rs"]
mod runs;

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use tickchain_sdk::{Digest, Second};

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("tc-fuzz-run-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let span = runs::Span {
        level: 1,
        first: Second(5),
        last: Second(9),
    };
    let path = dir.join(span.file_name());
    // First byte odd: the rest gets its checksum appended, so the checks and lookups past the
    // checksum are reached too (the seed is such a file).
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        bytes.extend_from_slice(blake3::hash(rest).as_bytes());
    }
    std::fs::write(&path, &bytes).expect("write the input");
    if let Ok(run) = runs::Run::open(&path) {
        let first = rest.get(..32).and_then(|d| d.try_into().ok()).unwrap_or([7; 32]);
        for probe in [[0u8; 32], [0xff; 32], first] {
            let _ = run.lookup(&Digest(probe));
        }
        let out = runs::Span { level: 2, ..span };
        let _ = runs::Run::merge(&dir, out, &[Arc::new(run)], |_| true);
        let _ = std::fs::remove_file(dir.join(out.file_name()));
    }
    let _ = std::fs::remove_file(&path);
});
