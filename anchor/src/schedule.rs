//! Which ticks to anchor next on a chain, and which node sends the transaction.
//!
//! Owns: the range rule (every `cadence` ticks, contiguous, starting right after the newest
//! height the contract holds, so nothing is ever skipped) and the turn rule (round-robin by range
//! index; the next nodes in ring order take over one `backup_delay` after another while the
//! chain still shows nothing). Never: reads a chain or a clock: callers pass both in.

use std::time::Duration;
use tickchain_sdk::{Height, NodeId};

/// A contiguous range of heights `from..=to` (ordered by `from`, then `to`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Range {
    /// First height.
    pub from: Height,
    /// Last height.
    pub to: Height,
}

impl Range {
    /// Number of ticks in the range.
    pub fn len(&self) -> u64 {
        self.to.0 - self.from.0 + 1
    }

    /// Always false: a range holds at least one tick.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True if `height` is in the range.
    pub fn contains(&self, height: Height) -> bool {
        self.from.0 <= height.0 && height.0 <= self.to.0
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..={}", self.from.0, self.to.0)
    }
}

/// The anchoring schedule of one chain for a ring of `nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Ticks per anchor (K, at least 1).
    pub cadence: u64,
    /// Ring size (at least 1).
    pub nodes: u16,
    /// How long each node waits after the one before it in the turn order.
    pub backup_delay: Duration,
}

impl Schedule {
    /// The range after the contract's newest anchored height `anchored` (0 before the first
    /// anchor): `anchored + 1 ..= anchored + cadence`.
    pub fn next_range(&self, anchored: Height) -> Range {
        Range {
            from: Height(anchored.0 + 1),
            to: Height(anchored.0 + self.cadence.max(1)),
        }
    }

    /// The range's index, `(from - 1) / cadence`: 0 for the first range, 1 for the next.
    pub fn index(&self, range: &Range) -> u64 {
        range.from.0.saturating_sub(1) / self.cadence.max(1)
    }

    /// The node whose turn it is: `index mod nodes`.
    pub fn primary(&self, range: &Range) -> NodeId {
        NodeId((self.index(range) % u64::from(self.nodes.max(1))) as u16)
    }

    /// `node`'s place in the turn order for `range`: 0 for the primary, 1 for the first backup
    /// (the next node in ring order), and so on.
    pub fn rank(&self, node: NodeId, range: &Range) -> u16 {
        let n = u32::from(self.nodes.max(1));
        ((u32::from(node.0) + n - u32::from(self.primary(range).0) % n) % n) as u16
    }

    /// How long after the range became ready `node` waits before sending, if the chain still
    /// shows nothing: `rank * backup_delay`.
    pub fn send_after(&self, node: NodeId, range: &Range) -> Duration {
        self.backup_delay * u32::from(self.rank(node, range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule {
            cadence: 10,
            nodes: 4,
            backup_delay: Duration::from_secs(30),
        }
    }

    #[test]
    fn ranges_follow_the_newest_anchored_height_without_gaps() {
        let s = schedule();
        let first = s.next_range(Height(0));
        assert_eq!((first.from, first.to), (Height(1), Height(10)));
        let second = s.next_range(first.to);
        assert_eq!((second.from, second.to), (Height(11), Height(20)));
        assert_eq!(second.len(), 10);
    }

    #[test]
    fn turns_go_round_robin_by_range_index() {
        let s = schedule();
        let primaries: Vec<u16> = (0..6)
            .map(|i| s.primary(&s.next_range(Height(i * 10))).0)
            .collect();
        assert_eq!(primaries, [0, 1, 2, 3, 0, 1]);
    }

    #[test]
    fn backups_follow_in_ring_order_one_delay_apart() {
        let s = schedule();
        let r = s.next_range(Height(20)); // index 2: node 2 is primary
        let waits: Vec<u64> = (0..4)
            .map(|n| s.send_after(NodeId(n), &r).as_secs())
            .collect();
        assert_eq!(waits, [60, 90, 0, 30]);
    }
}
