//! The consensus record log is pruned on disk as the chain grows (`specs/consensus.md` §9), and
//! a node restarted from its pruned log rejoins the ring and agrees with it.

mod ringkit;

use ringkit::{setup, wait_until};
use std::time::Duration;
use tickchain_consensus::Record;
use tickchain_sdk::{Height, Network, View};
use tickchain_timenode::node::{PRUNE_EVERY_TICKS, records};
use tickchain_timenode::store::{ChainStore, Store};

fn view_of(r: &Record) -> View {
    match r {
        Record::Vote(v) => v.view(),
        Record::Proposal(p) => p.tick.view,
        Record::Notarization(n) => n.tick.view,
        Record::Nullification(n) => n.view,
        Record::Finalized(t) => t.tick.view,
    }
}

/// (records on disk, lowest view among them, the view of the final tick at `floor_height`) of a
/// stopped node.
fn log_shape(dir: &std::path::Path, floor_height: u64) -> (usize, View, View) {
    let store = Store::open(&dir.join("data")).unwrap();
    let all: Vec<Record> = store
        .records()
        .unwrap()
        .iter()
        .map(|(_, b)| records::decode(b).unwrap())
        .collect();
    let lowest = all.iter().map(view_of).min().unwrap();
    let floor = records::decode_final(&store.final_at(Height(floor_height)).unwrap().unwrap())
        .unwrap()
        .tick
        .view;
    (all.len(), lowest, floor)
}

#[test]
fn the_record_log_keeps_only_recent_views_and_a_pruned_node_restarts_and_rejoins() {
    let root = std::env::temp_dir().join(format!("tc-record-log-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    ringkit::start_all(&mut nodes, 40, Duration::from_secs(60));

    nodes[0].sigterm();
    // The node prunes after every 16th final tick, one prune at a time; the one before the
    // last has surely finished, so nothing below that tick's view may remain.
    let top = nodes[0].top();
    let floor_height = (top / PRUNE_EVERY_TICKS).saturating_sub(1) * PRUNE_EVERY_TICKS;
    assert!(floor_height >= PRUNE_EVERY_TICKS, "{top} ticks");
    let (count, lowest, floor) = log_shape(&nodes[0].dir, floor_height);
    println!(
        "node 0 after {top} ticks: {count} records, lowest view {}, view of height {floor_height} {}",
        lowest.0, floor.0
    );
    assert!(
        lowest >= floor,
        "records from view {} remain, below the view {} of the final tick at height \
         {floor_height}, which was pruned up to",
        lowest.0,
        floor.0
    );

    nodes[0].start();
    let target = nodes[1].top() + 3;
    wait_until(
        "node 0 to rejoin from its pruned log",
        Duration::from_secs(30),
        || nodes[0].top() >= target,
    );
    let chains = ringkit::stop_and_check_agreement(&mut nodes, &Network::new(genesis));
    assert!(chains.iter().map(Vec::len).min().unwrap() >= 40);
    let _ = std::fs::remove_dir_all(&root);
}
