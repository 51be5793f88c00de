//! The sled store: what a write call returned for survives SIGKILL, final ticks are appended in
//! order with increasing seconds, and the second index finds them.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tickchain_sdk::{Hash, Height, Second};
use tickchain_timenode::store::{ChainStore, Store, StoreError};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tc-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn final_ticks_append_in_order_and_are_found_by_second() {
    let dir = temp_dir("order");
    let store = Store::open(&dir).unwrap();
    assert!(store.tip().unwrap().is_none());
    assert!(matches!(
        store.append_final(Height(2), Second(100), &Hash([2; 32]), b"t2"),
        Err(StoreError::OutOfOrder { tip: 0, found: 2 })
    ));
    store
        .append_final(Height(1), Second(100), &Hash([1; 32]), b"t1")
        .unwrap();
    store
        .append_final(Height(2), Second(103), &Hash([2; 32]), b"t2")
        .unwrap();
    store
        .append_final(Height(2), Second(103), &Hash([2; 32]), b"t2")
        .unwrap(); // idempotent re-write
    assert!(matches!(
        store.append_final(Height(3), Second(103), &Hash([3; 32]), b"t3"),
        Err(StoreError::SecondNotIncreasing {
            tip: 103,
            found: 103
        })
    ));
    assert!(matches!(
        store.append_final(Height(4), Second(104), &Hash([4; 32]), b"t4"),
        Err(StoreError::OutOfOrder { tip: 2, found: 4 })
    ));
    assert_eq!(store.tip().unwrap(), Some((Height(2), Second(103))));
    assert_eq!(
        store.height_of_second(Second(103)).unwrap(),
        Some(Height(2))
    );
    assert_eq!(
        store.height_of_second(Second(101)).unwrap(),
        None,
        "a skipped second is a gap"
    );
    assert_eq!(
        store.final_at(Height(1)).unwrap().as_deref(),
        Some(&b"t1"[..])
    );
    let all = store.finals_from(Height(1), 10).unwrap();
    assert_eq!(
        all,
        vec![(Height(1), b"t1".to_vec()), (Height(2), b"t2".to_vec())]
    );
    drop(store);
    let reopened = Store::open(&dir).unwrap();
    assert_eq!(reopened.tip().unwrap(), Some((Height(2), Second(103))));
    drop(reopened);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_index_values_are_errors_not_panics() {
    let dir = temp_dir("corrupt");
    let store = Store::open(&dir).unwrap();
    store
        .append_final(Height(1), Second(100), &Hash([1; 32]), b"t1")
        .unwrap();
    // A damaged disk: short values in the second and hash indexes.
    let db = store.db();
    db.open_tree("seconds")
        .unwrap()
        .insert(101u64.to_be_bytes(), &b"\x01"[..])
        .unwrap();
    db.open_tree("hashes")
        .unwrap()
        .insert([9u8; 32], &b""[..])
        .unwrap();
    for result in [
        store.height_of_second(Second(101)).map(|_| ()),
        store.height_of_hash(&Hash([9; 32])).map(|_| ()),
        store.tip().map(|_| ()),
    ] {
        let err = result.expect_err("a corrupt value is an error");
        assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    }
    // A final tick without its second index entry (tip) is an error too.
    db.open_tree("seconds").unwrap().clear().unwrap();
    assert!(matches!(store.tip(), Err(StoreError::Corrupt(_))));
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_store_reopens_right_after_a_drop_and_refuses_while_still_open() {
    let dir = temp_dir("lock");
    let store = Store::open(&dir).unwrap();
    // A second open while the first is alive fails (after the retry deadline), clearly.
    let err = Store::open(&dir).err().expect("the database is locked");
    assert!(err.to_string().contains("could not acquire lock"), "{err}");
    drop(store);
    for _ in 0..20 {
        drop(Store::open(&dir).unwrap());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn records_keep_their_order_and_can_be_pruned() {
    let dir = temp_dir("records");
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store
            .append_records(&[b"a".to_vec(), b"b".to_vec()])
            .unwrap(),
        2
    );
    assert_eq!(store.append_records(&[b"c".to_vec()]).unwrap(), 3);
    assert_eq!(store.prune_records(&mut |r| r == b"a").unwrap(), 1);
    let left: Vec<Vec<u8>> = store
        .records()
        .unwrap()
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(left, vec![b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(
        store.append_records(&[b"d".to_vec()]).unwrap(),
        4,
        "sequence numbers never reuse"
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The child side of the SIGKILL test: appends records forever, printing each acknowledged
/// sequence number after the call returned. The parent runs it with `--ignored`.
#[test]
#[ignore = "child process of every_acknowledged_record_survives_sigkill"]
fn sigkill_child_writer() {
    let dir = std::env::var("TC_STORE_CHILD_DIR").expect("run by the SIGKILL test");
    let store = Store::open(std::path::Path::new(&dir)).unwrap();
    let mut i = 0u64;
    loop {
        i += 1;
        let group: Vec<Vec<u8>> = (0..(i % 4 + 1))
            .map(|k| format!("r{i}.{k}").into_bytes())
            .collect();
        let seq = store.append_records(&group).unwrap();
        println!("ACK {seq}");
    }
}

#[test]
fn every_acknowledged_record_survives_sigkill() {
    let dir = temp_dir("sigkill");
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "sigkill_child_writer",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("TC_STORE_CHILD_DIR", &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut acked = 0u64;
        let mut lines = BufReader::new(stdout).lines();
        let started = Instant::now();
        // Let it write for a varying time, then kill it without warning.
        let run_for = Duration::from_millis(150 + 97 * round);
        while started.elapsed() < run_for {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(n) = line.strip_prefix("ACK ") {
                        acked = n.parse().unwrap();
                    }
                }
                _ => break,
            }
        }
        // SIGKILL by pid (std's kill sends SIGKILL on Unix).
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(acked > 0, "round {round}: the child acknowledged nothing");
        let store = Store::open(&dir).unwrap();
        let seqs: Vec<u64> = store
            .records()
            .unwrap()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        let last = *seqs.last().unwrap();
        assert!(
            last >= acked,
            "round {round}: acknowledged {acked}, only {last} survived"
        );
        assert_eq!(
            seqs,
            (1..=last).collect::<Vec<_>>(),
            "round {round}: a gap in the log"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evidence_of_conflicting_finality_is_kept_once_per_height_across_a_reopen() {
    let dir = temp_dir("evidence");
    {
        let store = Store::open(&dir).unwrap();
        assert!(store.evidence().unwrap().is_empty());
        store.put_evidence(Height(7), b"first").unwrap();
        store.put_evidence(Height(7), b"second").unwrap();
        store.put_evidence(Height(3), b"other").unwrap();
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.evidence().unwrap(),
        vec![
            (Height(3), b"other".to_vec()),
            (Height(7), b"first".to_vec())
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `specs/evidence.md` §5: each piece of misbehaviour evidence is kept once, the first 4,096
/// only (a member cannot push out its oldest evidence by misbehaving more), newest first, and
/// it survives a reopen.
#[test]
fn misbehaviour_evidence_is_kept_once_per_identity_up_to_the_cap_across_a_reopen() {
    use tickchain_timenode::store::{Kept, MAX_MISBEHAVIOUR};
    let dir = temp_dir("misbehaviour");
    {
        let store = Store::open(&dir).unwrap();
        assert!(store.misbehaviour(10).unwrap().is_empty());
        assert_eq!(
            store.put_misbehaviour(b"a", b"first").unwrap(),
            Kept::Stored
        );
        assert_eq!(store.put_misbehaviour(b"a", b"again").unwrap(), Kept::Known);
        assert_eq!(
            store.put_misbehaviour(b"b", b"second").unwrap(),
            Kept::Stored
        );
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.misbehaviour(10).unwrap(),
        vec![b"second".to_vec(), b"first".to_vec()]
    );
    assert_eq!(store.misbehaviour(1).unwrap(), vec![b"second".to_vec()]);
    for i in 2..MAX_MISBEHAVIOUR {
        let id = format!("id-{i}");
        assert_eq!(
            store.put_misbehaviour(id.as_bytes(), b"x").unwrap(),
            Kept::Stored
        );
    }
    assert_eq!(store.put_misbehaviour(b"late", b"y").unwrap(), Kept::Full);
    assert_eq!(
        store.misbehaviour(usize::MAX).unwrap().len(),
        MAX_MISBEHAVIOUR
    );
    assert_eq!(store.put_misbehaviour(b"a", b"z").unwrap(), Kept::Known);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn records_kept_in_sled_by_older_stores_move_into_the_record_log_once() {
    let dir = temp_dir("migrate");
    {
        let db = sled::open(&dir).unwrap();
        let old = db.open_tree("records").unwrap();
        old.insert(3u64.to_be_bytes(), b"x".to_vec()).unwrap();
        old.insert(7u64.to_be_bytes(), b"y".to_vec()).unwrap();
        db.flush().unwrap();
    }
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.records().unwrap(),
        vec![(3, b"x".to_vec()), (7, b"y".to_vec())]
    );
    assert_eq!(store.append_records(&[b"z".to_vec()]).unwrap(), 8);
    drop(store);
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.records().unwrap(),
        vec![(3, b"x".to_vec()), (7, b"y".to_vec()), (8, b"z".to_vec())],
        "moved once, not again at the next open"
    );
    drop(store);
    // sled lets go of its lock a moment after the last handle is dropped.
    let started = Instant::now();
    let db = loop {
        match sled::open(&dir) {
            Ok(db) => break db,
            Err(e) if started.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot reopen the database: {e}"),
        }
    };
    assert!(
        !db.tree_names().iter().any(|n| n.as_ref() == b"records"),
        "the old tree is dropped"
    );
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_store_with_a_chain_and_no_record_log_refuses_to_open_until_one_is_put_back() {
    let dir = temp_dir("no-log");
    let store = Store::open(&dir).unwrap();
    store.append_records(&[b"vote".to_vec()]).unwrap();
    store
        .append_final(Height(1), Second(100), &Hash([1; 32]), b"tick")
        .unwrap();
    drop(store);
    let log = dir.join("records.log");
    std::fs::remove_file(&log).unwrap();
    let err = Store::open(&dir).err().expect("refused");
    assert!(err.to_string().contains("is missing"), "{err}");
    assert!(!log.exists(), "no empty log was made in its place");
    // The operator's deliberate choice, as the message describes.
    std::fs::write(&log, b"").unwrap();
    let store = Store::open(&dir).unwrap();
    assert!(store.records().unwrap().is_empty());
    assert_eq!(
        store.final_at(Height(1)).unwrap().unwrap(),
        b"tick".to_vec()
    );
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}
