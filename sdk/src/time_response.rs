//! The signed answer to `GET /v1/time`: a node's current UTC bounds, echoing the client's nonce.
//!
//! Owns: the statement's fields, its JSON form, and its canonical signing bytes under the domain
//! tag [`TAG`]. Never: clocks or keys of its own (the node fills the statement and signs it; a
//! client checks it against the node's genesis key).
//!
//! Signing bytes (big-endian, `specs/encoding.md` §2 rules): tag, genesis hash (32), node (u16),
//! nonce (u16 length + bytes), earliest (i64 ns), latest (i64 ns), synchronized (u8 0/1), source
//! count (u16) then per source: name (u16 length + UTF-8), offset (i64 ns), radius (i64 ns),
//! agrees (u8 0/1); latest tick: u8 0 (none) or u8 1, height (u64), second (u64), hash (32).

use crate::encoding::Writer;
use crate::signing::{parse_key, sign, verify_with};
use crate::{Hash, Height, Nanos, NodeId, PublicKey, Second, Signature, UtcNanos};
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Domain tag of a signed time statement.
pub const TAG: &str = "tickchain/time/v1";
/// Longest client nonce, in bytes (128 hex characters).
pub const MAX_NONCE_BYTES: usize = 64;
/// Longest source name in a statement, in bytes.
pub const MAX_SOURCE_NAME: usize = 255;

/// A client nonce (0 to [`MAX_NONCE_BYTES`] bytes; empty when the client sent none), hex in
/// JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nonce(pub Vec<u8>);

/// Why a nonce was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// Not an even number of hex digits.
    #[error("nonce is not hex: {0}")]
    NotHex(String),
    /// Longer than [`MAX_NONCE_BYTES`].
    #[error("nonce must be at most {max} bytes, got {found}")]
    Length {
        /// Bytes decoded.
        found: usize,
        /// The cap.
        max: usize,
    },
}

impl Nonce {
    /// Parses hex of 0 to [`MAX_NONCE_BYTES`] bytes.
    pub fn from_hex(s: &str) -> Result<Nonce, NonceError> {
        if s.len() > 2 * MAX_NONCE_BYTES {
            return Err(NonceError::Length {
                found: s.len() / 2,
                max: MAX_NONCE_BYTES,
            });
        }
        hex::decode(s)
            .map(Nonce)
            .map_err(|e| NonceError::NotHex(e.to_string()))
    }
}

/// Bytes in a nonce from [`Nonce::random`].
pub const RANDOM_NONCE_BYTES: usize = 16;

#[cfg(feature = "keys")]
impl Nonce {
    /// A fresh nonce of [`RANDOM_NONCE_BYTES`] bytes from OS randomness (feature `keys`).
    pub fn random() -> Result<Nonce, crate::keys::KeyError> {
        let mut bytes = [0u8; RANDOM_NONCE_BYTES];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| crate::keys::KeyError::Random(e.to_string()))?;
        Ok(Nonce(bytes.to_vec()))
    }
}

impl Serialize for Nonce {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Nonce {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Nonce::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// One time source as the node currently sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSummary {
    /// The source's configured name (at most [`MAX_SOURCE_NAME`] bytes).
    pub name: String,
    /// Its offset from the node's local clock.
    pub offset: Nanos,
    /// Its hard error bound λ.
    pub radius: Nanos,
    /// Whether it is in the agreeing majority (false: falseticker or not yet usable).
    pub agrees: bool,
}

/// The newest final tick the node knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickRef {
    /// Its height.
    pub height: Height,
    /// Its second.
    pub second: Second,
    /// Its hash.
    pub hash: Hash,
}

/// What a node states about UTC at the moment it answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeStatement {
    /// The network the node belongs to.
    pub genesis_hash: Hash,
    /// The answering node.
    pub node: NodeId,
    /// The client's nonce, echoed.
    pub nonce: Nonce,
    /// Lower bound on true UTC.
    pub earliest: UtcNanos,
    /// Upper bound on true UTC.
    pub latest: UtcNanos,
    /// Whether a majority of sources agree (an unsynchronised node's bounds are its own drift).
    pub synchronized: bool,
    /// Per-source view.
    pub sources: Vec<SourceSummary>,
    /// The newest final tick, if any.
    pub latest_tick: Option<TickRef>,
}

