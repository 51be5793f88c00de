//! Anchor proofs: where a proof's tick is anchored on an EVM chain (`specs/proof.md` §2–4).
//!
//! Owns: the per-chain entry a proof upgrade adds (chain id, contract, the co-signed
//! [`Anchor`], transaction, block, and the tick's path to the anchored root), the EVM
//! transaction hash type, and the offline check of one entry. Never: reads a chain (the CLI's
//! `--rpc` does, through `evm_rpc`), or trusts the root: offline, an anchor only shows that the
//! tick hash is a leaf of the claimed tree; that the tree's root is on chain is for the RPC check.
//!
//! ```text
//! tick hash ─leaf_hash─▶ leaf (index height - from) ─path─▶ anchor.root ◀─ rootAt(anchor.to)
//! ```

use crate::anchor::{Anchor, AnchorError, EvmAddress, anchor_tree};
use crate::merkle::{MerklePath, PathError, leaf_hash};
use crate::{Hash, Height};
use serde::{Deserialize, Deserializer, Serialize};

/// Most anchors one proof may carry (one per chain is the normal case: Ethereum, Polygon).
pub const MAX_ANCHORS: usize = 8;

/// A 32-byte EVM transaction hash. Text form: `0x` and 64 hex digits, as block explorers and
/// JSON-RPC print it (any case when parsed, lowercase when printed). Convert from alloy's
/// `TxHash` with `EvmTxHash(tx.0)`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EvmTxHash(pub [u8; 32]);

crate::anchor::zero_x_hex!(EvmTxHash, 32, "tx_hash");

/// Where a proof's tick is anchored on one EVM chain: the co-signed anchor over a tick range
/// that contains it, the transaction that stored the root in a `TickOracle`, and the tick's
/// inclusion path in the anchored tree (`specs/encoding.md` §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorProof {
    /// The EVM chain id (EIP-155): 1 Ethereum, 137 Polygon, 31337 a local anvil.
    pub chain_id: u64,
    /// The `TickOracle` contract that stores the root (EIP-55 text).
    pub contract: EvmAddress,
    /// The anchored range `from..=to`, the second of the tick at `to`, and the root the
    /// contract stores under `to`.
    pub anchor: Anchor,
    /// The transaction that anchored it (`0x` hex).
    pub tx_hash: EvmTxHash,
    /// The block holding that transaction.
    pub block_number: u64,
    /// Path from `leaf_hash(tick hash)` to `anchor.root`: index `tick.height - anchor.from`,
    /// size `anchor.to - anchor.from + 1`.
    pub path: MerklePath,
}

/// Why an anchor entry cannot be built for, or does not hold for, a tick (offline, before any
/// chain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorProofError {
    /// The tick hashes given do not fit the anchor's range.
    #[error(transparent)]
    Range(#[from] AnchorError),
    /// The tick is not in the anchored range.
    #[error("tick height {height} is outside the anchored range {from}..={to}")]
    OutsideRange {
        /// The tick's height.
        height: Height,
        /// First anchored height.
        from: Height,
        /// Last anchored height.
        to: Height,
    },
    /// The path's index or size is not the tick's position in the range.
    #[error(
        "path is leaf {index} of {size}, the tick is leaf {expected_index} of {expected_size} in the range"
    )]
    Position {
        /// The path's index.
        index: u32,
        /// The path's size.
        size: u32,
        /// `height - from`.
        expected_index: u64,
        /// `to - from + 1`.
        expected_size: u64,
    },
    /// The path is not well formed.
    #[error("malformed path: {0}")]
    Malformed(#[from] PathError),
    /// The tick hash and path (or, when building, the range's tick hashes) lead to another root.
    #[error("the tick leads to root {computed}, anchor.root is {stated}")]
    Root {
        /// Root computed from the tick hash and path.
        computed: Hash,
        /// The anchor's root.
        stated: Hash,
    },
}

impl AnchorProof {
    /// The entry for the tick at `height`, given the hashes of every tick in `anchor`'s range in
    /// height order (what the node keeps in its anchor record). Fails when the hashes do not
    /// match the range ([`AnchorProofError::Range`]) or do not have `anchor.root` as their root
    /// ([`AnchorProofError::Root`]), or `height` is outside the range.
    pub fn for_tick(
        chain_id: u64,
        contract: EvmAddress,
        anchor: Anchor,
        tx_hash: EvmTxHash,
        block_number: u64,
        tick_hashes: &[Hash],
        height: Height,
    ) -> Result<AnchorProof, AnchorProofError> {
        let rebuilt = Anchor::over_ticks(anchor.from, anchor.to, anchor.second, tick_hashes)?;
        if rebuilt.root != anchor.root {
            return Err(AnchorProofError::Root {
                computed: rebuilt.root,
                stated: anchor.root,
            });
        }
        let index = height
            .0
            .checked_sub(anchor.from.0)
            .filter(|_| height <= anchor.to)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or(AnchorProofError::OutsideRange {
                height,
                from: anchor.from,
                to: anchor.to,
            })?;
        let path = anchor_tree(tick_hashes)
            .path(index)
            .expect("index is inside the range, which has one hash per height");
        Ok(AnchorProof {
            chain_id,
            contract,
            anchor,
            tx_hash,
            block_number,
            path,
        })
    }

