//! `DeviceLog` against real files: what it writes verifies with `verify_log`, a reopened log
//! continues its chains where the last synced record left them (stamped heads are not offered
//! again), a torn tail is cut and kept aside, and damage before whole frames is refused.

use std::path::PathBuf;
use tickchain_sdk::devicelog::{DeviceLog, WriteError, stamp_root, verify_log};
use tickchain_sdk::signing::public_key;
use tickchain_sdk::testkit::{TestNetwork, seeded};
use tickchain_sdk::{Digest, Height, Network, Second, UtcNanos};

fn dir(label: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-devlog-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn key(name: &str) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&seeded(name))
}

#[test]
fn a_written_log_verifies_and_a_reopened_one_continues_without_reoffering_stamped_heads() {
    let d = dir("resume");
    let path = d.join("a.tclog");
    let net = TestNetwork::new("devlog-writer", 4, 1, Second(1_764_000_000));
    let mut log = DeviceLog::open(&path).unwrap();
    assert!(
        matches!(DeviceLog::open(&path), Err(WriteError::Locked { .. })),
        "a second writer on the same log is refused"
    );
    let (ka, kb) = (key("dev/a"), key("dev/b"));
    let a = log.chain_for(ka.clone()).unwrap();
    let b = log.chain_for(kb.clone()).unwrap();
    for i in 0..3u64 {
        log.append(
            a,
            format!("a{i}").as_bytes(),
            UtcNanos(i as i64),
            10 * (i + 1),
        )
        .unwrap();
    }
    log.append(b, b"b0", UtcNanos(0), 0).unwrap();
    log.sync().unwrap();
    let heads = log.take_heads(usize::MAX);
    assert_eq!(
        heads.iter().map(|h| (h.chain, h.seq)).collect::<Vec<_>>(),
        [(a, 2), (b, 0)]
    );
    assert!(
        log.take_heads(usize::MAX).is_empty(),
        "offered heads are not offered twice"
    );
    let proof = net.proof_of(
        Digest(stamp_root(&heads).0),
        Second(1_764_000_020),
        Height(20),
    );
    log.append_stamp(heads, proof.to_compact().unwrap());
    log.sync().unwrap();
    log.append(a, b"a3 not synced", UtcNanos(3), 40).unwrap();
    drop(log); // the last record was never synced: it is not in the file

    let mut log = DeviceLog::open(&path).unwrap();
    assert_eq!(
        log.chain_for(ka.clone()).unwrap(),
        a,
        "same chain for the same key"
    );
    assert_eq!(log.next_seq(a), 3);
    assert_eq!(log.cursor(a), Some(30));
    log.sync().unwrap();
    assert!(
        log.take_heads(usize::MAX).is_empty(),
        "the stamped heads stay stamped"
    );
    log.append(a, b"a3", UtcNanos(3), 40).unwrap();
    log.sync().unwrap();
    let heads = log.take_heads(usize::MAX);
    assert_eq!(heads.len(), 1);
    assert_eq!((heads[0].chain, heads[0].seq), (a, 3));

    let report = verify_log(
        &std::fs::read(&path).unwrap(),
        &public_key(&ka),
        &Network::new(net.genesis.clone()),
    )
    .unwrap();
    let payloads: Vec<&[u8]> = report.records.iter().map(|r| &r.payload[..]).collect();
    assert_eq!(payloads, [&b"a0"[..], b"a1", b"a2", b"a3"]);
    assert_eq!(report.stamped_through(), Some(2));
    assert_eq!(report.stamps[0].timestamp.height, Height(20));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_torn_tail_is_cut_and_kept_aside_and_damage_before_whole_frames_is_refused() {
    let d = dir("torn");
    let path = d.join("t.tclog");
    let mut log = DeviceLog::open(&path).unwrap();
    let c = log.chain_for(key("dev/t")).unwrap();
    log.append(c, b"one", UtcNanos(1), 4).unwrap();
    log.append(c, b"two", UtcNanos(2), 8).unwrap();
    log.sync().unwrap();
    drop(log);
    let whole = std::fs::read(&path).unwrap();
    let mut torn = whole.clone();
    torn.extend([2, 0, 0, 0, 90, 1, 2, 3]); // a record frame cut short
    std::fs::write(&path, &torn).unwrap();
    let mut log = DeviceLog::open(&path).unwrap();
    let (len, aside) = log.cut_at_open().cloned().expect("a cut");
    assert_eq!(len, 8);
    assert_eq!(std::fs::read(&aside).unwrap(), [2, 0, 0, 0, 90, 1, 2, 3]);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        whole,
        "cut back to the last whole frame"
    );
    log.chain_for(key("dev/t")).unwrap();
    assert_eq!(log.next_seq(c), 2);
    drop(log);

    let mut damaged = whole.clone();
    damaged[60] ^= 1; // inside the chain frame or the first record, whole frames after it
    std::fs::write(&path, &damaged).unwrap();
    match DeviceLog::open(&path) {
        Err(WriteError::Corrupt { reason, .. }) => {
            assert!(reason.contains("not a torn last write"), "{reason}")
        }
        Err(e) => panic!("expected a refusal for damage, got {e}"),
        Ok(_) => panic!("a damaged log must not open"),
    }
    assert_eq!(
        std::fs::read(&path).unwrap(),
        damaged,
        "a refused log is left as it was"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_oversized_record_is_refused_and_nothing_is_written() {
    let d = dir("big");
    let path = d.join("b.tclog");
    let mut log = DeviceLog::open(&path).unwrap();
    let c = log.chain_for(key("dev/big")).unwrap();
    log.sync().unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = log
        .append(c, &vec![0u8; 64 * 1024 + 1], UtcNanos(0), 0)
        .unwrap_err();
    assert!(
        matches!(err, WriteError::TooLarge { size: 65_537 }),
        "{err}"
    );
    log.sync().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(log.next_seq(c), 0);
    std::fs::remove_dir_all(&d).unwrap();
}
