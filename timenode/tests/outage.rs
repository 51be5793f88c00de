//! A node down for longer than the view window rejoins the ring within a minute of its restart
//! (issue 13; `specs/consensus.md` §10, "From any distance"), in real processes: while it is
//! down the ring moves more views than its window, so every message it hears on its return is
//! too far ahead to follow and only the catch-up through a finalization brings it back.
//!
//! The suite runs the short form: a window of 20 views and 60 s down. The long form is the
//! default window of 1000 views (about 17 minutes) and 20 minutes down:
//!
//! ```text
//! TICKCHAIN_OUTAGE_SECS=1200 TICKCHAIN_OUTAGE_WINDOW=1000 \
//!     cargo test -p tickchain-timenode --release --test outage -- --nocapture
//! ```

mod ringkit;

use ringkit::{assert_all_running, ring_top, setup_with_config, verified_chain, wait_until};
use std::time::{Duration, Instant};
use tickchain_sdk::Network;

/// How long after its restart the node must be level with the ring (issue 13: "within a minute").
const REJOIN_BOUND: Duration = Duration::from_secs(60);

/// A positive whole number from the environment, or `default` when unset.
fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}: expected a whole number, got {v:?}")),
        Err(_) => default,
    }
}

/// Starts a 4-node ring with `[consensus] max-views-ahead = TICKCHAIN_OUTAGE_WINDOW` (default
/// 20), SIGKILLs node 2 for `TICKCHAIN_OUTAGE_SECS` (default 60), wiping its data directory
/// meanwhile if `wipe`, restarts it and requires it, within [`REJOIN_BOUND`], to log a final tick
/// at the ring's current height that the ring finalized after the restart, to keep up from
/// there, and to hold the ring's chain.
fn a_node_down_longer_than_its_window_rejoins(name: &str, wipe: bool) {
    let window = env_u64("TICKCHAIN_OUTAGE_WINDOW", 20);
    let down = Duration::from_secs(env_u64("TICKCHAIN_OUTAGE_SECS", 60));
    let victim = 2;
    let root = std::env::temp_dir().join(format!("tc-outage-{name}-{}", std::process::id()));
    let (genesis, mut nodes) = setup_with_config(&root, 4, |_| {
        format!("[consensus]\nmax-views-ahead = {window}\n")
    });
    let began = Instant::now();
    ringkit::start_all(&mut nodes, 3, Duration::from_secs(30));

    nodes[victim].sigkill();
    let top_at_kill = nodes[victim].top();
    println!(
        "{name}: node {victim} killed at height {top_at_kill}; down for {down:?} (window {window} views{})",
        if wipe { ", data directory wiped" } else { "" }
    );
    let killed = Instant::now();
    while killed.elapsed() < down {
        std::thread::sleep(Duration::from_secs(1).min(down.saturating_sub(killed.elapsed())));
        assert_all_running(&mut nodes);
    }
    if wipe {
        std::fs::remove_dir_all(nodes[victim].dir.join("data")).unwrap();
        nodes[victim].finals.lock().unwrap().clear();
    }
    // Heights never outrun views, so the ring is now more views ahead than the window.
    let tip_at_restart = ring_top(&nodes, victim);
    assert!(
        tip_at_restart > top_at_kill + window,
        "{name}: the ring moved only from height {top_at_kill} to {tip_at_restart} while node \
         {victim} was down, not beyond its window of {window} views (make the outage longer)"
    );

    nodes[victim].start();
    let restarted = Instant::now();
    // Level with the ring: at the ring's current height, and above what the ring had when the
    // node came back (so a tick finalized after the restart, not only the old chain re-read).
    wait_until(
        &format!("node {victim} to reach the ring's tip (height {tip_at_restart} at its restart)"),
        REJOIN_BOUND,
        || {
            assert_all_running(&mut nodes);
            let top = nodes[victim].top();
            top > tip_at_restart && top >= ring_top(&nodes, victim)
        },
    );
    let rejoined_after = restarted.elapsed();
    let level_at = nodes[victim].top();
    println!(
        "{name}: node {victim} restarted {} heights behind (ring at {tip_at_restart}) and reached \
         the tip, height {level_at}, {:.1} s after its restart",
        tip_at_restart - if wipe { 0 } else { top_at_kill },
        rejoined_after.as_secs_f64()
    );

    // It keeps up: five more ticks in step with the ring.
    wait_until(
        &format!("node {victim} to keep up after rejoining"),
        Duration::from_secs(15),
        || {
            assert_all_running(&mut nodes);
            nodes[victim].top() >= level_at + 5
        },
    );
    assert!(
        nodes[victim].top() + 1 >= ring_top(&nodes, victim),
        "{name}: node {victim} fell behind again: {} against the ring's {}",
        nodes[victim].top(),
        ring_top(&nodes, victim)
    );

    let network = Network::new(genesis);
    let chains = ringkit::stop_and_check_agreement(&mut nodes, &network);
    let theirs = verified_chain(&nodes[victim].dir, &network);
    assert_eq!(
        theirs.first().map(|(h, _)| *h),
        Some(1),
        "{name}: node {victim} holds the chain from height 1"
    );
    assert!(
        theirs.len() as u64 >= level_at + 5,
        "{name}: node {victim} stored {} ticks, expected every height up to {}",
        theirs.len(),
        level_at + 5
    );
    assert!(chains.iter().all(|c| c.len() as u64 > tip_at_restart));
    ringkit::assert_no_equivocation(&nodes);
    println!(
        "{name}: passed in {:.0} s (rejoined {:.1} s after restart)",
        began.elapsed().as_secs_f64(),
        rejoined_after.as_secs_f64()
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_node_down_longer_than_the_view_window_rejoins_within_a_minute_of_its_restart() {
    a_node_down_longer_than_its_window_rejoins("restart", false);
}

#[test]
fn a_node_wiped_and_down_longer_than_the_view_window_rejoins_within_a_minute_of_its_restart() {
    a_node_down_longer_than_its_window_rejoins("wiped", true);
}