    /// The leaf index and tree size of the tick at `height` in this anchor's range, or `None`
    /// when it is outside the range or the range has more than `u32::MAX` ticks.
    pub fn position(&self, height: Height) -> Option<(u32, u32)> {
        let (from, to) = (self.anchor.from.0, self.anchor.to.0);
        if height.0 < from || height.0 > to {
            return None;
        }
        let index = u32::try_from(height.0 - from).ok()?;
        let size = u32::try_from((to - from).checked_add(1)?).ok()?;
        Some((index, size))
    }

    /// Checks this entry for the tick at `height` with hash `tick_hash` (`specs/proof.md`
    /// §4.14): in range, path at the tick's position, leading to `anchor.root`.
    pub fn check(&self, height: Height, tick_hash: &Hash) -> Result<(), AnchorProofError> {
        let (from, to) = (self.anchor.from, self.anchor.to);
        if height < from || height > to {
            return Err(AnchorProofError::OutsideRange { height, from, to });
        }
        let expected_index = height.0 - from.0;
        let expected_size = (to.0 - from.0).saturating_add(1);
        if u64::from(self.path.index) != expected_index
            || u64::from(self.path.size) != expected_size
        {
            return Err(AnchorProofError::Position {
                index: self.path.index,
                size: self.path.size,
                expected_index,
                expected_size,
            });
        }
        let computed = self.path.root_from(leaf_hash(&tick_hash.0))?;
        if computed != self.anchor.root {
            return Err(AnchorProofError::Root {
                computed,
                stated: self.anchor.root,
            });
        }
        Ok(())
    }
}

/// Deserializes a proof's `anchors`, refusing more than [`MAX_ANCHORS`].
pub(crate) fn deserialize_anchors<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<AnchorProof>, D::Error> {
    let anchors = Vec::<AnchorProof>::deserialize(d)?;
    if anchors.len() > MAX_ANCHORS {
        return Err(serde::de::Error::custom(format!(
            "at most {MAX_ANCHORS} anchors, found {}",
            anchors.len()
        )));
    }
    Ok(anchors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Second;

    fn hashes(n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| Hash(crate::testkit::seeded(&format!("t{i}"))))
            .collect()
    }

    fn entry(height: u64) -> AnchorProof {
        let h = hashes(5);
        let anchor = Anchor::over_ticks(Height(10), Height(14), Second(99), &h).unwrap();
        AnchorProof::for_tick(
            137,
            EvmAddress([7; 20]),
            anchor,
            EvmTxHash([1; 32]),
            42,
            &h,
            Height(height),
        )
        .unwrap()
    }

    #[test]
    fn every_tick_of_the_range_checks_against_its_own_hash_only() {
        let h = hashes(5);
        for (i, height) in (10..=14).enumerate() {
            let e = entry(height);
            assert_eq!(e.path.index as usize, i);
            assert_eq!(e.position(Height(height)), Some((i as u32, 5)));
            assert_eq!(e.check(Height(height), &h[i]), Ok(()));
            let other = &h[(i + 1) % 5];
            assert!(matches!(
                e.check(Height(height), other),
                Err(AnchorProofError::Root { .. })
            ));
        }
    }

    #[test]
    fn out_of_range_and_misplaced_paths_fail_with_their_reason() {
        let h = hashes(5);
        let e = entry(12);
        assert!(matches!(
            e.check(Height(15), &h[2]),
            Err(AnchorProofError::OutsideRange { .. })
        ));
        assert!(matches!(
            e.check(Height(11), &h[2]),
            Err(AnchorProofError::Position { .. })
        ));
        let mut short = e.clone();
        short.path.siblings.pop();
        assert!(matches!(
            short.check(Height(12), &h[2]),
            Err(AnchorProofError::Malformed(_))
        ));
    }

    #[test]
    fn for_tick_refuses_hashes_that_are_not_the_anchored_tree_and_heights_outside_it() {
        let h = hashes(5);
        let anchor = Anchor::over_ticks(Height(10), Height(14), Second(99), &h).unwrap();
        let mut wrong = h.clone();
        wrong[4].0[0] ^= 1;
        let make = |hs: &[Hash], height| {
            AnchorProof::for_tick(
                1,
                EvmAddress::default(),
                anchor,
                EvmTxHash::default(),
                1,
                hs,
                Height(height),
            )
        };
        assert!(matches!(
            make(&wrong, 12),
            Err(AnchorProofError::Root { .. })
        ));
        assert!(matches!(make(&h[1..], 12), Err(AnchorProofError::Range(_))));
        assert!(matches!(
            make(&h, 9),
            Err(AnchorProofError::OutsideRange { .. })
        ));
        assert!(matches!(
            make(&h, 15),
            Err(AnchorProofError::OutsideRange { .. })
        ));
    }

    #[test]
    fn tx_hash_text_is_0x_hex_and_needs_the_prefix() {
        let t = EvmTxHash([0xab; 32]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, format!("\"0x{}\"", "ab".repeat(32)));
        assert_eq!(
            serde_json::from_str::<EvmTxHash>(&json.to_uppercase().replace("0X", "0x")).unwrap(),
            t
        );
        assert!(matches!(
            EvmTxHash::from_hex(&"ab".repeat(32)),
            Err(AnchorError::MissingPrefix { .. })
        ));
    }
}