/// A [`TimeStatement`] with the node's Ed25519 signature over [`TimeStatement::signing_bytes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedTime {
    /// The statement.
    pub statement: TimeStatement,
    /// The node's signature.
    pub signature: Signature,
}

/// A statement outside the caps its signed form can carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The nonce is longer than [`MAX_NONCE_BYTES`].
    #[error("nonce of {0} bytes, at most {MAX_NONCE_BYTES}")]
    NonceTooLong(usize),
    /// A source name is longer than [`MAX_SOURCE_NAME`] bytes.
    #[error("source name of {0} bytes, at most {MAX_SOURCE_NAME}")]
    SourceNameTooLong(usize),
    /// More than 65,535 sources.
    #[error("{0} sources, at most 65535")]
    TooManySources(usize),
}

impl TimeStatement {
    /// The canonical bytes the node signs (layout in the module docs), or which cap the
    /// statement exceeds.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, StatementError> {
        let nonce_len = u16::try_from(self.nonce.0.len())
            .ok()
            .filter(|n| usize::from(*n) <= MAX_NONCE_BYTES)
            .ok_or(StatementError::NonceTooLong(self.nonce.0.len()))?;
        let count = u16::try_from(self.sources.len())
            .map_err(|_| StatementError::TooManySources(self.sources.len()))?;
        if let Some(s) = self.sources.iter().find(|s| s.name.len() > MAX_SOURCE_NAME) {
            return Err(StatementError::SourceNameTooLong(s.name.len()));
        }
        let mut w = Writer::with_tag(TAG);
        w.bytes(&self.genesis_hash.0).u16(self.node.0);
        w.u16(nonce_len).bytes(&self.nonce.0);
        w.i64(self.earliest.0)
            .i64(self.latest.0)
            .u8(self.synchronized as u8);
        w.u16(count);
        for s in &self.sources {
            w.str(&s.name)
                .i64(s.offset.0)
                .i64(s.radius.0)
                .u8(s.agrees as u8);
        }
        match &self.latest_tick {
            None => {
                w.u8(0);
            }
            Some(t) => {
                w.u8(1).u64(t.height.0).u64(t.second.0).bytes(&t.hash.0);
            }
        }
        Ok(w.finish())
    }

    /// Signs the statement with the node key, or says which cap it exceeds.
    pub fn sign(self, key: &SigningKey) -> Result<SignedTime, StatementError> {
        let signature = sign(key, &self.signing_bytes()?);
        Ok(SignedTime {
            statement: self,
            signature,
        })
    }
}

impl SignedTime {
    /// Whether this is a fresh, authentic answer to the request a client made: signed by `key`
    /// (the answering node's genesis key, see [`SignedTime::verify`]), for the network
    /// `genesis_hash`, echoing the client's `nonce`.
    pub fn verify_answer(&self, key: &PublicKey, genesis_hash: &Hash, nonce: &Nonce) -> bool {
        self.verify(key)
            && self.statement.nonce == *nonce
            && self.statement.genesis_hash == *genesis_hash
    }

