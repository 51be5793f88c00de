//! Fuzz target: the consensus record log read back from disk (the disk is hostile too) must
//! never panic, and what it keeps must be exactly a run of whole frames: re-encoding the
//! records gives back the kept prefix byte for byte, and that prefix parses with no damage;
//! the scan for whole frames after damage never panics.
//!
//! The node's `record_frame` module is compiled here from its source, so the fuzz build does
//! not pull in the whole node.
#![no_main]

#[allow(dead_code)]
#[path = "../../timenode/src/store/record_frame.rs"]
mod record_frame;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = record_frame::parse(data);
    assert!(parsed.valid_len <= data.len());
    assert_eq!(parsed.end.is_some(), parsed.valid_len < data.len());
    let mut again = Vec::new();
    for (seq, payload) in &parsed.records {
        record_frame::encode(*seq, payload, &mut again);
    }
    assert_eq!(again, &data[..parsed.valid_len]);
    let prefix = record_frame::parse(&data[..parsed.valid_len]);
    assert_eq!(prefix.end, None);
    assert_eq!(prefix.records, parsed.records);
    assert!(parsed.records.windows(2).all(|w| w[0].0 < w[1].0));
    // Telling a torn tail from damage that whole records follow never panics either.
    let last = parsed.records.last().map_or(0, |(s, _)| *s);
    let _ = record_frame::whole_frame_after(&data[parsed.valid_len..], last);
});
