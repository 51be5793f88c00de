//! The device log vectors in `specs/vectors/devicelog.json` verify (or fail, naming the first
//! bad frame) exactly as labelled, and every failure code of `verify_log` that a log's bytes
//! can cause has a vector (`specs/devicelog.md` §7).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tickchain_sdk::devicelog::vectors::DeviceLogCase;
use tickchain_sdk::devicelog::verify_log;
use tickchain_sdk::{Genesis, Network, PublicKey};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/vectors")
}

fn cases() -> Vec<DeviceLogCase> {
    serde_json::from_slice(&std::fs::read(dir().join("devicelog.json")).unwrap()).unwrap()
}

#[test]
fn every_device_log_vector_verifies_or_fails_as_labelled() {
    let cases = cases();
    assert!(cases.len() >= 12, "expected the full device log vector set");
    for case in cases {
        let genesis =
            Genesis::from_json(&std::fs::read_to_string(dir().join(&case.genesis)).unwrap())
                .unwrap();
        let file = std::fs::read(dir().join(&case.log)).unwrap();
        let device = PublicKey::from_hex(&case.device).unwrap();
        match verify_log(&file, &device, &Network::new(genesis)) {
            Ok(report) => {
                assert_eq!(case.expect, "ok", "{}: {}", case.name, case.description);
                assert_eq!(
                    Some(report.records.len() as u64),
                    case.records,
                    "{}",
                    case.name
                );
                assert_eq!(
                    report.stamped_through(),
                    case.stamped_through,
                    "{}",
                    case.name
                );
                let seqs: Vec<u64> = report.records.iter().map(|r| r.seq).collect();
                assert_eq!(
                    seqs,
                    (0..seqs.len() as u64).collect::<Vec<_>>(),
                    "{}",
                    case.name
                );
            }
            Err(e) => {
                assert_eq!(
                    e.code(),
                    case.expect,
                    "{}: {} ({e})",
                    case.name,
                    case.description
                );
                assert_eq!(e.offset(), case.offset, "{}: {e}", case.name);
            }
        }
    }
}

#[test]
fn every_rule_a_logs_bytes_can_break_has_a_vector() {
    let codes: BTreeSet<String> = cases().into_iter().map(|c| c.expect).collect();
    for code in [
        "ok",
        "no_chain",
        "damaged_frame",
        "signature",
        "sequence",
        "stamped_head_differs",
        "stamped_record_missing",
        "stamp_proof",
    ] {
        assert!(codes.contains(code), "no device log vector for {code}");
    }
}

#[test]
fn each_record_is_bounded_by_the_first_stamp_at_or_after_it() {
    let case = cases().into_iter().find(|c| c.name == "valid").unwrap();
    let genesis =
        Genesis::from_json(&std::fs::read_to_string(dir().join(&case.genesis)).unwrap()).unwrap();
    let file = std::fs::read(dir().join(&case.log)).unwrap();
    let device = PublicKey::from_hex(&case.device).unwrap();
    let report = verify_log(&file, &device, &Network::new(genesis)).unwrap();
    let by: Vec<Option<u64>> = report
        .records
        .iter()
        .map(|r| r.proven_by.map(|i| report.stamps[i].seq))
        .collect();
    assert_eq!(
        by,
        [Some(2), Some(2), Some(2), Some(5), Some(5), Some(5), None],
        "records 0-2 by the stamp of 2, 3-5 by the stamp of 5, 6 by none yet"
    );
    assert!(report.stamps[0].timestamp.latest < report.stamps[1].timestamp.latest);
}
