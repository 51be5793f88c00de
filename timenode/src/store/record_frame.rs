//! The frames of the consensus record log (`records.log`), as bytes.
//!
//! Owns: the frame layout and the rules that decide where a log read from disk ends. Never:
//! touches files (the record log does) or interprets a record's payload (the consensus codec
//! does). The disk is hostile: every length is bounded before it is used.
//!
//! A frame is `length u32 ‖ sequence u64 ‖ payload ‖ check`, integers big-endian, where
//! `length` is the payload's byte count (at most [`MAX_PAYLOAD`]) and `check` is the first
//! 8 bytes of BLAKE3 over everything before it. Sequence numbers increase from frame to frame
//! (by one as appended; pruning leaves gaps). The log ends at the first frame that is cut short, too long, fails its check or does
//! not follow its predecessor's sequence: only an append that never finished (and so was never
//! acknowledged) leaves such a frame, and nothing after it was acknowledged either.

/// Bytes before the payload: length and sequence number.
pub const HEADER: usize = 4 + 8;
/// Bytes after the payload: the check.
pub const CHECK: usize = 8;
/// Largest payload a frame may carry (a record is at most one proposal with its batch list,
/// well under 1 MiB).
pub const MAX_PAYLOAD: usize = 16 << 20;

/// Appends the frame of record `seq` with `payload` to `out`.
///
/// # Panics
/// If `payload` is longer than [`MAX_PAYLOAD`] (the caller checks first).
pub fn encode(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    assert!(payload.len() <= MAX_PAYLOAD, "record payload too long");
    let start = out.len();
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(payload);
    let check = blake3::hash(&out[start..]);
    out.extend_from_slice(&check.as_bytes()[..CHECK]);
}

/// Why a log read from disk ends before its last byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Fewer bytes remain than a whole frame needs.
    Short,
    /// The length field exceeds [`MAX_PAYLOAD`].
    TooLong,
    /// The check does not match the frame's bytes.
    Check,
    /// The sequence number is not above the previous frame's.
    Sequence,
}

/// A log's bytes, parsed: its records, in order, and where the valid part ends.
#[derive(Debug, Default)]
pub struct Parsed {
    /// `(sequence, payload)` of every valid frame, oldest first.
    pub records: Vec<(u64, Vec<u8>)>,
    /// Length of the valid prefix: the bytes after it are cut.
    pub valid_len: usize,
    /// Why the log ended early, if it did.
    pub end: Option<End>,
}

/// Parses a whole log; never panics on any input.
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut at = 0usize;
    while at < bytes.len() {
        match frame_at(&bytes[at..], parsed.records.last().map(|(s, _)| *s)) {
            Ok((seq, payload, size)) => {
                parsed.records.push((seq, payload.to_vec()));
                at += size;
            }
            Err(end) => {
                parsed.end = Some(end);
                break;
            }
        }
    }
    parsed.valid_len = at;
    parsed
}

/// Most bytes [`whole_frame_after`] hashes before it gives up.
const SCAN_BUDGET: usize = 64 << 20;

/// Whether `rest` (the bytes after where a log read ended) holds, at any offset, a whole
/// frame whose sequence is above `last`, or so many candidates that looking was given up
/// (more than 64 MiB hashed): then the damage is not a torn tail, and cutting it would lose
/// acknowledged records. A torn tail is the unsynced part of one append, which holds no whole
/// later frame.
pub fn whole_frame_after(rest: &[u8], last: u64) -> bool {
    let mut hashed = 0usize;
    for at in 1..rest.len() {
        let candidate = &rest[at..];
        let Some(header) = candidate.get(..HEADER) else {
            return false;
        };
        let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
        if len > MAX_PAYLOAD || candidate.len() < HEADER + len + CHECK {
            continue;
        }
        hashed += HEADER + len;
        if hashed > SCAN_BUDGET {
            return true;
        }
        if frame_at(candidate, Some(last)).is_ok() {
            return true;
        }
    }
    false
}

