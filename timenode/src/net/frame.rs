//! Length-prefixed frames on a QUIC stream: `u32` big-endian length, then the payload.
//!
//! Owns: the size cap check, made before any allocation; reading a body no faster than it
//! arrives (memory grows with the bytes received, never with the length a peer announces); the
//! deadline a started body must meet. Never: interprets payloads.

use quinn::{RecvStream, SendStream};
use std::time::Duration;

/// QUIC application error code sent when a peer exceeds the frame size cap.
pub const CLOSE_TOO_LARGE: u32 = 0x10;

/// QUIC stream stop code sent when a frame's body did not arrive within the deadline.
pub const STOP_STALLED: u32 = 0x11;

/// Bytes read into a frame's buffer at a time: the buffer grows by at most this much ahead of
/// what has arrived.
const CHUNK: usize = 64 * 1024;

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
    /// A frame's body did not arrive within the deadline after its length.
    #[error("frame of {len} bytes stalled after {received} bytes")]
    Stalled {
        /// Announced length.
        len: usize,
        /// Bytes that arrived in time.
        received: usize,
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

/// Reads one frame's length; `Ok(None)` when the stream ended cleanly between frames. Fails
/// with [`FrameError::TooLarge`] if the length is over `max`.
pub async fn read_len(recv: &mut RecvStream, max: usize) -> Result<Option<usize>, FrameError> {
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
    Ok(Some(len))
}

/// Reads a body of `len` bytes (as announced by [`read_len`]), which must arrive completely
/// within `deadline`. The buffer grows with the bytes received.
pub async fn read_body(
    recv: &mut RecvStream,
    len: usize,
    deadline: Duration,
) -> Result<Vec<u8>, FrameError> {
    let mut buf = Vec::with_capacity(len.min(CHUNK));
    let filled = tokio::time::timeout(deadline, async {
        while buf.len() < len {
            let want = (len - buf.len()).min(CHUNK);
            match recv.read_chunk(want, true).await {
                Ok(Some(chunk)) => buf.extend_from_slice(&chunk.bytes),
                Ok(None) => return Err(FrameError::Stream("stream ended mid-frame".into())),
                Err(e) => return Err(FrameError::Stream(e.to_string())),
            }
        }
        Ok(())
    })
    .await;
    match filled {
        Ok(Ok(())) => Ok(buf),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(FrameError::Stalled {
            len,
            received: buf.len(),
        }),
    }
}

/// Reads one frame; `Ok(None)` when the stream ended cleanly between frames.
pub async fn read_frame(
    recv: &mut RecvStream,
    max: usize,
    deadline: Duration,
) -> Result<Option<Vec<u8>>, FrameError> {
    match read_len(recv, max).await? {
        Some(len) => read_body(recv, len, deadline).await.map(Some),
        None => Ok(None),
    }
}
