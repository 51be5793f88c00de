//! The one co-signing rule: which anchors a node's attestation key signs for a peer.
//!
//! Owns: the rule (`specs/encoding.md` §6.6), its refusals, and [`ChainHeads`], the newest
//! anchored height of each chain as this node's own relayers last read it from the contract.
//! Never: reads a store or a chain, or hashes ticks: callers pass in what they know, and check
//! the range's shape with [`CosignRule::shape`] before they read anything.
//!
//! ```text
//! request Anchor(from, to) for (chain id, contract)
//!   shape     1 <= from <= to, to - from + 1 <= max-cosign-range    (no reads)
//!   position  to <= our final tip
//!             from = newest anchored height + 1, as we know it:
//!               our relayer's last read of the contract  (and then to - from + 1 = cadence)
//!               else a stored confirmed anchor of that contract ending at from - 1, or from = 1
//!   content   the anchor is exactly our final ticks from..=to (second and root)
//! ```

use super::schedule::Range;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tickchain_sdk::Height;
use tickchain_sdk::anchor::{AnchorDomain, EvmAddress};

/// Default of `max-cosign-range`: the most ticks one co-signed anchor may span. The relayer
/// always asks for exactly one chain's cadence (a backlog is anchored range by range, never
/// merged), so this only has to be at least the largest cadence: 10,000 ticks is 2 h 46 min.
pub const DEFAULT_MAX_RANGE: u64 = 10_000;

/// Why a node does not co-sign a requested anchor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The range is empty, inverted or starts at height 0.
    #[error("expected 1 <= from <= to, found {from}..={to}")]
    Shape {
        /// Requested first height.
        from: u64,
        /// Requested last height.
        to: u64,
    },
    /// The range spans more ticks than `max-cosign-range`.
    #[error("expected at most {max} ticks, found {from}..={to}")]
    TooLong {
        /// Requested first height.
        from: u64,
        /// Requested last height.
        to: u64,
        /// The configured maximum.
        max: u64,
    },
    /// The range ends above this node's final tip.
    #[error("expected to <= our final tip {tip}, found to = {to}")]
    BeyondTip {
        /// Requested last height.
        to: u64,
        /// This node's final tip.
        tip: u64,
    },
    /// `from` is not one above the newest anchored height this node knows for the chain.
    #[error(
        "expected from = {expected} (one above the newest anchored height we know), found {from}"
    )]
    NotNext {
        /// Requested first height.
        from: u64,
        /// The first height this node would co-sign.
        expected: u64,
    },
    /// `from` is neither 1 nor one above a confirmed anchor this node stored for the chain, and
    /// this node has not read the chain's newest anchored height itself.
    #[error("expected from = 1 or one above a confirmed anchor we hold, found {from}")]
    UnknownHead {
        /// Requested first height.
        from: u64,
    },
    /// The range is not the chain's cadence long.
    #[error("expected {cadence} ticks (the chain's cadence), found {len}")]
    NotCadence {
        /// Requested length.
        len: u64,
        /// The chain's cadence.
        cadence: u64,
    },
    /// The second or root is not what this node's final ticks give.
    #[error("the anchor's second or root is not our final ticks {range}")]
    NotOurs {
        /// The requested range.
        range: Range,
    },
}

/// A chain's newest anchored height as this node's relayer last read it from the contract,
/// and the cadence it anchors at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// The contract's `latestHeight` (0 before the first anchor).
    pub latest: Height,
    /// Ticks per anchor (the relayer's `cadence`).
    pub cadence: u64,
}

/// The [`Head`] of every chain this node relays, keyed by domain; written by the relayers,
/// read by the co-signer. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct ChainHeads(Arc<Mutex<HashMap<(u64, EvmAddress), Head>>>);

impl ChainHeads {
    /// Records what a relayer just read.
    pub fn set(&self, domain: AnchorDomain, head: Head) {
        self.0
            .lock()
            .expect("heads lock")
            .insert((domain.chain_id, domain.contract), head);
    }

    /// What this node's relayer last read for `domain`, if it relays that chain.
    pub fn get(&self, domain: &AnchorDomain) -> Option<Head> {
        self.0
            .lock()
            .expect("heads lock")
            .get(&(domain.chain_id, domain.contract))
            .copied()
    }
}

/// The co-signing rule with its one setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CosignRule {
    /// Most ticks one co-signed anchor may span (`max-cosign-range`, at least 1).
    pub max_range: u64,
}

