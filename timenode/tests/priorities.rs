//! Intake yields the cores to consensus (issue 13, finding 8): in a running node process, the
//! threads that take submissions (the API runtime, the pool writer and flusher) run at a lower
//! CPU priority than the consensus thread, and the index's background threads lower still.
//! Without this, saturating intake on two cores held the ring's final-tick lag p99 at
//! 55–173 ms (the figures and the load generator that measures them are in the README).

mod ringkit;

use ringkit::setup;
use std::collections::BTreeMap;
use std::time::Duration;
use tickchain_sdk::Network;

/// Nice value of every thread of process `pid`, by thread name.
fn nice_by_thread(pid: u32) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let stat = match std::fs::read_to_string(task.unwrap().path().join("stat")) {
            Ok(s) => s,
            Err(_) => continue, // the thread ended meanwhile
        };
        // `tid (comm) state ...`: the name may hold spaces, so split at the last ')'.
        let open = stat.find('(').unwrap();
        let close = stat.rfind(')').unwrap();
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Field 19 of stat is the nice value; `fields` starts at field 3.
        let nice: i64 = fields[19 - 3].parse().unwrap();
        out.entry(name).or_default().push(nice);
    }
    out
}

#[test]
fn intake_threads_run_below_the_consensus_thread() {
    let root = std::env::temp_dir().join(format!("tc-priorities-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    ringkit::start_all(&mut nodes, 2, Duration::from_secs(60));
    let threads = nice_by_thread(nodes[0].pid().expect("running"));
    let of = |name: &str| {
        threads
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no thread named {name:?} in {threads:?}"))
    };
    let consensus = of("consensus");
    assert_eq!(consensus.len(), 1, "{threads:?}");
    let base = consensus[0];
    for name in ["api", "pool-writer", "pool-flusher"] {
        for nice in of(name) {
            assert_eq!(nice, (base + 5).min(19), "{name}: {threads:?}");
        }
    }
    for name in ["pool-indexer", "pool-compactor"] {
        for nice in of(name) {
            assert_eq!(nice, (base + 10).min(19), "{name}: {threads:?}");
        }
    }
    ringkit::stop_and_check_agreement(&mut nodes, &Network::new(genesis));
    let _ = std::fs::remove_dir_all(&root);
}
