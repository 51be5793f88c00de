//! Anchors: the EIP-712 messages the ring's secp256k1 attestation keys sign so that a
//! `TickOracle` contract on an EVM chain accepts a range of ticks (`specs/encoding.md` §6).
//!
//! Owns: the EIP-712 type strings and type hashes, the `TickOracle` domain separator, the
//! digests of `Anchor` and `Rotate`, the anchored root over a tick range, EVM addresses, and the
//! packed signature list the contract takes. Never: holds keys, signs, talks to a chain, or
//! decides when to anchor (the node's relayer does all of that).
//!
//! ```text
//! tick hashes from..=to ─(§5 Merkle tree, leaf content = tick hash)─▶ root
//! Anchor{from, to, second, root} ─EIP-712 (chain id, contract)─▶ digest ◀─ ≥ threshold signers
//! ```

use crate::merkle::{MerkleTree, leaf_hash};
use crate::{Hash, Height, HexError, Second, decode_hex};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha3::{Digest as _, Keccak256};
use std::fmt;

/// The EIP-712 domain type (§6.2).
pub const DOMAIN_TYPE: &str =
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";
/// The EIP-712 anchor type (§6.3).
pub const ANCHOR_TYPE: &str =
    "Anchor(uint64 fromHeight,uint64 toHeight,uint64 second,bytes32 root)";
/// The EIP-712 signer-set rotation type (§6.4).
pub const ROTATE_TYPE: &str = "Rotate(uint64 newEpoch,address[] signers,uint8 threshold)";
/// The domain's `name`: the contract.
pub const DOMAIN_NAME: &str = "TickOracle";
/// The domain's `version`.
pub const DOMAIN_VERSION: &str = "1";
/// secp256k1n / 2, big-endian: a canonical (low-s) signature has `s <= HALF_N` (EIP-2).
pub const HALF_N: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
];

/// Keccak-256 (the original Keccak padding Ethereum uses, not NIST SHA3-256).
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// Why an anchor value could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// Hex text of a fixed-size value was malformed.
    #[error("{field}: {source}")]
    Hex {
        /// The value being parsed.
        field: &'static str,
        /// What was wrong with it.
        source: HexError,
    },
    /// Hex text lacked its `0x` prefix.
    #[error("{field}: expected a 0x prefix, found {found:?}")]
    MissingPrefix {
        /// The value being parsed.
        field: &'static str,
        /// The text found.
        found: String,
    },
    /// The range's last height is below its first.
    #[error("anchor range must have from <= to, found from {from} > to {to}")]
    RangeReversed {
        /// First height.
        from: Height,
        /// Last height.
        to: Height,
    },
    /// The number of tick hashes does not match the range.
    #[error("anchor range {from}..={to} needs {expected} tick hashes, found {found}")]
    TickCount {
        /// First height.
        from: Height,
        /// Last height.
        to: Height,
        /// Hashes the range needs.
        expected: u64,
        /// Hashes given.
        found: usize,
    },
    /// A signature's `v` is not 27 or 28.
    #[error("signature by {signer}: expected v 27 or 28, found {found}")]
    RecoveryId {
        /// The signer.
        signer: EvmAddress,
        /// The `v` byte found.
        found: u8,
    },
    /// A signature's `s` is above secp256k1n/2 (malleable; the contract rejects it).
    #[error("signature by {signer}: expected s <= secp256k1n/2, found a high s")]
    HighS {
        /// The signer.
        signer: EvmAddress,
    },
    /// The same signer appears twice.
    #[error("expected distinct signers, found {signer} twice")]
    DuplicateSigner {
        /// The repeated signer.
        signer: EvmAddress,
    },
}

pub(crate) fn parse_0x<const N: usize>(
    field: &'static str,
    s: &str,
) -> Result<[u8; N], AnchorError> {
    let hex = s
        .strip_prefix("0x")
        .ok_or_else(|| AnchorError::MissingPrefix {
            field,
            found: s.to_string(),
        })?;
    decode_hex::<N>(hex).map_err(|source| AnchorError::Hex { field, source })
}

