//! Finalization lag of a local ring: N in-process nodes (real QUIC on loopback, real sled files,
//! the declared system clock), each reporting the time from a tick's second boundary to the
//! moment it stored the tick as final.
//!
//! `cargo run --release -p tickchain-benches --bin ring_lag [-- SECONDS]` (default 30 s per ring
//! size, after a 3 s warm-up). Reports p50/p99/max lag over every node's final ticks, skipped
//! seconds, and process CPU time per tick. Loopback only; stops by itself.

use std::time::{Duration, Instant};
use tickchain_benches::{LocalRing, cpu_time, pct};
use tickchain_timenode::node::FinalEvent;

async fn ring(n: usize, seconds: u64) {
    let ring = LocalRing::start("ring-lag", n, "");
    let mut rx: tokio::sync::broadcast::Receiver<FinalEvent> = ring.events.subscribe();
    let warmup = Instant::now() + Duration::from_secs(3);
    let end = warmup + Duration::from_secs(seconds);
    let mut lags = Vec::new();
    let mut seconds_seen = std::collections::BTreeSet::new();
    let mut cpu_start = None;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let Ok(Ok(ev)) = tokio::time::timeout(left, rx.recv()).await else {
            continue;
        };
        if Instant::now() < warmup {
            continue;
        }
        cpu_start.get_or_insert_with(cpu_time);
        lags.push(ev.lag.0 as f64 / 1e6);
        seconds_seen.insert(ev.second.0);
    }
    let cpu = cpu_time().saturating_sub(cpu_start.unwrap_or_default());
    ring.stop().await;
    lags.sort_by(f64::total_cmp);
    let ticks = seconds_seen.len().max(1);
    let span = seconds_seen
        .last()
        .zip(seconds_seen.first())
        .map_or(0, |(l, f)| l - f + 1);
    println!(
        "n = {n:>2}: {ticks} ticks over {span} s (skipped {}), lag p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         CPU {:.1} ms per tick for all {n} nodes ({:.2} ms per node per tick)",
        span.saturating_sub(ticks as u64),
        pct(&lags, 0.5),
        pct(&lags, 0.99),
        lags.last().copied().unwrap_or(f64::NAN),
        cpu.as_secs_f64() * 1e3 / ticks as f64,
        cpu.as_secs_f64() * 1e3 / ticks as f64 / n as f64,
    );
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let rt = tokio::runtime::Runtime::new().unwrap();
    println!(
        "ring_lag: in-process nodes on 127.0.0.1, {seconds} s each after 3 s warm-up, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for n in [4, 7] {
        rt.block_on(ring(n, seconds));
    }
}