impl CosignRule {
    /// Step one, before anything is read: `1 <= from <= to` and at most `max_range` ticks.
    /// The returned range's length fits in memory bounds the caller chose.
    pub fn shape(&self, from: Height, to: Height) -> Result<Range, Refusal> {
        if from.0 == 0 || from > to {
            return Err(Refusal::Shape {
                from: from.0,
                to: to.0,
            });
        }
        // to - from cannot underflow; + 1 cannot overflow since from >= 1.
        if to.0 - from.0 + 1 > self.max_range {
            return Err(Refusal::TooLong {
                from: from.0,
                to: to.0,
                max: self.max_range,
            });
        }
        Ok(Range { from, to })
    }

    /// Step two, from what this node knows (two cheap reads): `range` ends at or below `tip`
    /// and starts one above the chain's newest anchored height. With `head` (this node relays
    /// the chain) that height is the contract's as the relayer last read it, and the range
    /// must be exactly `cadence` ticks, as the relayer's schedule asks. Without it, the only
    /// heights this node can vouch for are 0 and the end of a confirmed anchor it stored for
    /// that contract (`stored_anchor_ends_before`: one ends at `from - 1`). Either way a
    /// signature can never open a gap: the contract takes it only if nothing above `from - 1`
    /// is anchored, and `from - 1` is anchored already.
    pub fn position(
        &self,
        range: Range,
        tip: Height,
        head: Option<Head>,
        stored_anchor_ends_before: impl FnOnce() -> bool,
    ) -> Result<(), Refusal> {
        if range.to > tip {
            return Err(Refusal::BeyondTip {
                to: range.to.0,
                tip: tip.0,
            });
        }
        match head {
            Some(head) => {
                let expected = head.latest.0.saturating_add(1);
                if range.from.0 != expected {
                    return Err(Refusal::NotNext {
                        from: range.from.0,
                        expected,
                    });
                }
                if range.len() != head.cadence.max(1) {
                    return Err(Refusal::NotCadence {
                        len: range.len(),
                        cadence: head.cadence.max(1),
                    });
                }
            }
            None => {
                if range.from.0 != 1 && !stored_anchor_ends_before() {
                    return Err(Refusal::UnknownHead { from: range.from.0 });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: CosignRule = CosignRule { max_range: 100 };

    fn range(from: u64, to: u64) -> Range {
        Range {
            from: Height(from),
            to: Height(to),
        }
    }

    #[test]
    fn hostile_shapes_are_refused_before_anything_is_read() {
        assert!(matches!(
            RULE.shape(Height(1), Height(u64::MAX)),
            Err(Refusal::TooLong { .. })
        ));
        assert!(matches!(
            RULE.shape(Height(0), Height(u64::MAX)),
            Err(Refusal::Shape { .. })
        ));
        assert!(matches!(
            RULE.shape(Height(5), Height(3)),
            Err(Refusal::Shape { .. })
        ));
        assert!(matches!(
            RULE.shape(Height(1), Height(101)),
            Err(Refusal::TooLong { .. })
        ));
        assert_eq!(RULE.shape(Height(1), Height(100)), Ok(range(1, 100)));
        assert_eq!(
            RULE.shape(Height(u64::MAX), Height(u64::MAX)),
            Ok(range(u64::MAX, u64::MAX))
        );
    }

    #[test]
    fn a_relayed_chain_is_co_signed_only_for_its_next_cadence_range() {
        let head = Some(Head {
            latest: Height(12),
            cadence: 6,
        });
        let tip = Height(30);
        assert_eq!(RULE.position(range(13, 18), tip, head, || false), Ok(()));
        assert!(matches!(
            RULE.position(range(7, 12), tip, head, || true),
            Err(Refusal::NotNext { expected: 13, .. })
        ));
        assert!(matches!(
            RULE.position(range(19, 24), tip, head, || true),
            Err(Refusal::NotNext { .. })
        ));
        assert!(matches!(
            RULE.position(range(13, 20), tip, head, || false),
            Err(Refusal::NotCadence { len: 8, cadence: 6 })
        ));
        assert!(matches!(
            RULE.position(range(13, 18), Height(17), head, || false),
            Err(Refusal::BeyondTip { to: 18, tip: 17 })
        ));
    }

    #[test]
    fn without_a_head_only_the_first_range_or_one_after_a_stored_anchor_is_co_signed() {
        let tip = Height(30);
        assert_eq!(RULE.position(range(1, 6), tip, None, || false), Ok(()));
        assert_eq!(RULE.position(range(7, 12), tip, None, || true), Ok(()));
        assert!(matches!(
            RULE.position(range(7, 12), tip, None, || false),
            Err(Refusal::UnknownHead { from: 7 })
        ));
    }
}