/// The frame at the start of `bytes`: its sequence, payload and size in bytes.
fn frame_at(bytes: &[u8], previous: Option<u64>) -> Result<(u64, &[u8], usize), End> {
    let header = bytes.get(..HEADER).ok_or(End::Short)?;
    let len = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as usize;
    if len > MAX_PAYLOAD {
        return Err(End::TooLong);
    }
    let seq = u64::from_be_bytes(header[4..].try_into().expect("8 bytes"));
    let size = HEADER + len + CHECK;
    let frame = bytes.get(..size).ok_or(End::Short)?;
    let (body, check) = frame.split_at(HEADER + len);
    if blake3::hash(body).as_bytes()[..CHECK] != *check {
        return Err(End::Check);
    }
    if previous.is_some_and(|p| seq <= p) {
        return Err(End::Sequence);
    }
    Ok((seq, &body[HEADER..], size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(records: &[(u64, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (seq, payload) in records {
            encode(*seq, payload, &mut out);
        }
        out
    }

    #[test]
    fn round_trips_records_in_order() {
        let bytes = log(&[(7, b"a"), (8, b""), (9, b"ccc")]);
        let parsed = parse(&bytes);
        assert_eq!(parsed.end, None);
        assert_eq!(parsed.valid_len, bytes.len());
        assert_eq!(
            parsed.records,
            vec![(7, b"a".to_vec()), (8, vec![]), (9, b"ccc".to_vec())]
        );
    }

    #[test]
    fn a_torn_tail_is_cut_at_every_length() {
        let whole = log(&[(1, b"first"), (2, b"second")]);
        let first_len = HEADER + 5 + CHECK;
        for cut in first_len + 1..whole.len() {
            let parsed = parse(&whole[..cut]);
            assert_eq!(parsed.records.len(), 1, "cut at {cut}");
            assert_eq!(parsed.valid_len, first_len);
            assert_eq!(parsed.end, Some(End::Short));
        }
    }

    #[test]
    fn a_flipped_bit_ends_the_log_at_its_frame() {
        let whole = log(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let second = HEADER + 5 + CHECK;
        for byte in second + 4..second + HEADER + 6 + CHECK {
            let mut bytes = whole.clone();
            bytes[byte] ^= 0x10;
            let parsed = parse(&bytes);
            assert_eq!(parsed.records.len(), 1, "flip at {byte}");
            assert_eq!(parsed.valid_len, second);
            assert_eq!(parsed.end, Some(End::Check));
        }
    }

    #[test]
    fn a_whole_later_frame_after_damage_is_found_a_torn_tail_has_none() {
        let whole = log(&[(1, b"first"), (2, b"second"), (3, b"third")]);
        let second = HEADER + 5 + CHECK;
        let mut flipped = whole.clone();
        flipped[second + HEADER] ^= 1;
        let parsed = parse(&flipped);
        assert_eq!(parsed.valid_len, second);
        assert!(whole_frame_after(&flipped[second..], 1), "frame 3 follows");
        let torn = &whole[..whole.len() - 2];
        let parsed = parse(torn);
        assert!(!whole_frame_after(&torn[parsed.valid_len..], 2));
        // An old frame (sequence not above the last kept) is not a later one.
        let mut stale = whole[..second].to_vec();
        stale.extend_from_slice(&[0xff; 3]);
        stale.extend_from_slice(&whole[..second]);
        assert!(!whole_frame_after(&stale[second..], 1));
    }

    #[test]
    fn a_huge_length_and_a_sequence_that_does_not_increase_end_the_log() {
        let mut bytes = log(&[(1, b"x")]);
        let valid = bytes.len();
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        bytes.extend_from_slice(&[0; 40]);
        let parsed = parse(&bytes);
        assert_eq!((parsed.valid_len, parsed.end), (valid, Some(End::TooLong)));

        let gap = log(&[(1, b"x"), (3, b"y")]);
        assert_eq!(parse(&gap).end, None, "pruning leaves gaps");
        let stale = log(&[(1, b"x"), (1, b"y")]);
        let parsed = parse(&stale);
        assert_eq!((parsed.valid_len, parsed.end), (valid, Some(End::Sequence)));
        let wrap = log(&[(u64::MAX, b"x"), (0, b"y")]);
        assert_eq!(parse(&wrap).end, Some(End::Sequence));
    }
}