/// `0x`-hex text, `Debug`, and serde as that text, for a byte-array newtype whose text form is
/// `0x` and lowercase hex (parsed in any case, with the `0x` required).
macro_rules! zero_x_hex {
    ($name:ident, $len:literal, $field:literal) => {
        impl $name {
            /// Parses `0x` followed by the hex digits of the bytes.
            pub fn from_hex(s: &str) -> Result<$name, $crate::anchor::AnchorError> {
                $crate::anchor::parse_0x::<$len>($field, s).map($name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "0x{}", hex::encode(self.0))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}(0x{})", stringify!($name), hex::encode(self.0))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use zero_x_hex;

/// A 20-byte EVM account address. Text form: `0x` and 40 hex digits (any case when parsed,
/// EIP-55 mixed case when printed).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EvmAddress(pub [u8; 20]);

impl EvmAddress {
    /// The address of an uncompressed secp256k1 public key given as `x || y` (64 bytes): the
    /// last 20 bytes of its Keccak-256.
    pub fn from_public_key(xy: &[u8; 64]) -> EvmAddress {
        let h = keccak256(xy);
        let mut a = [0u8; 20];
        a.copy_from_slice(&h[12..]);
        EvmAddress(a)
    }

    /// Parses `0x` followed by 40 hex digits. The EIP-55 checksum is not enforced.
    pub fn from_hex(s: &str) -> Result<EvmAddress, AnchorError> {
        parse_0x("address", s).map(EvmAddress)
    }

    /// The EIP-55 checksummed text form.
    pub fn to_checksum(&self) -> String {
        let lower = hex::encode(self.0);
        let h = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (h[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }
}

impl fmt::Display for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for EvmAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvmAddress({})", self.to_checksum())
    }
}

impl Serialize for EvmAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_checksum())
    }
}

impl<'de> Deserialize<'de> for EvmAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        EvmAddress::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// A 32-byte EIP-712 value (a type hash, struct hash, domain separator or digest). Text form:
/// `0x` and 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Eip712Hash(pub [u8; 32]);

zero_x_hex!(Eip712Hash, 32, "eip712 hash");

/// `keccak256` of a type string: its EIP-712 type hash.
pub fn type_hash(type_string: &str) -> Eip712Hash {
    Eip712Hash(keccak256(type_string.as_bytes()))
}

/// An ABI word holding an unsigned integer (EIP-712 `encodeData` of uint8..uint256).
fn word_u64(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// An ABI word holding an address (left-padded with zeros).
fn word_address(a: &EvmAddress) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

fn hash_words(words: &[[u8; 32]]) -> Eip712Hash {
    let mut k = Keccak256::new();
    for w in words {
        k.update(w);
    }
    Eip712Hash(k.finalize().into())
}

/// The EIP-712 domain of one `TickOracle` deployment (§6.2). Chain id and contract address are
/// both in it, so a signature for Polygon is worthless on Ethereum and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnchorDomain {
    /// The EVM chain id (EIP-155): 1 Ethereum, 137 Polygon, 31337 a local anvil.
    pub chain_id: u64,
    /// The `TickOracle` contract's address.
    pub contract: EvmAddress,
}

impl AnchorDomain {
    /// The domain separator: `keccak256(DOMAIN_TYPEHASH || keccak256(name) ||
    /// keccak256(version) || chainId || verifyingContract)`.
    pub fn separator(&self) -> Eip712Hash {
        hash_words(&[
            type_hash(DOMAIN_TYPE).0,
            keccak256(DOMAIN_NAME.as_bytes()),
            keccak256(DOMAIN_VERSION.as_bytes()),
            word_u64(self.chain_id),
            word_address(&self.contract),
        ])
    }

    /// The digest signers sign: `keccak256(0x19 0x01 || separator || struct_hash)`.
    pub fn typed_digest(&self, struct_hash: &Eip712Hash) -> Eip712Hash {
        let mut k = Keccak256::new();
        k.update([0x19, 0x01]);
        k.update(self.separator().0);
        k.update(struct_hash.0);
        Eip712Hash(k.finalize().into())
    }
}

