//! The device log's file envelope: a magic, then frames `kind ‖ length ‖ body ‖ check`
//! (`specs/devicelog.md` §2).
//!
//! Owns: framing, the per-frame check and the torn-tail rule. Never: the meaning of a body
//! (see `entry`); a check is for accidental damage, not for an adversary (signatures and the
//! stamp tree are).

/// First bytes of every device log file.
pub const FILE_MAGIC: &[u8; 8] = b"TCDLOG\x00\x01";
/// Largest frame body accepted, in bytes.
pub const MAX_FRAME_BODY: u32 = 1 << 20;
/// Bytes before a frame's body: kind (1) and length (4).
pub(super) const HEADER: usize = 5;
/// Bytes of the check after a frame's body.
pub(super) const CHECK: usize = 8;
/// Most bytes after a bad frame for it to count as a torn tail: a torn write is one sync's
/// frames, far smaller; with more after it, a bad frame is damage.
pub(super) const RESCUE_SCAN: usize = 16 << 20;
/// Most bytes hashed while looking past a bad frame; beyond it the bad frame counts as damage
/// (refused), never as a torn tail, so crafted bytes cannot make the scan quadratic.
const RESCUE_HASH_BUDGET: usize = 64 << 20;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A chain: its index, the device's key and the log id.
    Chain = 1,
    /// A signed record.
    Record = 2,
    /// A stamp of chain heads with the network's proof.
    Stamp = 3,
}

impl Kind {
    pub(super) fn of(byte: u8) -> Option<Kind> {
        match byte {
            1 => Some(Kind::Chain),
            2 => Some(Kind::Record),
            3 => Some(Kind::Stamp),
            _ => None,
        }
    }
}

/// One whole frame found in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// What it holds.
    pub kind: Kind,
    /// Its body.
    pub body: &'a [u8],
}

/// Why a file is not a device log, or is damaged before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The file does not start with [`FILE_MAGIC`].
    #[error("not a tickchain device log (the file does not start with the TCDLOG magic)")]
    Magic,
    /// A frame is damaged and is not a torn write at the end (whole frames follow it, or too
    /// much does).
    #[error("frame at byte {offset} is damaged ({reason}) and is not a torn last write")]
    Damaged {
        /// Offset of the damaged frame.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// A scanned file: its whole frames, and where a torn tail starts (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan<'a> {
    /// Every whole frame, in file order.
    pub frames: Vec<Frame<'a>>,
    /// Offset where an unfinished last write starts (bytes from there on are not part of the
    /// log); `None` when the file ends on a frame boundary.
    pub torn_at: Option<u64>,
}

/// The bytes of one frame.
pub fn encode_frame(kind: Kind, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + body.len() + CHECK);
    out.push(kind as u8);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    let check = blake3::hash(&out);
    out.extend_from_slice(&check.as_bytes()[..CHECK]);
    out
}

/// Splits a file into frames. A frame that is cut short or fails its check with no whole frame
/// after it is a torn tail (the writer stopped mid-write); one with whole frames after it is
/// damage, and an error.
pub fn scan(file: &[u8]) -> Result<Scan<'_>, FrameError> {
    if file.len() < FILE_MAGIC.len() || &file[..FILE_MAGIC.len()] != FILE_MAGIC {
        return Err(FrameError::Magic);
    }
    let mut frames = Vec::new();
    let mut at = FILE_MAGIC.len();
    while at < file.len() {
        match frame_at(file, at) {
            Ok(frame) => {
                at += HEADER + frame.body.len() + CHECK;
                frames.push(frame);
            }
            Err(reason) => {
                if !is_torn_tail(&file[at..]) {
                    return Err(FrameError::Damaged {
                        offset: at as u64,
                        reason,
                    });
                }
                return Ok(Scan {
                    frames,
                    torn_at: Some(at as u64),
                });
            }
        }
    }
    Ok(Scan {
        frames,
        torn_at: None,
    })
}

pub(super) fn frame_at(file: &[u8], at: usize) -> Result<Frame<'_>, String> {
    frame_at_counting(file, at, &mut 0)
}