    /// Whether `key` signed this statement (strict Ed25519). A statement outside the caps
    /// of its signed form is not.
    pub fn verify(&self, key: &PublicKey) -> bool {
        let Ok(bytes) = self.statement.signing_bytes() else {
            return false;
        };
        parse_key(key).is_some_and(|k| verify_with(&k, &bytes, &self.signature))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::seeded;

    fn statement() -> TimeStatement {
        TimeStatement {
            genesis_hash: Hash([7; 32]),
            node: NodeId(2),
            nonce: Nonce(vec![0xab, 0xcd]),
            earliest: UtcNanos(1_000),
            latest: UtcNanos(3_000),
            synchronized: true,
            sources: vec![SourceSummary {
                name: "ntp".into(),
                offset: Nanos(-5),
                radius: Nanos(9),
                agrees: true,
            }],
            latest_tick: Some(TickRef {
                height: Height(4),
                second: Second(5),
                hash: Hash([1; 32]),
            }),
        }
    }

    #[test]
    fn signing_bytes_follow_the_documented_layout() {
        let bytes = statement().signing_bytes().unwrap();
        let mut expected = vec![TAG.len() as u8];
        expected.extend_from_slice(TAG.as_bytes());
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&[0, 2, 0, 2, 0xab, 0xcd]);
        expected.extend_from_slice(&1_000i64.to_be_bytes());
        expected.extend_from_slice(&3_000i64.to_be_bytes());
        expected.extend_from_slice(&[1, 0, 1, 0, 3]);
        expected.extend_from_slice(b"ntp");
        expected.extend_from_slice(&(-5i64).to_be_bytes());
        expected.extend_from_slice(&9i64.to_be_bytes());
        expected.extend_from_slice(&[1, 1]);
        expected.extend_from_slice(&4u64.to_be_bytes());
        expected.extend_from_slice(&5u64.to_be_bytes());
        expected.extend_from_slice(&[1; 32]);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_signed_statement_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&seeded("time-test"));
        let public = crate::signing::public_key(&key);
        let signed = statement().sign(&key).unwrap();
        assert!(signed.verify(&public));
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedTime = serde_json::from_str(&json).unwrap();
        assert!(back.verify(&public));
        let mut other = signed.clone();
        other.statement.nonce = Nonce(vec![0xab, 0xce]);
        assert!(!other.verify(&public));
        let mut other = signed;
        other.statement.latest = UtcNanos(3_001);
        assert!(!other.verify(&public));
    }

    #[test]
    fn statements_over_a_cap_are_errors_to_sign_and_false_to_verify_never_panics() {
        let key = SigningKey::from_bytes(&seeded("time-test"));
        let public = crate::signing::public_key(&key);
        let long_name = SourceSummary {
            name: "p".repeat(MAX_SOURCE_NAME + 1),
            ..statement().sources[0].clone()
        };
        let mut named = statement();
        named.sources.push(long_name);
        assert_eq!(
            named.clone().sign(&key).unwrap_err(),
            StatementError::SourceNameTooLong(256)
        );
        let mut many = statement();
        many.sources = vec![statement().sources[0].clone(); 65_536];
        assert_eq!(
            many.clone().sign(&key).unwrap_err(),
            StatementError::TooManySources(65_536)
        );
        let mut long_nonce = statement();
        long_nonce.nonce = Nonce(vec![1; MAX_NONCE_BYTES + 1]);
        assert!(long_nonce.clone().sign(&key).is_err());
        // A hostile answer with the same shapes verifies false.
        let signature = statement().sign(&key).unwrap().signature;
        for statement in [named, many, long_nonce] {
            assert!(
                !SignedTime {
                    statement,
                    signature
                }
                .verify(&public)
            );
        }
    }

    #[test]
    fn nonces_are_hex_of_at_most_64_bytes() {
        assert_eq!(Nonce::from_hex("00ff").unwrap(), Nonce(vec![0, 255]));
        assert_eq!(Nonce::from_hex("").unwrap(), Nonce::default());
        assert!(Nonce::from_hex(&"ab".repeat(64)).is_ok());
        assert!(Nonce::from_hex("abc").is_err());
        assert!(Nonce::from_hex("zz").is_err());
        assert!(Nonce::from_hex(&"ab".repeat(65)).is_err());
    }

    #[test]
    fn an_answer_counts_only_with_our_nonce_our_network_and_the_node_signature() {
        let key = SigningKey::from_bytes(&seeded("time-test"));
        let public = crate::signing::public_key(&key);
        let signed = statement().sign(&key).unwrap();
        let (genesis, nonce) = (Hash([7; 32]), Nonce(vec![0xab, 0xcd]));
        assert!(signed.verify_answer(&public, &genesis, &nonce));
        assert!(!signed.verify_answer(&public, &genesis, &Nonce(vec![0xab])));
        assert!(!signed.verify_answer(&public, &Hash([8; 32]), &nonce));
        let stranger = crate::signing::public_key(&SigningKey::from_bytes(&seeded("other")));
        assert!(!signed.verify_answer(&stranger, &genesis, &nonce));
    }

    #[cfg(feature = "keys")]
    #[test]
    fn random_nonces_have_the_documented_length_and_differ() {
        let (a, b) = (Nonce::random().unwrap(), Nonce::random().unwrap());
        assert_eq!(a.0.len(), RANDOM_NONCE_BYTES);
        assert_ne!(a, b);
    }
}
