//! Just enough DER (X.690) to read a time-stamp request and a token, and to write a token.
//!
//! Owns: strict TLV reading (one-byte tags, definite minimal lengths, nothing past the end) and
//! TLV writing. Never: a schema; the callers walk the structures they expect.

/// Why bytes are not the DER a caller expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerError {
    /// The input ended inside a tag, a length or a value.
    #[error("DER ends inside an element at byte {at}")]
    Truncated {
        /// Offset where the element starts.
        at: usize,
    },
    /// A multi-byte tag, an indefinite length or a length that is not minimal.
    #[error("not DER at byte {at}: {what}")]
    NotDer {
        /// Offset of the element.
        at: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// An element other than the one the structure needs.
    #[error("expected {expected}, found tag 0x{found:02x}")]
    UnexpectedTag {
        /// What was expected.
        expected: &'static str,
        /// The tag found.
        found: u8,
    },
    /// Bytes after the last element.
    #[error("{0} bytes after the end of the structure")]
    Trailing(usize),
    /// A value out of its allowed range.
    #[error("{0}")]
    Value(&'static str),
}

/// Tag of an INTEGER.
pub const INTEGER: u8 = 0x02;
/// Tag of a BIT STRING.
pub const BIT_STRING: u8 = 0x03;
/// Tag of an OCTET STRING.
pub const OCTET_STRING: u8 = 0x04;
/// Tag of NULL.
pub const NULL: u8 = 0x05;
/// Tag of an OBJECT IDENTIFIER.
pub const OID: u8 = 0x06;
/// Tag of a BOOLEAN.
pub const BOOLEAN: u8 = 0x01;
/// Tag of a UTF8String.
pub const UTF8_STRING: u8 = 0x0c;
/// Tag of a GeneralizedTime.
pub const GENERALIZED_TIME: u8 = 0x18;
/// Tag of a SEQUENCE (constructed).
pub const SEQUENCE: u8 = 0x30;
/// Tag of a SET (constructed).
pub const SET: u8 = 0x31;

/// One element: its tag, its value, and its whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The one-byte tag.
    pub tag: u8,
    /// The value (contents octets).
    pub value: &'a [u8],
    /// Tag, length and value together.
    pub whole: &'a [u8],
}

/// A cursor over consecutive elements.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Reads the elements of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// Whether every element has been read.
    pub fn is_empty(&self) -> bool {
        self.at >= self.bytes.len()
    }

    /// The next element's tag, without reading it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self) -> Result<Tlv<'a>, DerError> {
        let start = self.at;
        let rest = &self.bytes[start..];
        let (&tag, after_tag) = rest
            .split_first()
            .ok_or(DerError::Truncated { at: start })?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::NotDer {
                at: start,
                what: "multi-byte tag",
            });
        }
        let (&first, after_len) = after_tag
            .split_first()
            .ok_or(DerError::Truncated { at: start })?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else if first == 0x80 {
            return Err(DerError::NotDer {
                at: start,
                what: "indefinite length",
            });
        } else {
            let n = (first & 0x7f) as usize;
            if n > 4 {
                return Err(DerError::NotDer {
                    at: start,
                    what: "length over 4 bytes",
                });
            }
            let octets = after_len
                .get(..n)
                .ok_or(DerError::Truncated { at: start })?;
            if octets[0] == 0 {
                return Err(DerError::NotDer {
                    at: start,
                    what: "length with a leading zero",
                });
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | b as usize);
            if len < 0x80 {
                return Err(DerError::NotDer {
                    at: start,
                    what: "long form for a short length",
                });
            }
            (len, 2 + n)
        };
        let end = header
            .checked_add(len)
            .filter(|&end| end <= rest.len())
            .ok_or(DerError::Truncated { at: start })?;
        self.at = start + end;
        Ok(Tlv {
            tag,
            value: &rest[header..end],
            whole: &rest[..end],
        })
    }

    /// The next element, which must have tag `tag`.
    pub fn expect(&mut self, tag: u8, expected: &'static str) -> Result<Tlv<'a>, DerError> {
        match self.peek_tag() {
            Some(t) if t == tag => self.any(),
            Some(found) => Err(DerError::UnexpectedTag { expected, found }),
            None => Err(DerError::Truncated { at: self.at }),
        }
    }

    /// The next element if it has tag `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) {
            self.any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every element has been read.
    pub fn finish(&self) -> Result<(), DerError> {
        match self.bytes.len() - self.at.min(self.bytes.len()) {
            0 => Ok(()),
            n => Err(DerError::Trailing(n)),
        }
    }
}

