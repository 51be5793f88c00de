//! Simulator runs as specifications: calm rings tick every second, chaotic ones stay safe and,
//! once healed, live. A failure names the seed; replay it with `SIM_SEED=<seed>`.

use super::*;

/// Seeds per chaos test: `SIM_SEEDS`, or `default` (four such tests run, two per ring size).
fn seeds(default: u64) -> u64 {
    std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Chaos runs of `n` nodes for seeds `from..from + count` (or only `SIM_SEED` if set): every
/// invariant holds, and over the runs that expect liveness at least 99% of the healed seconds
/// carry a final tick.
fn chaos(n: usize, from: u64, count: u64) {
    let range: Vec<u64> = match std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        Some(seed) => vec![seed],
        None => (from..from + seeds(count)).collect(),
    };
    let (mut window, mut ticked) = (0usize, 0usize);
    let mut failures = Vec::new();
    for seed in range {
        let scenario = Scenario::chaos(seed, n, 40);
        let live = scenario.expects_liveness();
        match run(scenario) {
            Ok(stats) if live => {
                window += stats.window_seconds;
                ticked += stats.ticked_seconds;
            }
            Ok(_) => {}
            Err(e) => failures.push(e),
        }
    }
    println!("n = {n}, seeds from {from}: {ticked} of {window} healed seconds ticked");
    assert!(
        failures.is_empty(),
        "invariant violations:\n{}",
        failures.join("\n")
    );
    assert!(
        ticked * 100 >= window * 99,
        "n = {n}: only {ticked} of {window} healed seconds got a tick"
    );
}

#[test]
fn four_nodes_stay_safe_and_live_under_chaos_seeds_part_one() {
    chaos(4, 0, 600);
}

#[test]
fn four_nodes_stay_safe_and_live_under_chaos_seeds_part_two() {
    chaos(4, 1_000_000, 600);
}

#[test]
fn seven_nodes_stay_safe_and_live_under_chaos_seeds_part_one() {
    chaos(7, 2_000_000, 400);
}

#[test]
fn seven_nodes_stay_safe_and_live_under_chaos_seeds_part_two() {
    chaos(7, 3_000_000, 400);
}

#[test]
fn a_calm_ring_of_four_finalizes_every_second_with_its_own_certificate() {
    let stats = run(Scenario::calm(1, 4, 20, 20)).unwrap();
    assert_eq!(stats.window_seconds, stats.ticked_seconds, "{stats:?}");
    assert_eq!(stats.without_certificate, 0, "{stats:?}");
    assert!(stats.ticks >= 18, "{stats:?}");
}

#[test]
fn a_calm_ring_of_seven_finalizes_every_second_within_a_few_delays() {
    let mut stats = run(Scenario::calm(2, 7, 20, 20)).unwrap();
    assert_eq!(stats.window_seconds, stats.ticked_seconds, "{stats:?}");
    let p99 = percentile(&mut stats.lags, 99.0).unwrap();
    assert!(p99 < 200_000_000, "p99 lag {p99} ns");
}

#[test]
fn a_node_whose_clock_is_ten_seconds_off_never_gets_a_tick_at_its_time() {
    for (seed, off) in [(1, 10i64), (2, -10)] {
        for leader in 0..4u16 {
            let mut scenario = Scenario::calm(seed, 4, 20, 30);
            scenario.byzantine = Some((
                tickchain_sdk::NodeId(leader),
                Byzantine::ClockOff(tickchain_sdk::Nanos(off * 1_000_000_000)),
            ));
            let mut world = World::new(scenario);
            world.run();
            let stats = check(&world).unwrap();
            let start = |t: &crate::ChainTick| t.tick.second.start().0;
            for (at, t) in world.log.finalized.iter().flatten() {
                assert!((at - start(t)).abs() < 2_000_000_000, "tick {:?}", t.tick);
            }
            assert!(
                stats.ticked_seconds * 10 >= stats.window_seconds * 9,
                "{stats:?}"
            );
        }
    }
}

#[test]
fn an_equivocating_leader_never_splits_the_chain() {
    for seed in 0..50 {
        let mut scenario = Scenario::calm(seed, 4, 10 + seed as i64, 20);
        scenario.jitter = tickchain_sdk::Nanos::from_millis(30);
        scenario.byzantine = Some((
            tickchain_sdk::NodeId((seed % 4) as u16),
            Byzantine::Equivocator,
        ));
        run(scenario).unwrap();
    }
}

#[test]
fn nodes_restarted_from_persisted_state_never_vote_twice() {
    for seed in 0..50 {
        let mut scenario = Scenario::calm(seed, 4, 15, 30);
        scenario.loss_per_mille = 20;
        scenario.crashes = (0..4u16)
            .map(|i| Crash {
                node: tickchain_sdk::NodeId(i),
                at: tickchain_sdk::Nanos(
                    (3 + 4 * i as i64) * 1_000_000_000 + seed as i64 * 7_000_000,
                ),
                restart: tickchain_sdk::Nanos((4 + 4 * i as i64) * 1_000_000_000),
            })
            .collect();
        scenario.heal = tickchain_sdk::Nanos(20_000_000_000);
        let stats = run(scenario).unwrap();
        assert!(
            stats.window_seconds > 0 && stats.ticked_seconds * 10 >= stats.window_seconds * 9,
            "{stats:?}"
        );
    }
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let a = run(Scenario::chaos(42, 4, 20)).unwrap();
    let b = run(Scenario::chaos(42, 4, 20)).unwrap();
    assert_eq!(a.lags, b.lags);
}

/// The batch path through the real cores: node 0's core broadcasts each sealed batch, offers it
/// again while no final tick carries it, and reports each final tick's batch list; under 10%
/// loss every batch sealed 10 s before the end is carried by a final tick node 0 knows.
#[test]
fn every_offered_batch_lands_in_a_final_tick_that_reports_its_batches() {
    for (seed, loss) in [(1, 0), (2, 100), (3, 100)] {
        let mut scenario = Scenario::calm(seed, 4, 20, 60);
        scenario.loss_per_mille = loss;
        let duration = scenario.duration.0;
        let mut world = World::new(scenario);
        world.run();
        let end = world.start + duration;
        let carried: Vec<&tickchain_sdk::Batch> = world.log.carried[0].values().flatten().collect();
        let due: Vec<_> = world
            .log
            .offered
            .iter()
            .filter(|(at, _)| *at + 10_000_000_000 <= end)
            .collect();
        assert!(due.len() >= 20, "seed {seed}: only {} batches", due.len());
        for (at, batch) in due {
            assert!(
                carried.contains(&batch),
                "seed {seed}, loss {loss}‰: the batch of second {} sealed at {at} ns never landed",
                batch.second
            );
        }
    }
}
