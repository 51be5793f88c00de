//! A seeded, deterministic simulator that runs the real consensus cores.
//!
//! Owns: whole-ring runs under clock error, loss, delay, reordering, crashes (between inputs, or
//! right after a durable record) with restarts from persisted state, partitions and a coalition
//! of up to f Byzantine nodes (bad clocks, equivocators, liars about their readings), and the
//! invariants those runs must keep. Never: real time, sockets or OS randomness: a seed replays a
//! run exactly, so a failure is reported with the seed that reproduces it.

mod byzantine;
mod check;
mod rng;
mod scenario;
mod world;

#[cfg(test)]
mod tests;

pub use byzantine::Coalition;
pub use check::{Stats, check};
pub use rng::Rng;
pub use scenario::{Byzantine, Crash, CrashPoint, Partition, Scenario};
pub use world::{GENESIS_SECOND, Log, World};

/// Runs `scenario` and checks its invariants; the error names the seed.
pub fn run(scenario: Scenario) -> Result<Stats, String> {
    let seed = scenario.seed;
    let n = scenario.n;
    let mut world = World::new(scenario);
    world.run();
    check(&world).map_err(|e| format!("seed {seed} (n = {n}): {e}"))
}

/// The `p`-th percentile (0–100) of `values`, nearest rank; `None` if empty.
pub fn percentile(values: &mut [i64], p: f64) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    Some(values[rank.min(values.len()) - 1])
}