/// `bytes` as exactly one element with tag `tag`.
pub fn single<'a>(bytes: &'a [u8], tag: u8, expected: &'static str) -> Result<Tlv<'a>, DerError> {
    let mut r = Reader::new(bytes);
    let tlv = r.expect(tag, expected)?;
    r.finish()?;
    Ok(tlv)
}

/// Checks that `value` is a minimally encoded INTEGER's contents.
pub fn check_integer(value: &[u8]) -> Result<(), DerError> {
    match value {
        [] => Err(DerError::Value("empty INTEGER")),
        [0x00, next, ..] if *next < 0x80 => Err(DerError::Value("INTEGER with a leading zero")),
        [0xff, next, ..] if *next >= 0x80 => Err(DerError::Value("INTEGER with a leading 0xff")),
        _ => Ok(()),
    }
}

/// A small non-negative INTEGER's value.
pub fn small_uint(value: &[u8]) -> Result<u64, DerError> {
    check_integer(value)?;
    if value[0] & 0x80 != 0 {
        return Err(DerError::Value("negative INTEGER"));
    }
    let digits = if value[0] == 0 { &value[1..] } else { value };
    if digits.len() > 8 {
        return Err(DerError::Value("INTEGER over 64 bits"));
    }
    Ok(digits.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64))
}

/// Appends tag, length and `value` to `out`.
pub fn write(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

/// Tag, length and `value` as a new vector.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    write(&mut out, tag, value);
    out
}

/// An element with tag `tag` whose value is `parts` one after another.
pub fn constructed(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

/// The minimal INTEGER encoding of `n`.
pub fn uint(n: u64) -> Vec<u8> {
    uint_bytes(&n.to_be_bytes())
}

/// The minimal INTEGER encoding of the unsigned big-endian number `bytes`.
pub fn uint_bytes(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    let digits = &bytes[skip..];
    let mut value = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|&b| b >= 0x80) {
        value.push(0);
    }
    value.extend_from_slice(digits);
    tlv(INTEGER, &value)
}

/// A SET OF with its elements in DER order (sorted by encoding).
pub fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let refs: Vec<&[u8]> = elements.iter().map(Vec::as_slice).collect();
    constructed(SET, &refs)
}

/// A named BIT STRING with bit `bit` set (bit 0 is the most significant), DER-minimal.
pub fn named_bit(bit: u8) -> Vec<u8> {
    let octets = bit as usize / 8 + 1;
    let mut value = vec![0u8; octets + 1];
    value[0] = 7 - bit % 8; // unused bits after the set bit
    value[1 + bit as usize / 8] = 0x80 >> (bit % 8);
    tlv(BIT_STRING, &value)
}

/// `GeneralizedTime` of POSIX second `second` (`YYYYMMDDHHMMSSZ`), or `None` after 9999.
pub fn generalized_time(second: u64) -> Option<Vec<u8>> {
    let days = second / 86_400;
    let rem = second % 86_400;
    let (y, m, d) = civil_from_days(days);
    if y > 9999 {
        return None;
    }
    let text = format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    Some(tlv(GENERALIZED_TIME, text.as_bytes()))
}

