//! Finalization lag of the consensus core in the deterministic simulator.
//!
//! For each ring size (4, 7, 31) and one-way delay (1, 20, 80 ms, jitter a tenth of the delay,
//! clock errors up to 5 ms, no loss), runs the real cores for `LAG_SECONDS` simulated seconds
//! (default 60) over `LAG_SEEDS` seeds (default 3) and prints the distribution of the lag from a
//! tick's second boundary to the moment each node reports it final.
//!
//! Run: `cargo run --release -p tickchain-consensus --features sim --example consensus_lag`

use tickchain_consensus::sim::{Scenario, World, check, percentile};

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let seconds = env("LAG_SECONDS", 60);
    let seeds = env("LAG_SEEDS", 3) as u64;
    println!(
        "simulated {seconds} s per run, {seeds} seeds per cell; lag = report time - second start"
    );
    println!(
        "{:>3} {:>9} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "n", "delay_ms", "p50_ms", "p99_ms", "max_ms", "ticks", "ticked_%"
    );
    for n in [4usize, 7, 31] {
        for delay in [1i64, 20, 80] {
            let mut lags = Vec::new();
            let (mut window, mut ticked, mut ticks) = (0, 0, 0);
            for seed in 0..seeds {
                let mut world = World::new(Scenario::calm(seed, n, delay, seconds));
                world.run();
                let stats = match check(&world) {
                    Ok(s) => s,
                    Err(e) => panic!("n = {n}, delay = {delay} ms, seed {seed}: {e}"),
                };
                window += stats.window_seconds;
                ticked += stats.ticked_seconds;
                ticks += stats.ticks;
                for log in &world.log.finalized {
                    for (at, t) in log {
                        lags.push(at - t.tick.second.start().0);
                    }
                }
            }
            let ms = |v: Option<i64>| v.map_or(f64::NAN, |ns| ns as f64 / 1e6);
            println!(
                "{n:>3} {delay:>9} {:>8.1} {:>8.1} {:>8.1} {ticks:>8} {:>10.2}",
                ms(percentile(&mut lags, 50.0)),
                ms(percentile(&mut lags, 99.0)),
                ms(lags.iter().copied().max()),
                100.0 * ticked as f64 / window.max(1) as f64
            );
        }
    }
}
