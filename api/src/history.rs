//! A short history of the node's clock and ring, one sample a second, for the dashboard
//! (`GET /v1/history`).
//!
//! Owns: the sampler task and its bounded ring of samples. Never: more than
//! [`HISTORY_SAMPLES`] samples, or a sample the node did not report (a failed read is skipped).

use crate::handle::NodeHandle;
use crate::wire::Nonce;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Samples kept: five minutes at one a second.
pub const HISTORY_SAMPLES: usize = 300;

/// One source's reading in a sample.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceSample {
    /// Source name (`peer:NAME` for a ring member).
    pub name: String,
    /// Offset from the node's local clock, nanoseconds.
    pub offset_ns: i64,
    /// Hard error bound, nanoseconds.
    pub radius_ns: i64,
    /// In the agreeing majority.
    pub agrees: bool,
}

/// The node's state at one second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sample {
    /// When it was taken: the middle of the node's interval, POSIX nanoseconds.
    pub at_ns: i64,
    /// Whether the node's clock was synchronised.
    pub synchronized: bool,
    /// Width of the node's combined interval (`latest - earliest`), nanoseconds.
    pub width_ns: i64,
    /// Height of the newest final tick.
    pub height: u64,
    /// Lag of the newest final tick (its second's start to stored as final), nanoseconds.
    pub lag_ns: i64,
    /// Digests accepted and not yet final.
    pub pool_depth: u64,
    /// Digests this API accepted since the node started (the rate is the difference between
    /// samples).
    pub digests_total: u64,
    /// The consensus view.
    pub view: u64,
    /// Each source's reading.
    pub sources: Vec<SourceSample>,
}

/// `GET /v1/history` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryBody {
    /// Milliseconds between samples.
    pub interval_ms: u64,
    /// Oldest first, at most 300.
    pub samples: Vec<Sample>,
}

/// The samples, shared by the sampler and the route.
#[derive(Debug, Default)]
pub struct History {
    samples: Mutex<VecDeque<Sample>>,
}

impl History {
    /// Every sample, oldest first.
    pub fn snapshot(&self) -> Vec<Sample> {
        self.lock().iter().cloned().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Sample>> {
        self.samples.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, sample: Sample) {
        let mut samples = self.lock();
        if samples.len() == HISTORY_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// Takes one sample of `handle` (skipped when the node cannot answer), with
    /// `digests_total` digests accepted so far.
    pub async fn sample(&self, handle: &dyn NodeHandle, digests_total: u64) {
        let Ok(time) = handle.time(Nonce::default()).await else {
            return;
        };
        let metrics = handle.metrics().await;
        let s = &time.statement;
        self.push(Sample {
            at_ns: s.earliest.0 / 2 + s.latest.0 / 2,
            synchronized: s.synchronized,
            width_ns: s.latest.0.saturating_sub(s.earliest.0),
            height: metrics.latest_height,
            lag_ns: metrics.last_lag_ns,
            pool_depth: metrics.pool_depth,
            digests_total,
            view: metrics.view,
            sources: s
                .sources
                .iter()
                .map(|src| SourceSample {
                    name: src.name.clone(),
                    offset_ns: src.offset.0,
                    radius_ns: src.radius.0,
                    agrees: src.agrees,
                })
                .collect(),
        });
    }
}

/// Samples `handle` every second into `history` (with `accepted`, the API's digest count)
/// until `stop` turns true.
pub async fn run(
    history: Arc<History>,
    handle: Arc<dyn NodeHandle>,
    accepted: Arc<std::sync::atomic::AtomicU64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let total = accepted.load(std::sync::atomic::Ordering::Relaxed);
                history.sample(handle.as_ref(), total).await;
            }
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