/// The POSIX second of a whole-second `YYYYMMDDHHMMSSZ` GeneralizedTime value.
pub fn parse_generalized_time(value: &[u8]) -> Result<u64, DerError> {
    const BAD: DerError = DerError::Value("GeneralizedTime is not YYYYMMDDHHMMSSZ");
    if value.len() != 15 || value[14] != b'Z' || !value[..14].iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    let n = |a: usize, b: usize| {
        value[a..b]
            .iter()
            .fold(0u64, |acc, &c| acc * 10 + (c - b'0') as u64)
    };
    let (y, mo, d, h, mi, s) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
    if y < 1970 || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 59
    {
        return Err(BAD);
    }
    let days = days_from_civil(y, mo, d);
    if civil_from_days(days) != (y, mo, d) {
        return Err(BAD); // 31 February and the like
    }
    Ok(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// The UTC date (year, month, day) POSIX second `second` falls in.
pub fn civil_date(second: u64) -> (u64, u64, u64) {
    civil_from_days(second / 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm), year ≥ 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// `der` as PEM with `label` (RFC 7468): base64 in lines of 64 characters.
pub fn pem(label: &str, der: &[u8]) -> String {
    let body = crate::roughtime::chain::base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside the first PEM block labelled `label` in `text`, or `None`.
pub fn from_pem(label: &str, text: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop].split_whitespace().collect();
    crate::roughtime::chain::from_base64(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_and_refuse_non_minimal_forms() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let value = vec![7u8; len];
            let enc = tlv(OCTET_STRING, &value);
            let got = single(&enc, OCTET_STRING, "octets").unwrap();
            assert_eq!(got.value.len(), len);
        }
        assert!(matches!(
            Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).any(),
            Err(DerError::NotDer { .. })
        ));
        assert!(matches!(
            Reader::new(&[0x30, 0x80, 0, 0]).any(),
            Err(DerError::NotDer { .. })
        ));
        assert!(matches!(
            Reader::new(&[0x04, 0x82, 0x00, 0x90]).any(),
            Err(DerError::NotDer { .. })
        ));
        assert!(matches!(
            Reader::new(&[0x04, 0x05, 1]).any(),
            Err(DerError::Truncated { .. })
        ));
        assert_eq!(
            single(&[0x05, 0x00, 0x00], NULL, "null"),
            Err(DerError::Trailing(1))
        );
    }

    #[test]
    fn integers_are_minimal() {
        assert_eq!(uint(0), vec![2, 1, 0]);
        assert_eq!(uint(0x80), vec![2, 2, 0, 0x80]);
        assert_eq!(uint(0x1234), vec![2, 2, 0x12, 0x34]);
        assert_eq!(small_uint(&[0x00, 0x80]), Ok(0x80));
        assert!(small_uint(&[0x00, 0x7f]).is_err());
        assert!(small_uint(&[0x80]).is_err());
    }

    #[test]
    fn named_bits_match_rfc_3161_failure_encodings() {
        assert_eq!(named_bit(0), vec![0x03, 0x02, 0x07, 0x80]); // badAlg
        assert_eq!(named_bit(5), vec![0x03, 0x02, 0x02, 0x04]); // badDataFormat
        assert_eq!(named_bit(15), vec![0x03, 0x03, 0x00, 0x00, 0x01]); // unacceptedPolicy
        assert_eq!(named_bit(25), vec![0x03, 0x05, 0x06, 0, 0, 0, 0x40]); // systemFailure
    }

    #[test]
    fn generalized_time_round_trips_across_leap_days() {
        for s in [
            0u64,
            951_782_400,
            1_709_164_800,
            1_798_761_600,
            4_102_444_799,
        ] {
            let enc = generalized_time(s).unwrap();
            let t = single(&enc, GENERALIZED_TIME, "time").unwrap();
            assert_eq!(parse_generalized_time(t.value), Ok(s));
        }
        assert_eq!(
            &generalized_time(1_798_761_600).unwrap()[2..],
            b"20270101000000Z"
        );
        assert!(parse_generalized_time(b"20270231000000Z").is_err());
        assert!(parse_generalized_time(b"20270101000000.5Z").is_err());
    }

    #[test]
    fn pem_round_trips() {
        let der: Vec<u8> = (0..=200).collect();
        let text = pem("CERTIFICATE", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(from_pem("CERTIFICATE", &text), Some(der));
        assert_eq!(from_pem("PRIVATE KEY", &text), None);
    }
}
