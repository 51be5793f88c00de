//! Length-prefixed frames on a QUIC stream: `u32` big-endian length, then the payload.
//!
//! Owns: the size cap check, made before any allocation. Never: interprets payloads.

use quinn::{RecvStream, SendStream};

/// QUIC application error code sent when a peer exceeds the frame size cap.
pub const CLOSE_TOO_LARGE: u32 = 0x10;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The announced length is over the cap; the connection must be closed.
    #[error("frame of {len} bytes exceeds the {max}-byte cap")]
    TooLarge {
        /// Announced length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The stream failed or ended mid-frame.
    #[error("stream: {0}")]
    Stream(String),
}

/// Writes one frame.
pub async fn write_frame(
    send: &mut SendStream,
    payload: &[u8],
    max: usize,
) -> Result<(), FrameError> {
    if payload.len() > max {
        return Err(FrameError::TooLarge {
            len: payload.len(),
            max,
        });
    }
    let len = (payload.len() as u32).to_be_bytes();
    send.write_all(&len)
        .await
        .map_err(|e| FrameError::Stream(e.to_string()))?;
    send.write_all(payload)
        .await
        .map_err(|e| FrameError::Stream(e.to_string()))
}

/// Reads one frame; `Ok(None)` when the stream ended cleanly between frames.
pub async fn read_frame(recv: &mut RecvStream, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut len = [0u8; 4];
    match recv.read_exact(&mut len).await {
        Ok(()) => {}
        Err(quinn::ReadExactError::FinishedEarly(0)) => return Ok(None),
        Err(e) => return Err(FrameError::Stream(e.to_string())),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(FrameError::TooLarge { len, max });
    }
    let mut buf = vec![0u8; len];
    recv.read_exact(&mut buf)
        .await
        .map_err(|e| FrameError::Stream(e.to_string()))?;
    Ok(Some(buf))
}
