//! The one canonical byte encoding for everything tickchain signs or hashes (`specs/encoding.md`).
//!
//! Owns: the domain tags, the field order and widths of every signed or hashed message, and a
//! bounds-checked reader for the compact binary forms. Never: allocates on behalf of untrusted
//! lengths without a cap.
//!
//! Rules (spec §2): integers are fixed-width big-endian; hashes, keys and signatures are raw
//! bytes; strings are a u16 byte length then UTF-8; every message starts with its domain tag,
//! written as one length byte then the ASCII tag, so no two message types share a prefix.

/// Domain tags, one per message type (spec §3).
pub mod tag {
    /// The genesis document, hashed to the genesis hash.
    pub const GENESIS: &str = "tickchain/genesis/v1";
    /// A tick, hashed to the tick hash.
    pub const TICK: &str = "tickchain/tick/v1";
    /// A node's signed batch root; also the leaf content of the tick's batch tree.
    pub const BATCH: &str = "tickchain/batch/v1";
    /// A notarize vote.
    pub const NOTARIZE: &str = "tickchain/notarize/v1";
    /// A finalize vote; q of them form a finality certificate.
    pub const FINALIZE: &str = "tickchain/finalize/v1";
    /// A nullify vote (the view timed out).
    pub const NULLIFY: &str = "tickchain/nullify/v1";
    /// An attestation binding: a node's Ed25519 identity and its secp256k1 attestation
    /// address, signed by both keys (genesis `attestation`).
    pub const ATTEST: &str = "tickchain/attest/v1";
    /// A device log chain's anchor: the device key and log id (`specs/devicelog.md` §3).
    pub const DEVICELOG_CHAIN: &str = "tickchain/devicelog/chain/v1";
    /// A device log record, hashed to the record hash (`specs/devicelog.md` §3).
    pub const DEVICELOG_RECORD: &str = "tickchain/devicelog/record/v1";
    /// What a device signs for a record: this tag and the record hash.
    pub const DEVICELOG_SIGN: &str = "tickchain/devicelog/sign/v1";
    /// A chain head as a leaf content of a stamp tree (`specs/devicelog.md` §4).
    pub const DEVICELOG_HEAD: &str = "tickchain/devicelog/head/v1";
}

/// Appends canonical fields to a byte buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// A writer that starts with the domain tag `tag`.
    pub fn with_tag(tag: &str) -> Writer {
        let mut w = Writer {
            buf: Vec::with_capacity(160),
        };
        w.tag(tag);
        w
    }

    /// A writer with no tag (for compact containers whose parts carry their own meaning).
    pub fn new() -> Writer {
        Writer::default()
    }

    /// Writes a domain tag: one length byte, then the ASCII bytes.
    pub fn tag(&mut self, tag: &str) -> &mut Self {
        debug_assert!(tag.len() < 256 && tag.is_ascii());
        self.buf.push(tag.len() as u8);
        self.buf.extend_from_slice(tag.as_bytes());
        self
    }

    /// Writes one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Writes a big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes a big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes a big-endian two's-complement i64.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes raw bytes of a fixed-size field.
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Writes a string: u16 byte length, then UTF-8.
    ///
    /// # Panics
    /// If the string is longer than 65,535 bytes; callers validate lengths first.
    pub fn str(&mut self, v: &str) -> &mut Self {
        let len = u16::try_from(v.len()).expect("canonical strings are at most 65535 bytes");
        self.u16(len);
        self.buf.extend_from_slice(v.as_bytes());
        self
    }

    /// The bytes written so far.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    /// The finished bytes.
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    /// BLAKE3 of the bytes written so far.
    pub fn hash(&self) -> crate::Hash {
        crate::Hash(*blake3::hash(&self.buf).as_bytes())
    }
}

/// Why canonical bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended before a field was complete.
    #[error("truncated at {field}: need {needed} bytes, {remaining} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes were left over after the last field.
    #[error("{count} unexpected trailing bytes after the last field")]
    Trailing {
        /// How many bytes were left.
        count: usize,
    },
    /// A field held a value that is not allowed.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What was wrong, with the expected and found values.
        reason: String,
    },
}

/// Reads canonical fields from untrusted bytes, naming the field in every error.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    /// Takes exactly `n` bytes for `field`.
    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < n {
            return Err(DecodeError::Truncated {
                field,
                needed: n,
                remaining: self.rest.len(),
            });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(field, N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a big-endian u16.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian u32.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian u64.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian i64.
    pub fn i64(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Succeeds only if every byte was consumed.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing {
                count: self.rest.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_length_prefixed_so_no_tag_is_a_prefix_of_another() {
        let a = Writer::with_tag(tag::NOTARIZE).finish();
        assert_eq!(a[0] as usize, tag::NOTARIZE.len());
        assert_eq!(&a[1..], tag::NOTARIZE.as_bytes());
    }

    #[test]
    fn reader_names_the_truncated_field() {
        let mut r = Reader::new(&[0, 1, 2]);
        assert_eq!(r.u16("a").unwrap(), 1);
        let err = r.u64("tick.second").unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated at tick.second: need 8 bytes, 1 remain"
        );
    }
}
