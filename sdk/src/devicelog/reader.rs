//! Reading a device log's frames from a stream, one at a time, so a log of any size is resumed
//! or verified in memory bounded by one frame (plus, at a bad frame, the at most 16 MiB after
//! it).
//!
//! Owns: streaming the envelope of `frame` (same rules as `scan`, `specs/devicelog.md` §2).
//! Never: allocates a body before its length is checked against the limit and the file's size.

use super::frame::{
    CHECK, FILE_MAGIC, FrameError, HEADER, Kind, MAX_FRAME_BODY, RESCUE_SCAN, frame_at,
    is_torn_tail,
};
use std::io::Read;

/// One frame read from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    /// Byte offset of the frame in the file.
    pub offset: u64,
    /// What it holds.
    pub kind: Kind,
    /// Its body.
    pub body: Vec<u8>,
}

/// Why a stream could not be read as a log.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not a log, or are damaged before the end.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Frames of a log, read in order from a stream of known length.
pub struct FrameReader<R> {
    input: R,
    offset: u64,
    len: u64,
    torn_at: Option<u64>,
    done: bool,
}

impl<R: Read> FrameReader<R> {
    /// A reader over a log of `len` bytes; checks the magic.
    pub fn new(mut input: R, len: u64) -> Result<FrameReader<R>, ReadError> {
        let mut magic = [0u8; 8];
        if len < magic.len() as u64 {
            return Err(FrameError::Magic.into());
        }
        input.read_exact(&mut magic)?;
        if &magic != FILE_MAGIC {
            return Err(FrameError::Magic.into());
        }
        Ok(FrameReader {
            input,
            offset: magic.len() as u64,
            len,
            torn_at: None,
            done: false,
        })
    }

    /// Where a torn tail starts, once [`FrameReader::next_frame`] has returned `None`.
    pub fn torn_at(&self) -> Option<u64> {
        self.torn_at
    }

    /// The next whole frame; `None` at the end of the log (or of its whole frames, before a
    /// torn tail).
    pub fn next_frame(&mut self) -> Result<Option<OwnedFrame>, ReadError> {
        if self.done || self.offset >= self.len {
            self.done = true;
            return Ok(None);
        }
        let remaining = self.len - self.offset;
        let mut head = [0u8; HEADER];
        let mut taken: Vec<u8> = Vec::new();
        if remaining < (HEADER + CHECK) as u64 {
            return self.bad(taken);
        }
        self.input.read_exact(&mut head)?;
        taken.extend_from_slice(&head);
        let kind = Kind::of(head[0]);
        let body_len = u32::from_be_bytes(head[1..].try_into().expect("4 bytes"));
        let whole = (HEADER + CHECK) as u64 + u64::from(body_len);
        if kind.is_none() || body_len > MAX_FRAME_BODY || whole > remaining {
            return self.bad(taken);
        }
        let mut rest = vec![0u8; body_len as usize + CHECK];
        self.input.read_exact(&mut rest)?;
        taken.extend_from_slice(&rest);
        if frame_at(&taken, 0).is_err() {
            return self.bad(taken);
        }
        let offset = self.offset;
        self.offset += whole;
        rest.truncate(body_len as usize);
        Ok(Some(OwnedFrame {
            offset,
            kind: kind.expect("checked"),
            body: rest,
        }))
    }

    /// A bad frame at the current offset (`taken` are its bytes read so far): a torn tail, or
    /// damage.
    fn bad(&mut self, mut taken: Vec<u8>) -> Result<Option<OwnedFrame>, ReadError> {
        self.done = true;
        let at = self.offset;
        let remaining = self.len - at;
        let reason = frame_at(&taken, 0)
            .err()
            .unwrap_or_else(|| "cut short".into());
        if remaining > RESCUE_SCAN as u64 {
            return Err(FrameError::Damaged {
                offset: at,
                reason: format!("{reason}; more than 16 MiB follow it"),
            }
            .into());
        }
        (&mut self.input)
            .take(remaining - taken.len() as u64)
            .read_to_end(&mut taken)?;
        if is_torn_tail(&taken) {
            self.torn_at = Some(at);
            return Ok(None);
        }
        let reason = frame_at(&taken, 0).err().unwrap_or(reason);
        Err(FrameError::Damaged { offset: at, reason }.into())
    }
}

/// Reads every frame of `bytes` with a [`FrameReader`]: the frames and the torn offset, or the
/// error (for comparing with `scan`).
pub fn read_all(bytes: &[u8]) -> Result<(Vec<OwnedFrame>, Option<u64>), FrameError> {
    let mut r = FrameReader::new(bytes, bytes.len() as u64).map_err(frame_error)?;
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().map_err(frame_error)? {
        frames.push(f);
    }
    Ok((frames, r.torn_at()))
}

fn frame_error(e: ReadError) -> FrameError {
    match e {
        ReadError::Frame(f) => f,
        // Reading a slice cannot fail but by running short, which the length rules exclude.
        ReadError::Io(e) => FrameError::Damaged {
            offset: 0,
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devicelog::frame::{encode_frame, scan};

    /// The streaming reader and the in-memory scan agree on `bytes`.
    fn agree(bytes: &[u8]) {
        let streamed = read_all(bytes);
        match scan(bytes) {
            Ok(s) => {
                let (frames, torn) = streamed.expect("the reader accepts what scan accepts");
                assert_eq!(torn, s.torn_at);
                assert_eq!(frames.len(), s.frames.len());
                for (a, b) in frames.iter().zip(&s.frames) {
                    assert_eq!((a.offset, a.kind, &a.body[..]), (b.offset, b.kind, b.body));
                }
            }
            Err(e) => assert_eq!(streamed.unwrap_err(), e),
        }
    }

    #[test]
    fn the_reader_and_scan_agree_on_whole_torn_and_damaged_logs() {
        let mut file = FILE_MAGIC.to_vec();
        for (k, b) in [
            (Kind::Chain, &b"chain"[..]),
            (Kind::Record, b"one"),
            (Kind::Record, b"two, a little longer"),
            (Kind::Stamp, b"stamp"),
        ] {
            file.extend(encode_frame(k, b));
        }
        for cut in FILE_MAGIC.len()..=file.len() {
            agree(&file[..cut]);
        }
        for flip in FILE_MAGIC.len()..file.len() {
            let mut bad = file.clone();
            bad[flip] ^= 0x10;
            agree(&bad);
        }
        agree(b"TCDLOG");
        agree(b"not a log at all");
    }
}