/// A co-signed claim that the ticks `from..=to` have the Merkle root `root` and that the tick
/// at `to` stands for `second` (§6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Anchor {
    /// First height of the range (EIP-712 `fromHeight`).
    pub from: Height,
    /// Last height of the range (EIP-712 `toHeight`).
    pub to: Height,
    /// The UTC second of the tick at `to`.
    pub second: Second,
    /// `anchor_root` of the tick hashes `from..=to`.
    pub root: Hash,
}

impl Anchor {
    /// The anchor over the tick hashes of `from..=to`, in height order; `second` is the tick at
    /// `to`'s second.
    pub fn over_ticks(
        from: Height,
        to: Height,
        second: Second,
        tick_hashes: &[Hash],
    ) -> Result<Anchor, AnchorError> {
        if to.0 < from.0 {
            return Err(AnchorError::RangeReversed { from, to });
        }
        let expected = to.0 - from.0 + 1;
        if tick_hashes.len() as u64 != expected {
            return Err(AnchorError::TickCount {
                from,
                to,
                expected,
                found: tick_hashes.len(),
            });
        }
        Ok(Anchor {
            from,
            to,
            second,
            root: anchor_root(tick_hashes),
        })
    }

    /// `hashStruct(Anchor)`: `keccak256(ANCHOR_TYPEHASH || fromHeight || toHeight || second ||
    /// root)`, each a 32-byte ABI word.
    pub fn struct_hash(&self) -> Eip712Hash {
        hash_words(&[
            type_hash(ANCHOR_TYPE).0,
            word_u64(self.from.0),
            word_u64(self.to.0),
            word_u64(self.second.0),
            self.root.0,
        ])
    }

    /// The EIP-712 digest the attestation keys sign for this anchor on `domain`.
    pub fn digest(&self, domain: &AnchorDomain) -> Eip712Hash {
        domain.typed_digest(&self.struct_hash())
    }
}

/// A request, signed by the current signer set, to replace it with `signers` at `new_epoch`
/// (§6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Rotate {
    /// The epoch the new set takes: the contract's current epoch + 1.
    pub new_epoch: u64,
    /// The new signer addresses, strictly ascending (the contract rejects any other order).
    pub signers: Vec<EvmAddress>,
    /// Signatures the new set will require: a strict majority of `signers`.
    pub threshold: u8,
}

impl Rotate {
    /// `hashStruct(Rotate)`: `keccak256(ROTATE_TYPEHASH || newEpoch ||
    /// keccak256(signers as 32-byte words) || threshold)`.
    pub fn struct_hash(&self) -> Eip712Hash {
        let signers: Vec<[u8; 32]> = self.signers.iter().map(word_address).collect();
        hash_words(&[
            type_hash(ROTATE_TYPE).0,
            word_u64(self.new_epoch),
            hash_words(&signers).0,
            word_u64(u64::from(self.threshold)),
        ])
    }

    /// The EIP-712 digest the current signers sign for this rotation on `domain`.
    pub fn digest(&self, domain: &AnchorDomain) -> Eip712Hash {
        domain.typed_digest(&self.struct_hash())
    }
}

/// The Merkle tree (§5) over a range's tick hashes in height order: leaf content is the
/// 32-byte tick hash, so the leaf for height `h` is at index `h - from`.
pub fn anchor_tree(tick_hashes: &[Hash]) -> MerkleTree {
    MerkleTree::from_leaf_hashes(tick_hashes.iter().map(|h| leaf_hash(&h.0)).collect())
}

/// The anchored root of a range's tick hashes in height order (§6.1).
pub fn anchor_root(tick_hashes: &[Hash]) -> Hash {
    anchor_tree(tick_hashes).root()
}

/// A recoverable secp256k1 signature as the contract takes it: `r (32) || s (32) || v (1)`,
/// with `v` 27 or 28 (§6.5).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EvmSignature(pub [u8; 65]);