/// [`frame_at`], adding the bytes it hashes to `hashed`.
fn frame_at_counting<'a>(
    file: &'a [u8],
    at: usize,
    hashed: &mut usize,
) -> Result<Frame<'a>, String> {
    let rest = &file[at..];
    if rest.len() < HEADER {
        return Err(format!("{} bytes, shorter than a frame header", rest.len()));
    }
    let kind = Kind::of(rest[0]).ok_or_else(|| format!("unknown frame kind {}", rest[0]))?;
    let len = u32::from_be_bytes(rest[1..HEADER].try_into().expect("4 bytes"));
    if len > MAX_FRAME_BODY {
        return Err(format!(
            "length {len} above the {MAX_FRAME_BODY}-byte limit"
        ));
    }
    let end = HEADER + len as usize;
    if rest.len() < end + CHECK {
        return Err(format!(
            "length {len} runs past the end of the file ({} bytes left)",
            rest.len()
        ));
    }
    *hashed += end;
    let check = blake3::hash(&rest[..end]);
    if check.as_bytes()[..CHECK] != rest[end..end + CHECK] {
        return Err("check bytes do not match".into());
    }
    Ok(Frame {
        offset: at as u64,
        kind,
        body: &rest[HEADER..end],
    })
}

/// True if `tail`, which starts with a bad frame, is a torn last write: at most
/// [`RESCUE_SCAN`] bytes, with no run of whole frames from any later offset to its end, found
/// within [`RESCUE_HASH_BUDGET`] bytes hashed. A frame-like run inside a torn record's payload
/// that does not reach the end (the tear cut it) does not count.
pub(super) fn is_torn_tail(tail: &[u8]) -> bool {
    if tail.len() > RESCUE_SCAN {
        return false;
    }
    let mut hashed = 0;
    !(1..tail.len()).any(|start| {
        let mut at = start;
        while let Ok(f) = frame_at_counting(tail, at, &mut hashed) {
            at += HEADER + f.body.len() + CHECK;
            if at == tail.len() {
                return true;
            }
        }
        hashed > RESCUE_HASH_BUDGET
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(frames: &[(Kind, &[u8])]) -> Vec<u8> {
        let mut out = FILE_MAGIC.to_vec();
        for (k, b) in frames {
            out.extend(encode_frame(*k, b));
        }
        out
    }

    #[test]
    fn frames_round_trip_and_a_cut_last_frame_is_a_torn_tail() {
        let f = file(&[(Kind::Chain, b"abc"), (Kind::Record, b"defg")]);
        let s = scan(&f).unwrap();
        assert_eq!(s.frames.len(), 2);
        assert_eq!(s.frames[1].body, b"defg");
        assert_eq!(s.torn_at, None);
        for cut in 1..17 {
            let s = scan(&f[..f.len() - cut]).unwrap();
            assert_eq!(s.frames.len(), 1, "cut {cut}");
            assert_eq!(s.torn_at, Some(s.frames[0].offset + 16));
        }
    }

    #[test]
    fn damage_before_a_whole_frame_is_an_error_not_a_tail() {
        let mut f = file(&[(Kind::Record, b"one"), (Kind::Record, b"two")]);
        f[FILE_MAGIC.len() + 6] ^= 1;
        assert!(matches!(
            scan(&f),
            Err(FrameError::Damaged { offset: 8, .. })
        ));
        assert_eq!(scan(b"not a log"), Err(FrameError::Magic));
    }

    #[test]
    fn a_frame_inside_a_torn_records_payload_does_not_make_the_tail_damage() {
        let inner = encode_frame(Kind::Record, b"looks like a frame");
        let mut payload = b"device data ".to_vec();
        payload.extend(&inner);
        payload.extend(b" more data");
        let whole = file(&[(Kind::Chain, b"c"), (Kind::Record, &payload)]);
        // Torn just after the embedded frame: a whole frame follows the bad one, but the run
        // does not reach the end of the file.
        let cut = FILE_MAGIC.len() + 14 + 5 + 12 + inner.len() + 3;
        let s = scan(&whole[..cut]).unwrap();
        assert_eq!(s.frames.len(), 1);
        assert_eq!(s.torn_at, Some(FILE_MAGIC.len() as u64 + 14));
    }

    #[test]
    fn bytes_that_would_cost_too_much_to_rescue_count_as_damage() {
        // After a bad frame, every offset looks like the header of a 1 MiB record frame.
        let mut f = FILE_MAGIC.to_vec();
        f.push(9);
        for _ in 0..200 {
            f.extend([2, 0, 0x0f, 0xff, 0xf0]);
        }
        f.resize(f.len() + (1 << 20), 0);
        assert!(matches!(
            scan(&f),
            Err(FrameError::Damaged { offset: 8, .. })
        ));
    }
}
