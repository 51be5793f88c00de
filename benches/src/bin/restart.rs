//! What a restart costs after a day of ticks: the node's start-up reads (open the sled store,
//! replay the consensus record log, find the chain's tip), with the record log pruned on disk as
//! the running node prunes it (`specs/consensus.md` §9) and, for comparison, unpruned.
//!
//! `cargo run --release -p tickchain-benches --bin restart [-- SECONDS]` (default 86,400: one
//! day at one tick per second): writes a chain of SECONDS certified final ticks and, per tick,
//! the records a node persists in a calm ring (its notarize and finalize votes, the
//! notarization, the final tick), into two sled stores; prunes one of them every 16 ticks as
//! the node does; then reopens each, replays it as `Node::open` does, and reports the time,
//! the records read, and the bytes on disk. Bounded; removes its temp directory.

use std::time::Instant;
use tickchain_benches::disk_bytes;
use tickchain_consensus::{ChainTick, Notarization, Persisted, Record, TickVote, Vote};
use tickchain_sdk::testkit::TestNetwork;
use tickchain_sdk::votes::VoteKind;
use tickchain_sdk::{Height, NodeId, Second, View};
use tickchain_timenode::node::{PRUNE_EVERY_TICKS, records};
use tickchain_timenode::store::{ChainStore, Store};

/// Reopens the store in `dir` and does what `Node::open` does with it; returns (seconds taken,
/// records replayed, the tip's height).
fn restart(dir: &std::path::Path) -> (f64, usize, u64) {
    let started = Instant::now();
    let store = Store::open(dir).expect("open sled");
    let log = store.records().expect("records");
    let mut persisted = Persisted::default();
    for (_, bytes) in &log {
        persisted.apply(&records::decode(bytes).expect("record"));
    }
    let tip = store.tip().expect("tip").map_or(0, |(h, _)| h.0);
    (started.elapsed().as_secs_f64(), log.len(), tip)
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(86_400);
    let root = std::env::temp_dir().join(format!("tc-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let genesis = Second(1_800_000_000);
    let net = TestNetwork::new("restart-bench", 4, 1, genesis);
    let gh = net.hash();
    let (pruned_dir, full_dir) = (root.join("pruned"), root.join("unpruned"));
    let pruned = Store::open(&pruned_dir).expect("open sled");
    let full = Store::open(&full_dir).expect("open sled");

    let written = Instant::now();
    let (mut parent, _) = net.tick(Height(0), View(0), genesis, gh, &[]);
    for s in 1..=seconds {
        let view = View(s);
        let tick = if s == 1 {
            net.tick(Height(1), view, Second(genesis.0 + 1), gh, &[]).0
        } else {
            net.child(&parent, view, Second(genesis.0 + s))
        };
        let hash = tick.hash(&gh);
        let reading = TestNetwork::reading(tick.second, 20, 10);
        let vote = |kind, i: u16| {
            TickVote::sign(
                kind,
                &net.keys[i as usize],
                &gh,
                NodeId(i),
                view,
                hash,
                reading,
            )
        };
        let signers: Vec<_> = (0..3u16).map(|i| (NodeId(i), reading)).collect();
        let certificate = net.certify(&tick, &signers);
        let notarization = Notarization {
            tick: tick.clone(),
            votes: (0..3).map(|i| vote(VoteKind::Notarize, i)).collect(),
        };
        let fin = ChainTick {
            tick: tick.clone(),
            certificate: Some(certificate),
        };
        let batch: Vec<Vec<u8>> = [
            Record::Vote(Vote::Notarize(vote(VoteKind::Notarize, 0))),
            Record::Notarization(notarization),
            Record::Vote(Vote::Finalize(vote(VoteKind::Finalize, 0))),
            Record::Finalized(fin.clone()),
        ]
        .iter()
        .map(records::encode)
        .collect();
        let bytes = records::encode_final(&fin);
        for store in [&pruned, &full] {
            store.append_records(&batch).expect("append records");
            store
                .append_final(tick.height, tick.second, &hash, &bytes)
                .expect("append final");
        }
        if s % PRUNE_EVERY_TICKS == 0 {
            pruned
                .prune_records(&mut |b| {
                    records::decode(b).is_ok_and(|r| Persisted::obsolete(&r, &fin))
                })
                .expect("prune");
        }
        parent = tick;
    }
    drop((pruned, full));
    println!(
        "wrote {seconds} seconds of ticks and records to two stores in {:.1} s",
        written.elapsed().as_secs_f64()
    );
    for (name, dir) in [("pruned", &pruned_dir), ("unpruned", &full_dir)] {
        let (secs, count, tip) = restart(dir);
        println!(
            "{name:9} restart {:8.1} ms  records replayed {count:7}  tip {tip}  on disk {:.1} MB",
            secs * 1e3,
            disk_bytes(dir) as f64 / 1e6
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}
