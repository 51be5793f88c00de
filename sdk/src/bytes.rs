//! Fixed-size byte values (digests, hashes, salts, keys, signatures) and their hex text form.
//!
//! Owns: parsing and printing lowercase hex with errors that say what length was expected and
//! what arrived. Never: hashing or signing.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Why a hex string could not become a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexError {
    /// The string had the wrong number of characters.
    #[error("expected {expected} hex characters ({bytes} bytes), got {found}")]
    Length {
        /// Expected number of hex characters.
        expected: usize,
        /// Expected number of bytes.
        bytes: usize,
        /// Number of characters found.
        found: usize,
    },
    /// The string contained a character that is not a hex digit.
    #[error("not hex: character {ch:?} at position {position}")]
    NotHex {
        /// The offending character.
        ch: char,
        /// Its character position.
        position: usize,
    },
}

/// Decodes exactly `N` bytes from `s` (upper or lower case hex).
pub fn decode_hex<const N: usize>(s: &str) -> Result<[u8; N], HexError> {
    if let Some((position, ch)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(HexError::NotHex { ch, position });
    }
    if s.len() != 2 * N {
        return Err(HexError::Length {
            expected: 2 * N,
            bytes: N,
            found: s.len(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out).expect("length and alphabet checked above");
    Ok(out)
}

macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $n:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $n]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $n;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }

            /// Parses lowercase or uppercase hex of exactly the right length.
            pub fn from_hex(s: &str) -> Result<Self, HexError> {
                decode_hex::<$n>(s).map(Self)
            }

            /// Lowercase hex.
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::from_hex(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fixed_bytes!(
    /// A 32-byte document digest submitted by a client (the CLI uses SHA-256 of the file).
    Digest,
    32
);
fixed_bytes!(
    /// A 32-byte BLAKE3 hash: Merkle nodes and roots, tick hashes, the genesis hash.
    Hash,
    32
);
fixed_bytes!(
    /// The 16-byte per-leaf salt that keeps a Merkle path from revealing its neighbours.
    Salt,
    16
);
fixed_bytes!(
    /// An Ed25519 public key (32 bytes, compressed Edwards point).
    PublicKey,
    32
);
fixed_bytes!(
    /// An Ed25519 signature (64 bytes).
    Signature,
    64
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_errors_name_expected_and_found_lengths() {
        let err = Digest::from_hex("abcd").unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected 64 hex characters (32 bytes), got 4"
        );
        let err = Salt::from_hex("zz").unwrap_err();
        assert_eq!(
            err,
            HexError::NotHex {
                ch: 'z',
                position: 0
            }
        );
    }

    #[test]
    fn hex_round_trips_and_accepts_uppercase() {
        let h = Hash([0xab; 32]);
        assert_eq!(Hash::from_hex(&h.to_hex()).unwrap(), h);
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()).unwrap(), h);
    }
}
