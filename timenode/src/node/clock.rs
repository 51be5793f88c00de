//! The running node's clock: a reading of `[earliest, latest]` for every input to the core.
//!
//! Owns: keeping the aggregator fed by running the aggregator's source pollers in the
//! background, or the declared system clock of a test network. Never: adjusts the system clock,
//! and never polls a source itself (`tickchain_aggregator::drivers::poll` does, for
//! `timenode sources` too).

use crate::config::NodeConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickchain_aggregator::drivers::local_now;
use tickchain_aggregator::drivers::poll::SourcePoller;
use tickchain_aggregator::{Aggregator, SourceClass, TimeEstimate};
use tickchain_consensus::LocalClock;
use tickchain_sdk::Nanos;
use tickchain_sdk::votes::ClockReading;
use tokio::task::JoinSet;

/// The node's time as its NTP server states it (see [`NodeClock::served`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServedTime {
    /// The best estimate of UTC now.
    pub now: tickchain_sdk::UtcNanos,
    /// UTC is no earlier than this.
    pub earliest: tickchain_sdk::UtcNanos,
    /// UTC is no later than this.
    pub latest: tickchain_sdk::UtcNanos,
    /// NTP leap indicator: 0 none, 1 insert, 2 delete.
    pub leap: u8,
    /// NTP stratum, 1 to 15.
    pub stratum: u8,
}

/// Where readings come from.
#[derive(Clone)]
pub enum NodeClock {
    /// The system clock, trusted to within a declared bound (local test networks only).
    Declared {
        /// The declared bound.
        error: Nanos,
    },
    /// The aggregator over the configured sources.
    Aggregated(Arc<Mutex<Aggregator>>),
}

impl NodeClock {
    /// Adds every other ring member as a `peer` source; returns the source id per node index
    /// (`None` for ourselves, and for every node when the clock is declared).
    pub fn add_peers(
        &self,
        names: &[String],
        me: usize,
    ) -> Vec<Option<tickchain_aggregator::SourceId>> {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| match self {
                NodeClock::Aggregated(agg) if i != me => Some(
                    agg.lock()
                        .expect("aggregator lock")
                        .add_source(format!("peer {name}"), SourceClass::Peer),
                ),
                _ => None,
            })
            .collect()
    }

    /// Feeds one completed probe exchange with peer source `id`.
    pub fn on_peer_exchange(
        &self,
        id: tickchain_aggregator::SourceId,
        exchange: &tickchain_aggregator::peer::PeerExchange,
    ) {
        if let NodeClock::Aggregated(agg) = self {
            agg.lock()
                .expect("aggregator lock")
                .on_peer_exchange(id, exchange);
        }
    }

    /// The current reading.
    pub fn read(&self) -> LocalClock {
        let now = local_now();
        match self {
            NodeClock::Declared { error } => LocalClock::synced(now, *error),
            NodeClock::Aggregated(agg) => {
                let estimate = agg.lock().expect("aggregator lock").estimate(now);
                match estimate {
                    TimeEstimate::Synchronised(e) => LocalClock {
                        reading: ClockReading {
                            earliest: e.earliest,
                            latest: e.latest,
                        },
                        synchronized: true,
                    },
                    TimeEstimate::Unsynchronised { .. } => LocalClock {
                        reading: ClockReading {
                            earliest: now,
                            latest: now,
                        },
                        synchronized: false,
                    },
                }
            }
        }
    }

    /// The time the node serves to NTP clients, or `None` while unsynchronised: its best
    /// estimate of UTC now, the interval around it, the leap indicator its truechimers
    /// announce, and its stratum (one above its best truechimer's; 2 for a declared clock).
    pub fn served(&self) -> Option<ServedTime> {
        let now = local_now();
        match self {
            NodeClock::Declared { error } => Some(ServedTime {
                now,
                earliest: now.saturating_sub(*error),
                latest: now.saturating_add(*error),
                leap: 0,
                stratum: 2,
            }),
            NodeClock::Aggregated(agg) => {
                let estimate = agg.lock().expect("aggregator lock").estimate(now);
                let TimeEstimate::Synchronised(e) = estimate else {
                    return None;
                };
                let best = e
                    .sources
                    .iter()
                    .filter(|s| s.verdict == tickchain_aggregator::Verdict::Truechimer)
                    .filter_map(|s| s.stratum)
                    .filter(|s| (1..16).contains(s))
                    .min()
                    .unwrap_or(1);
                Some(ServedTime {
                    now: now.shifted(e.offset),
                    earliest: e.earliest,
                    latest: e.latest,
                    leap: match e.leap {
                        tickchain_aggregator::LeapPending::None => 0,
                        tickchain_aggregator::LeapPending::Insert => 1,
                        tickchain_aggregator::LeapPending::Delete => 2,
                    },
                    stratum: (best + 1).min(15),
                })
            }
        }
    }

    /// Each source's current line (label, verdict, offset, radius); empty for a declared clock.
    pub fn sources(&self) -> Vec<tickchain_aggregator::SourceReport> {
        match self {
            NodeClock::Declared { .. } => Vec::new(),
            NodeClock::Aggregated(agg) => agg
                .lock()
                .expect("aggregator lock")
                .estimate(local_now())
                .sources()
                .to_vec(),
        }
    }

    /// Starts the clock described by `config`, spawning its pollers into `tasks`.
    pub fn start(config: &NodeConfig, tasks: &mut JoinSet<()>) -> NodeClock {
        if let Some(ms) = config.clock.declared_system_error_ms {
            return NodeClock::Declared {
                error: Nanos::from_millis(ms as i64),
            };
        }
        let agg = Arc::new(Mutex::new(config.new_aggregator()));
        let every = Duration::from_millis(config.clock.poll_interval_ms);
        for (label, spec) in config.source_specs() {
            let id = agg.lock().expect("lock").add_source(label, spec.class());
            let agg = agg.clone();
            tasks.spawn(SourcePoller::new(spec).poll_forever(every, move |probe| {
                probe.feed(&mut agg.lock().expect("lock"), id)
            }));
        }
        NodeClock::Aggregated(agg)
    }
}
