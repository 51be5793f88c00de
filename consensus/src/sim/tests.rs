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
                wipe: false,
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

/// A ring of `n` whose node 2 is down for `down_s` seconds from second 10 (wiped if `wipe`),
/// with a view window of 20 views: the test-only short form of an outage longer than the
/// default window of 1000 views (about 17 minutes).
fn long_outage(seed: u64, n: usize, down_s: i64, wipe: bool, max_waiting: usize) -> Scenario {
    let mut scenario = Scenario::calm(seed, n, 20, 10 + down_s + 40);
    scenario.loss_per_mille = 10;
    scenario.config = crate::Config {
        max_views_ahead: 20,
        max_waiting,
        ..crate::Config::default()
    };
    scenario.crashes = vec![Crash {
        node: tickchain_sdk::NodeId(2),
        at: tickchain_sdk::Nanos(10_000_000_000 + seed as i64 * 37_000_000),
        restart: tickchain_sdk::Nanos((10 + down_s) * 1_000_000_000 + seed as i64 * 53_000_000),
        wipe,
    }];
    scenario.heal = scenario.crashes[0].restart;
    scenario
}

/// Runs `scenario` (a [`long_outage`]) and checks that every invariant holds and that node 2,
/// within `bound_s` seconds of its restart, reports a final tick proposed after its restart,
/// having reported every tick below it (the checks hold its reports to a linked chain).
fn rejoins_within(scenario: Scenario, bound_s: i64) -> World {
    let seed = scenario.seed;
    let restart = scenario.crashes[0].restart.0;
    let mut world = World::new(scenario);
    world.run();
    let stats = check(&world).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    assert!(
        stats.ticked_seconds * 10 >= stats.window_seconds * 9,
        "seed {seed}: {stats:?}"
    );
    let back = world.start + restart;
    let view_at = |node: usize, t: i64| {
        let views = &world.log.views[node];
        views
            .iter()
            .take_while(|(at, _)| *at < t)
            .last()
            .map_or(0, |(_, v)| v.0)
    };
    let crash = world.start + world.scenario.crashes[0].at.0;
    let behind = view_at(0, back) - view_at(2, crash);
    assert!(
        behind > world.scenario.config.max_views_ahead,
        "seed {seed}: node 2 restarted only {behind} views behind"
    );
    let rejoined = world.log.finalized[2]
        .iter()
        .find(|(at, t)| *at >= back && t.tick.second.start().0 >= back)
        .map(|(at, _)| at - back);
    assert!(
        rejoined.is_some_and(|lag| lag <= bound_s * 1_000_000_000),
        "seed {seed}: node 2 back at {back} reported no tick of the ring's after it within \
         {bound_s} s (first after {rejoined:?} ns)"
    );
    println!("seed {seed}: {behind} views behind, rejoined after {rejoined:?} ns");
    world
}

/// Issue 13, finding 2: a node down for longer than the view window (here 60 s against a
/// window of 20 views) used to drop every message of the ring as too far ahead and never
/// catch up. Now it is sent, or asks for, the ring's latest finalization, jumps to its view,
/// walks the chain gap back by hash, and finalizes the ring's new ticks within seconds.
#[test]
fn a_node_down_longer_than_the_view_window_rejoins_within_seconds_of_its_restart() {
    for (seed, n) in [(0, 4), (1, 4), (2, 4), (3, 4), (4, 7)] {
        rejoins_within(long_outage(seed, n, 60, false, 8192), 10);
    }
}

/// A wiped node (restarted from `Persisted::default()`) far beyond the window re-syncs the
/// whole chain from genesis and rejoins; it never votes again in a view it voted in before
/// the wipe (the invariants check its votes across the wipe).
#[test]
fn a_wiped_node_beyond_the_view_window_resyncs_from_genesis_and_rejoins() {
    for (seed, n) in [(0, 4), (1, 4), (2, 4), (3, 4), (4, 7)] {
        let world = rejoins_within(long_outage(seed, n, 60, true, 8192), 10);
        let wiped_at = world.log.wiped[2][0];
        let after = &world.log.finalized[2][wiped_at..];
        assert_eq!(
            after.first().map(|(_, t)| t.tick.height.0),
            Some(1),
            "seed {seed}: the wiped node reports the chain again from genesis"
        );
    }
}

/// The ticks a catching-up core holds unlinked stay within `max_waiting`: a gap of about 60
/// ticks closes through a waiting set of 8, in passes, and the node still rejoins.
#[test]
fn a_gap_longer_than_the_waiting_bound_closes_in_passes_within_the_bound() {
    for (seed, wipe) in [(0, false), (1, true)] {
        let world = rejoins_within(long_outage(seed, 4, 60, wipe, 8), 20);
        assert!(
            world.log.max_waiting[2] <= 8,
            "seed {seed}: {} ticks held",
            world.log.max_waiting[2]
        );
        assert_eq!(
            world.log.max_waiting[2], 8,
            "seed {seed}: the waiting set never filled"
        );
    }
}
