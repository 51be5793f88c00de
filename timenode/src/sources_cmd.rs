//! `timenode sources`: poll every configured time source a few times, then report each one's
//! offset, delay, radius, class and verdict and the combined interval, like `chronyc sources`.
//!
//! Owns: the one-shot run (`polls` polls of every source, in parallel) and the report's text and
//! JSON forms. Never: polls a source itself (the aggregator's `drivers::poll` does, exactly as in
//! the running node) or decides anything about time; the aggregator core does.

use crate::config::NodeConfig;
use std::fmt::Write as _;
use std::time::Duration;
use tickchain_aggregator::drivers::poll::SourcePoller;
use tickchain_aggregator::drivers::{Probe, local_now};
use tickchain_aggregator::{SourceId, TimeEstimate};
use tokio::task::JoinSet;
use tracing::warn;

/// Polls every source `config.sources.polls` times and returns the aggregator's verdict.
pub async fn poll_sources(config: &NodeConfig) -> TimeEstimate {
    let mut aggregator = config.new_aggregator();
    let polls = usize::from(config.sources.polls);
    let interval = Duration::from_millis(config.sources.poll_interval_ms);
    let mut tasks: JoinSet<(SourceId, Vec<Probe>)> = JoinSet::new();
    for (label, spec) in config.source_specs() {
        let id = aggregator.add_source(label, spec.class());
        let poller = SourcePoller::new(spec);
        tasks.spawn(async move { (id, poller.poll_times(polls, interval).await) });
    }
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((id, probes)) => {
                for p in probes {
                    p.feed(&mut aggregator, id);
                }
            }
            Err(e) => warn!(error = %e, "a probe task failed"),
        }
    }
    aggregator.estimate(local_now())
}

/// The report as `chronyc sources`-style text.
pub fn render_table(estimate: &TimeEstimate) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<7} {:<24} {:>2} {:>5} {:>12} {:>10} {:>10}  Verdict",
        "Class", "Name", "St", "Reach", "Offset", "Delay", "Radius"
    );
    let _ = writeln!(out, "{}", "=".repeat(86));
    let dash = || "-".to_string();
    for s in estimate.sources() {
        let _ = writeln!(
            out,
            "{:<7} {:<24} {:>2} {:>5o} {:>12} {:>10} {:>10}  {}{}",
            s.class.to_string(),
            truncate(&s.label, 24),
            s.stratum.map_or_else(dash, |v| v.to_string()),
            s.reach.0,
            s.offset
                .map_or_else(dash, |v| format!("{}{v}", if v.0 >= 0 { "+" } else { "" })),
            s.delay.map_or_else(dash, |v| v.to_string()),
            s.radius.map_or_else(dash, |v| v.to_string()),
            s.verdict,
            s.detail
                .as_ref()
                .map_or_else(String::new, |d| format!(" ({d})")),
        );
    }
    let _ = writeln!(out);
    match estimate {
        TimeEstimate::Synchronised(e) => {
            let _ = writeln!(
                out,
                "Synchronised: UTC in [{}, {}] (radius {}), offset {}{}, {} agreeing, leap {}",
                e.earliest,
                e.latest,
                e.radius(),
                if e.offset.0 >= 0 { "+" } else { "" },
                e.offset,
                e.agreeing,
                e.leap
            );
        }
        TimeEstimate::Unsynchronised { reason, .. } => {
            let _ = writeln!(out, "Unsynchronised: {reason}");
        }
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
