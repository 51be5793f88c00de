//! A node SIGKILLed at random instants, 25 times in a row, rejoins the ring every time (issue
//! 13), in real processes: each kill lands at an arbitrary point of the second (mid-vote,
//! mid-write), the node restarts on whatever its sled files hold, and must reach the ring's
//! tip within a bound; no node ever exits on its own, and at the end every chain agrees and no
//! signer finalized two ticks in one view.
//!
//! The victims, the instants and the down times come from a seed printed at the start
//! (`TICKCHAIN_KILL_SEED=<n>` replays one); about two minutes.

mod ringkit;

use ringkit::{Node, assert_all_running, ring_top, setup, wait_until};
use std::time::{Duration, Instant};
use tickchain_sdk::Network;

/// Kills in a row.
const KILLS: usize = 25;
/// How long after its restart each victim must be level with the ring.
const REJOIN_BOUND: Duration = Duration::from_secs(30);

/// splitmix64: a seeded, dependency-free source of victims and instants.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A duration uniform in `[lo, hi)`, to the microsecond.
    fn between(&mut self, lo: Duration, hi: Duration) -> Duration {
        let span = (hi - lo).as_micros() as u64;
        lo + Duration::from_micros(self.next() % span)
    }
}

/// Sleeps for `d`, checking every 100 ms that no node has exited by itself.
fn sleep_watching(nodes: &mut [Node], d: Duration) {
    let until = Instant::now() + d;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        std::thread::sleep(left.min(Duration::from_millis(100)));
        assert_all_running(nodes);
    }
}

#[test]
fn a_node_sigkilled_at_random_instants_25_times_in_a_row_rejoins_every_time() {
    let seed = std::env::var("TICKCHAIN_KILL_SEED")
        .map(|s| s.parse().expect("TICKCHAIN_KILL_SEED: a whole number"))
        .unwrap_or(0x7c13_2025);
    println!("kill loop: seed {seed} (TICKCHAIN_KILL_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let root = std::env::temp_dir().join(format!("tc-kill-loop-{}", std::process::id()));
    let (genesis, mut nodes) = setup(&root, 4);
    let began = Instant::now();
    ringkit::start_all(&mut nodes, 3, Duration::from_secs(30));

    let mut rejoin_times = Vec::with_capacity(KILLS);
    let mut killed = [0usize; 4];
    for round in 1..=KILLS {
        let victim = (rng.next() % 4) as usize;
        // A random instant 0.2–3 s after the last victim was level with the ring: any point of
        // a second, including the middle of a vote or a write.
        let alive = rng.between(Duration::from_millis(200), Duration::from_millis(3000));
        let down = rng.between(Duration::ZERO, Duration::from_millis(1000));
        sleep_watching(&mut nodes, alive);
        nodes[victim].sigkill();
        killed[victim] += 1;
        let top_at_kill = nodes[victim].top();
        sleep_watching(&mut nodes, down);
        let tip_at_restart = ring_top(&nodes, victim);
        nodes[victim].start();
        let restarted = Instant::now();
        wait_until(
            &format!("round {round}: node {victim} to reach the ring's tip"),
            REJOIN_BOUND,
            || {
                assert_all_running(&mut nodes);
                let top = nodes[victim].top();
                top > tip_at_restart && top >= ring_top(&nodes, victim)
            },
        );
        let took = restarted.elapsed();
        rejoin_times.push(took);
        println!(
            "round {round:2}: node {victim} killed {:4} ms after the last rejoin at height \
             {top_at_kill}, down {:3} ms, level with the ring at height {} after {:.2} s",
            alive.as_millis(),
            down.as_millis(),
            nodes[victim].top(),
            took.as_secs_f64()
        );
    }

    let max = rejoin_times.iter().max().unwrap();
    let mean = rejoin_times.iter().sum::<Duration>() / KILLS as u32;
    println!(
        "kill loop: {KILLS} kills (per node {killed:?}), rejoin max {:.2} s, mean {:.2} s",
        max.as_secs_f64(),
        mean.as_secs_f64()
    );
    let network = Network::new(genesis);
    let chains = ringkit::stop_and_check_agreement(&mut nodes, &network);
    let votes = ringkit::assert_no_equivocation(&nodes);
    let seconds: Vec<u64> = ringkit::chain(&nodes[0].dir, &network)
        .iter()
        .map(|(_, s, _)| *s)
        .collect();
    let span = seconds.last().unwrap() - seconds.first().unwrap() + 1;
    println!(
        "kill loop: {} ticks over {span} s ({:.1}% of seconds), chains of {:?} ticks agree, \
         {votes} finalize votes without equivocation; {:.0} s in all",
        seconds.len(),
        seconds.len() as f64 * 100.0 / span as f64,
        chains.iter().map(Vec::len).collect::<Vec<_>>(),
        began.elapsed().as_secs_f64()
    );
    drop(nodes);
    let _ = std::fs::remove_dir_all(&root);
}
