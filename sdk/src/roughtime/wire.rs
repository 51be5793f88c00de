//! The Roughtime packet and message layout (draft-19 §4, §5): `ROUGHTIM`, a little-endian
//! `u32` length, then a message of `N`, `N - 1` value offsets, `N` tags and the values.
//!
//! Owns: bounds-checked reading of a packet and a message (without allocating), and writing a
//! message from tags given in order. Never: trusts an offset or a count before checking it
//! against the bytes that remain.

/// The first eight bytes of every packet.
pub const MAGIC: [u8; 8] = *b"ROUGHTIM";
/// Most tags one message may have: more than a 1472-byte packet can hold (182), so a request
/// with many unknown tags is still read (they are ignored, as the draft says).
pub const MAX_TAGS: usize = 256;

/// Why bytes are not a Roughtime packet or message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Too short for what it announces.
    #[error("truncated: {0}")]
    Truncated(&'static str),
    /// Not `ROUGHTIM`.
    #[error("missing the ROUGHTIM magic")]
    Magic,
    /// The packet's length field is not the number of bytes after it.
    #[error("packet length field does not match the message")]
    Length,
    /// No tags, or more than [`MAX_TAGS`].
    #[error("tag count out of range")]
    TagCount,
    /// An offset that is not a multiple of 4, decreases, or points past the values.
    #[error("bad value offset")]
    Offset,
    /// Tags not strictly ascending.
    #[error("tags not strictly ascending")]
    TagOrder,
    /// A value of the wrong size or content for its tag.
    #[error("bad value for {0}")]
    Value(&'static str),
    /// A tag the message must have is missing.
    #[error("missing {0}")]
    Missing(&'static str),
}

/// The message inside a packet, checked for framing only.
pub fn unframe(packet: &[u8]) -> Result<&[u8], WireError> {
    if packet.len() < 12 {
        return Err(WireError::Truncated("packet header"));
    }
    if packet[..8] != MAGIC {
        return Err(WireError::Magic);
    }
    let len = u32::from_le_bytes(packet[8..12].try_into().expect("4 bytes")) as usize;
    if len != packet.len() - 12 {
        return Err(WireError::Length);
    }
    Ok(&packet[12..])
}

/// A checked message: every offset and the tag order were validated at [`Message::parse`].
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    n: usize,
    header: &'a [u8],
    values: &'a [u8],
}

impl<'a> Message<'a> {
    /// Checks `bytes` as one message.
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, WireError> {
        if bytes.len() < 4 {
            return Err(WireError::Truncated("tag count"));
        }
        let n = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
        if n == 0 || n > MAX_TAGS {
            return Err(WireError::TagCount);
        }
        let header_len = 8 * n;
        if bytes.len() < header_len {
            return Err(WireError::Truncated("message header"));
        }
        let m = Message {
            n,
            header: &bytes[..header_len],
            values: &bytes[header_len..],
        };
        let mut prev_offset = 0;
        let mut prev_tag = None;
        for i in 0..n {
            let offset = m.offset(i);
            if !offset.is_multiple_of(4) || offset < prev_offset || offset > m.values.len() {
                return Err(WireError::Offset);
            }
            prev_offset = offset;
            let t = m.tag_at(i);
            if prev_tag.is_some_and(|p| p >= t) {
                return Err(WireError::TagOrder);
            }
            prev_tag = Some(t);
        }
        Ok(m)
    }

    fn word(&self, i: usize) -> u32 {
        u32::from_le_bytes(self.header[4 * i..4 * i + 4].try_into().expect("4 bytes"))
    }

    fn offset(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.word(i) as usize }
    }

    fn tag_at(&self, i: usize) -> u32 {
        self.word(self.n + i)
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a message has at least one tag.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value of `tag`, if present.
    pub fn get(&self, tag: u32) -> Option<&'a [u8]> {
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.tag_at(mid).cmp(&tag) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let end = if mid + 1 < self.n {
                        self.offset(mid + 1)
                    } else {
                        self.values.len()
                    };
                    return Some(&self.values[self.offset(mid)..end]);
                }
            }
        }
        None
    }

    /// The value of `tag`, which must be present.
    pub fn need(&self, tag: u32, name: &'static str) -> Result<&'a [u8], WireError> {
        self.get(tag).ok_or(WireError::Missing(name))
    }

    /// The value of `tag` as exactly `N` bytes.
    pub fn array<const N: usize>(
        &self,
        tag: u32,
        name: &'static str,
    ) -> Result<[u8; N], WireError> {
        self.need(tag, name)?
            .try_into()
            .map_err(|_| WireError::Value(name))
    }

    /// The value of `tag` as a little-endian `u32`.
    pub fn u32(&self, tag: u32, name: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_le_bytes(self.array(tag, name)?))
    }

    /// The value of `tag` as a little-endian `u64`.
    pub fn u64(&self, tag: u32, name: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_le_bytes(self.array(tag, name)?))
    }
}