impl EvmSignature {
    /// True if `s <= secp256k1n/2` (EIP-2 canonical form).
    pub fn is_low_s(&self) -> bool {
        self.0[32..64] <= HALF_N[..]
    }
}

impl fmt::Debug for EvmSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EvmSignature(0x{})", hex::encode(self.0))
    }
}

impl EvmSignature {
    /// Parses `0x` followed by 130 hex digits (`r || s || v`).
    pub fn from_hex(s: &str) -> Result<EvmSignature, AnchorError> {
        parse_0x("signature", s).map(EvmSignature)
    }
}

impl fmt::Display for EvmSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl Serialize for EvmSignature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for EvmSignature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        EvmSignature::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Packs signatures for `anchor` / `rotate` calldata (§6.5): sorted by ascending signer
/// address and concatenated, 65 bytes each. Rejects what the contract would reject on its own
/// terms: a duplicate signer, a high `s`, a `v` other than 27 or 28.
pub fn pack_signatures(signed: &[(EvmAddress, EvmSignature)]) -> Result<Vec<u8>, AnchorError> {
    let mut sorted: Vec<&(EvmAddress, EvmSignature)> = signed.iter().collect();
    sorted.sort_by_key(|(a, _)| *a);
    let mut out = Vec::with_capacity(65 * sorted.len());
    for (i, (signer, sig)) in sorted.iter().enumerate() {
        if i > 0 && sorted[i - 1].0 == *signer {
            return Err(AnchorError::DuplicateSigner { signer: *signer });
        }
        let v = sig.0[64];
        if v != 27 && v != 28 {
            return Err(AnchorError::RecoveryId {
                signer: *signer,
                found: v,
            });
        }
        if !sig.is_low_s() {
            return Err(AnchorError::HighS { signer: *signer });
        }
        out.extend_from_slice(&sig.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_type_hash_is_the_well_known_eip712_constant() {
        assert_eq!(
            type_hash(DOMAIN_TYPE).to_string(),
            "0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f"
        );
    }

    #[test]
    fn keccak_is_ethereum_keccak_not_sha3() {
        assert_eq!(
            hex::encode(keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn eip55_checksum_matches_the_eip_examples() {
        for text in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        ] {
            assert_eq!(EvmAddress::from_hex(text).unwrap().to_checksum(), text);
        }
    }

    #[test]
    fn the_same_anchor_has_different_digests_on_different_chains() {
        let anchor =
            Anchor::over_ticks(Height(1), Height(2), Second(7), &[Hash([1; 32]); 2]).unwrap();
        let contract = EvmAddress([9; 20]);
        let eth = AnchorDomain {
            chain_id: 1,
            contract,
        };
        let polygon = AnchorDomain {
            chain_id: 137,
            contract,
        };
        assert_ne!(anchor.digest(&eth), anchor.digest(&polygon));
    }

    #[test]
    fn over_ticks_names_expected_and_found_counts() {
        let err =
            Anchor::over_ticks(Height(5), Height(7), Second(1), &[Hash([0; 32])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "anchor range 5..=7 needs 3 tick hashes, found 1"
        );
    }

    #[test]
    fn packing_sorts_by_signer_and_rejects_duplicates_and_high_s() {
        let low = |b: u8| {
            let mut s = [b; 65];
            s[32] = 0x10;
            s[64] = 27;
            EvmSignature(s)
        };
        let (a, b) = (EvmAddress([1; 20]), EvmAddress([2; 20]));
        let packed = pack_signatures(&[(b, low(0xbb)), (a, low(0xaa))]).unwrap();
        assert_eq!(packed.len(), 130);
        assert_eq!(packed[0], 0xaa);
        assert!(matches!(
            pack_signatures(&[(a, low(1)), (a, low(2))]),
            Err(AnchorError::DuplicateSigner { .. })
        ));
        let mut high = low(3);
        high.0[32] = 0xff;
        assert!(matches!(
            pack_signatures(&[(a, high)]),
            Err(AnchorError::HighS { .. })
        ));
    }
}
