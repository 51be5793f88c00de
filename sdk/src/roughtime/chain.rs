//! Chained Roughtime measurements and malfeasance reports (draft-19 §8.2, §8.4).
//!
//! Owns: the nonce chain (`nonce_0 = rand_0`, `nonce_i = H(response_{i-1} ‖ rand_i)` with H
//! the 32-byte truncation of SHA-512), the causality check over a chain of verified answers
//! (for every `i < j`: `MIDP_i − RADI_i <= MIDP_j + RADI_j`), and the report JSON that lets
//! anyone re-check a violation. Never: I/O (the caller sends and receives).

use sha2::{Digest, Sha512};

/// The nonce of the request after `previous_response`, with fresh randomness `rand`.
pub fn next_nonce(previous_response: &[u8], rand: &[u8; 32]) -> [u8; 32] {
    let mut s = Sha512::new();
    s.update(previous_response);
    s.update(rand);
    s.finalize()[..32].try_into().expect("32 of 64 bytes")
}

/// One link of a chain: what a report needs to re-check it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The randomness mixed into this request's nonce (the nonce itself for the first).
    pub rand: [u8; 32],
    /// The server's long-term key.
    pub public_key: [u8; 32],
    /// The request packet.
    pub request: Vec<u8>,
    /// The response packet.
    pub response: Vec<u8>,
}

/// A pair of answers that cannot both be true: answer `earlier` (sent first) says time was
/// at least `midp - radi` while answer `later` says it was at most `midp + radi`, and the
/// first bound is after the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Violation {
    /// Index of the answer sent first.
    pub earlier: usize,
    /// Index of the answer sent after it.
    pub later: usize,
}

/// The first causality violation among `(midp, radi)` answers in sending order, if any.
pub fn first_violation(answers: &[(u64, u32)]) -> Option<Violation> {
    for (i, &(mi, ri)) in answers.iter().enumerate() {
        for (j, &(mj, rj)) in answers.iter().enumerate().skip(i + 1) {
            if i128::from(mi) - i128::from(ri) > i128::from(mj) + i128::from(rj) {
                return Some(Violation {
                    earlier: i,
                    later: j,
                });
            }
        }
    }
    None
}

/// The malfeasance report of `links` (`application/roughtime-malfeasance+json`): every field
/// base64.
pub fn report_json(links: &[Link]) -> String {
    let responses: Vec<serde_json::Value> = links
        .iter()
        .map(|l| {
            serde_json::json!({
                "rand": base64(&l.rand),
                "publicKey": base64(&l.public_key),
                "request": base64(&l.request),
                "response": base64(&l.response),
            })
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "responses": responses }))
        .expect("a report serializes")
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * k) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding required); `None` on anything else.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if !t.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for (q, chunk) in t.chunks(4).enumerate() {
        let last = q == t.len() / 4 - 1;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            n = n << 6 | v;
        }
        n <<= 6 * pad as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    // One encoding per value: bits after the last byte must be zero ("Zh==" is not "Zg==").
    (base64(&out) == text).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_matches_rfc_4648() {
        for (raw, enc) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw), enc);
            assert_eq!(from_base64(enc).unwrap(), raw);
        }
        assert_eq!(from_base64("Zm9v!"), None);
        assert_eq!(from_base64("Zg==Zg=="), None);
        assert_eq!(from_base64("Zh=="), None, "non-zero trailing bits");
    }

    #[test]
    fn a_server_ahead_of_a_later_answer_is_a_violation_and_overlaps_are_not() {
        assert_eq!(first_violation(&[(100, 1), (101, 1), (100, 1)]), None);
        assert_eq!(
            first_violation(&[(100, 1), (110, 1), (100, 1)]),
            Some(Violation {
                earlier: 1,
                later: 2
            })
        );
        // A later answer far ahead is no violation: time may have passed.
        assert_eq!(first_violation(&[(100, 1), (500, 1)]), None);
    }
}