/// Writes a message of `fields` (tags strictly ascending, each value a multiple of 4 bytes
/// long) into `out`, replacing its contents. Allocates nothing once `out` has the capacity.
pub fn write_message(out: &mut Vec<u8>, fields: &[(u32, &[u8])]) {
    out.clear();
    append_message(out, fields);
}

/// Writes `fields` as one packet (magic, length, message) into `out`, replacing its contents.
/// Allocates nothing once `out` has the capacity.
pub fn write_packet(out: &mut Vec<u8>, fields: &[(u32, &[u8])]) {
    out.clear();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[0; 4]);
    append_message(out, fields);
    let len = (out.len() - 12) as u32;
    out[8..12].copy_from_slice(&len.to_le_bytes());
}

fn append_message(out: &mut Vec<u8>, fields: &[(u32, &[u8])]) {
    debug_assert!(fields.windows(2).all(|w| w[0].0 < w[1].0), "tags ascending");
    out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
    let mut offset = 0u32;
    for (i, (_, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&offset.to_le_bytes());
        }
        debug_assert!(v.len() % 4 == 0, "values are multiples of 4 bytes");
        offset += v.len() as u32;
    }
    for (t, _) in fields {
        out.extend_from_slice(&t.to_le_bytes());
    }
    for (_, v) in fields {
        out.extend_from_slice(v);
    }
}

/// Frames `message` as a packet: the magic, its length, then the message.
pub fn frame(out: &mut Vec<u8>, message: &[u8]) {
    out.clear();
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&(message.len() as u32).to_le_bytes());
    out.extend_from_slice(message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roughtime::tags;

    #[test]
    fn a_written_message_parses_back_and_bad_layouts_are_named() {
        let mut m = Vec::new();
        write_message(
            &mut m,
            &[
                (tags::SIG, &[1; 64]),
                (tags::NONC, &[2; 32]),
                (tags::TYPE, &[0; 4]),
            ],
        );
        let p = Message::parse(&m).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.get(tags::NONC), Some(&[2u8; 32][..]));
        assert_eq!(p.u32(tags::TYPE, "TYPE"), Ok(0));
        assert_eq!(p.get(tags::PATH), None);
        // Tags out of order.
        let mut bad = m.clone();
        for k in 0..4 {
            bad.swap(16 + k, 20 + k); // NONC and TYPE trade places
        }
        assert_eq!(Message::parse(&bad).unwrap_err(), WireError::TagOrder);
        // An offset past the values.
        let mut bad = m.clone();
        bad[4..8].copy_from_slice(&4096u32.to_le_bytes());
        assert_eq!(Message::parse(&bad).unwrap_err(), WireError::Offset);
        // A count the header cannot hold.
        assert_eq!(
            Message::parse(&[200, 0, 0, 0]).unwrap_err(),
            WireError::Truncated("message header")
        );
        assert_eq!(
            Message::parse(&[1, 1, 0, 0]).unwrap_err(),
            WireError::TagCount,
            "more tags than MAX_TAGS"
        );
        let mut packet = Vec::new();
        frame(&mut packet, &m);
        assert_eq!(unframe(&packet).unwrap(), &m[..]);
        packet[8] ^= 1;
        assert_eq!(unframe(&packet).unwrap_err(), WireError::Length);
    }
}
