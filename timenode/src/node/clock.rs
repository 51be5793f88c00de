//! The running node's clock: a reading of `[earliest, latest]` for every input to the core.
//!
//! Owns: keeping the aggregator fed by polling the configured sources in the background, or the
//! declared system clock of a test network. Never: adjusts the system clock.

use crate::config::NodeConfig;
use crate::consensus::LocalClock;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tickchain_aggregator::drivers::gpsd::GpsdSession;
use tickchain_aggregator::drivers::{kernel, local_now, ntp};
use tickchain_aggregator::{Aggregator, SourceClass, TimeEstimate};
use tickchain_sdk::votes::ClockReading;
use tickchain_sdk::{Nanos, UtcNanos};
use tokio::task::JoinSet;

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
            NodeClock::Declared { error } => LocalClock::synced(UtcNanos(now.0), *error),
            NodeClock::Aggregated(agg) => {
                let estimate = agg.lock().expect("aggregator lock").estimate(now);
                match estimate {
                    TimeEstimate::Synchronised(e) => LocalClock {
                        reading: ClockReading {
                            earliest: UtcNanos(e.earliest.0),
                            latest: UtcNanos(e.latest.0),
                        },
                        synchronized: true,
                    },
                    TimeEstimate::Unsynchronised { .. } => LocalClock {
                        reading: ClockReading {
                            earliest: UtcNanos(now.0),
                            latest: UtcNanos(now.0),
                        },
                        synchronized: false,
                    },
                }
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
        for source in &config.sources.ntp {
            let id = agg
                .lock()
                .expect("lock")
                .add_source(source.label(), SourceClass::Ntp);
            let (agg, address, timeout) = (agg.clone(), source.address.clone(), source.timeout());
            tasks.spawn(async move {
                loop {
                    let probe = match tokio::net::lookup_host(&address)
                        .await
                        .map(|mut a| a.next())
                    {
                        Ok(Some(addr)) => ntp::query(addr, timeout).await,
                        _ => tickchain_aggregator::drivers::Probe::NoReply(format!(
                            "expected {address} to resolve"
                        )),
                    };
                    probe.feed(&mut agg.lock().expect("lock"), id);
                    tokio::time::sleep(every).await;
                }
            });
        }
        for source in &config.sources.gnss {
            let id = agg
                .lock()
                .expect("lock")
                .add_source(source.label(), SourceClass::Gnss);
            let (agg, address, timeout, latency) = (
                agg.clone(),
                source.gpsd.clone(),
                source.timeout(),
                source.latency(),
            );
            tasks.spawn(async move {
                loop {
                    let addr = tokio::net::lookup_host(&address)
                        .await
                        .ok()
                        .and_then(|mut a| a.next());
                    if let Some(addr) = addr
                        && let Ok(mut session) = GpsdSession::connect(addr, latency).await
                    {
                        loop {
                            let probe = session.next_probe(timeout).await;
                            let failed =
                                matches!(probe, tickchain_aggregator::drivers::Probe::NoReply(_));
                            probe.feed(&mut agg.lock().expect("lock"), id);
                            if failed {
                                break;
                            }
                        }
                    }
                    tokio::time::sleep(every).await;
                }
            });
        }
        if config.sources.kernel {
            let id = agg
                .lock()
                .expect("lock")
                .add_source("kernel", SourceClass::Kernel);
            let agg2 = agg.clone();
            tasks.spawn(async move {
                loop {
                    kernel::query().feed(&mut agg2.lock().expect("lock"), id);
                    tokio::time::sleep(every).await;
                }
            });
        }
        NodeClock::Aggregated(agg)
    }
}
