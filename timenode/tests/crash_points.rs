//! Crash consistency at every write boundary, in real processes: a node aborted right after a
//! durable write (the record log, a final tick's record, a final tick in the chain) restarts,
//! rejoins the ring, and agrees with it (`specs/consensus.md` §9).
//!
//! The abort comes from the node's own test hook (`TICKCHAIN_TEST_ABORT_AFTER=<kind>:<n>`,
//! `tickchain_timenode::node::failpoint`), so it lands exactly between two writes, which a
//! SIGKILL from outside hits only by luck.

mod ringkit;

use ringkit::{setup, wait_until};
use std::os::unix::process::ExitStatusExt;
use std::time::Duration;
use tickchain_sdk::Network;
use tickchain_timenode::node::failpoint;

#[test]
fn a_node_aborted_after_each_kind_of_durable_write_restarts_and_rejoins() {
    let root = std::env::temp_dir().join(format!("tc-crash-points-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    ringkit::start_all(&mut nodes, 3, Duration::from_secs(30));

    // The window between a final tick's record and its chain entry is the one that used to
    // crash-loop the node (`OutOfOrder` on the next final tick, at every restart).
    let cases = [
        ("final-record", 2),
        ("final", 2),
        ("records", 5),
        ("final-record", 5),
        ("final", 4),
        ("records", 11),
    ];
    for (kind, n) in cases {
        nodes[3].sigterm();
        nodes[3].env = vec![(failpoint::ENV.to_string(), format!("{kind}:{n}"))];
        nodes[3].start();
        let status = nodes[3].wait_exit(Duration::from_secs(30));
        assert_eq!(
            status.signal(),
            Some(libc_sigabrt()),
            "{kind}:{n}: the hook aborts the node ({status:?})"
        );
        nodes[3].env.clear();
        nodes[3].start();
        let target = nodes[0].top() + 3;
        wait_until(
            &format!("node 3 to rejoin after an abort at {kind}:{n}"),
            Duration::from_secs(30),
            || nodes[3].top() >= target,
        );
        println!("{kind}:{n}: node 3 rejoined at height {}", nodes[3].top());
    }

    ringkit::stop_and_check_agreement(&mut nodes, &Network::new(genesis));
    let _ = std::fs::remove_dir_all(&root);
}

/// SIGABRT's number on Linux.
fn libc_sigabrt() -> i32 {
    6
}
