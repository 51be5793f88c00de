//! What one simulated run looks like: ring size, network, clocks and faults, drawn from a seed.
//!
//! Owns: [`Scenario`] and the seeded chaos generator. Never: runs anything (see `world`).

use super::rng::Rng;
use crate::Config;
use tickchain_sdk::{Nanos, NodeId};

/// A node crash and its restart from persisted state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    /// The node.
    pub node: NodeId,
    /// Simulated time of the crash, from the start of the run.
    pub at: Nanos,
    /// Simulated time of the restart.
    pub restart: Nanos,
    /// Whether the node's data is lost while it is down: it restarts from
    /// `Persisted::default()`, as a wiped data directory would.
    pub wipe: bool,
}

/// A network partition: nodes only reach nodes in their own group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Start, from the start of the run.
    pub from: Nanos,
    /// End (the partition heals).
    pub until: Nanos,
    /// Group of each node, by node index.
    pub groups: Vec<u8>,
}

/// How the one Byzantine node (if any) misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Byzantine {
    /// Runs the protocol with a clock that is off by this much while claiming to be
    /// synchronised with a tight bound.
    ClockOff(Nanos),
    /// Leads with two conflicting proposals (one per half of the ring) and votes for both;
    /// also casts a notarize vote for a phantom tick next to every vote it sends.
    Equivocator,
}

/// One run of the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The seed everything random in the run derives from.
    pub seed: u64,
    /// Ring size (f = (n − 1) / 3).
    pub n: usize,
    /// Simulated duration.
    pub duration: Nanos,
    /// Base one-way delay.
    pub delay: Nanos,
    /// Extra uniform delay in `0..=jitter` per message (reorders messages).
    pub jitter: Nanos,
    /// Message loss, per mille.
    pub loss_per_mille: u32,
    /// Largest honest clock error; honest nodes claim a bound at least this wide.
    pub clock_error: Nanos,
    /// Crashes with restarts.
    pub crashes: Vec<Crash>,
    /// Partitions.
    pub partitions: Vec<Partition>,
    /// The Byzantine node and its behaviour.
    pub byzantine: Option<(NodeId, Byzantine)>,
    /// Time after which no crash or partition is active (liveness is measured after it).
    pub heal: Nanos,
    /// Every core's tunables (a test may shrink the view window to make a long outage short).
    pub config: Config,
}

const SECOND: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;

impl Scenario {
    /// A calm run: fixed delay, no loss, no faults, small clock errors.
    pub fn calm(seed: u64, n: usize, delay_ms: i64, seconds: i64) -> Scenario {
        Scenario {
            seed,
            n,
            duration: Nanos(seconds * SECOND),
            delay: Nanos::from_millis(delay_ms),
            jitter: Nanos::from_millis(delay_ms / 10),
            loss_per_mille: 0,
            clock_error: Nanos::from_millis(5),
            crashes: Vec::new(),
            partitions: Vec::new(),
            byzantine: None,
            heal: Nanos(0),
            config: Config::default(),
        }
    }

    /// A run with faults drawn from `seed`: delay, jitter, loss, clock errors, up to two
    /// crashes, maybe a partition, and maybe one Byzantine node. Faults end by `heal`.
    pub fn chaos(seed: u64, n: usize, seconds: i64) -> Scenario {
        let mut rng = Rng::new(seed);
        let heal = seconds * SECOND / 2;
        let byzantine = match rng.below(3) {
            0 => None,
            1 => {
                let off = if rng.chance(500) { 10 } else { -10 };
                Some(Byzantine::ClockOff(Nanos(off * SECOND)))
            }
            _ => Some(Byzantine::Equivocator),
        }
        .map(|b| (NodeId(rng.below(n as u64) as u16), b));
        let honest: Vec<NodeId> = (0..n as u16)
            .map(NodeId)
            .filter(|id| byzantine.is_none_or(|(b, _)| b != *id))
            .collect();
        let mut crashes = Vec::new();
        for _ in 0..rng.below(3) {
            let node = honest[rng.below(honest.len() as u64) as usize];
            let at = rng.range(SECOND, heal - 3 * SECOND);
            let restart = rng.range(at + 100 * MS, heal - SECOND);
            crashes.push(Crash {
                node,
                at: Nanos(at),
                restart: Nanos(restart),
                wipe: false,
            });
        }
        let mut partitions = Vec::new();
        if rng.chance(500) {
            let from = rng.range(SECOND, heal - 4 * SECOND);
            let until = rng.range(from + SECOND, heal - SECOND);
            let groups = (0..n).map(|_| rng.below(2) as u8).collect();
            partitions.push(Partition {
                from: Nanos(from),
                until: Nanos(until),
                groups,
            });
        }
        Scenario {
            seed,
            n,
            duration: Nanos(seconds * SECOND),
            delay: Nanos(rng.range(MS, 50 * MS)),
            jitter: Nanos(rng.range(0, 40 * MS)),
            loss_per_mille: rng.below(60) as u32,
            clock_error: Nanos(rng.range(0, 40 * MS)),
            crashes,
            partitions,
            byzantine,
            heal: Nanos(heal),
            config: Config::default(),
        }
    }

    /// Whether liveness is expected after `heal`: no Byzantine node that can stall its own
    /// views without being skipped (a bad clock is skipped; an equivocator is not).
    pub fn expects_liveness(&self) -> bool {
        !matches!(self.byzantine, Some((_, Byzantine::Equivocator)))
    }
}
