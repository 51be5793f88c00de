//! What one simulated run looks like: ring size, network, clocks and faults, drawn from a seed.
//!
//! Owns: [`Scenario`], the seeded chaos generator, and the liveness floor each scenario must
//! reach. Never: runs anything (see `world`).

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
    /// Where in the node's work the crash lands.
    pub point: CrashPoint,
}

/// Where a crash interrupts a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// Between two inputs: every action of the last input was executed.
    Idle,
    /// Inside the first input handled at or after `at` that persists a record: that record is
    /// durable, then only the next `sends` sends or broadcasts go out (a broadcast counts once
    /// per recipient) and every later action is lost, as when the process dies right after a
    /// flush, part-way through the sends that depend on it. The node restarts `restart − at`
    /// after the crash actually happens.
    AfterPersist {
        /// Messages still sent after the durable record (0: none).
        sends: u8,
    },
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

/// How a Byzantine node misbehaves. The Byzantine nodes of one run form a coalition: the
/// equivocators' conflicting proposals are known to every member, which backs all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Byzantine {
    /// Runs the protocol with a clock that is off by this much while claiming to be
    /// synchronised with a tight bound.
    ClockOff(Nanos),
    /// In every view it acts in: leads with two conflicting proposals (one per half of the
    /// ring); next to every notarize and finalize vote it sends, sends one for the other tick to
    /// the other half (a coalition member's conflicting proposal, or a phantom tick); when it
    /// nullifies a view with known proposals, also notarizes and finalizes them; and notarizes
    /// and finalizes both sides of every coalition member's equivocation, to everyone.
    Equivocator,
    /// Runs the protocol on a true clock, but every notarize and finalize vote it sends (its
    /// proposals' included, and its backing of the coalition's proposals) carries a lying,
    /// validly signed reading drawn per vote: shifted by up to an hour, just outside the
    /// tolerances, widened by up to an hour, `[i64::MIN, i64::MAX]`, or inverted (`earliest`
    /// after `latest`). Honest nodes count such votes into certificates.
    ReadingLiar,
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
    /// The Byzantine nodes and their behaviours (at most f for the invariants to hold).
    pub byzantine: Vec<(NodeId, Byzantine)>,
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
            byzantine: Vec::new(),
            heal: Nanos(0),
            config: Config::default(),
        }
    }

    /// A run with faults drawn from `seed`: delay, jitter, loss, clock errors, up to two
    /// crashes of honest nodes (half of them between a durable record and the sends after it),
    /// maybe a partition, and none, one or f Byzantine nodes (each a bad clock, an equivocator
    /// or a reading liar). Crashes and partitions end by `heal`.
    pub fn chaos(seed: u64, n: usize, seconds: i64) -> Scenario {
        let mut rng = Rng::new(seed);
        let heal = seconds * SECOND / 2;
        let f = (n - 1) / 3;
        let coalition = match rng.below(3) {
            0 => 0,
            1 => 1.min(f),
            _ => f,
        };
        let mut ids: Vec<u16> = (0..n as u16).collect();
        let mut byzantine = Vec::new();
        for _ in 0..coalition {
            let id = ids.remove(rng.below(ids.len() as u64) as usize);
            let kind = match rng.below(3) {
                0 => {
                    let off = if rng.chance(500) { 10 } else { -10 };
                    Byzantine::ClockOff(Nanos(off * SECOND))
                }
                1 => Byzantine::Equivocator,
                _ => Byzantine::ReadingLiar,
            };
            byzantine.push((NodeId(id), kind));
        }
        let honest: Vec<NodeId> = ids.into_iter().map(NodeId).collect();
        let mut crashes = Vec::new();
        for _ in 0..rng.below(3) {
            let node = honest[rng.below(honest.len() as u64) as usize];
            let at = rng.range(SECOND, heal - 4 * SECOND);
            let restart = rng.range(at + 100 * MS, heal - 2 * SECOND);
            let point = if rng.chance(500) {
                CrashPoint::AfterPersist {
                    sends: rng.below(4) as u8,
                }
            } else {
                CrashPoint::Idle
            };
            crashes.push(Crash {
                node,
                at: Nanos(at),
                restart: Nanos(restart),
                wipe: false,
                point,
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

    /// The equivocators among the Byzantine nodes.
    pub fn equivocators(&self) -> usize {
        self.byzantine
            .iter()
            .filter(|(_, b)| *b == Byzantine::Equivocator)
            .count()
    }
}
